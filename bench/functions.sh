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
