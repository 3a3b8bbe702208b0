#!/usr/bin/env bash
# README command 2: install what is missing, build, run the whole test
# suite, and print "N passed, N failed".  Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
scripts/build.sh

status=0
make -k -j"$(nproc)" check || status=$?

# One summary line over every test of every directory.
passed=0 failed=0
while IFS= read -r trs; do
  case "$(sed -n 's/^:test-result: //p' "$trs")" in
    PASS|XFAIL) passed=$((passed + 1)) ;;
    *) failed=$((failed + 1)); echo "failed: ${trs%.trs}" ;;
  esac
done < <(find . -name '*.trs' -newer config.status)
echo "$passed passed, $failed failed"
[ "$status" = 0 ] && [ "$failed" = 0 ]
