#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Configure (once) and build in the source tree, warnings as errors.
# Fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x configure ] || [ configure.ac -nt configure ]; then
  autoreconf -fi
fi
if [ ! -f config.status ] || [ configure -nt config.status ]; then
  ./configure --enable-werror
fi
make -j"$(nproc)"
