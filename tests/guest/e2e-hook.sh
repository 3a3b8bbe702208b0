# SPDX-License-Identifier: BSD-3-Clause
# The libvirt hook (libvirt/nbdkit-fleece.hook) with the real libvirtd,
# for a test that restarts libvirtd (libvirtd reads its hooks when it
# starts).  Sourced after guest.sh and unit-functions.sh.
#   e2e_hook_install   install a copy of the hook in
#                      /etc/libvirt/hooks/qemu.d (removed at exit),
#                      its CONFDIR this test's and its SYSTEMCTL a
#                      stand-in that runs the nbdkit unit's start
#                      (systemd/nbdkit-fleece-start with the VM's
#                      configuration, then the socket's group and mode)
#                      and stop (SIGTERM to its pid): systemd is not
#                      init here; call before restarting libvirtd
#   e2e_hook_check     a second domain, with a configuration file and
#                      its disk on its own socket, no nbdkit running:
#                      virsh create starts nbdkit through the hook
#                      before QEMU opens the disk (QEMU is connected to
#                      the socket when virsh returns); virsh destroy
#                      stops it
E2E_HOOK=/etc/libvirt/hooks/qemu.d/nbdkit-fleece-test-$$
_e2e_hook_run=

e2e_hook_install ()
{
  _e2e_hook_run=$GUEST_VMDIR/hook-run
  mkdir -p "$tmpdir/hook-conf" "$_e2e_hook_run"
  cat > "$tmpdir/systemctl" <<EOF2
#!/bin/bash
# A stand-in for systemctl, for nbdkit-fleece@VM.service only.
exec >> "$tmpdir/hook.log" 2>&1
echo "systemctl \$*"
unit=\${@: -1}; vm=\${unit#nbdkit-fleece@}; vm=\${vm%.service}
run=$_e2e_hook_run
case \$1 in
  start)
    set -a; . "$tmpdir/hook-conf/\$vm.conf"; set +a
    rm -f "\$run/\$vm.sock"
    CONFIGURATION_DIRECTORY=$tmpdir/hook-conf RUNTIME_DIRECTORY=\$run \\
      STATE_DIRECTORY=$tmpdir/hook-state NBDKIT=$NBDKIT \\
      $START "\$vm" || exit 1
    chgrp libvirt-qemu "\$run/\$vm.sock" && chmod 0660 "\$run/\$vm.sock" ;;
  stop)
    kill "\$(cat "\$run/\$vm.pid")" ;;
esac
EOF2
  chmod +x "$tmpdir/systemctl"
  mkdir -p "$tmpdir/hook-state" "${E2E_HOOK%/*}"
  sed -e "s|^SYSTEMCTL=systemctl$|SYSTEMCTL=$tmpdir/systemctl|" \
      -e "s|^CONFDIR=/etc/nbdkit-fleece$|CONFDIR=$tmpdir/hook-conf|" \
      "$abs_top_srcdir/libvirt/nbdkit-fleece.hook" > "$E2E_HOOK.tmp"
  chmod 0755 "$E2E_HOOK.tmp"
  mv "$E2E_HOOK.tmp" "$E2E_HOOK"
  trap '_guest_status=$?; rm -f "$E2E_HOOK"; _guest_cleanup; _cleanup "$_guest_status"' EXIT
}

e2e_hook_check ()
{
  local dom="${GUEST_DOM}-hook" sock pid i
  sock=$_e2e_hook_run/$dom.sock
  truncate -s 64M "$tmpdir/hook.img"
  printf 'DISK=%s\nDOMAIN=\nCONTROL=no\nCBT=no\n' "$tmpdir/hook.img" \
    > "$tmpdir/hook-conf/$dom.conf"
  GUEST_DOM=$dom guest_domain_xml "$sock" "" "" |
    sed "s|$GUEST_VMDIR/console.log|$GUEST_VMDIR/hook-console.log|" > "$tmpdir/hook.xml"
  [ ! -e "$_e2e_hook_run/$dom.pid" ] || e2e_fail "nbdkit runs before the VM starts"
  timeout 60 virsh -q -c "$GUEST_URI" create "$tmpdir/hook.xml" > /dev/null ||
    { cat "$tmpdir/hook.log" >&2; e2e_fail "virsh create with the hook failed"; }
  pid=$(cat "$_e2e_hook_run/$dom.pid") || e2e_fail "the hook started no nbdkit"
  [ "$(ss -Hx state connected src "$sock" | wc -l)" -ge 1 ] ||
    { virsh -q -c "$GUEST_URI" destroy "$dom"; e2e_fail "QEMU is not connected to $sock"; }
  echo "hook: virsh create started nbdkit $pid first; QEMU is connected to it"
  timeout 60 virsh -q -c "$GUEST_URI" destroy "$dom" > /dev/null
  for i in $(seq 1 100); do
    pid_running "$pid" || break
    sleep 0.05
  done
  pid_running "$pid" && e2e_fail "nbdkit $pid still runs after virsh destroy"
  grep -qx "systemctl start nbdkit-fleece@$dom.service" "$tmpdir/hook.log" &&
    grep -qx "systemctl stop --no-block nbdkit-fleece@$dom.service" "$tmpdir/hook.log" ||
    e2e_fail "hook calls: $(cat "$tmpdir/hook.log")"
  ! grep -q "nbdkit-fleece@$GUEST_DOM.service" "$tmpdir/hook.log" ||
    e2e_fail "the hook acted for $GUEST_DOM, which has no configuration"
  echo "hook: virsh destroy stopped it"
}
