#!/bin/bash
# Multichannel over real sockets (docs/multichannel.md): smbx-client
# --multichannel binds a second TCP connection to its session and spreads
# a 5 MB put + get over both, byte-exact, for 3.0, 3.0.2 and 3.1.1
#   1. against smbx-server with `multichannel = yes` (no root needed),
#      and Samba's smbtorture smb2.session.bind1/bind2 against it when
#      present;
#   2. against a private Samba (scripts/samba.sh; Samba 4.17 has
#      `server multi channel support = yes` by default on Linux), when
#      root and smbd are there: the binding, its per-channel signing key
#      (from the binding's own NTLMv2 key) and Samba's checks interoperate.
#
#   multichannel_interop.sh SMBX_CLIENT SMBX_SERVER SAMBA_SH
#
# Exit 0 pass, 1 fail. Part 2 is skipped (reported) without root or smbd
# unless CI is set.
set -uo pipefail

client=${1:?usage: multichannel_interop.sh SMBX_CLIENT SMBX_SERVER SAMBA_SH}
server=${2:?usage}
samba=${3:?usage}

fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

free_port() {
  for _ in $(seq 1 50); do
    local p=$((20000 + RANDOM % 20000)) hex
    hex=$(printf '%04X' "$p")
    if ! awk -v h="$hex" 'NR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == h) f = 1 }
                          END { exit f ? 0 : 1 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/smbx-mc-test.XXXXXX")
SERVER_PID=""
SAMBA_PID=""
SAMBA_PORT=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  if [ -n "$SAMBA_PID" ]; then
    "$samba" stop "$SAMBA_PORT" >/dev/null 2>&1 || true
    if [ -d "/proc/$SAMBA_PID" ]; then kill "$SAMBA_PID" 2>/dev/null || true; fi
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

head -c 5000000 /dev/urandom >"$work/data.bin"

# put + get over two channels; both must carry responses
transfer() { # label url user%pass extra-args...
  local label=$1 url=$2 cred=$3
  shift 3
  rm -f "$work/back.bin"
  if ! timeout 120 "$client" -U "$cred" --multichannel -v "$@" "$url" -c \
      "put $work/data.bin mc.bin; get mc.bin $work/back.bin; rm mc.bin" \
      >"$work/out" 2>"$work/err"; then
    bad "$label: smbx-client failed: $(grep -v '^session\|^negotiated' "$work/err" | tail -2)"
    return
  fi
  grep -q "second channel bound" "$work/err" && ok "$label: second channel bound" ||
    bad "$label: no binding"
  local line
  line=$(grep "^multichannel:" "$work/err")
  local first second
  first=$(echo "$line" | sed -n 's/.*: \([0-9]*\) responses on the first.*/\1/p')
  second=$(echo "$line" | sed -n 's/.*, \([0-9]*\) on the second.*/\1/p')
  [ "${first:-0}" -gt 0 ] && [ "${second:-0}" -gt 0 ] &&
    ok "$label: both channels carried I/O ($first + $second responses)" ||
    bad "$label: I/O not spread ($line)"
  cmp -s "$work/data.bin" "$work/back.bin" && ok "$label: get is byte-exact" ||
    bad "$label: get differs"
}

# ---- 1. smbx-server ----------------------------------------------------------
port=$(free_port) || { echo "FAIL: no free port"; exit 1; }
mkdir -p "$work/root"
printf 'alice:Secret#1\nmultichannel = yes\n' >"$work/smbx.conf"
"$server" --listen "127.0.0.1:$port" --root "$work/root" \
  --config "$work/smbx.conf" 2>"$work/server.log" &
SERVER_PID=$!
for _ in $(seq 1 50); do
  timeout 5 "$client" -U 'alice%Secret#1' "//127.0.0.1:$port/share" echo \
    >/dev/null 2>&1 && break
  sleep 0.1
done
for d in 3.0 3.0.2 3.1.1; do
  transfer "smbx-server $d" "//127.0.0.1:$port/share" 'alice%Secret#1' -d "$d"
done
transfer "smbx-server 3.1.1 signed" "//127.0.0.1:$port/share" \
  'alice%Secret#1' -d 3.1.1 --sign
# Samba's own binding tests against smbx-server (smbtorture, when
# present); bind2: signed requests on channels a session is not bound to
# get USER_SESSION_DELETED flagged SIGNED, and one connection carries two
# bound sessions
if command -v smbtorture >/dev/null 2>&1; then
  for t in bind1 bind2; do
    for p in SMB3_00 SMB3_02 SMB3_11; do
      timeout 120 smbtorture "//127.0.0.1/share" -p "$port" -U 'alice%Secret#1' \
        --option=clientmaxprotocol=$p smb2.session.$t >"$work/torture" 2>&1
      grep -q "^success: $t" "$work/torture" &&
        ok "smbtorture smb2.session.$t $p" ||
        bad "smbtorture smb2.session.$t $p: $(grep -A2 '^failure' "$work/torture" | tail -1)"
    done
  done
else
  echo "skip smbtorture smb2.session.bind1/bind2: no smbtorture"
fi
# 2.1 has no multichannel: refused by the client before any binding
timeout 30 "$client" -U 'alice%Secret#1' -d 2.1 --multichannel \
  "//127.0.0.1:$port/share" ls >/dev/null 2>"$work/err" &&
  bad "2.1 --multichannel should fail" ||
  { grep -q "SMB 3.x" "$work/err" && ok "2.1: --multichannel refused" ||
      bad "2.1 message: $(tail -1 "$work/err")"; }
kill "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=""

# ---- 2. Samba ------------------------------------------------------------------
samba_skip() {
  if [ -n "${CI:-}" ]; then
    bad "Samba part: $*"
  else
    echo "skip Samba part: $*"
  fi
}
if [ "$(id -u)" -ne 0 ]; then
  samba_skip "needs root (smbd)"
elif ! command -v smbd >/dev/null 2>&1 && [ ! -x /usr/sbin/smbd ]; then
  samba_skip "no smbd"
elif ! command -v smbpasswd >/dev/null 2>&1; then
  samba_skip "no smbpasswd"
else
  SAMBA_PORT=$(free_port) || { echo "FAIL: no free port"; exit 1; }
  export SMBX_SAMBA_ROOT=$work/samba
  if vars=$("$samba" start "$SAMBA_PORT" 2>"$work/samba-start.log"); then
    eval "$vars"
    conf=$SMBX_SAMBA_ROOT/smb.conf
    pass='Mc#pass1'
    printf '%s\n%s\n' "$pass" "$pass" | smbpasswd -c "$conf" -a -s root \
      >/dev/null || bad "smbpasswd"
    url="//127.0.0.1:$SAMBA_PORT/share"
    for d in 3.0 3.0.2; do
      transfer "Samba $d" "$url" "root%$pass" -d "$d"
    done
    transfer "Samba 3.1.1 signed" "$url" "root%$pass" -d 3.1.1 --sign
    # no --sign: the 3.1.1 TREE_CONNECT is signed all the same (3.2.4.1.1)
    transfer "Samba 3.1.1" "$url" "root%$pass" -d 3.1.1
  else
    cat "$work/samba-start.log"
    bad "Samba did not start"
  fi
fi

echo "multichannel interop: $fails failure(s)"
[ "$fails" -eq 0 ]
