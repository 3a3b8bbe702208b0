# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: the test guest, sourced by end-to-end tests AFTER
# functions.sh (it uses $tmpdir, start_nbdkit and extends the EXIT trap).
#
#   guest_build                  build or reuse the cached kernel/initramfs
#                                (sets GUEST_KERNEL, GUEST_INITRD)
#   guest_vmdir                  make $GUEST_VMDIR for the disk, sockets and
#                                console log (see "Permissions" below)
#   guest_share_socket SOCK      let QEMU (libvirt-qemu) connect to SOCK
#   guest_libvirt_up             start virtlogd/libvirtd if not running
#   guest_libvirtd_stop          stop libvirtd (waits until no other test
#                                uses it; see "Restarting libvirtd")
#   guest_libvirtd_start         start it again (after guest_libvirtd_stop)
#   guest_libvirtd_claim         wait until no other test uses libvirtd,
#                                and keep them waiting until the next
#                                guest_libvirtd_start
#   guest_name                   choose the domain's name before it exists
#                                (sets GUEST_DOM: nbdkit's domain= needs it,
#                                and nbdkit starts before the VM)
#   guest_start_libvirt SOCK [EXPORT [EXPORT2]]   boot a transient domain
#                                on the NBD socket (named GUEST_DOM, chosen
#                                if unset); with EXPORT2 a second virtio
#                                disk, vdb, is that export of the same
#                                socket (sets GUEST_DISK2=/dev/vdb)
#   guest_start_qemu SOCK [EXPORT]      boot plain QEMU, no libvirt, the
#                                agent's chardev socket on GUEST_QGA_SOCK
#                                (set by guest_vmdir, so nbdkit's
#                                agent-socket= can be given before the VM)
#   guest_wait_agent [SECONDS]   wait for guest-ping (sets GUEST_BOOT_MS)
#   guest_workload DEV RECORDS [MKFS_OPTS [MOUNT_OPTS]]   once booted:
#                                wait for the agent, make ext4 on DEV
#                                (mkfs.ext4 -E MKFS_OPTS), mount it on
#                                /mnt/data (-o MOUNT_OPTS), start
#                                workload.sh and wait for RECORDS files;
#                                with GUEST_DISK2 also ext4 on it, mounted
#                                on /mnt/data2, and the commit writer
#                                (data files there, records on DEV)
#   guest_exec PROG [ARG...]     run in the guest via guest-exec: prints its
#                                stdout (stderr to ours), returns its status
#   guest_agent JSON             one raw QGA command, prints the "return"
#   guest_freeze_status          prints "frozen" or "thawed"
#   guest_wait_workload N [records|commits]   wait until workload.sh wrote
#                                N files and N records (and N commits with
#                                GUEST_DISK2); only N records with
#                                "records", only N commits with "commits"
#   guest_check_live_log IMAGE   after a backup: live log checks, prefix
#                                check, prints the stall the guest saw
#   guest_stop                   destroy the domain / kill QEMU
#   guest_now_ms                 a monotonic clock in ms (/proc/uptime)
#
# The agent is reached through tests/guest/qga.py: `virsh
# qemu-agent-command` under libvirt, or the QGA protocol spoken directly
# on the chardev socket for plain QEMU.  Every wait is bounded.
#
# Permissions: QEMU under libvirt runs as libvirt-qemu.  $tmpdir gets
# group libvirt-qemu and mode 0710 (traverse only), $GUEST_VMDIR is
# 2750 root:libvirt-qemu (setgid, so the socket nbdkit creates there
# belongs to group libvirt-qemu), and guest_share_socket makes the socket
# 0660: QEMU can connect, other users cannot even reach the directory.
# nbdkit 1.32 creates its socket 0755 whatever the umask, hence the chmod
# after it is listening (before the VM starts, so there is no window
# where QEMU needs it).
#
# libvirtd and virtlogd: started with -d only if not running, and stopped
# at exit only if this run started them and no other test using them is
# still alive (a lock and a users directory under /run/nbdkit-fleece make
# parallel `make check -j` safe).  Nothing else of the host is changed.
#
# Restarting libvirtd: every test using libvirtd holds a shared lock
# (flock -s on $_guest_state/daemon.lock) from guest_libvirt_up to its
# exit; guest_libvirtd_stop converts it to an exclusive one (bounded
# wait) and guest_libvirtd_start back to a shared one, so a test that
# restarts libvirtd never pulls it from under another test of a
# parallel `make check`, and the others wait while it is down.
# The daemons themselves never inherit the lock.  A libvirtd started
# again by a test is stopped at exit like one the test started first.
#
# Reconnect: libvirt 9.0's schema has no <reconnect> for NBD disk sources
# (virt-xml-validate rejects it), so the domain gets QEMU's default,
# reconnect-delay=0.  Observed with nbdkit killed (SIGKILL) and started
# again on the same path (the stale socket file must be removed first):
# guest writes during the outage fail with EIO; the first request after
# the restart also fails (it is what makes QEMU reconnect); later ones
# succeed, and ext4 stayed mounted read-write (a failed journal write
# would abort it).  guest_start_qemu accepts GUEST_QEMU_RECONNECT=SECONDS
# (QEMU's reconnect-delay): there the same outage made the guest's write
# wait and succeed once nbdkit was back, with no I/O error.

GUEST_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GUEST_URI=qemu:///system
# no_timer_check and tsc=reliable skip timer checks that are slow under TCG.
GUEST_CMDLINE="console=ttyS0 panic=-1 quiet no_timer_check tsc=reliable"
GUEST_DOM=
GUEST_QGA_SOCK=
GUEST_DISK2=
_guest_qemu_pid=
_guest_libvirt_used=
_guest_state=/run/nbdkit-fleece/libvirt
_guest_share_fd=

guest_now_ms ()
{
  local up
  read -r up _ < /proc/uptime
  echo $(( 10#${up/./} * 10 ))
}

guest_build ()
{
  local dir
  dir=$("$GUEST_SRC/build-guest.sh" -q) || { echo "$0: guest build failed" >&2; exit 1; }
  GUEST_KERNEL=$dir/kernel
  GUEST_INITRD=$dir/initrd.img
}

guest_vmdir ()
{
  GUEST_VMDIR=$tmpdir/vm
  GUEST_QGA_SOCK=$GUEST_VMDIR/qga.sock
  chgrp libvirt-qemu "$tmpdir"
  chmod 0710 "$tmpdir"
  mkdir -m 2750 "$GUEST_VMDIR"
  chgrp libvirt-qemu "$GUEST_VMDIR"
}

guest_share_socket ()
{
  chgrp libvirt-qemu "$1"
  chmod 0660 "$1"
}

# _guest_daemon_up NAME: start NAME -d unless running; log who started it.
_guest_daemon_up ()
{
  local i pid
  pidof "$1" >/dev/null && return 0
  rm -f "/run/$1.pid"
  # The daemon must inherit no descriptor but 0-2: not the locks, not
  # a test's pipes (a libvirtd restarted mid-test would hold them open).
  ( for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    exec "$1" -d ) || return 1
  for i in $(seq 1 100); do
    [ -s "/run/$1.pid" ] && break
    sleep 0.1
  done
  [ -s "/run/$1.pid" ] || return 1
  pid=$(cat "/run/$1.pid")
  echo "$pid" >> "$_guest_state/started"
  echo "guest: started $1 (pid $pid)"
}

guest_libvirt_up ()
{
  mkdir -p "$_guest_state/users"
  exec {_guest_share_fd}>> "$_guest_state/daemon.lock"
  flock -s -w 600 "$_guest_share_fd" ||
    { echo "$0: another test kept libvirtd locked for 600 s" >&2; exit 1; }
  _guest_libvirt_used=1
  ( flock -w 60 9 || exit 1
    touch "$_guest_state/users/$$"
    _guest_daemon_up virtlogd && _guest_daemon_up libvirtd
  ) 9> "$_guest_state/lock" || { echo "$0: cannot start libvirtd/virtlogd" >&2; exit 1; }
  _guest_libvirtd_answers ||
    { echo "$0: libvirtd does not answer on $GUEST_URI" >&2; exit 1; }
}

_guest_libvirtd_answers ()
{
  local i
  for i in $(seq 1 300); do
    virsh -q -c "$GUEST_URI" version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# Wait until no other test uses libvirtd and keep it so: a test that
# must restart libvirtd within a time (while its guest is frozen) calls
# this before that time starts.
guest_libvirtd_claim ()
{
  flock -x -w 600 "$_guest_share_fd" ||
    { echo "$0: FAIL: other tests kept libvirtd busy for 600 s" >&2; exit 1; }
}

guest_libvirtd_stop ()
{
  local pid i
  guest_libvirtd_claim
  pid=$(cat /run/libvirtd.pid) && kill "$pid" ||
    { echo "$0: FAIL: no libvirtd to stop" >&2; exit 1; }
  for i in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "$0: FAIL: libvirtd $pid did not stop within 30 s" >&2
  exit 1
}

guest_libvirtd_start ()
{
  ( flock -w 60 9 || exit 1
    _guest_daemon_up libvirtd ) 9> "$_guest_state/lock" &&
    _guest_libvirtd_answers ||
    { echo "$0: FAIL: libvirtd did not start again" >&2; exit 1; }
  flock -s "$_guest_share_fd"   # let the other libvirt tests go on
}

# Stop the daemons we started, once no other live test uses them.
_guest_libvirt_down ()
{
  [ -n "$_guest_libvirt_used" ] || return 0
  ( flock -w 60 9 || exit 1
    rm -f "$_guest_state/users/$$"
    for u in "$_guest_state"/users/*; do
      [ -e "$u" ] || continue
      if kill -0 "${u##*/}" 2>/dev/null; then exit 0; fi
      rm -f "$u"
    done
    [ -s "$_guest_state/started" ] || exit 0
    for pid in $(tac "$_guest_state/started"); do
      kill "$pid" 2>/dev/null || continue
      for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
    done
    rm -f "$_guest_state/started"
  ) 9> "$_guest_state/lock"
}

# guest_domain_xml SOCK EXPORT [EXPORT2]: print the domain XML.
guest_domain_xml ()
{
  local attr= disk2='/@DISK2-BEGIN@/,/@DISK2-END@/d'
  [ -n "$2" ] && attr=" name='$2'"
  [ -n "${3:-}" ] && disk2='/@DISK2-\(BEGIN\|END\)@/d'
  sed -e "$disk2" \
      -e "s|@NAME@|$GUEST_DOM|" -e "s|@KERNEL@|$GUEST_KERNEL|" \
      -e "s|@INITRD@|$GUEST_INITRD|" -e "s|@CMDLINE@|$GUEST_CMDLINE|" \
      -e "s|@EXPORT_ATTR@|$attr|" -e "s|@EXPORT2@|${3:-}|" -e "s|@SOCK@|$1|" \
      -e "s|@CONSOLE@|$GUEST_VMDIR/console.log|" \
      "$GUEST_SRC/domain.xml.in"
}

guest_name ()
{
  GUEST_DOM="fleece-test-$$-${tmpdir##*.}"
}

guest_start_libvirt ()
{
  [ -n "$GUEST_DOM" ] || guest_name
  guest_domain_xml "$1" "${2:-}" "${3:-}" > "$GUEST_VMDIR/domain.xml"
  GUEST_DISK2=${3:+/dev/vdb}
  _guest_start_ms=$(guest_now_ms)
  timeout 60 virsh -q -c "$GUEST_URI" create "$GUEST_VMDIR/domain.xml" ||
    { GUEST_DOM=; echo "$0: virsh create failed" >&2; exit 1; }
  _guest_agent=(--uri "$GUEST_URI" --domain "$GUEST_DOM")
}

guest_start_qemu ()
{
  local export=${2:-} reconnect=
  [ -n "${GUEST_QEMU_RECONNECT:-}" ] &&
    reconnect=",reconnect-delay=$GUEST_QEMU_RECONNECT"
  _guest_start_ms=$(guest_now_ms)
  qemu-system-x86_64 -accel tcg -no-user-config -nodefaults \
    -display none -m 256 -smp 1 -no-reboot \
    -kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" -append "$GUEST_CMDLINE" \
    -serial "file:$GUEST_VMDIR/console.log" \
    -blockdev "driver=nbd,node-name=disk0,server.type=unix,server.path=$1,export=$export,discard=unmap$reconnect" \
    -device virtio-blk-pci,drive=disk0 \
    -chardev "socket,id=qga0,path=$GUEST_QGA_SOCK,server=on,wait=off" \
    -device virtio-serial-pci \
    -device virtserialport,chardev=qga0,name=org.qemu.guest_agent.0 \
    -device virtio-rng-pci \
    -pidfile "$GUEST_VMDIR/qemu.pid" -daemonize ||
    { echo "$0: qemu-system-x86_64 failed to start" >&2; exit 1; }
  _guest_qemu_pid=$(cat "$GUEST_VMDIR/qemu.pid")
  _guest_agent=(--socket "$GUEST_QGA_SOCK")
}

guest_wait_agent ()
{
  if ! /usr/bin/python3 "$GUEST_SRC/qga.py" "${_guest_agent[@]}" wait "${1:-90}"; then
    echo "$0: the guest agent did not come up; console log:" >&2
    cat "$GUEST_VMDIR/console.log" >&2 || true
    exit 1
  fi
  GUEST_BOOT_MS=$(( $(guest_now_ms) - _guest_start_ms ))
}

guest_workload ()
{
  guest_wait_agent 90
  echo "boot to agent: $GUEST_BOOT_MS ms"
  guest_exec mkfs.ext4 -q ${3:+-E "$3"} "$1"
  guest_exec mount ${4:+-o "$4"} "$1" /mnt/data
  if [ -n "$GUEST_DISK2" ]; then
    guest_exec mkfs.ext4 -q ${3:+-E "$3"} "$GUEST_DISK2"
    guest_exec mkdir -p /mnt/data2
    guest_exec mount ${4:+-o "$4"} "$GUEST_DISK2" /mnt/data2
  fi
  guest_exec /workload.sh start /mnt/data ${GUEST_DISK2:+/mnt/data2}
  guest_wait_workload "$2"
}

guest_exec ()
{
  /usr/bin/python3 "$GUEST_SRC/qga.py" "${_guest_agent[@]}" exec --timeout 120 "$@"
}

guest_agent ()
{
  /usr/bin/python3 "$GUEST_SRC/qga.py" "${_guest_agent[@]}" cmd "$1"
}

guest_freeze_status ()
{
  /usr/bin/python3 "$GUEST_SRC/qga.py" "${_guest_agent[@]}" frozen-status
}

# guest_wait_workload N [records]: until workload.sh has written N files
# and N log records, or only N records (bounded; exits the test if the
# workload is stuck).
guest_wait_workload ()
{
  local i st f r c
  for i in $(seq 1 300); do
    # An agent call can fail while libvirtd restarts: then ask again.
    st=$(guest_exec /workload.sh status) || st=
    read -r f r c <<<"${st//[a-z=]/}"
    [ -n "$GUEST_DISK2" ] || c=$1
    [ "${2:-}" = records ] && f=$1 c=$1
    [ "${2:-}" = commits ] && f=$1 r=$1
    [ "${f:-0}" -ge "$1" ] && [ "${r:-0}" -ge "$1" ] && [ "${c:-0}" -ge "$1" ] &&
      return 0
    sleep 0.2
  done
  echo "$0: FAIL: workload stuck at '$st' (waiting for $1)" >&2
  exit 1
}

# guest_check_live_log IMAGE: after a backup IMAGE of the running guest,
# let the workload write 5 more records, read the live log from the
# guest and check it (verify-backup.sh --log), check that the backup's
# log is an exact prefix of it (the backup is one point in time), and
# print the stall the guest saw around the backup: the largest gap
# among records LAST..LAST+2 (LAST = the backup's last record; the
# writer blocks in the write of LAST+1, whose time it read before the
# freeze, or in the fsync of LAST).
guest_check_live_log ()
{
  local last n
  debugfs -R "dump /log $tmpdir/backup.log" "$1" 2>/dev/null
  last=$(tail -n 1 "$tmpdir/backup.log" | cut -d'|' -f1)
  guest_wait_workload $(( last + 5 )) records
  guest_exec cat /mnt/data/log > "$tmpdir/live.log"
  "$GUEST_SRC/verify-backup.sh" --log "$tmpdir/live.log"
  n=$(wc -c < "$tmpdir/backup.log")
  cmp -n "$n" "$tmpdir/backup.log" "$tmpdir/live.log" ||
    { echo "$0: FAIL: the backup's log is not a prefix of the live log" >&2; exit 1; }
  awk -F'|' -v s="$last" '$1 >= s && $1 <= s + 2 {
      if ($1 > s && $2 - t > g) { g = $2 - t; a = $1 - 1 }
      t = $2 }
    END { printf "guest-observed stall at the backup: %.1f ms (records %d->%d)\n",
                 g / 1e6, a, a + 1 }' "$tmpdir/live.log"
  rm -f "$tmpdir/backup.log" "$tmpdir/live.log"
}

guest_stop ()
{
  local i
  if [ -n "$GUEST_DOM" ]; then
    timeout 60 virsh -q -c "$GUEST_URI" destroy "$GUEST_DOM" >/dev/null 2>&1 || true
    GUEST_DOM=
  fi
  if [ -n "$_guest_qemu_pid" ]; then
    kill "$_guest_qemu_pid" 2>/dev/null || true
    for i in $(seq 1 100); do
      kill -0 "$_guest_qemu_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$_guest_qemu_pid" 2>/dev/null; then
      kill -9 "$_guest_qemu_pid" 2>/dev/null || true
    fi
    _guest_qemu_pid=
  fi
}

_guest_cleanup ()
{
  guest_stop
  _guest_libvirt_down || true
}
trap '_guest_status=$?; _guest_cleanup; _cleanup "$_guest_status"' EXIT
