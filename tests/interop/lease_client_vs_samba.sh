#!/bin/bash
# smbx-client's lease table against a private Samba (scripts/samba.sh, SMB2
# leases on) on a free port: `hold FILE` opens FILE under an RWH lease and
# keeps a line of data dirty; smbclient then opens the file to read it,
# which breaks W: smbx-client gets the break (RWH -> RH), writes the data
# back, the node acks, and only then does smbclient's open complete -- the
# file it reads holds the flushed line. The capture shows, in this order,
# the break notification, the WRITE and the ack with state RH (tshark), and
# smbx-dump reads it with no error record. Also: --leases ls against a
# server without directory leasing (Samba 4.17) falls back to plain opens.
#
#   lease_client_vs_samba.sh SMBX_CLIENT SAMBA_SH SMBX_DUMP
#
# Exit 0 pass, 1 fail, 77 skip (not root, or no smbd/smbclient/tshark, and
# CI unset).
set -uo pipefail

client=${1:?usage: lease_client_vs_samba.sh SMBX_CLIENT SAMBA_SH SMBX_DUMP}
samba=${2:?usage}
dump=${3:?usage}

skip() {
  if [ -n "${CI:-}" ]; then
    echo "FAIL: $* (CI is set: not skipping)"
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (smbd)"
command -v smbd >/dev/null 2>&1 || [ -x /usr/sbin/smbd ] || skip "no smbd"
command -v smbclient >/dev/null 2>&1 || skip "no smbclient"
command -v tshark >/dev/null 2>&1 || skip "no tshark"

port=""
for _ in $(seq 1 50); do
  p=$((20000 + RANDOM % 20000))
  hex=$(printf '%04X' "$p")
  if ! awk -v h="$hex" 'NR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == h) f = 1 }
                        END { exit f ? 0 : 1 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
    port=$p
    break
  fi
done
[ -n "$port" ] || { echo "FAIL: no free port"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/smbx-lease-test.XXXXXX")
export SMBX_SAMBA_ROOT=$work/samba
SAMBA_PID=""
HOLD_PID=""
cleanup() {
  if [ -n "$HOLD_PID" ] && [ -d "/proc/$HOLD_PID" ]; then
    kill "$HOLD_PID" 2>/dev/null || true
  fi
  if [ -n "$SAMBA_PID" ]; then
    "$samba" stop "$port" >/dev/null 2>&1 || true
    if [ -d "/proc/$SAMBA_PID" ]; then kill -KILL "$SAMBA_PID" 2>/dev/null || true; fi
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

vars=$("$samba" start "$port" 2>"$work/samba-start.log") || {
  cat "$work/samba-start.log"
  echo "FAIL: samba.sh start $port"
  exit 1
}
eval "$vars"
url=//127.0.0.1:$port/share

fails=0
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }

want='written back under the lease break'
for d in 2.1 3.0.2 3.1.1; do
  rm -f "$SAMBA_SHARE/h.txt" "$work/got.txt" "$work/hold.out"
  "$client" --leases -d "$d" -p "$work/hold.pcap" "$url" -c "hold h.txt 30" \
    >"$work/hold.out" 2>&1 &
  HOLD_PID=$!
  for _ in $(seq 1 100); do
    grep -q 'bytes dirty' "$work/hold.out" && break
    sleep 0.1
  done
  if ! grep -q 'lease RWH, 35 bytes dirty' "$work/hold.out"; then
    bad "$d: hold did not get an RWH lease: $(tr '\n' ' ' <"$work/hold.out")"
    kill "$HOLD_PID" 2>/dev/null
    wait "$HOLD_PID" 2>/dev/null
    HOLD_PID=""
    continue
  fi
  # the file is still empty on disk: the data is dirty in the client
  [ ! -s "$SAMBA_SHARE/h.txt" ] && ok "$d: RWH lease, data not yet written" ||
    bad "$d: data reached the server before any break"
  # a second client opens it for reading: W must be broken first
  if smbclient //127.0.0.1/share -p "$port" -N -c "get h.txt $work/got.txt" >"$work/smbclient.out" 2>&1 &&
     [ "$(cat "$work/got.txt")" = "$want" ]; then
    ok "$d: second open completed after the flush (it reads the data)"
  else
    bad "$d: second client read '$(cat "$work/got.txt" 2>/dev/null)': $(tr '\n' ' ' <"$work/smbclient.out")"
  fi
  wait "$HOLD_PID"
  rc=$?
  HOLD_PID=""
  grep -q 'break RWH -> RH, flushed 35 bytes, acked' "$work/hold.out" && [ $rc -eq 0 ] &&
    ok "$d: break RWH -> RH, flush, ack (exit 0)" ||
    bad "$d: hold: exit $rc: $(tr '\n' ' ' <"$work/hold.out")"
  # on the wire: notification, WRITE, then the ack with RH
  seq=$(tshark -r "$work/hold.pcap" -Y 'smb2.cmd == 18 || smb2.cmd == 9' \
          -T fields -e smb2.cmd -e smb2.msg_id -e smb2.flags.response \
          -e smb2.lease.lease_state 2>/dev/null |
        awk '$1 == 18 && $2 == "18446744073709551615" { print "notify" }
             $1 == 9 && $3 == 0 { print "write" }
             $1 == 18 && $2 != "18446744073709551615" && $3 == 0 { print "ack" $4 }' |
        tr '\n' ' ')
  [ "$seq" = "notify write ack0x00000003 " ] &&
    ok "$d: capture: notification, WRITE, ack RH in that order" ||
    bad "$d: capture order: '$seq'"
  recs=$("$dump" "$work/hold.pcap" | grep -c '"type"')
  errs=$("$dump" "$work/hold.pcap" | grep -c '"type":"error"')
  [ "$recs" -gt 10 ] && [ "$errs" -eq 0 ] && ok "$d: smbx-dump: $recs records, no error" ||
    bad "$d: smbx-dump: $recs records, $errs errors"
done

# no directory leasing on Samba 4.17: --leases ls opens plainly, twice
mkdir -p "$SAMBA_SHARE/d" && for i in 1 2 3; do echo x >"$SAMBA_SHARE/d/f$i"; done
out=$("$client" --leases "$url" -c "ls d; ls d" 2>&1)
[ "$(grep -c 'ls d: 5 entries in 2 QUERY_DIRECTORY rounds' <<<"$out")" -eq 2 ] &&
  ok "--leases ls without DIRECTORY_LEASING: both listings from the server" ||
  bad "--leases ls: $out"

echo "1..$n"
[ $fails -eq 0 ] || { echo "FAIL: $fails of $n"; exit 1; }
exit 0
