#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Verify a backup of the test guest's disk (ext4 written by workload.sh).
#
#   verify-backup.sh [OPTION] IMAGE [IMAGE2]   check the filesystem image
#                                 (and the second disk's, IMAGE2)
#   verify-backup.sh --log FILE   check only a workload log (for example
#                                 one read from the running guest)
#
# OPTION (for images that are NOT application-consistent backups):
#   --replay     a crash-consistent image: its journal must need replay
#                (needs_recovery, as after a power cut); it is replayed
#                in place (e2fsck -fy), then checked as below, except
#                that a torn tail of the log (the last record partly
#                written) is allowed and reported.
#   --accept-error-flag   the state may be "clean with errors" (ext4
#                recorded an I/O error, for example during an nbdkit
#                outage); the recorded error is printed; everything
#                else is checked as below.
#
# IMAGE checks, without mounting anything (the first four for IMAGE2 too):
#   - no journal replay needed: the superblock features lack
#     needs_recovery and the state is "clean" (dumpe2fs -h);
#   - e2fsck -fn finds nothing to fix (exit status 0);
#   - every file is extracted (debugfs rdump) and every files/fNN has a
#     valid header and the sha256 its header names (files/.tmp-* are
#     work in progress and only counted); at least one file and one log
#     record must exist, so an empty filesystem does not pass;
#   - the log: every line is a complete record "SEQ|T_NS|PAYLOAD|MD5"
#     with a matching md5, SEQ counts up by one, T_NS never goes back,
#     and the file ends with a newline (a last record may be absent,
#     never half-written).
# With IMAGE2 (a two-disk guest, workload.sh's commit writer): the
# backups of both disks must be of one instant:
#   - IMAGE's commits: complete records "SEQ|NAME|SIZE|MD5" (md5 valid,
#     SEQ counting up by one from 1, at least one record);
#   - every record names a file IMAGE2's data/ holds, of SIZE bytes and
#     the sha256 in its NAME;
#   - data/ holds no other file but, at most, the next one (SEQ = last
#     record + 1: written, its record not yet).
# Prints one summary line:
#   verify-backup: OK: N files, M records, largest gap G ms (seq A->B)
# (with IMAGE2 followed by "; C commits, every data file complete, U
# uncommitted") and exits 0; on any problem prints
# "verify-backup: FAIL: ..." lines and exits 1.
set -euo pipefail
export PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

fail () { echo "verify-backup: FAIL: $*" >&2; exit 1; }

# check_tree DIR: the per-file and log checks, in Python for speed.
check_tree ()
{
  /usr/bin/python3 - "$@" <<'EOF'
import hashlib, os, re, sys

REC = rb"(\d+)\|(\d+)\|([0-9a-f]{32})\|([0-9a-f]{32})"

def torn_tail(data):
    """After a crash: split off what follows the last complete record."""
    end = len(data)
    while end > 0:
        start = data.rfind(b"\n", 0, end - 1) + 1
        m = re.fullmatch(REC, data[start:end].rstrip(b"\n"))
        if m and data[start:end].endswith(b"\n") and \
           hashlib.md5(b"|".join(m.group(1, 2, 3))).hexdigest().encode() == m[4]:
            break
        end = start
    return data[:end], data[end:]

def check_log(path, errors):
    data = open(path, "rb").read()
    if os.environ.get("VERIFY_TORN_TAIL_OK") == "1":
        data, tail = torn_tail(data)
        if tail:
            print("verify-backup: note: torn log tail after the crash "
                  "(%d bytes, allowed): %r" % (len(tail), tail[:60]))
    if data and not data.endswith(b"\n"):
        errors.append("log: last record is torn (no final newline): %r"
                      % data[-60:])
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    prev = None
    gap = (0, None, None)
    for i, line in enumerate(lines, 1):
        m = re.fullmatch(REC, line)
        if not m:
            errors.append("log line %d: malformed record %r" % (i, line[:80]))
            continue
        seq, t = int(m[1]), int(m[2])
        rec = b"|".join((m[1], m[2], m[3]))
        if hashlib.md5(rec).hexdigest().encode() != m[4]:
            errors.append("log line %d: checksum mismatch (seq %d)" % (i, seq))
        if prev is not None:
            if seq != prev[0] + 1:
                errors.append("log line %d: seq %d follows %d" % (i, seq, prev[0]))
            if t < prev[1]:
                errors.append("log line %d: time goes back" % i)
            elif t - prev[1] > gap[0]:
                gap = (t - prev[1], prev[0], seq)
        prev = (seq, t)
    return len(lines), gap

COMMIT = rb"(\d+)\|(c(\d{6})-([0-9a-f]{64}))\|(\d+)\|([0-9a-f]{32})"

def check_commits(path, data, errors):
    """The commit log on disk 1 against the data files on disk 2."""
    if not os.path.exists(path):
        errors.append("no commits log in the first disk's backup")
        return 0, 0
    raw = open(path, "rb").read()
    if raw and not raw.endswith(b"\n"):
        errors.append("commits: last record is torn: %r" % raw[-60:])
    names = set(os.listdir(data)) if os.path.isdir(data) else set()
    seq = 0
    for i, line in enumerate(raw.split(b"\n")[:-1], 1):
        m = re.fullmatch(COMMIT, line)
        if not m:
            errors.append("commits line %d: malformed record %r" % (i, line[:80]))
            continue
        rec = b"|".join((m[1], m[2], m[5]))
        if hashlib.md5(rec).hexdigest().encode() != m[6] or \
           int(m[1]) != seq + 1 or int(m[3]) != int(m[1]):
            errors.append("commits line %d: bad record (seq %s after %d)"
                          % (i, m[1].decode(), seq))
        seq = int(m[1])
        name = m[2].decode()
        if name not in names:
            errors.append("commit %d names data/%s, absent from the second "
                          "disk's backup: the disks are not of one instant"
                          % (seq, name))
            continue
        names.discard(name)
        payload = open(os.path.join(data, name), "rb").read()
        if len(payload) != int(m[5]) or \
           hashlib.sha256(payload).hexdigest().encode() != m[4]:
            errors.append("commit %d: data/%s is incomplete (%d bytes, "
                          "record says %s) or its sha256 differs"
                          % (seq, name, len(payload), m[5].decode()))
    if seq == 0:
        errors.append("the commits log has no record")
    later = sorted(n for n in names if not n.startswith("c%06d-" % (seq + 1)))
    if later or len(names) > 1:
        errors.append("data/ holds %d files without a commit record "
                      "(last record %d; only the next may be there): %s: "
                      "the disks are not of one instant"
                      % (len(names), seq, ", ".join(sorted(names)[:3])))
    return seq, len(names)

def check_files(d, errors):
    good = partial = 0
    for name in sorted(os.listdir(d)):
        path = os.path.join(d, name)
        if name.startswith(".tmp-"):
            partial += 1
            continue
        data = open(path, "rb").read()
        head, _, payload = data.partition(b"\n")
        m = re.fullmatch(rb"FLEECE-FILE (\d+) (\d+) ([0-9a-f]{64})", head)
        if not m:
            errors.append("files/%s: bad header %r" % (name, head[:80]))
        elif int(m[2]) != len(payload):
            errors.append("files/%s: %d payload bytes, header says %s"
                          % (name, len(payload), m[2].decode()))
        elif hashlib.sha256(payload).hexdigest().encode() != m[3]:
            errors.append("files/%s: sha256 mismatch" % name)
        else:
            good += 1
    return good, partial

mode, path = sys.argv[1], sys.argv[2]
errors = []
files = partial = 0
commits = None
if mode == "--tree":
    if not os.path.isdir(os.path.join(path, "files")):
        errors.append("no files/ directory in the backup")
    else:
        files, partial = check_files(os.path.join(path, "files"), errors)
        if files == 0:
            errors.append("no complete file in files/")
    log = os.path.join(path, "log")
    if len(sys.argv) > 3:
        commits = check_commits(os.path.join(path, "commits"),
                                os.path.join(sys.argv[3], "data"), errors)
else:
    log = path
if not os.path.exists(log):
    errors.append("no log in the backup")
    records, gap = 0, (0, None, None)
else:
    records, gap = check_log(log, errors)
    if records == 0:
        errors.append("the log has no record")
for e in errors[:20]:
    print("verify-backup: FAIL: " + e, file=sys.stderr)
if len(errors) > 20:
    print("verify-backup: FAIL: ... %d more" % (len(errors) - 20), file=sys.stderr)
if errors:
    sys.exit(1)
what = ("%d files (+%d partial .tmp), " % (files, partial)) if mode == "--tree" else ""
pair = ("; %d commits, every data file complete, %d uncommitted" % commits
        if commits else "")
print("verify-backup: OK: %s%d records, largest gap %.1f ms (seq %s->%s)%s"
      % (what, records, gap[0] / 1e6, gap[1], gap[2], pair))
EOF
}

if [ "${1:-}" = --log ]; then
  [ -r "${2:-}" ] || fail "usage: $0 --log FILE (cannot read '${2:-}')"
  check_tree --log "$2"
  exit
fi
replay=false error_flag_ok=false
case "${1:-}" in
  --replay) replay=true; shift ;;
  --accept-error-flag) error_flag_ok=true; shift ;;
esac
image=${1:-} image2=${2:-}
[ -r "$image" ] || fail "usage: $0 [--replay|--accept-error-flag] IMAGE [IMAGE2] (cannot read '$image')"
[ -z "$image2" ] || [ -r "$image2" ] || fail "cannot read '$image2'"

# check_image IMAGE: the superblock and e2fsck checks (replay first
# with --replay).
check_image ()
{
  local image=$1 sb features state out
  sb=$(dumpe2fs -h "$image" 2>/dev/null) || fail "$image: not an ext2/3/4 filesystem"
  features=$(sed -n 's/^Filesystem features: *//p' <<<"$sb")
  if $replay; then
    grep -qw needs_recovery <<<"$features" ||
      fail "$image: --replay, but the journal needs no replay"
    e2fsck -fy "$image" >/dev/null 2>&1 || [ $? = 1 ] ||
      fail "$image: e2fsck -fy could not repair it"
    echo "verify-backup: note: the journal needed replay (crash-consistent image); replayed"
    export VERIFY_TORN_TAIL_OK=1
    sb=$(dumpe2fs -h "$image" 2>/dev/null)
    features=$(sed -n 's/^Filesystem features: *//p' <<<"$sb")
  fi
  state=$(sed -n 's/^Filesystem state: *//p' <<<"$sb")
  if grep -qw needs_recovery <<<"$features"; then
    fail "$image: the journal needs replay (needs_recovery set): not a quiesced image"
  fi
  if $error_flag_ok && [ "$state" = "clean with errors" ]; then
    echo "verify-backup: note: state 'clean with errors' (allowed): $(
      sed -n 's/^\(First error function\|FS Error count\): *\(.*\)/\1 \2/p' <<<"$sb" |
        paste -sd ';')"
    state=clean
  fi
  [ "$state" = clean ] || fail "$image: filesystem state is '$state', not clean"

  if ! out=$(e2fsck -fn "$image" 2>&1); then
    echo "$out" >&2
    fail "$image: e2fsck -fn found problems"
  fi
}

# extract IMAGE DIR: every file of IMAGE into DIR.
extract ()
{
  mkdir "$2"
  debugfs -R "rdump / $2" "$1" >/dev/null 2>"$tree/err" ||
    { cat "$tree/err" >&2; fail "$1: debugfs rdump failed"; }
}

check_image "$image"
[ -z "$image2" ] || check_image "$image2"
tree=$(mktemp -d "${TMPDIR:-/tmp}/verify-backup.XXXXXX")
trap 'rm -rf "$tree"' EXIT
extract "$image" "$tree/1"
[ -z "$image2" ] || extract "$image2" "$tree/2"
check_tree --tree "$tree/1" ${image2:+"$tree/2"}
