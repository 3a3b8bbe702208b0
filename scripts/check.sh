#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# README command 2: install what is missing, build, run the whole test
# suite, and print "N passed, N failed".  Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
scripts/build.sh

status=0
make -k -j"$(nproc)" check || status=$?

# One summary line over every test of every directory, after the end
# of each failed test's log (CI shows only the end of the output).
passed=0 failed=0 failures=()
while IFS= read -r trs; do
  case "$(sed -n 's/^:test-result: //p' "$trs")" in
    PASS|XFAIL) passed=$((passed + 1)) ;;
    *) failed=$((failed + 1)); failures+=("${trs%.trs}") ;;
  esac
done < <(find . -name '*.trs' -newer config.status)
for t in "${failures[@]}"; do
  echo "---- end of $t.log"
  tail -n 40 "$t.log"
done
for t in "${failures[@]}"; do echo "failed: $t"; done
echo "$passed passed, $failed failed"
[ "$status" = 0 ] && [ "$failed" = 0 ]
