#!/bin/bash
# smbx-client against smbx-server (both halves of issue 7, no Samba, no
# root): a private smbx-server on a free 127.0.0.1 port serving a temporary
# directory with one user; for every dialect an anonymous run of mkdir, put
# 5 MB, get byte-exact, cat (compound), ls, stat, mv, rm, echo checked on
# the server's disk; user sessions signed (every dialect) and encrypted
# (3.x); a wrong path and a wrong password fail; notify fired by a put;
# the server exits 0 on SIGTERM and logs no sanitizer report.
#
#   client_vs_smbx_server.sh SMBX_CLIENT SMBX_SERVER
#
# Exit 0 pass, 1 fail. The server is stopped by its PID in a trap.
set -uo pipefail

client=${1:?usage: client_vs_smbx_server.sh SMBX_CLIENT SMBX_SERVER}
server=${2:?usage: client_vs_smbx_server.sh SMBX_CLIENT SMBX_SERVER}

listening() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v h="$hex" 'NR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == h) f = 1 }
                   END { exit f ? 0 : 1 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

work=$(mktemp -d "${TMPDIR:-/tmp}/smbx-client-srv.XXXXXX")
spid=""
cleanup() {
  if [ -n "$spid" ]; then
    kill -TERM "$spid" 2>/dev/null || true
    for _ in $(seq 1 50); do [ -d "/proc/$spid" ] || break; sleep 0.1; done
    kill -KILL "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

mkdir -p "$work/root"
user=alice
pass='Client-Pw-1'
printf '%s:%s\n' "$user" "$pass" >"$work/users.conf"
port=""
for _ in $(seq 1 20); do
  p=$((20000 + RANDOM % 20000))
  listening "$p" && continue
  "$server" --listen "127.0.0.1:$p" --root "$work/root" --config "$work/users.conf" \
    >"$work/server.log" 2>&1 &
  spid=$!
  for _ in $(seq 1 50); do
    listening "$p" && break
    [ -d "/proc/$spid" ] || break
    sleep 0.1
  done
  if listening "$p" && [ -d "/proc/$spid" ]; then port=$p; break; fi
  kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; spid=""
done
[ -n "$port" ] || { cat "$work/server.log"; echo "FAIL: smbx-server did not start"; exit 1; }
url=//127.0.0.1:$port/share

fails=0
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
run() {
  local name=$1 expect=$2
  shift 2
  timeout 120 "$client" "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  if { [ "$expect" = 0 ] && [ $rc -eq 0 ]; } ||
     { [ "$expect" = nonzero ] && [ $rc -ne 0 ] && [ $rc -ne 124 ]; }; then
    ok "$name (exit $rc)"
    return 0
  fi
  bad "$name (exit $rc, wanted $expect)"
  sed 's/^/#   /' "$work/out" "$work/err"
  return 1
}

head -c 5000000 /dev/urandom >"$work/data.bin"
size=$(stat -c %s "$work/data.bin")
printf 'compound read\n' >"$work/small.txt"

for d in 2.0.2 2.1 3.0 3.0.2 3.1.1; do
  dir=dir_${d//./_}
  rm -f "$work/back.bin"
  if run "$d anonymous: mkdir/put/get/cat/ls/stat/mv/rm/echo" 0 -d "$d" "$url" -c \
      "mkdir $dir; put $work/data.bin $dir/f.bin; get $dir/f.bin $work/back.bin; \
       put $work/small.txt $dir/s.txt; cat $dir/s.txt; ls $dir; stat $dir/f.bin; \
       mv $dir/f.bin $dir/g.bin; ls $dir; echo"; then
    cmp -s "$work/data.bin" "$work/back.bin" && ok "$d get is byte-exact" || bad "$d get differs"
    cmp -s "$work/data.bin" "$work/root/$dir/g.bin" && ok "$d the server's file is byte-exact (after mv)" ||
      bad "$d server file"
    grep -q '^compound read$' "$work/out" && ok "$d cat" || bad "$d cat"
    grep -Eq "^- +$size  f\.bin$" "$work/out" && grep -Eq "^- +$size  g\.bin$" "$work/out" &&
      ok "$d ls before and after mv" || bad "$d ls"
    grep -Eq "^  size +$size$" "$work/out" && ok "$d stat size" || bad "$d stat"
  fi
  if run "$d rm" 0 -d "$d" "$url" -c "rm $dir/g.bin; rm $dir/s.txt; rm $dir"; then
    [ ! -e "$work/root/$dir" ] && ok "$d gone from the server's disk" || bad "$d still on disk"
  fi
  rm -f "$work/back.bin"
  if run "$d user --sign: put/get" 0 -d "$d" -U "$user%$pass" --sign "$url" -c \
      "put $work/data.bin s.bin; get s.bin $work/back.bin; rm s.bin"; then
    cmp -s "$work/data.bin" "$work/back.bin" && ok "$d signed byte-exact" || bad "$d signed differs"
  fi
  case $d in
    3.*)
      rm -f "$work/back.bin"
      if run "$d user --encrypt: put/get" 0 -d "$d" -U "$user%$pass" --encrypt "$url" -c \
          "put $work/data.bin e.bin; get e.bin $work/back.bin; rm e.bin"; then
        cmp -s "$work/data.bin" "$work/back.bin" && ok "$d encrypted byte-exact" || bad "$d encrypted differs"
      fi
      ;;
  esac
done

run "get of a missing file fails" nonzero "$url" get no/such.bin "$work/x.bin"
grep -q "STATUS_OBJECT_\(PATH\|NAME\)_NOT_FOUND" "$work/err" && ok "message names the status" || bad "message"
run "a wrong password fails" nonzero -U "$user%wrong" "$url" ls

(timeout 60 "$client" "$url" notify >"$work/notify.out" 2>&1; echo "rc=$?" >>"$work/notify.out") &
npid=$!
sleep 1
run "put while notify waits" 0 "$url" put "$work/small.txt" notified.txt
wait "$npid"
grep -q "^added notified.txt$" "$work/notify.out" && grep -q "^rc=0$" "$work/notify.out" &&
  ok "notify reported the added file" || { bad "notify"; sed 's/^/#   /' "$work/notify.out"; }

# the server ends on SIGTERM with exit 0 and a log free of sanitizer reports
kill -TERM "$spid" 2>/dev/null
src=0
for _ in $(seq 1 100); do [ -d "/proc/$spid" ] || break; sleep 0.1; done
wait "$spid" 2>/dev/null || src=$?
spid=""
[ $src -eq 0 ] && ok "SIGTERM: smbx-server exits 0" || bad "smbx-server exit status $src"
grep -q "Sanitizer\|runtime error" "$work/server.log" &&
  { bad "sanitizer report in the server log"; sed 's/^/#   /' "$work/server.log"; } ||
  ok "no sanitizer report in the server log"

echo "1..$n"
if [ "$fails" -ne 0 ]; then
  echo "FAIL: $fails of $n checks failed"
  exit 1
fi
echo "PASS: $n checks"
exit 0
