#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fleecectl-backup-metrics.sh: fleecectl backup --metrics-file
# (fleecectl(1), BACKUP METRICS) on the file plugin under the filter
# with cbt-dir=, a 4 MiB disk.  Every file is parsed strictly
# (metrics_parse.py, Prometheus' classic format) and its values checked
# exactly:
# - a full backup, then an incremental: result 0, full 1/0, consistency
#   0 (crash-consistent: no guest agent), copied bytes the manifest's,
#   backups 1/2, last success the manifest's finished-at, the vm label
#   on every sample, no temporary file left;
# - an unwritable PATH: a warning, the backup's exit status (3) stands;
# - failures: DIR locked (exit 7), the server gone (exit 2), every read
#   failing after the snapshot began (exit 7): result 1, last success
#   still the newest backup's, no per-backup metrics;
# - usage errors.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
requires nbdkit --version
requires qemu-img --version
requires qemu-nbd --version
requires /usr/bin/python3 -c 'import nbd'
F="$FLEECECTL"
cd "$tmpdir"
backup_server 4M
mkdir prom

write () {
  /usr/bin/python3 -c '
import nbd, sys
h = nbd.NBD(); h.connect_uri(sys.argv[1])
h.pwrite(b"\x07" * int(sys.argv[3]), int(sys.argv[2])); h.flush()' "$uri" "$@"
}
# backup WANT ARGS...: backup with the metrics file, exit status WANT.
backup () {
  local want="$1" st=0
  shift
  "$F" -s ctl.sock backup --uri "$uri" --output dir --metrics-file \
    prom/vm1.prom --label vm=vm1 "$@" > bk.out 2> bk.err || st=$?
  [ "$st" = "$want" ] ||
    { echo "$0: FAIL: backup exited $st, want $want" >&2; cat bk.out bk.err >&2
      exit 1; }
}
# check OK BACKUPS NEWEST: prom/vm1.prom, for a run that recorded a
# backup (OK 1: NEWEST, its name) or failed (OK 0), BACKUPS in dir.
check () {
  /usr/bin/python3 - "$@" <<'PY'
import calendar, json, os, sys, time
from metrics_parse import parse
ok, nbackups, newest = sys.argv[1] == "1", int(sys.argv[2]), sys.argv[3]
text = open("prom/vm1.prom").read()
s, fam = parse(text, False)
v = {}
for (name, labels), val in s.items():
    assert labels == (("vm", "vm1"),), (name, labels)
    v[name[len("nbdkit_fleece_backup_"):]] = val
assert all(t == "gauge" for t in fam.values()), fam
def epoch(iso):
    return calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")) + \
        float(iso[19:-1] or 0)
m = json.load(open("dir/%s/manifest.json" % newest))
base = {"last_run_timestamp_seconds", "last_success_timestamp_seconds",
        "result", "duration_seconds", "backups"}
more = {"full", "application_consistent", "copied_bytes"}
assert set(v) == (base | more if ok else base), sorted(v)
assert v["result"] == (0 if ok else 1), v
assert v["backups"] == nbackups, v
assert abs(v["last_success_timestamp_seconds"] - epoch(m["finished-at"])) < 0.002, (v, m)
assert 0 <= time.time() - v["last_run_timestamp_seconds"] < 60, v
assert v["last_run_timestamp_seconds"] >= v["last_success_timestamp_seconds"], v
assert 0 < v["duration_seconds"] < 60, v
if ok:
    assert v["full"] == (m["kind"] == "full"), (v, m)
    assert v["application_consistent"] == 0 and m["consistency"] == "crash-consistent"
    assert v["copied_bytes"] == sum(d["bytes-copied"] for d in m["disks"]) > 0, (v, m)
assert os.listdir("prom") == ["vm1.prom"], os.listdir("prom")
print("ok: %s: %s" % ("recorded " + newest if ok else "failed",
                      ", ".join("%s %g" % kv for kv in sorted(v.items()))))
PY
}

write 0 65536; backup 3; check 1 1 0001-full
write 65536 12288; backup 3; check 1 2 0002-incr
# fleecectl(1)'s example is what it writes.
sed -n '/^For example, after a successful incremental backup:/,/^An alert/p' \
  "$abs_top_srcdir/man/fleecectl.pod" | sed -n 's/^ //p' > man.lines
[ "$(wc -l < man.lines)" = 3 ] && grep -Fxf man.lines prom/vm1.prom | cmp - man.lines ||
  { echo "$0: FAIL: fleecectl(1)'s example differs:" >&2; cat man.lines prom/vm1.prom >&2
    exit 1; }
echo "ok: fleecectl(1)'s example lines are in the file"
cp prom/vm1.prom before
"$F" -s ctl.sock backup --uri "$uri" --output dir --metrics-file \
  nosuch/vm1.prom > bk.out 2> bk.err && st=0 || st=$?
[ "$st" = 3 ] && grep -q "^backup 0003-incr: " bk.out &&
  grep -q "warning: --metrics-file nosuch/vm1.prom: creating nosuch/vm1.prom.tmp.[0-9]*: No such file or directory" bk.err ||
  { echo "$0: FAIL: unwritable metrics file: exit $st" >&2; cat bk.out bk.err >&2; exit 1; }
echo "ok: an unwritable --metrics-file warns, the backup's exit 3 stands"
cmp before prom/vm1.prom

# Failures: the lock held (as by a running backup), then no server.
exec 9> dir/.lock
flock 9
backup 7; check 0 3 0003-incr
grep -q "in use by pid" bk.err || { cat bk.err; exit 1; }
exec 9>&-
stop_nbdkit pid TERM
backup 2; check 0 3 0003-incr
# A failure after the snapshot began: every read of the disk fails
# (nbdkit's error filter under the filter): exit 7, the partial
# directory removed before the file is written.
rm -f nbd.sock ctl.sock
start_nbdkit pid2 nbd.sock --filter="$FLEECE" --filter=error file disk.img \
  control=ctl.sock error-pread=EIO error-pread-rate=100%
for _ in $(seq 100); do [ -S ctl.sock ] && break; sleep 0.05; done
backup 7; check 0 3 0003-incr
grep -q "backup failed: .*Input/output error" bk.err || { cat bk.err; exit 1; }
[ -z "$(ls -A dir | grep partial)" ] || { ls -A dir; exit 1; }

# Usage errors.
expect_exit 2 "--metrics-file goes with backup" \
  "$F" verify --input dir --metrics-file x.prom
expect_exit 2 "--metrics-file: expected a file path" \
  "$F" -s ctl.sock backup --uri "$uri" --output dir --metrics-file ''
expect_exit 2 "--label goes with status --format openmetrics or prometheus, and with backup --metrics-file" \
  "$F" -s ctl.sock backup --uri "$uri" --output dir --label vm=a
expect_exit 2 "--label 1vm=a: expected NAME=VALUE" \
  "$F" -s ctl.sock backup --uri "$uri" --output dir --metrics-file x --label 1vm=a
