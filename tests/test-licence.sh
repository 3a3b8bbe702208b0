#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-licence.sh: every git-tracked source file carries
# "SPDX-License-Identifier: BSD-3-Clause" in its first 3 lines (C,
# headers, shell, Python, automake and autoconf input, suppression and
# symbol files, templates, and scripts without an extension: files
# whose first line is "#!"; not the fuzzers' corpus data, not Markdown
# or POD), and every man page has the sections nbdkit's pages have at
# their end: ENVIRONMENT, VERSION, AUTHORS, COPYRIGHT, LICENSE.
# Outside a git checkout (a release tarball, make distcheck) there is
# no list of tracked files: the test says so and skips.

source "$srcdir/functions.sh"

top=$(cd "$abs_top_srcdir" && pwd -P)
if ! command -v git > /dev/null ||
   ! gtop=$(git -C "$top" rev-parse --show-toplevel 2>/dev/null) ||
   [ "$(cd "$gtop" && pwd -P)" != "$top" ]; then
  echo "$0: SKIP: $top is not the top of a git checkout (a release" \
       "tarball or make distcheck): no list of tracked files to check"
  exit 77
fi

spdx='SPDX-License-Identifier: BSD-3-Clause'
checked=0 missing=()
while IFS= read -r -d '' f; do
  case $f in
    fuzz/corpus/*|*.md|*.pod|LICENSE|.gitignore|*/.gitignore) continue ;;
    *.c|*.h|*.sh|*.py|*.am|*.ac|*.supp|*.syms|*.service|*.in) ;;
    *) case ${f##*/} in
         ?*.*) continue ;;              # another extension: not source
       esac
       # No extension: a script if it starts with "#!".
       [ "$(head -c 2 "$top/$f")" = '#!' ] || continue ;;
  esac
  checked=$((checked + 1))
  head -n 3 "$top/$f" | grep -qF "$spdx" || missing+=("$f")
done < <(git -C "$top" ls-files -z)

status=0
if [ "${#missing[@]}" -gt 0 ]; then
  printf '%s: FAIL: no "%s" in the first 3 lines of:\n' "$0" "$spdx"
  printf '  %s\n' "${missing[@]}"
  status=1
fi
[ "$checked" -gt 100 ] || {
  echo "$0: FAIL: only $checked source files found: is the list wrong?"
  status=1
}

pages=0
while IFS= read -r -d '' f; do
  pages=$((pages + 1))
  for section in ENVIRONMENT VERSION AUTHORS COPYRIGHT LICENSE; do
    grep -qx "=head1 $section" "$top/$f" || {
      echo "$0: FAIL: $f has no $section section"
      status=1
    }
  done
  grep -qF "$spdx" "$top/$f" || {
    echo "$0: FAIL: $f: the LICENSE section does not name $spdx"
    status=1
  }
done < <(git -C "$top" ls-files -z -- 'man/*.pod')
[ "$pages" -ge 4 ] || { echo "$0: FAIL: only $pages man pages found"; status=1; }

[ "$status" = 0 ] && echo "ok: $checked source files and $pages man pages"
exit "$status"
