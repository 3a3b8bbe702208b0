#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install the Debian packages that building, testing and the demo need.
# Idempotent: asks apt only when something is missing.
set -euo pipefail

packages=(
  autoconf
  automake
  gcc
  libjson-c-dev
  libnbd-dev
  nettle-dev
  libnbd-bin
  libtool
  libvirt-dev
  make
  nbdkit
  nbdkit-plugin-dev
  perl
  pkg-config
  python3
  python3-libnbd
  qemu-utils
  e2fsprogs
  # tests/test-docs-backup-script.sh: the backup script of docs/deployment.md
  jq
  # tests/test-quiesce-marker-durable.sh: the marker's fsyncs, in order
  strace
  # scripts/check-sanitizers.sh, fuzz/run.sh and the TLS test
  clang
  gnutls-bin
  libclang-rt-14-dev
  valgrind
  # the real test guest (tests/guest): kernel, initramfs parts, QEMU, libvirt
  busybox-static
  cpio
  libvirt-clients
  libvirt-daemon-system
  linux-image-amd64
  qemu-guest-agent
  qemu-system-x86
  # tests/test-e2e-ops.sh and docs/deployment.md's upgrade: ss
  iproute2
  # tests/test-unit*.sh: systemd-analyze verify and security of the units
  systemd
  # scripts/check-package.sh: build the Debian package and lint it
  debhelper
  dpkg-dev
  build-essential
  lintian
  man-db
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages: ${missing[*]}; run as root or: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
