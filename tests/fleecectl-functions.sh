# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: sourced by the fleecectl tests, after functions.sh.
#
# Provides $FLEECECTL (the client under test: the build's, or
# $FLEECECTL_UNDER_TEST to run the tests against another build, such
# as an older one to see them fail), expect_exit, fake (a fake
# control socket, fake_control.py) and backup_server.

FLEECECTL="${FLEECECTL_UNDER_TEST:-$abs_top_builddir/tools/fleecectl/fleecectl}"
[ -x "$FLEECECTL" ] || { echo "$0: FAIL: $FLEECECTL not built" >&2; exit 1; }
requires /usr/bin/python3 --version

# expect_exit STATUS REGEX CMD...: CMD exits with STATUS, and its
# output (standard output and error) matches the extended REGEX.
expect_exit ()
{
  local want="$1" re="$2" out st=0
  shift 2
  out=$("$@" 2>&1) || st=$?
  if [ "$st" != "$want" ] || ! grep -Eq -- "$re" <<<"$out"; then
    echo "$0: FAIL: '$*' exited $st (want $want), output:" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "ok: exit $st: $(grep -E -m1 -- "$re" <<<"$out")"
}

# fake MODE REPLIES LOG CMD...: run CMD with a fake control socket at
# $tmpdir/fake.sock (see fake_control.py for the modes); exits with
# CMD's status, 124 if CMD hung.
fake ()
{
  local mode="$1" replies="$2" log="$3"
  shift 3
  rm -f "$tmpdir/fake.sock"
  /usr/bin/python3 "$srcdir/fake_control.py" "$tmpdir/fake.sock" \
    "$mode" "$replies" "$log" -- "$@"
}

# backup_server SIZE: in the current directory, disk.img of SIZE bytes
# (truncate's units) served on nbd.sock by the file plugin under the
# filter, 4K blocks, changed-block tracking at 4K (cbt), the control
# socket ctl.sock; sets uri to the disk's NBD URI.
backup_server ()
{
  truncate -s "$1" disk.img
  start_nbdkit pid nbd.sock --filter="$FLEECE" file disk.img \
    cbt-dir=cbt cbt-granularity=4K fleece-block-size=4K control=ctl.sock
  for _ in $(seq 100); do [ -S ctl.sock ] && break; sleep 0.05; done
  uri="nbd+unix:///?socket=$PWD/nbd.sock"
}
