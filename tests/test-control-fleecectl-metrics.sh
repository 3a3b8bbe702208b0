#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-fleecectl-metrics.sh: fleecectl status --format
# openmetrics|prometheus on a VM of two disks (a, b; 64 KiB blocks,
# fleece-max-size=64K).  Every output is parsed by metrics_parse.py,
# which rejects malformed lines (and is shown to reject each of its
# BAD examples first); then exact values:
# - Before any snapshot: counters 0, state none, each disk not broken,
#   no snapshot or last-snapshot gauges.
# - A pinned snapshot, disk a broken by its second preserved block, 4
#   KiB read from b's snapshot: state broken, disk_broken a 1 b 0,
#   per-disk preserved blocks and bytes read, the counters; fleecectl
#   exits 0 (text status exits 4).
# - After snapshot-end: the last-snapshot gauges (ended by
#   snapshot-end, broken, its timestamps), no active-snapshot gauges;
#   the classic format has the same samples.
#   With --label vm=VALUE (a quote and a backslash in it, escaped): the
#   same samples, each with that label first.
# - A second snapshot with both disks broken counts one broken
#   snapshot more, not two.
# - fleecectl(1)'s textfile collector example, as shown: a parsable
#   file with vm="vm1"; with nbdkit gone, no file.
# - Usage errors: an unknown format, a format with begin, --watch or
#   --json, --label without a metrics format or with a bad name;
#   --format json is --json.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
requires nbdkit --version
requires /usr/bin/python3 -c 'import nbd'

ctl="$tmpdir/ctl.sock"
truncate -s 4M "$tmpdir/a.img" "$tmpdir/b.img"
# fleecectl(1)'s textfile collector example, run as it is shown (the
# paths made the test's).
mkdir "$tmpdir/prom"
sed -n '/^Metrics for node exporter/,/^ fi$/p' \
    "$abs_top_srcdir/man/fleecectl.pod" | grep '^ ' |
  sed "s|^ ||; s|/var/lib/prometheus/node-exporter|$tmpdir/prom|;
       s|/run/vm1.ctl|$ctl|; s|^fleecectl|$FLEECECTL|; s| fleecectl | $FLEECECTL |" \
  > "$tmpdir/textfile.sh"
grep -q -- "--format prometheus --label vm=vm1" "$tmpdir/textfile.sh" ||
  { echo "$0: FAIL: the example was not found"; exit 1; } >&2
cat > "$tmpdir/t.py" <<'EOF'
import json, os, subprocess, sys, time
import nbd
from control_client import *
from metrics_parse import BAD, MetricsError, parse

sock, ctl, fleecectl, textfile = sys.argv[1:5]
B = 65536
P = "nbdkit_fleece_"
ENDS = ("snapshot-end", "fresh", "last-close", "linger", "pin-max-age")
c = wait_for(ctl)

for bad in BAD:
    try:
        parse(bad, True)
        fail("the parser accepted %r" % bad)
    except MetricsError:
        pass
ok("the parser rejects its %d malformed examples" % len(BAD))


def connect(name):
    h = nbd.NBD()
    h.connect_uri("nbd+unix:///%s?socket=%s" % (name, sock))
    return h


def metrics(what, fmt="openmetrics", *args):
    p = subprocess.run([fleecectl, "--socket", ctl, "status", "--format",
                        fmt] + list(args), capture_output=True, text=True)
    if p.returncode != 0 or p.stderr:
        fail("%s: fleecectl exit %d: %s" % (what, p.returncode, p.stderr))
    try:
        samples, types = parse(p.stdout, fmt == "openmetrics")
    except MetricsError as e:
        fail("%s: %s output rejected: %s\n%s" % (what, fmt, e, p.stdout))
    return samples, types


def S(name, **label):
    return (P + name, tuple(label.items()))


def expect(what, samples, want, absent=()):
    for k, v in want.items():
        if samples.get(k) != v:
            fail("%s: %s is %r, expected %r" % (what, k, samples.get(k), v))
    for name in absent:
        if any(k[0] == P + name for k in samples):
            fail("%s: %s should have no sample" % (what, name))
    ok("%s: %d samples as expected" % (what, len(want)))


def counters(**want):
    """Every counter sample: want's values (keys without _total), else 0;
    snapshots_ended by ended_by (ended=dict)."""
    ended = want.pop("ended", {})
    names = ("snapshots_created snapshots_failed snapshots_crash_consistent "
             "freeze_failures snapshots_broken writes_refused copies "
             "copied_bytes preserved_blocks read_bytes live_writes").split()
    r = {S(n + "_total"): want.get(n, 0) for n in names}
    r.update({S("snapshots_ended_total", ended_by=e): ended.get(e, 0)
              for e in ENDS})
    return r


def M(*ds):
    r = {}
    for d in ds:
        r.update(d)
    return r


def state(s):
    return {S("snapshot_state", state=x): int(x == s)
            for x in ("none", "creating", "active", "broken")}


a, b = connect("a"), connect("b")
a.pwrite(b"a" * (4 * B), 0)
b.pwrite(b"b" * (4 * B), 0)
SNAPSHOT = ("snapshot_generation snapshot_taken_timestamp_seconds "
            "snapshot_application_consistent disk_size_bytes").split()
LAST = ("last_snapshot_generation last_snapshot_broken "
        "last_snapshot_ended_by").split()

m, types = metrics("before")
expect("before", m, M(counters(), state("none"), {
    S("snapshot_pinned"): 0, S("snapshot_clients"): 0, S("store_bytes"): 0,
    S("store_limit_bytes"): B, S("disk_broken", disk="a"): 0,
    S("disk_broken", disk="b"): 0}), absent=SNAPSHOT + LAST)
if types.get(P + "snapshots_created") != "counter" or \
   types.get(P + "snapshot_state") != "gauge":
    fail("types: %r" % types)

t0 = time.time()
expect_ok(c.call("snapshot-begin"), "begin")
a.pwrite(b"w", 0)                           # preserved: a's store is full
a.pwrite(b"w", 2 * B)                       # a's snapshot breaks
sb = connect("snapshot/b")
sb.pread(4096, 0)
m, _ = metrics("broken")
expect("broken", m, M(counters(snapshots_created=1,
                                  snapshots_crash_consistent=1,
                                  snapshots_broken=1, copies=1,
                                  copied_bytes=B, preserved_blocks=1,
                                  read_bytes=4096, live_writes=2),
                         state("broken"), {
    S("snapshot_pinned"): 1, S("snapshot_clients"): 1,
    S("snapshot_generation"): 1, S("snapshot_application_consistent"): 0,
    S("snapshot_read_bytes"): 4096, S("store_bytes"): B,
    S("disk_broken", disk="a"): 1, S("disk_broken", disk="b"): 0,
    S("disk_size_bytes", disk="a"): 4 << 20,
    S("disk_preserved_blocks", disk="a"): 1,
    S("disk_preserved_blocks", disk="b"): 0,
    S("disk_read_bytes", disk="a"): 0, S("disk_read_bytes", disk="b"): 4096,
    S("disk_store_bytes", disk="a"): B}), absent=LAST)
taken = m[S("snapshot_taken_timestamp_seconds")]
if not t0 - 1 <= taken <= time.time() + 1:
    fail("taken at %r, the test began it at %r" % (taken, t0))
st = subprocess.run([fleecectl, "--socket", ctl, "status"],
                    capture_output=True, text=True)
if st.returncode != 4:
    fail("text status of a broken snapshot exited %d" % st.returncode)
ok("broken: text status exits 4, metrics exit 0")

sb.shutdown()
expect_ok(c.call("snapshot-end"), "end")
m, _ = metrics("ended")
expect("ended", m, M(counters(snapshots_created=1,
                                 snapshots_crash_consistent=1,
                                 snapshots_broken=1, copies=1,
                                 copied_bytes=B, preserved_blocks=1,
                                 read_bytes=4096, live_writes=2,
                                 ended={"snapshot-end": 1}),
                        state("none"), {
    S("last_snapshot_generation"): 1, S("last_snapshot_broken"): 1,
    S("last_snapshot_application_consistent"): 0,
    S("last_snapshot_read_bytes"): 4096, S("last_snapshot_copied_bytes"): B,
    S("last_snapshot_ended_by", ended_by="snapshot-end"): 1,
    S("last_snapshot_taken_timestamp_seconds"): taken}), absent=SNAPSHOT)
if not taken <= m[S("last_snapshot_ended_timestamp_seconds")] \
   <= time.time() + 1:
    fail("ended at %r" % m[S("last_snapshot_ended_timestamp_seconds")])
classic, types = metrics("classic", "prometheus")
if classic != m or types.get(P + "snapshots_created_total") != "counter":
    fail("the classic format differs: %r\n%r" % (set(classic.items()) ^
                                                   set(m.items()), types))
ok("the classic format has the same %d samples" % len(m))
VM = 'v"1\\'                               # escaped as v\"1\\
labelled, _ = metrics("labelled", "openmetrics", "--label", "vm=" + VM)
if labelled != {(k[0], (("vm", VM),) + k[1]): v for k, v in m.items()}:
    fail("--label vm=%s: %r" % (VM, labelled))
ok("--label vm=%s: on every sample, first" % VM)

expect_ok(c.call("snapshot-begin"), "begin 2")
for h in (a, b):
    h.pwrite(b"w", 0)
    h.pwrite(b"w", 2 * B)                   # each disk's snapshot breaks
m, _ = metrics("both broken")
expect("both disks broken: one more broken snapshot", m, {
    S("snapshots_created_total"): 2, S("snapshots_broken_total"): 2,
    S("disk_broken", disk="a"): 1, S("disk_broken", disk="b"): 1})
a.shutdown()
b.shutdown()

subprocess.run(["bash", "-e", textfile], check=True)
prom = os.path.join(os.path.dirname(textfile), "prom")
if os.listdir(prom) != ["fleece-vm1.prom"]:
    fail("the textfile example left %r" % os.listdir(prom))
samples, _ = parse(open(os.path.join(prom, "fleece-vm1.prom")).read(), False)
if samples.get((P + "snapshots_created_total", (("vm", "vm1"),))) != 2:
    fail("the textfile example wrote %r" % samples)
ok("fleecectl(1)'s textfile example wrote %d samples with vm=vm1"
   % len(samples))
EOF

nbdkit -U - --filter="$FLEECE" "$VMDISK" disk=a:"$tmpdir/a.img" \
  disk=b:"$tmpdir/b.img" control="$ctl" fleece-block-size=64K \
  fleece-max-size=64K \
  --run "/usr/bin/python3 '$tmpdir/t.py' \"\$unixsocket\" '$ctl' \
         '$FLEECECTL' '$tmpdir/textfile.sh'" 2> "$tmpdir/log" ||
  { cat "$tmpdir/log" >&2; exit 1; }
# nbdkit gone: the example removes the file rather than leave it.
bash -e "$tmpdir/textfile.sh" 2> /dev/null
[ -z "$(ls "$tmpdir/prom")" ] ||
  { echo "$0: FAIL: left $(ls "$tmpdir/prom")"; exit 1; } >&2
echo "ok: with nbdkit gone, the textfile example removes the file"

s=(--socket "$tmpdir/none.sock")
expect_exit 2 "--format yaml: expected text, json, openmetrics or prometheus" \
  "$FLEECECTL" "${s[@]}" status --format yaml
expect_exit 2 "--format goes with status" \
  "$FLEECECTL" "${s[@]}" begin --format openmetrics
expect_exit 2 "--format prometheus goes without --watch and --json" \
  "$FLEECECTL" "${s[@]}" status --watch --format prometheus
expect_exit 2 "--format openmetrics goes without --watch and --json" \
  "$FLEECECTL" "${s[@]}" status --json --format openmetrics
echo '{"ok":true,"id":1,"state":"none"}' > "$tmpdir/reply"
expect_exit 2 "--label goes with status --format openmetrics or prometheus, and with backup --metrics-file" \
  "$FLEECECTL" "${s[@]}" status --label vm=a
for bad in 1vm=a disk=a __x=a vm 'v m=a' =a; do
  expect_exit 2 "--label $bad: expected NAME=VALUE" \
    "$FLEECECTL" "${s[@]}" status --format prometheus --label "$bad"
done
fake reply "$tmpdir/reply" "$tmpdir/fake.log" \
  "$FLEECECTL" --socket "$tmpdir/fake.sock" status --format json \
  > "$tmpdir/out"
grep -qx '{"ok":true,"id":1,"state":"none"}' "$tmpdir/out" ||
  { echo "$0: FAIL: --format json printed:"; cat "$tmpdir/out"; exit 1; } >&2
echo "ok: --format json prints the reply line"
