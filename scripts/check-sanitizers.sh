#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The test suite again under checkers; .ci/run calls it after
# scripts/check.sh.  Exits non-zero on any failing test or any report.
#   1. AddressSanitizer + UndefinedBehaviorSanitizer: the whole suite
#      except the real-guest tests (tests/test-guest-*, test-e2e-*:
#      minutes of QEMU each, and QEMU is not what is under test here)
#      and test-backup-chain.sh (see suite_tests).
#      nbdkit runs with the runtime preloaded, plus
#      tests/sanitizers/earlyinit.c (it says which deadlock it avoids).
#   2. ThreadSanitizer: the concurrency stress test.
#   3. valgrind memcheck: the nbdkit-level tests of the filter.
#   4. libFuzzer: each fuzzer for FUZZ_SECONDS (default 10), fuzz/run.sh.
# Each build is out of tree, in _build-asan, _build-tsan, _build-plain
# (and _build-fuzz), from a copy of the sources in _build-src: the
# source tree itself is configured in place by scripts/build.sh, and
# automake refuses to build out of a configured tree.  Fast when run
# again: only what changed is rebuilt.
# STAGES="asan tsan valgrind fuzz" picks stages (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
stages=${STAGES:-asan tsan valgrind fuzz}
reports="$top/_build-reports"
jobs=$(nproc)
# At -O1, gcc 12 warns that snprintf into fixed reason buffers may
# truncate; truncating a reason line is intended (and -O2, the normal
# build, does not warn), so that one warning is not an error here.
no_trunc=-Wno-format-truncation

scripts/deps.sh

# The sources as git sees them (tracked and new, not ignored), plus
# the files autoreconf generated if the tree has them.
copy_sources ()
{
  rm -rf _build-src
  mkdir _build-src
  {
    git ls-files -co --exclude-standard
    for f in configure aclocal.m4 config.h.in; do [ -f "$f" ] && echo "$f"; done
    find build-aux m4 -type f 2>/dev/null || true
    git ls-files -co --exclude-standard -- '*Makefile.am' |
      sed 's/\.am$/.in/' | while read -r f; do [ -f "$f" ] && echo "$f"; done
  } | sort -u | tar -cf - -T - | tar -C _build-src -xpf -
  if [ ! -x _build-src/configure ]; then
    (cd _build-src && autoreconf -fi >/dev/null)
  fi
}

# build DIR CC CFLAGS [MAKE-DIRS...]: configure once, then make.
build ()
{
  local dir="$1" cc="$2" cflags="$3" d
  shift 3
  mkdir -p "$dir"
  if [ ! -f "$dir/config.status" ] ||
     [ "$dir/config.status" -ot _build-src/configure ]; then
    (cd "$dir" && ../_build-src/configure --enable-werror CC="$cc" \
       CFLAGS="$cflags" > configure.out)
  fi
  if [ $# = 0 ]; then
    make -s -C "$dir" -j"$jobs" > "$dir/make.out"
  else
    for d in "$@"; do make -s -C "$dir/$d" -j"$jobs" > "$dir/make.out"; done
  fi
}

# suite_tests DIR: the tests/ TESTS list minus the real-guest tests,
# and minus:
# - test-backup-chain.sh: its 30 s are qemu-img, qemu-nbd, nbdcopy and
#   python; the fleecectl and filter paths it drives run under the
#   sanitizers in test-fleecectl-backup-smoke.sh (full, incremental,
#   verify, restore), test-backup-faults.sh (every failure and cleanup
#   path) and test-backup-full-reasons.sh;
# - test-fleecectl-prune.sh: 604 runs of the same pure rule against a
#   model (87 s under ASan); prune's code runs under the sanitizers in
#   test-fleecectl-prune-restore.sh and test-fleecectl-backup-metrics.sh;
# - tests that run none of the project's C: test-layout-deps.sh and
#   test-licence.sh (they read the sources), test-unit-security.sh
#   (systemd-analyze) and test-libvirt-hook.sh (a shell script).
suite_tests ()
{
  make -s -C "$1/tests" Makefile > /dev/null
  make -s -C "$1/tests" -f Makefile -f /dev/stdin print-tests \
    <<<'print-tests: ; @echo $(TESTS)' | tr ' ' '\n' |
    grep -v -E '^test-(guest-|e2e-|backup-chain\.sh$|fleecectl-prune\.sh$|layout-deps\.sh$|licence\.sh$|unit-security\.sh$|libvirt-hook\.sh$)' | tr '\n' ' '
}

# check_reports STAGE: fail if any checker wrote a report.
check_reports ()
{
  local f bad=0
  for f in "$reports"/*; do
    [ -s "$f" ] || continue
    echo "== $1: report in $f:"; cat "$f"; bad=1
  done
  [ "$bad" = 0 ] || { echo "check-sanitizers: $1: reports found" >&2; exit 1; }
  echo "check-sanitizers: $1: no reports"
}

# timed STAGE CMD...: run, print the time taken.
timed ()
{
  local t0=$SECONDS
  "${@:2}"
  echo "check-sanitizers: $1 took $((SECONDS - t0)) s"
}

# tests_pass DIR STAGE: the last make check in DIR/tests had no failure.
tests_pass ()
{
  grep -q '^# FAIL: *0$' "$1/tests/test-suite.log" &&
    grep -q '^# ERROR: *0$' "$1/tests/test-suite.log" &&
    ! grep -q '^# PASS: *0$' "$1/tests/test-suite.log" ||
    { echo "check-sanitizers: $2: failing tests (see $1/tests/*.log)" >&2
      exit 1; }
}

# Test programs that start nbdkit themselves (test-vmdisk-multiconn)
# find the wrapper first on PATH too.
export PATH="$top/_build-src/tests/sanitizers/bin:$PATH"

# earlyinit DIR: the preload tests/sanitizers/earlyinit.c.
earlyinit ()
{
  gcc -shared -fPIC -o "$1/earlyinit.so" tests/sanitizers/earlyinit.c
  export FLEECE_EARLYINIT="$top/$1/earlyinit.so"
}

stage_asan ()
(
  build _build-asan gcc "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1 $no_trunc"
  # abort_on_error: a report fails a captive nbdkit's test; log_path
  # catches a daemonised one.  Leaks are checked in the test programs
  # (not in nbdkit: see tests/sanitizers/bin/nbdkit), with only the
  # system libraries' own suppressed (lsan.supp says why).
  # detect_odr_violation=0: the plugin and the filter each link their
  # own copy of the common convenience libraries, and nbdkit loads
  # both, globally.
  earlyinit _build-asan
  export FLEECE_WRAP=asan FLEECE_REPORT_DIR="$reports"
  export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:detect_odr_violation=0:log_path=$reports/asan"
  export LSAN_OPTIONS="suppressions=$top/tests/sanitizers/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
  make -s -C _build-asan/common/include check > _build-asan/check-common.out
  make -s -C _build-asan/common/utils check >> _build-asan/check-common.out
  make -s -C _build-asan/common/quiesce check >> _build-asan/check-common.out
  # The stress test at 6 generations a run (3 for several disks), and
  # the cross-disk test at 20 snapshots of each kind, the release race
  # at 1 snapshot (16 races): AddressSanitizer
  # looks for memory errors, which the first generations of every run
  # already exercise (the interleavings are the ThreadSanitizer
  # stage's); at 20 and 60 they took 130 s of this stage.
  FLEECE_STRESS_GENERATIONS=6 FLEECE_CROSS_ROUNDS=20 FLEECE_RACE_ROUNDS=1 \
  make -C _build-asan/tests -j"$jobs" check TESTS="$(suite_tests _build-asan)" |
    grep -E '^(PASS|FAIL|ERROR|XPASS|# )' || true
  tests_pass _build-asan asan
  check_reports asan
)

stage_tsan ()
(
  build _build-tsan gcc "-fsanitize=thread -g -O1 $no_trunc" \
    common/utils common/quiesce plugins/vmdisk filters/fleece/control filters/fleece
  make -s -C _build-tsan/tests test-fleece-stress > /dev/null
  earlyinit _build-tsan
  # 6 generations a run (20 by default; 3 for several disks):
  # ThreadSanitizer looks at the interleavings, thousands in every
  # generation, which each one repeats; at 10 the stage took 204 s.
  FLEECE_STRESS_GENERATIONS=6 \
  FLEECE_WRAP=tsan FLEECE_REPORT_DIR="$reports" \
  TSAN_OPTIONS="halt_on_error=1:exitcode=66:log_path=$reports/tsan:suppressions=$top/tests/sanitizers/tsan.supp" \
    make -C _build-tsan/tests check TESTS=test-fleece-stress.sh |
      grep -E '^(PASS|FAIL|ERROR)' || true
  tests_pass _build-tsan tsan
  check_reports tsan
)

# The tests whose nbdkit runs the filter over nbdkit's plugins and
# vmdisk with real I/O; the rest (timeouts, many restarts) only gain
# minutes under valgrind's slowdown.
valgrind_tests="test-fleece-content.sh test-fleece-extents.sh
  test-fleece-fast-zero.sh test-fleece-lifecycle.sh
  test-fleece-store-full.sh test-fleece-plugin-read-error.sh
  test-vmdisk-write.sh test-fault-snapshot-readonly.sh
  test-fault-store-eio.sh test-fleece-disks.sh
  test-control-protocol.sh test-control-status.sh test-control-totals.sh"

stage_valgrind ()
(
  build _build-plain gcc "-g -O1 $no_trunc" common/utils common/quiesce plugins/vmdisk \
    filters/fleece/control filters/fleece tools/fleecectl
  # test-fleece-content: the vmdisk (64K blocks) and file (4K) runs;
  # the memory and sparse-random runs (three of five) add nbdkit's
  # plugins, not code of ours.
  FLEECE_CONTENT_RUNS="vmdisk file" \
  FLEECE_WRAP=valgrind FLEECE_REPORT_DIR="$reports" \
    make -C _build-plain/tests -j"$jobs" check TESTS="$(echo $valgrind_tests)" |
      grep -E '^(PASS|FAIL|ERROR|# )' || true
  tests_pass _build-plain valgrind
  check_reports valgrind
)

stage_fuzz ()
{
  fuzz/run.sh "${FUZZ_SECONDS:-10}"
}

rm -rf "$reports"
mkdir -p "$reports"
timed copy copy_sources
for s in $stages; do
  timed "$s" "stage_$s"
done
echo "check-sanitizers: all clean ($stages)"
