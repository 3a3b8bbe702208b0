# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: `fleecectl backup` of the two-disk test guest into a
# chain (one directory: a full backup, then incrementals) and
# `fleecectl restore` of its points, sourced after e2e-disks.sh by
# tests/test-e2e-ops.sh and scripts/demo.sh.  nbdkit must run with
# control=$E2E_CTL and, for incrementals, cbt-dir=.
#
#   e2e_chain_backup DIR KIND    fleecectl backup of the VM ($E2E_SOCK)
#                                into DIR, while the workload runs; prints
#                                fleecectl's own lines (per disk, summary).
#                                Checks: exit status 0; the new backup's
#                                manifest is of KIND (full|incremental; an
#                                incremental's parent is the previous
#                                backup, each disk's qcow2 backed by the
#                                parent's), application-consistent, of
#                                every disk of E2E_VM_DISKS; nbdkit's log
#                                has one snapshot of them all, one freeze,
#                                one thaw; the guest is thawed after.
#                                Sets E2E_CHAIN_LAST (its name),
#                                E2E_CHAIN_COPIED (bytes copied, all disks),
#                                E2E_CHAIN_LINE (fleecectl's summary line),
#                                E2E_CHAIN_MS (fleecectl's run time)
#   e2e_chain_restore DIR NAME OUT   fleecectl restore --at NAME, raw, into
#                                the new directory OUT (OUT/vda.raw ...),
#                                printing its lines; checks each disk was
#                                "verified identical" to the chain, then
#                                verify-backup.sh on the restored disks
#                                (e2fsck -fn clean without replay, every
#                                file's checksum, the log, every commit
#                                record's data file complete on vdb).
#                                Sets E2E_CHAIN_RECORDS and
#                                E2E_CHAIN_COMMITS (the restored log's
#                                records and commit records), and
#                                E2E_CHAIN_VERIFY (verify-backup's line)
#   e2e_chain_verify DIR         fleecectl verify: exit 0, one "ok" line
#                                per backup
#
# Everything is bounded by fleecectl's own --timeout; a failure prints
# "FAIL: ..." and exits.

E2E_CHAIN_LAST=

# _e2e_chain_names DIR: the complete backups in DIR, oldest first.
_e2e_chain_names ()
{
  find "$1" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9]+-\(full\|incr\)' \
    -printf '%f\n' | sort -n
}

# _e2e_chain_manifest FILE KIND PARENT: check one manifest (see above);
# prints the bytes copied.
_e2e_chain_manifest ()
{
  /usr/bin/python3 - "$1" "$2" "$3" "${E2E_VM_DISKS[*]}" <<'EOF'
import json, sys
path, kind, parent, disks = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
m = json.load(open(path))
err = []
want = "incremental" if kind == "incremental" else "full"
if m.get("format") != "nbdkit-fleece-backup/1":
    err.append("format %r" % m.get("format"))
if m.get("kind") != want:
    err.append("kind %r (full-reason: %r), want %r"
               % (m.get("kind"), m.get("full-reason"), want))
if want == "incremental" and m.get("parent") != parent:
    err.append("parent %r, want %r" % (m.get("parent"), parent))
if m.get("consistency") != "application-consistent":
    err.append("consistency %r: %r" % (m.get("consistency"),
                                       m.get("consistency-reason")))
names = sorted(d.get("name") for d in m.get("disks", []))
if names != sorted(disks.split()):
    err.append("disks %r, want %r" % (names, disks.split()))
for d in m.get("disks", []):
    back = "../%s/%s" % (parent, d.get("file")) if want == "incremental" else None
    if d.get("backing") != back:
        err.append("%s: backing %r, want %r" % (d.get("name"), d.get("backing"), back))
if err:
    sys.exit("%s: %s" % (path, "; ".join(err)))
print(sum(d["bytes-copied"] for d in m["disks"]))
EOF
}

e2e_chain_backup ()
{
  local dir=$1 kind=$2 st=0 name t
  e2e_log_mark
  t=$(guest_now_ms)
  "$E2E_FLEECECTL" --socket "$E2E_CTL" backup \
    --uri "nbd+unix:///?socket=$E2E_SOCK" --output "$dir" \
    > "$tmpdir/chain.out" 2>&1 || st=$?
  E2E_CHAIN_MS=$(( $(guest_now_ms) - t ))
  sed 's/^/  /' "$tmpdir/chain.out"
  [ "$st" -eq 0 ] || e2e_fail "fleecectl backup: exit status $st"
  name=$(_e2e_chain_names "$dir" | tail -n 1)
  [ -n "$name" ] && [ "$name" != "$E2E_CHAIN_LAST" ] ||
    e2e_fail "fleecectl backup recorded no new backup in $dir"
  E2E_CHAIN_COPIED=$(_e2e_chain_manifest "$dir/$name/manifest.json" "$kind" \
                       "$E2E_CHAIN_LAST") || e2e_fail "the manifest of $name"
  E2E_CHAIN_LINE=$(grep "^backup $name: " "$tmpdir/chain.out") ||
    e2e_fail "no summary line for $name"
  E2E_CHAIN_LAST=$name
  [ "$(guest_freeze_status)" = thawed ] ||
    e2e_fail "$name: the guest is not thawed after the backup"
  e2e_vm_freezes "$name" > /dev/null
}

e2e_chain_restore ()
{
  local dir=$1 name=$2 out=$3 st=0 d imgs=()
  "$E2E_FLEECECTL" restore --input "$dir" --at "$name" --output "$out" \
    --format raw > "$tmpdir/restore.out" 2>&1 || st=$?
  sed 's/^/  /' "$tmpdir/restore.out"
  [ "$st" -eq 0 ] || e2e_fail "fleecectl restore --at $name: exit status $st"
  for d in "${E2E_VM_DISKS[@]}"; do
    grep -q "^restored $d from $name .*verified identical -> $out/$d.raw\$" \
         "$tmpdir/restore.out" || e2e_fail "restore --at $name: no line for $d"
    imgs+=("$out/$d.raw")
  done
  "$GUEST_SRC/verify-backup.sh" "${imgs[@]}" > "$tmpdir/verify.out" 2>&1 ||
    { cat "$tmpdir/verify.out"; e2e_fail "the restore of $name"; }
  E2E_CHAIN_VERIFY=$(cat "$tmpdir/verify.out")
  E2E_CHAIN_RECORDS=$(sed -n 's/^verify-backup: OK: .* \([0-9]*\) records,.*/\1/p' \
                        <<<"$E2E_CHAIN_VERIFY")
  E2E_CHAIN_COMMITS=$(sed -n 's/.*; \([0-9]*\) commits,.*/\1/p' <<<"$E2E_CHAIN_VERIFY")
  [ -n "$E2E_CHAIN_RECORDS" ] && [ -n "$E2E_CHAIN_COMMITS" ] ||
    e2e_fail "verify-backup's line: $E2E_CHAIN_VERIFY"
}

e2e_chain_verify ()
{
  local st=0 n
  "$E2E_FLEECECTL" verify --input "$1" > "$tmpdir/cverify.out" 2>&1 || st=$?
  sed 's/^/  /' "$tmpdir/cverify.out"
  [ "$st" -eq 0 ] || e2e_fail "fleecectl verify: exit status $st"
  n=$(_e2e_chain_names "$1" | wc -l)
  [ "$(grep -c '^[0-9]*-[a-z]*: ok, ' "$tmpdir/cverify.out")" = "$n" ] ||
    e2e_fail "fleecectl verify: not one ok line per backup ($n)"
}
