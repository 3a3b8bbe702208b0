# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the benchmark scripts.
#
# bench_install PKG...: install those of the Debian packages that are
# missing (the benchmarks run as root; the test suite does not need
# them, so scripts/deps.sh does not install them).
bench_install ()
{
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
      missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bench: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

# PAGE_REPORTING=off: a guest whose freed memory goes back to its host
# (virtio-balloon free page reporting) pays a host fault on the next
# first touch of each page, so what a first touch costs depends on how
# much of the free memory the host holds at the moment
# (docs/performance.md).  bench_reporting_off stops the reporting until
# bench_reporting_restore (call it from the EXIT trap) and touches the
# free memory once, so every system and round gets memory the host
# already backs: a machine that behaves as bare metal would.  It prints
# what it did, for meta.txt.  Without PAGE_REPORTING=off, or on a
# kernel without /sys/module/page_reporting, it changes nothing and
# prints the state (bench_reporting_state).
bench_reporting_param=/sys/module/page_reporting/parameters/page_reporting_order
bench_reporting_saved=""
bench_reporting_state ()
{
  local p=$bench_reporting_param state=on
  if [ ! -r "$p" ]; then
    echo "page_reporting not visible (${p%/*})"
    return 0
  fi
  [ "$(cat "$p")" -le 10 ] || state=off   # above the largest order
  echo "page_reporting $state: order $(cat "$p"), reported_kib $(cat "${p%/*}/reported_kib")"
}

bench_reporting_off ()
{
  local p=$bench_reporting_param free_mib
  if [ "${PAGE_REPORTING:-}" != off ] || [ ! -w "$p" ]; then
    [ "${PAGE_REPORTING:-}" != off ] ||
      echo "bench: PAGE_REPORTING=off, but ${p%/*} is not there: nothing to turn off" >&2
    bench_reporting_state
    return 0
  fi
  bench_reporting_saved=$(cat "$p")
  echo 11 > "$p"                # above the largest order: nothing is reported
  # Touch all but 512 MiB of the free memory once (not the page cache).
  free_mib=$(awk '$1 == "MemFree:" { m = int($2 / 1024) - 512
                                      print (m > 0 ? m : 0) }' /proc/meminfo)
  /usr/bin/python3 -c '
import mmap, sys
n = int(sys.argv[1]) << 20
m = mmap.mmap(-1, max(n, 1))
chunk = b"\1" * (64 << 20)
for _ in range(n // len(chunk)):
    m.write(chunk)
' "$free_mib"
  echo "page_reporting off for this run (order $bench_reporting_saved set to 11, restored at exit); ${free_mib} MiB of free memory touched first"
}

bench_reporting_restore ()
{
  if [ -n "$bench_reporting_saved" ]; then
    echo "$bench_reporting_saved" > "$bench_reporting_param"
    bench_reporting_saved=""
  fi
}
