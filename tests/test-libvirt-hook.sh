#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# libvirt/nbdkit-fleece.hook, called as libvirtd calls a qemu.d hook
# (VM OPERATION SUB-OPERATION EXTRA, the domain XML on standard input),
# with its SYSTEMCTL and CONFDIR substituted (sed on a copy) by a
# recording systemctl and this test's directory:
# - a VM with a configuration file: prepare/begin starts
#   nbdkit-fleece@VM.service (and waits for it), release/end stops it
#   without waiting; every other operation does nothing;
# - a VM without one: nothing, whatever the operation;
# - a start that fails: the hook exits 1 with one line naming the unit,
#   systemctl's message, and where to look (libvirt shows it and the
#   VM does not start).
# The real libvirtd calling it: tests/test-e2e-ops.sh.
source "$srcdir/functions.sh"
hook=$tmpdir/hook
mkdir "$tmpdir/conf"
sed -e "s|^SYSTEMCTL=systemctl$|SYSTEMCTL=$tmpdir/systemctl|" \
    -e "s|^CONFDIR=/etc/nbdkit-fleece$|CONFDIR=$tmpdir/conf|" \
    "$abs_top_srcdir/libvirt/nbdkit-fleece.hook" > "$hook"
chmod +x "$hook"
grep -q "^SYSTEMCTL=$tmpdir/systemctl$" "$hook"
grep -q "^CONFDIR=$tmpdir/conf$" "$hook"
cat > "$tmpdir/systemctl" <<EOF2
#!/bin/sh
echo "\$*" >> "$tmpdir/calls"
[ ! -e "$tmpdir/fail" ] || { echo "Job for \$2 failed because the control process exited with error code." >&2; exit 1; }
EOF2
chmod +x "$tmpdir/systemctl"
echo 'DISK=/x' > "$tmpdir/conf/vm1.conf"

# call WANT-STATUS WANT-CALLS ARGS...: the hook's status and the
# systemctl calls it made ("" for none).
call ()
{
  local want="$1" calls="$2" st=0
  shift 2
  rm -f "$tmpdir/calls"
  "$hook" "$@" < /dev/null > "$tmpdir/out" 2>&1 || st=$?
  [ "$st" = "$want" ] ||
    { echo "$0: FAIL: hook $* exited $st: $(cat "$tmpdir/out")" >&2; exit 1; }
  [ "$(cat "$tmpdir/calls" 2>/dev/null)" = "$calls" ] ||
    { echo "$0: FAIL: hook $*: systemctl calls '$(cat "$tmpdir/calls" 2>/dev/null)', want '$calls'" >&2; exit 1; }
  echo "ok: $* -> $st${calls:+ ($calls)}"
}
call 0 "start nbdkit-fleece@vm1.service" vm1 prepare begin -
call 0 "stop --no-block nbdkit-fleece@vm1.service" vm1 release end -
for op in "start begin" "started begin" "stopped end" "prepare end" \
          "release begin" "migrate begin" "restore begin" "reconnect begin"; do
  call 0 "" vm1 $op -
done
call 0 "" vm2 prepare begin -
call 0 "" vm2 release end -
call 0 "" ../vm1 prepare begin -
[ ! -s "$tmpdir/out" ] || { echo "$0: FAIL: output for another VM" >&2; exit 1; }
touch "$tmpdir/fail"
call 1 "start nbdkit-fleece@vm1.service" vm1 prepare begin -
grep -q "^nbdkit-fleece: cannot start nbdkit-fleece@vm1.service for VM vm1: Job for nbdkit-fleece@vm1.service failed .*journalctl -u nbdkit-fleece@vm1.service" "$tmpdir/out" ||
  { echo "$0: FAIL: message: $(cat "$tmpdir/out")" >&2; exit 1; }
echo "message: $(cat "$tmpdir/out")"
# A stop that fails does not fail libvirt's cleanup.
call 0 "stop --no-block nbdkit-fleece@vm1.service" vm1 release end -
