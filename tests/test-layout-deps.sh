#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-layout-deps.sh: the dependency rule of docs/HACKING.md.
#
# 1. Every `#include "..."` in common/, filters/, plugins/ and tools/
#    is resolved to the file it names, as the compiler would: the
#    including file's own directory, then the directories its
#    Makefile.am puts on the include path (-I), then (a header reached
#    some other way) wherever in the tree it is.  The header's
#    directory must be one that the including file's directory may
#    include; the protocol core of the control socket
#    (filters/fleece/control/ proto and json) counts as a directory of
#    its own.  A directory without a rule, or a header that is nowhere,
#    fails too.
# 2. No Makefile.am under tests/, nor fuzz/run.sh, lists ../plugins/ or
#    ../filters/ .c sources: tests link the libraries.  The remaining
#    exceptions are listed below as KNOWN; an exception that is gone
#    must be removed from the list (the test says so).
# 3. The check itself is checked: a scratch copy of the tree with
#    deliberate violations must fail with exactly those messages.

source "$srcdir/functions.sh"

top=$(cd "$abs_top_srcdir" && pwd -P)

# ---- the rule (docs/HACKING.md, "The tree") ----
# Each directory (with a slash) and the directories it may include,
# itself included.  The protocol core is named $core.
core='filters/fleece/control/{proto,proto-changes,proto-int,json}'
common='common/include/ common/utils/ common/quiesce/'
filter="$common $core filters/fleece/control/ filters/fleece/"
declare -A may=(
  [common/include/]='common/include/'
  [common/utils/]='common/include/ common/utils/'
  [common/quiesce/]="$common"
  [$core]="common/include/ $core"
  [filters/fleece/control/]="$filter"
  [filters/fleece/]="$filter"
  [plugins/vmdisk/]="$common plugins/vmdisk/"
  [tools/fleecectl/]='common/include/ common/utils/ tools/fleecectl/'
)

# The rule's name for the directory of path (relative to the top).
zone ()
{
  case $1 in
    filters/fleece/control/proto.[ch]|filters/fleece/control/proto-changes.c|filters/fleece/control/proto-int.h|filters/fleece/control/json.[ch])
      echo "$core" ;;
    *) echo "${1%/*}/" ;;
  esac
}

# The directories (relative to the top) that root/dir/Makefile.am puts
# on the include path, in order, one per line.
include_path ()         # ROOT DIR
{
  local mk=$1/$2/Makefile.am flag
  [ -f "$mk" ] || return 0
  for flag in $(grep -oE -- '-I\$\((top_srcdir|srcdir)\)[^ \\]*' "$mk"); do
    case $flag in
      '-I$(top_srcdir)/'*) echo "${flag#-I\$(top_srcdir)/}" ;;
      '-I$(srcdir)') echo "$2" ;;
      '-I$(srcdir)/'*) echo "$2/${flag#-I\$(srcdir)/}" ;;
    esac
  done
}

# dir/name, without "dir/.." steps.
join ()                 # DIR NAME
{
  case $2 in
    *..*) realpath -ms "/$1/$2" | sed 's|^/||' ;;
    *) echo "$1/$2" ;;
  esac
}

# Where the header name included from root/file is (relative to the
# top, one per line; several when it is reached some other way and is
# in more than one place).  Nothing if it is nowhere.  Uses $dirs (the
# tree's directories) and $ipath (each directory's include path).
resolve ()              # ROOT FILE NAME
{
  local root=$1 dir=${2%/*} name=$3 d
  if [ -f "$root/$dir/$name" ]; then
    join "$dir" "$name"
    return
  fi
  for d in ${ipath[$dir]}; do
    if [ -f "$root/$d/$name" ]; then
      join "$d" "$name"
      return
    fi
  done
  for d in "${dirs[@]}"; do
    [ -f "$root/$d/$name" ] && join "$d" "$name"
  done
  return 0
}

# A quoted include: its name is \1.
include_re='^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*'

# Print one line per violation under root; sets $checked to the
# number of includes checked.
check_includes ()       # ROOT
{
  local root=$1 f name h fz hz d
  local -A ipath=()
  local -a dirs=()
  checked=0
  while IFS= read -r -d '' d; do
    d=${d#"$root"/}
    dirs+=("$d")
    ipath[$d]=$(include_path "$root" "$d")
  done < <(find "$root/common" "$root/filters" "$root/plugins" \
                "$root/tools" -type d -print0 | sort -z)
  while IFS= read -r -d '' f; do
    f=${f#"$root"/}
    fz=$(zone "$f")
    if [ -z "${may[$fz]+set}" ]; then
      echo "$f: $fz has no rule: add it to docs/HACKING.md and" \
           "tests/test-layout-deps.sh"
      continue
    fi
    while IFS= read -r name; do
      checked=$((checked + 1))
      h=$(resolve "$root" "$f" "$name")
      if [ -z "$h" ]; then
        echo "$f includes $name, which is nowhere in the tree"
        continue
      fi
      while IFS= read -r h; do
        hz=$(zone "$h")
        case " ${may[$fz]} " in
          *" $hz "*) ;;
          *) echo "$f includes $name from $hz: $fz may include only" \
                  "${may[$fz]// /, }" ;;
        esac
      done <<< "$h"
    done < <(sed -nE "s/$include_re/\\1/p" "$root/$f")
  done < <(find "$root/common" "$root/filters" "$root/plugins" \
                "$root/tools" -type f \( -name '*.c' -o -name '*.h' \) \
                -print0 | sort -z)
}

# ---- sources listed by tests and fuzzers ----
# KNOWN exceptions, "FILE: SOURCE": quiesce-driver drives vmdisk's own
# quiesce parameters (plugins/vmdisk/quiesce.c) over the library; they
# are plugin code, not a library, until the parameters move too.
known=(
  'tests/Makefile.am: ../plugins/vmdisk/quiesce.c'
)

check_sources ()        # ROOT
{
  local root=$1 f src k
  local -A seen=()
  while IFS= read -r -d '' f; do
    f=${f#"$root"/}
    for src in $(grep -oE '\.\./(plugins|filters)/[^[:space:]\\]*\.c' \
                   "$root/$f" | sort -u); do
      seen["$f: $src"]=1
      for k in "${known[@]}"; do
        [ "$k" = "$f: $src" ] && continue 2
      done
      echo "$f lists $src: link the library that holds it instead"
    done
  done < <(find "$root/tests" -name Makefile.am -print0;
           # Not in a release tarball.
           [ ! -f "$root/fuzz/run.sh" ] || printf '%s\0' "$root/fuzz/run.sh")
  for k in "${known[@]}"; do
    [ -n "${seen[$k]+set}" ] ||
      echo "KNOWN exception \"$k\" is gone: remove it from the list in" \
           "tests/test-layout-deps.sh"
  done
}

# ---- the tree ----
status=0
# Every directory with a rule here has a row in docs/HACKING.md.
for d in "${!may[@]}"; do
  [ "$d" = "$core" ] ||
    grep -qF "| \`$d\` |" "$top/docs/HACKING.md" || {
      echo "$0: FAIL: $d has a rule here but no row in docs/HACKING.md"
      status=1
    }
done
check_includes "$top" > "$tmpdir/includes"
check_sources "$top" > "$tmpdir/sources"
if [ -s "$tmpdir/includes" ] || [ -s "$tmpdir/sources" ]; then
  echo "$0: FAIL: the dependency rule (docs/HACKING.md):"
  sed 's/^/  /' "$tmpdir/includes" "$tmpdir/sources"
  status=1
fi
[ "$checked" -ge 100 ] || {
  echo "$0: FAIL: only $checked includes found: is the scan wrong?"
  status=1
}
tree_checked=$checked

# ---- the check, checked: a scratch copy with deliberate violations ----
scratch=$tmpdir/tree
mkdir "$scratch"
cp -R "$top/common" "$top/filters" "$top/plugins" "$top/tools" "$scratch"
mkdir "$scratch/tests" "$scratch/fuzz"
cp "$top/tests/Makefile.am" "$scratch/tests"
[ ! -f "$top/fuzz/run.sh" ] || cp "$top/fuzz/run.sh" "$scratch/fuzz"
violate ()              # FILE LINE: add LINE after FILE's first line
{
  sed -i "1a $2" "$scratch/$1"
}
violate plugins/vmdisk/disk.c '#include "snapshot.h"'
violate filters/fleece/cbw.c '#include "disk.h"'
violate common/utils/full-rw.c '#include "../../filters/fleece/fleece.h"'
violate filters/fleece/control/proto.c '#include "snapshot.h"'
violate filters/fleece/control/json.h '#include "server.h"'
violate tools/fleecectl/conn.c '#include "control/proto.h"'
violate tools/fleecectl/conn.h '#include "no-such-header.h"'
mkdir "$scratch/filters/fleece/extra"
echo '#include "fleece.h"' > "$scratch/filters/fleece/extra/x.c"
echo 'x_SOURCES = ../filters/fleece/stats.c' >> "$scratch/tests/Makefile.am"
sed -i 's|\.\./plugins/vmdisk/quiesce\.c|quiesce.c|' \
  "$scratch/tests/Makefile.am"
check_includes "$scratch" > "$tmpdir/scratch"
check_sources "$scratch" >> "$tmpdir/scratch"
# Each message in full once; the rest up to the list.
only='may include only'
expect=(
  "plugins/vmdisk/disk.c includes snapshot.h from filters/fleece/:\
 plugins/vmdisk/ $only common/include/, common/utils/, common/quiesce/,\
 plugins/vmdisk/"
  "filters/fleece/cbw.c includes disk.h from plugins/vmdisk/:\
 filters/fleece/ $only"
  "common/utils/full-rw.c includes ../../filters/fleece/fleece.h from\
 filters/fleece/: common/utils/ $only common/include/, common/utils/"
  "filters/fleece/control/proto.c includes snapshot.h from filters/fleece/:\
 $core $only common/include/, $core"
  "filters/fleece/control/json.h includes server.h from\
 filters/fleece/control/: $core $only"
  "tools/fleecectl/conn.c includes control/proto.h from $core:\
 tools/fleecectl/ $only"
  "tools/fleecectl/conn.h includes no-such-header.h, which is nowhere in\
 the tree"
  "filters/fleece/extra/x.c: filters/fleece/extra/ has no rule"
  "tests/Makefile.am lists ../filters/fleece/stats.c: link the library"
  "KNOWN exception \"tests/Makefile.am: ../plugins/vmdisk/quiesce.c\"\
 is gone"
)
for e in "${expect[@]}"; do
  grep -qF -- "$e" "$tmpdir/scratch" || {
    echo "$0: FAIL: a deliberate violation was not reported as: $e"
    status=1
  }
done
if [ "$(wc -l < "$tmpdir/scratch")" != "${#expect[@]}" ]; then
  echo "$0: FAIL: the scratch copy should give ${#expect[@]} messages, not:"
  sed 's/^/  /' "$tmpdir/scratch"
  status=1
fi

if [ "$status" = 0 ]; then
  echo "ok: $tree_checked includes follow the rule; ${#known[@]} KNOWN" \
       "exceptions (tests listing plugin sources until common/quiesce/);" \
       "${#expect[@]} deliberate violations in a scratch copy reported"
fi
exit "$status"
