#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build every libFuzzer target with clang (in _build-fuzz/, with
# ASan and UBSan) and run each for SECONDS (default 20, what CI uses
# through scripts/check-sanitizers.sh); longer by hand, e.g.
#   fuzz/run.sh 600            # ten minutes each
#   fuzz/run.sh 60 qga-reply   # one target
# Each run starts from the committed seeds in fuzz/corpus/NAME/ and
# grows a scratch corpus in _build-fuzz/corpus/NAME/ (kept between
# runs, not committed).  A crash, leak, timeout or sanitizer report
# fails the script; the input is saved as _build-fuzz/crash-NAME-*.
# Prints one line per target: executions, corpus size, time.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
secs=${1:-20}
shift || true
targets=${*:-duration qga-reply params control-proto}
out="$top/_build-fuzz"
mkdir -p "$out"

cflags=(-g -O1 -fsanitize=fuzzer,address,undefined
        -fno-sanitize-recover=all -Wall -Wextra -Werror
        -Wno-unused-parameter
        -I"$out"
        -I"$top/common/include" -I"$top/common/utils"
        -I"$top/common/quiesce" -I"$top/filters/fleece"
        $(pkg-config --cflags nbdkit json-c))
libs=($(pkg-config --libs json-c) -ldl -pthread)

# The quiesce library as the filter links it (libquiesce.la).
quiesce_lib="common/quiesce/agent-reply.c common/quiesce/command.c
             common/quiesce/guard.c common/quiesce/marker.c
             common/quiesce/proc-alive.c common/quiesce/state-dir.c"

# What each target compiles, besides fuzz/fuzz-NAME.c.
sources_for ()
{
  case "$1" in
    duration) echo common/utils/parse-duration.c ;;
    qga-reply) echo common/quiesce/agent-reply.c ;;
    params) echo filters/fleece/params.c filters/fleece/params-cbt.c \
                 filters/fleece/quiesce.c \
                 $quiesce_lib \
                 filters/fleece/control/control.c \
                 common/utils/parse-duration.c \
                 common/utils/parent-dir.c \
                 fuzz/stubs.c fuzz/stub-control-serve.c ;;
    # The protocol core alone: it needs nothing but json-c.
    control-proto) echo filters/fleece/control/proto.c \
                        filters/fleece/control/proto-changes.c \
                        filters/fleece/control/json.c ;;
    *) echo "fuzz/run.sh: unknown target $1" >&2; exit 1 ;;
  esac
}

# config.h as configure would write it, for what these files use.
printf '#define _GNU_SOURCE 1\n' > "$out/config.h"

for t in $targets; do
  bin="$out/fuzz-$t"
  srcs=(fuzz/fuzz-"$t".c $(sources_for "$t"))
  # Rebuild when any source is newer than the binary.
  if [ ! -x "$bin" ] || [ -n "$(find "${srcs[@]}" -newer "$bin")" ]; then
    clang "${cflags[@]}" "${srcs[@]}" "${libs[@]}" \
      -o "$bin"
  fi
  mkdir -p "$out/corpus/$t"
  log="$out/fuzz-$t.log"
  t0=$SECONDS
  if ! (cd "$out" &&
        ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
          -max_len=4096 -artifact_prefix="$out/crash-$t-" -print_final_stats=1 \
          "$out/corpus/$t" "$top/fuzz/corpus/$t" > "$log" 2>&1); then
    tail -40 "$log" >&2
    echo "fuzz: $t: FAILED (input saved as $out/crash-$t-*; log $log)" >&2
    exit 1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "fuzz: $t: $execs executions in $((SECONDS - t0)) s," \
       "corpus $(ls "$out/corpus/$t" | wc -l) inputs, no findings"
done
