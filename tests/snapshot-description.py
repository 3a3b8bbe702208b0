#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: snapshot-description.py URI -- take a snapshot of the
# snapshot export URI (or join the active one) and print its export
# description.  A snapshot connection takes its snapshot at its first
# data request, not when it connects (nbdkit-fleece-filter(1)), so
# `nbdinfo` alone shows no snapshot's description.  Exits non-zero
# when the snapshot cannot be taken (quiesce=require, ...).
import sys

from nbdcheck import open_snapshot

h, d = open_snapshot(sys.argv[1])
print(d)
h.shutdown()
