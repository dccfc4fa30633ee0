#!/bin/bash
# go-smb2 (Debian golang-github-hirochachacha-go-smb2-dev) against
# smbx-server: tests/interop/gosmb2/main.go, built offline by meson, runs on
# each dialect ls, get, put of 8 MiB random bytes, rename, delete, mkdir and
# rmdir, each checked byte-exact on the server's disk and back. Three
# servers on free 127.0.0.1 ports, one user each:
#   - plain: every dialect, then every dialect with signing required by the
#     client; the first connection (2.1) is captured with --pcap: tshark
#     finds no malformed frame, smbx-dump no error record, and the 1 MiB
#     WRITEs and READs charge 16 credits (multi-credit, LARGE_MTU);
#   - encrypt = yes: 3.0, 3.0.2, 3.1.1; the capture of the first holds
#     TRANSFORM frames and no cleartext READ or WRITE.
#
#   gosmb2_vs_smbx_server.sh SMBX_SERVER GOSMB2_INTEROP|'' [SMBX_DUMP]
#
# Exit 0 pass, 1 fail, 77 skip (no go-smb2 program, and CI unset).
set -uo pipefail

server=${1:?usage: gosmb2_vs_smbx_server.sh SMBX_SERVER GOSMB2_INTEROP [SMBX_DUMP]}
gosmb2=${2:-}
dump=${3:-}

if [ -z "$gosmb2" ] || [ ! -x "$gosmb2" ]; then
  if [ -n "${CI:-}" ]; then
    echo "FAIL: go-smb2 program not built (golang-go, golang-github-hirochachacha-go-smb2-dev)"
    exit 1
  fi
  echo "SKIP: go-smb2 program not built (install golang-go and golang-github-hirochachacha-go-smb2-dev)"
  exit 77
fi

listening() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v h="$hex" 'NR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == h) f = 1 }
                   END { exit f ? 0 : 1 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

work=$(mktemp -d "${TMPDIR:-/tmp}/smbx-gosmb2.XXXXXX")
spid=""
stop_server() {
  [ -n "$spid" ] || return 0
  kill -TERM "$spid" 2>/dev/null || true
  for _ in $(seq 1 50); do [ -d "/proc/$spid" ] || break; sleep 0.1; done
  kill -KILL "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null
  local rc=$?
  spid=""
  return $rc
}
trap 'stop_server; rm -rf "$work"' EXIT INT TERM

fails=0
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }

# start_server CONFIG_TEXT PCAP: sets $port and $spid, serving $work/root
start_server() {
  printf '%s\n' "$1" >"$work/users.conf"
  port=""
  for _ in $(seq 1 20); do
    local p=$((20000 + RANDOM % 20000))
    listening "$p" && continue
    "$server" --listen "127.0.0.1:$p" --root "$work/root" --config "$work/users.conf" \
      --pcap "$2" -v >"$work/server.log" 2>&1 &
    spid=$!
    for _ in $(seq 1 50); do
      listening "$p" && break
      [ -d "/proc/$spid" ] || break
      sleep 0.1
    done
    if listening "$p" && [ -d "/proc/$spid" ]; then port=$p; return 0; fi
    kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; spid=""
  done
  cat "$work/server.log"
  echo "FAIL: smbx-server did not start"
  exit 1
}

# gosmb2 NAME ARGS...: runs the Go program, its checks count as one each
gosmb2() {
  local name=$1
  shift
  timeout 300 "$gosmb2" -addr "127.0.0.1:$port" -user alice -pass "$pass" -root "$work/root" "$@" \
    >"$work/go.out" 2>&1
  local rc=$?
  local good nogood
  good=$(grep -c '^ok ' "$work/go.out")
  nogood=$(grep -c '^not ok ' "$work/go.out")
  if [ $rc -eq 0 ] && [ "$nogood" -eq 0 ] && [ "$good" -gt 0 ]; then
    ok "$name: $good go-smb2 checks"
  else
    bad "$name: exit $rc, $nogood of $((good + nogood)) go-smb2 checks failed"
    sed 's/^/#   /' "$work/go.out"
    tail -20 "$work/server.log" | sed 's/^/#   server: /'
  fi
}

# tshark_scan PCAP: "FRAMES MALFORMED TRANSFORM-FRAMES CLEAR-READ/WRITE-FRAMES"
# in one pass (a 16 MiB capture takes seconds per pass)
tshark_scan() {
  tshark -r "$1" -T fields -e _ws.malformed -e smb2.header.transform.msg_size \
    -e smb2.cmd 2>/dev/null |
    awk -F'\t' '{ n++ } $1 != "" { m++ } $2 != "" { t++ } $3 ~ /(^|,)(8|9)(,|$)/ { c++ }
                END { print n + 0, m + 0, t + 0, c + 0 }'
}

mkdir -p "$work/root"
pass='Go-Smb2-Pw-1'
have_tshark=0
command -v tshark >/dev/null 2>&1 && have_tshark=1

start_server "alice:$pass" "$work/plain.pcap"
gosmb2 "every dialect" -dialects 2.1,2.0.2,3.0,3.0.2,3.1.1
gosmb2 "every dialect, signing required" -sign -dialects 2.0.2,2.1,3.0,3.0.2,3.1.1
stopped_clean() { # after each server: exit 0 on SIGTERM, no sanitizer report
  if stop_server; then ok "SIGTERM: smbx-server exits 0"; else bad "smbx-server exit status"; fi
  grep -q "Sanitizer\|runtime error" "$work/server.log" &&
    { bad "sanitizer report in the server log"; sed 's/^/#   /' "$work/server.log"; } ||
    ok "no sanitizer report"
}
stopped_clean
if [ $have_tshark -eq 1 ]; then
  read -r frames mal _ _ < <(tshark_scan "$work/plain.pcap")
  [ "$frames" -gt 50 ] && [ "$mal" -eq 0 ] && ok "2.1 capture: $frames frames, none malformed" ||
    bad "2.1 capture: $frames frames, $mal malformed"
fi
if [ -n "$dump" ]; then
  "$dump" "$work/plain.pcap" >"$work/plain.json" 2>&1
  recs=$(wc -l <"$work/plain.json")
  errs=$(grep -c '"type":"error"' "$work/plain.json")
  [ "$recs" -gt 20 ] && [ "$errs" -eq 0 ] && ok "smbx-dump: $recs records, no error record" ||
    bad "smbx-dump: $recs records, $errs error records"
  w16=$(grep '"cmd_name":"WRITE","response":false' "$work/plain.json" | grep -c '"credit_charge":16')
  r16=$(grep '"cmd_name":"READ","response":false' "$work/plain.json" | grep -c '"credit_charge":16')
  # 8 MiB each way, in chunks of the server's MaxWrite/MaxReadSize (1 MiB)
  [ "$w16" -ge 8 ] && [ "$r16" -ge 8 ] &&
    ok "2.1 multi-credit: $w16 WRITEs and $r16 READs charge 16 credits" ||
    bad "2.1 multi-credit: $w16 WRITEs, $r16 READs with CreditCharge 16"
fi

start_server "alice:$pass
encrypt = yes" "$work/enc.pcap"
gosmb2 "encrypt = yes: 3.x" -dialects 3.1.1,3.0,3.0.2
stopped_clean
if [ $have_tshark -eq 1 ]; then
  read -r _ mal tf clear < <(tshark_scan "$work/enc.pcap")
  [ "$tf" -gt 20 ] && [ "$clear" -eq 0 ] && [ "$mal" -eq 0 ] &&
    ok "3.1.1 capture: $tf TRANSFORM frames, no cleartext READ/WRITE, none malformed" ||
    { bad "3.1.1 capture: $tf TRANSFORM frames, $clear cleartext READ/WRITE, $mal malformed"
      # keep what is needed to find the cause: the frames and the capture
      tshark -r "$work/enc.pcap" -Y _ws.malformed -T fields -e frame.number \
        -e frame.len -e tcp.len -e _ws.expert.message 2>/dev/null | head -5 | sed 's/^/#   /'
      keep=${TMPDIR:-/tmp}/smbx-gosmb2-enc-$$.pcap
      cp "$work/enc.pcap" "$keep" && echo "#   capture kept as $keep"; }
fi
if [ -n "$dump" ]; then
  "$dump" "$work/enc.pcap" >"$work/enc.json" 2>&1
  errs=$(grep -c '"type":"error"' "$work/enc.json")
  tr=$(grep -c '"type":"smb2_transform"' "$work/enc.json")
  [ "$tr" -gt 20 ] && [ "$errs" -eq 0 ] && ok "smbx-dump: $tr TRANSFORM records, no error record" ||
    bad "smbx-dump: $tr TRANSFORM records, $errs error records"
fi

echo "1..$n"
if [ "$fails" -ne 0 ]; then
  echo "FAIL: $fails of $n checks failed"
  exit 1
fi
echo "PASS: $n checks"
exit 0
