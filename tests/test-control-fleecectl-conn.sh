#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-control-fleecectl-conn.sh: fleecectl says what is wrong with
# --socket PATH when it is not a usable control socket (exit status 2),
# and never waits for ever:
# - a regular file, a directory: "PATH is a regular file / a directory,
#   not a socket" and what to pass instead (not "a stale socket?");
# - nbdkit's NBD socket: "PATH is an NBD socket, not the control
#   socket (control=)", never the raw greeting;
# - a server that answers something other than a JSON reply: quoted,
#   "not a fleece control socket";
# - a listener that accepts and never answers, and one whose backlog
#   is full (connect waits): --timeout ends the wait, exit 2 (the fake
#   kills a client still running after 30s: exit 124, a FAIL);
# - --timeout's values; --version.

source "$srcdir/functions.sh"
source "$srcdir/fleecectl-functions.sh"
requires nbdkit --version

echo "== --version"
expect_exit 0 "^fleecectl [0-9]+\.[0-9]+" "$FLEECECTL" --version

echo "== not a socket"
touch "$tmpdir/file"
mkdir "$tmpdir/dir"
out=$("$FLEECECTL" -s "$tmpdir/file" status 2>&1) || true
! grep -q "stale" <<<"$out" ||
  { echo "$0: FAIL: a regular file called a stale socket: $out" >&2; exit 1; }
expect_exit 2 "$tmpdir/file is a regular file, not a socket: pass .*control=PATH" \
  "$FLEECECTL" -s "$tmpdir/file" status
expect_exit 2 "$tmpdir/dir is a directory, not a socket: pass .*control=PATH" \
  "$FLEECECTL" -s "$tmpdir/dir" begin

echo "== the NBD socket"
nbdkit -U - memory 1M --run \
  "st=0; '$FLEECECTL' -s \"\$unixsocket\" status > '$tmpdir/nbd' 2>&1 || st=\$?
   echo \"exit \$st\" >> '$tmpdir/nbd'" 2>/dev/null
cat "$tmpdir/nbd"
grep -Eq "fleecectl: .* is an NBD socket, not the control socket \(control=\)" \
  "$tmpdir/nbd" && [ "$(tail -n1 "$tmpdir/nbd")" = "exit 2" ] ||
  { echo "$0: FAIL: the NBD socket as --socket" >&2; exit 1; }
! grep -q NBDMAGIC "$tmpdir/nbd" ||
  { echo "$0: FAIL: the raw NBD greeting printed" >&2; exit 1; }
echo "ok: the NBD socket recognised"

echo "== not JSON"
printf 'hello, world\n' > "$tmpdir/hello"
expect_exit 2 'fake.sock is not a fleece control socket: its reply is not a control reply \("hello, world"\)' \
  fake reply "$tmpdir/hello" "$tmpdir/log" "$FLEECECTL" -s "$tmpdir/fake.sock" end
printf '{"answer":42}\n' > "$tmpdir/nook"
expect_exit 2 'fake.sock is not a fleece control socket' \
  fake reply "$tmpdir/nook" "$tmpdir/log" "$FLEECECTL" -s "$tmpdir/fake.sock" end

echo "== --timeout"
expect_exit 2 'fake.sock: no reply within 0.5s \(--timeout\)' \
  fake silent - - "$FLEECECTL" -s "$tmpdir/fake.sock" --timeout 500ms status
expect_exit 2 'fake.sock: no reply within 0.2s \(--timeout\)' \
  fake silent - - "$FLEECECTL" -s "$tmpdir/fake.sock" begin --timeout 0.2
expect_exit 2 'fake.sock: no reply within 0.3s \(--timeout\)' \
  fake silent - - "$FLEECECTL" -s "$tmpdir/fake.sock" status --watch \
  --timeout 0.3s
expect_exit 2 'fake.sock: no connection within 0.3s \(--timeout\)' \
  fake backlog - - "$FLEECECTL" -s "$tmpdir/fake.sock" --timeout 0.3s status
for bad in 5x -1 1e9 nan "" 0.5us 0.0001; do
  expect_exit 2 "--timeout $bad: expected a duration" \
    "$FLEECECTL" -s "$tmpdir/fake.sock" --timeout "$bad" status
done
printf '{"id":1,"ok":true,"generation":1,"description":null}\n' > "$tmpdir/end"
for t in 0 2m 1h 10; do
  expect_exit 0 'snapshot generation 1 ended' \
    fake reply "$tmpdir/end" "$tmpdir/log" \
    "$FLEECECTL" -s "$tmpdir/fake.sock" --timeout "$t" end
done
expect_exit 0 'timeout DURATION .*default 120s' "$FLEECECTL" --help
