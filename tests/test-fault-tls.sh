#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test-fault-tls.sh: both exports served with `nbdkit --tls=require`
# (the example in docs/security.md), with X.509 certificates made by
# certtool at test time, and with a pre-shared key (psktool):
# - a backup of the snapshot over TLS with nbdcopy (nbds+unix:// URI)
#   is byte-identical to the disk as it was, while the live export
#   (over TLS too) is written during the copy;
# - a client without TLS is refused by both exports.

source "$srcdir/functions.sh"
requires nbdkit --version
requires nbdcopy --version
requires certtool --version
requires psktool --version
requires cmp --version

# X.509: a CA, a server and a client certificate, in nbdkit's layout.
pki="$tmpdir/pki"
mkdir "$pki"
certtool --generate-privkey --outfile "$pki/ca-key.pem" 2>/dev/null
printf 'cn = fleece test CA\nca\ncert_signing_key\nexpiration_days = 2\n' > "$tmpdir/ca.info"
certtool --generate-self-signed --load-privkey "$pki/ca-key.pem" \
  --template "$tmpdir/ca.info" --outfile "$pki/ca-cert.pem" 2>/dev/null
for who in server client; do
  certtool --generate-privkey --outfile "$pki/$who-key.pem" 2>/dev/null
  printf 'cn = localhost\ndns_name = localhost\ntls_www_%s\nencryption_key\nsigning_key\nexpiration_days = 2\n' \
    "$who" > "$tmpdir/$who.info"
  certtool --generate-certificate --load-privkey "$pki/$who-key.pem" \
    --load-ca-certificate "$pki/ca-cert.pem" \
    --load-ca-privkey "$pki/ca-key.pem" --template "$tmpdir/$who.info" \
    --outfile "$pki/$who-cert.pem" 2>/dev/null
done
chmod 0600 "$pki"/*-key.pem
psktool -u alice -p "$tmpdir/keys.psk" > /dev/null

/usr/bin/python3 -c '
import sys; open(sys.argv[1], "wb").write(bytes((i * 11) % 249 for i in range(4 << 20)))
' "$tmpdir/disk.img"

# run NAME TLS-ARGS... -- URI-USER URI-QUERY
run ()
{
  local name="$1" args=() u q
  shift
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  u="$2" q="$3"
  echo "== $name"
  cp "$tmpdir/disk.img" "$tmpdir/live.img"
  cp "$tmpdir/disk.img" "$tmpdir/before.img"
  nbdkit -U - --tls=require "${args[@]}" --filter="$FLEECE" \
    file "$tmpdir/live.img" \
    --run "
      set -e
      snap=\"nbds+unix://$u/snapshot?socket=\$unixsocket&$q\"
      live=\"nbds+unix://$u/?socket=\$unixsocket&$q\"
      if nbdinfo --size \"nbd+unix:///snapshot?socket=\$unixsocket\" 2>/dev/null ||
         nbdinfo --size \"nbd+unix:///?socket=\$unixsocket\" 2>/dev/null; then
        echo 'FAIL: a client without TLS was served' >&2; exit 1
      fi
      echo 'ok: clients without TLS refused'
      /usr/bin/python3 -c '
import nbd, subprocess, sys
snap, live, out = sys.argv[1:4]
h = nbd.NBD(); h.set_uri_allow_local_file(True)
h.connect_uri(snap)                          # the snapshot, held open
h.pread(1, 0)                                # (its first read takes it)
w = nbd.NBD(); w.set_uri_allow_local_file(True); w.connect_uri(live)
w.pwrite(b\"L\" * 1000000, 12345)            # live write over TLS
subprocess.run([\"nbdcopy\", snap, out], check=True)
w.pwrite(b\"M\" * 4096, 3 << 20)
h.shutdown(); w.shutdown()
' \"\$snap\" \"\$live\" '$tmpdir/backup.img'
    " 2> "$tmpdir/log" || { cat "$tmpdir/log" >&2; exit 1; }
  cmp "$tmpdir/before.img" "$tmpdir/backup.img"
  if cmp -s "$tmpdir/before.img" "$tmpdir/live.img"; then
    echo "$0: FAIL: $name: the live writes did not reach the disk" >&2
    exit 1
  fi
  echo "ok: $name: backup over TLS is byte-identical to the disk as it was"
  rm "$tmpdir/backup.img"
}

run x509 --tls-certificates="$pki" -- "" "tls-certificates=$pki"
run psk --tls-psk="$tmpdir/keys.psk" -- "alice@" "tls-psk-file=$tmpdir/keys.psk"
