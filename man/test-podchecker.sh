#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every man page is valid POD with no warnings.
set -euo pipefail
status=0
for f in $POD_SOURCES; do
  if ! out=$("$PODCHECKER" -warnings -warnings "$srcdir/$f" 2>&1) ||
      grep -q WARNING <<<"$out"; then
    echo "$out"
    status=1
  fi
done
exit $status
