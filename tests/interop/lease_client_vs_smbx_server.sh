#!/bin/bash
# Directory leases end to end over TCP: smbx-client --leases against
# smbx-server (its lease manager grants directory RH leases).
#  - a directory of 10,000 files listed twice: the first listing from the
#    server, the second from the client's cache with 0 PDUs (counted by the
#    node), both identical;
#  - --watch: another client creates, renames and deletes children; the
#    watcher gets a break and a dropped listing for each, and its next
#    listing is exactly the directory's content at that point;
#  - the watcher's capture has no malformed frame for tshark and no error
#    record for smbx-dump (both optional: skipped when missing);
#  - directory W (a second smbx-server with directory_write_leases = yes):
#    a file created, another deleted and a third made READONLY under the
#    client's RWH directory lease are only cached (0 PDUs each, its next
#    listing shows them), nothing reaches the disk; another client's
#    listing breaks W, the three changes are written back in order before
#    the ack, and that client sees exactly the result (names, READONLY).
#
#   lease_client_vs_smbx_server.sh SMBX_CLIENT SMBX_SERVER [SMBX_DUMP]
#
# Exit 0 pass, 1 fail. No root needed.
set -uo pipefail

client=${1:?usage: lease_client_vs_smbx_server.sh SMBX_CLIENT SMBX_SERVER [SMBX_DUMP]}
server=${2:?usage}
dump=${3:-}

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

work=$(mktemp -d "${TMPDIR:-/tmp}/smbx-dirlease-test.XXXXXX")
SRV_PID=""
SRV2_PID=""
WATCH_PID=""
cleanup() {
  for p in $WATCH_PID $SRV_PID $SRV2_PID; do
    [ -d "/proc/$p" ] && kill "$p" 2>/dev/null
  done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

root=$work/root
mkdir -p "$root/big" "$root/d"
/usr/bin/python3 - "$root/big" <<'EOF'
import os, sys
for i in range(10000):
    open(os.path.join(sys.argv[1], 'f%05d' % i), 'w').close()
EOF
for i in 1 2 3; do echo x >"$root/d/f$i"; done

"$server" --listen "127.0.0.1:$port" --root "$root" --share share \
  >"$work/server.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 1 50); do
  grep -q serving "$work/server.log" && break
  sleep 0.1
done
url=//127.0.0.1:$port/share

fails=0
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }

# 1. 10,000 entries twice
"$client" --leases "$url" -c "ls big; ls big" >"$work/ls.out" 2>"$work/ls.err"
rc=$?
total=10002 # with . and ..
if [ $rc -eq 0 ] &&
   grep -q "^ls big: $total entries in [0-9]* QUERY_DIRECTORY rounds" "$work/ls.err" &&
   grep -q "^ls big: $total entries from the lease cache (0 PDUs)" "$work/ls.err"; then
  ok "10,000-entry directory: second listing from the cache, 0 PDUs"
else
  bad "ls twice: exit $rc: $(tr '\n' ' ' <"$work/ls.err")"
fi
lines=$(wc -l <"$work/ls.out")
first=$(head -n $total "$work/ls.out" | sort | md5sum)
second=$(tail -n $total "$work/ls.out" | sort | md5sum)
[ "$lines" -eq $((2 * total)) ] && [ "$first" = "$second" ] &&
  ok "both listings identical ($total lines each)" ||
  bad "listings differ or wrong length ($lines lines)"

# 2. watch d while another client changes it
args=(--watch d --watch-time 8)
[ -n "$dump" ] && args+=(-p "$work/watch.pcap")
"$client" "${args[@]}" "$url" >"$work/watch.out" 2>"$work/watch.err" &
WATCH_PID=$!
for _ in $(seq 1 50); do
  grep -q '^ls d:' "$work/watch.err" && break
  sleep 0.1
done
echo hello >"$work/new.txt"
"$client" "$url" -c "put $work/new.txt d/new.txt" >/dev/null 2>&1 || bad "put failed"
sleep 1.5
"$client" "$url" -c "mv d/new.txt d/renamed.txt" >/dev/null 2>&1 || bad "mv failed"
sleep 1.5
"$client" "$url" -c "rm d/f1" >/dev/null 2>&1 || bad "rm failed"
wait "$WATCH_PID"
rc=$?
WATCH_PID=""
[ $rc -eq 0 ] && ok "watch ran to its end" || bad "watch: exit $rc: $(tr '\n' ' ' <"$work/watch.err")"
# one break per change at least (a put is two: the CREATE of the child,
# then the close of the handle that wrote it), each dropping the listing
# (a break that comes while a listing is still being read has no complete
# listing to drop: that one is listed again)
breaks=$(grep -c '^break .* RH -> NONE' "$work/watch.out")
drops=$(grep -c '^invalidate .* listing dropped (break)' "$work/watch.out")
[ "$breaks" -ge 3 ] && [ "$drops" -ge 3 ] && [ "$drops" -le "$breaks" ] &&
  ok "a break and a dropped listing for each of create, rename, delete ($breaks breaks)" ||
  bad "breaks $breaks, dropped listings $drops: $(tr '\n' '|' <"$work/watch.out")"
# the listings after each change, names only, in order (a listing equal
# to the one before -- the put's second break, or a listing again because
# the open raced a break and got no lease -- counts once)
awk '/^(break|invalidate|relist)/ { if (cur != "") print cur; cur = ""; next }
     /^[-D] / { cur = cur " " $3 }
     END { if (cur != "") print cur }' "$work/watch.out" >"$work/lists"
expect=$(printf '%s\n' ' . .. f1 f2 f3' ' . .. f1 f2 f3 new.txt' \
  ' . .. f1 f2 f3 renamed.txt' ' . .. f2 f3 renamed.txt')
got=$(while read -r l; do echo " $(tr ' ' '\n' <<<"$l" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')"; done <"$work/lists" | uniq)
[ "$got" = "$expect" ] && ok "each listing after a break is exactly the directory" ||
  bad "listings: $(tr '\n' '|' <<<"$got")"

if [ -n "$dump" ] && [ -s "$work/watch.pcap" ]; then
  errs=$("$dump" "$work/watch.pcap" | grep -c '"type":"error"')
  brk=$("$dump" "$work/watch.pcap" | grep -c '"cmd":18\|OPLOCK_BREAK')
  [ "$errs" -eq 0 ] && [ "$brk" -gt 0 ] && ok "smbx-dump: no error record, $brk break records" ||
    bad "smbx-dump: $errs error records, $brk break records"
  if command -v tshark >/dev/null 2>&1; then
    mal=$(tshark -r "$work/watch.pcap" -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null | wc -l)
    acks=$(tshark -r "$work/watch.pcap" -Y 'smb2.cmd == 18 && smb2.flags.response == 0' 2>/dev/null | wc -l)
    [ "$mal" -eq 0 ] && [ "$acks" -eq "$breaks" ] && ok "tshark: no malformed frame, a lease break ack per break" ||
      bad "tshark: $mal malformed, $acks acks"
  fi
fi

# 3. directory W: local create, write-back when another client looks
port2=$((port + 1))
mkdir -p "$work/root2/d"
for f in a b c; do echo x >"$work/root2/d/$f"; done
printf 'directory_write_leases = yes\n' >"$work/dw.conf"
"$server" --listen "127.0.0.1:$port2" --root "$work/root2" --share share \
  --config "$work/dw.conf" >"$work/server2.log" 2>&1 &
SRV2_PID=$!
for _ in $(seq 1 50); do
  grep -q serving "$work/server2.log" && break
  sleep 0.1
done
url2=//127.0.0.1:$port2/share
"$client" --dir-write "$url2" \
  -c "ls d; touch d/local.txt; rm d/a; setattr d/b 0x21; ls d; wait 8" \
  >"$work/dw.out" 2>"$work/dw.err" &
WATCH_PID=$!
for _ in $(seq 1 50); do
  grep -q 'from the lease cache' "$work/dw.err" && break
  sleep 0.1
done
mode_b=$(stat -c %a "$work/root2/d/b")
grep -q 'touch d/local.txt: cached under the directory.s W lease (0 PDUs)' "$work/dw.out" &&
  grep -q 'rm d/a: cached under the directory.s W lease (0 PDUs)' "$work/dw.out" &&
  grep -q 'setattr d/b: cached under the directory.s W lease (0 PDUs)' "$work/dw.out" &&
  [ ! -e "$work/root2/d/local.txt" ] && [ -e "$work/root2/d/a" ] &&
  [ $((0$mode_b & 0200)) -ne 0 ] &&
  grep -q '^ls d: 5 entries from the lease cache (0 PDUs)' "$work/dw.err" &&
  ok "directory W: create, delete, attribute change cached (0 PDUs), listed locally, not on disk" ||
  bad "directory W cache: $(tr '\n' ' ' <"$work/dw.out") / $(tr '\n' ' ' <"$work/dw.err") / b $mode_b"
cached=$(awk '/^[-D] / { print $3 }' "$work/dw.out" | tail -n 5 | sort | tr '\n' ' ')
[ "$cached" = ". .. b c local.txt " ] &&
  ok "the cached listing is the changed directory" ||
  bad "cached listing '$cached'"
other=$("$client" "$url2" -c "ls d" 2>/dev/null | awk '{print $3}' | sort | tr '\n' ' ')
attrs_b=$("$client" "$url2" -c "stat d/b" 2>/dev/null | awk '$1 == "attrs" { print $2 }')
mode_b=$(stat -c %a "$work/root2/d/b")
[ "$other" = ". .. b c local.txt " ] && [ -e "$work/root2/d/local.txt" ] &&
  [ ! -e "$work/root2/d/a" ] && [ $((0$mode_b & 0222)) -eq 0 ] &&
  [ -n "$attrs_b" ] && [ $((attrs_b & 1)) -eq 1 ] &&
  ok "another client sees exactly the written-back result (b READONLY: $attrs_b)" ||
  bad "other client listed '$other', b attrs '$attrs_b' mode $mode_b"
wait "$WATCH_PID"
rc=$?
WATCH_PID=""
grep -q '^wait: break RWH -> RH, 3 change(s) written back, acked' "$work/dw.out" && [ $rc -eq 0 ] &&
  ok "the break took W: write-back, then the ack" ||
  bad "write-back on break: exit $rc: $(tr '\n' ' ' <"$work/dw.out")"

echo "1..$n"
[ $fails -eq 0 ] || { echo "FAIL: $fails of $n"; exit 1; }
exit 0
