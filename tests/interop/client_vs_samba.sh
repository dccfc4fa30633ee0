#!/bin/bash
# smbx-client against a private Samba (scripts/samba.sh) on a free port:
# for every dialect (2.0.2, 2.1, 3.0, 3.0.2, 3.1.1): put a 5 MB random file,
# get it back byte-exact, ls shows it with its size, stat, mkdir, mv, rm,
# echo; anonymous and guest logons; user sessions without --sign (3.1.1:
# the TREE_CONNECT is signed all the same); signed sessions (--sign) for every
# dialect and encrypted sessions (--encrypt) for 3.x with a Samba user added
# to the private passdb (smbpasswd -a -s; the Unix account is root, which
# exists everywhere); wrong paths, a wrong password and a missing share
# fail with a non-zero exit and a clear message; notify fires on a put by
# another process; --pcap output has no malformed frames for tshark.
# One signed 3.1.1 user session is captured and checked on the wire with
# smbx-dump: 8 MiB put/get in 1 MiB multi-credit WRITEs/READs, ls of 1,000
# files in several QUERY_DIRECTORY rounds ending in STATUS_NO_MORE_FILES,
# one related compound CREATE+READ+CLOSE, ECHO, LOGOFF, every PDU signed
# (but ECHO and interims); progress lines only for transfers over 1 MiB;
# -v names the negotiated dialect; a usage error exits 2.
#
#   client_vs_samba.sh SMBX_CLIENT SAMBA_SH [SMBX_DUMP]
#
# Exit 0 pass, 1 fail, 77 skip (not root, or no smbd, and CI unset).
set -uo pipefail

client=${1:?usage: client_vs_samba.sh SMBX_CLIENT SAMBA_SH}
samba=${2:?usage: client_vs_samba.sh SMBX_CLIENT SAMBA_SH}
dump=${3:-}

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
command -v smbpasswd >/dev/null 2>&1 || skip "no smbpasswd"

# a free port: nothing listening on it (samba.sh refuses a busy one)
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

work=$(mktemp -d "${TMPDIR:-/tmp}/smbx-client-test.XXXXXX")
export SMBX_SAMBA_ROOT=$work/samba
SAMBA_PID=""
cleanup() {
  if [ -n "$SAMBA_PID" ]; then
    "$samba" stop "$port" >/dev/null 2>&1 || true
    # samba.sh stops by the recorded PID; make sure that PID is gone
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
conf=$SAMBA_ROOT/smb.conf
url=//127.0.0.1:$port/share
user=root
pass='Smbx-Pass-1'
printf '%s\n%s\n' "$pass" "$pass" | smbpasswd -c "$conf" -a -s "$user" >/dev/null ||
  { echo "FAIL: smbpasswd -a $user"; exit 1; }

fails=0
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }

# run NAME EXPECT(0|nonzero) [client args...]: output in $work/out
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

# tshark_scan PCAP: "FRAMES MALFORMED QUERY_DIRECTORY-FRAMES" in one pass
# (a 16 MiB capture takes seconds per pass)
tshark_scan() {
  tshark -r "$1" -T fields -e _ws.malformed -e smb2.cmd 2>/dev/null |
    awk -F'\t' '{ n++ } $1 != "" { m++ } $2 ~ /(^|,)14(,|$)/ { q++ }
                END { print n + 0, m + 0, q + 0 }'
}

head -c 5000000 /dev/urandom >"$work/data.bin"
size=$(stat -c %s "$work/data.bin")
printf 'compound read\n' >"$work/small.txt"

for d in 2.0.2 2.1 3.0 3.0.2 3.1.1; do
  dir=dir_${d//./_}
  rm -f "$work/back.bin"
  if run "$d anonymous: put/get/ls/stat/mkdir/mv/rm/echo" 0 -d "$d" -v "$url" -c \
      "mkdir $dir; put $work/data.bin $dir/f.bin; get $dir/f.bin $work/back.bin; \
       ls $dir; stat $dir/f.bin; mv $dir/f.bin $dir/g.bin; ls $dir; echo; \
       rm $dir/g.bin; rm $dir"; then
    # -d offers one dialect; -v prints the one Samba chose (x.y.z)
    want=$(echo "$d.0" | cut -d. -f1-3)
    grep -q "^negotiated SMB $want," "$work/err" && ok "$d negotiated (SMB $want)" ||
      { bad "$d negotiated dialect"; sed 's/^/#   /' "$work/err"; }
    grep -Eq "^echo: [0-9]+\.[0-9]{3} ms$" "$work/out" && ok "$d echo answered" || bad "$d echo"
    if cmp -s "$work/data.bin" "$work/back.bin"; then
      ok "$d get is byte-exact"
    else
      bad "$d get differs from put"
    fi
    # ls listed f.bin with its size before the mv, then g.bin
    if grep -Eq "^- +$size  f\.bin$" "$work/out" && grep -Eq "^- +$size  g\.bin$" "$work/out"; then
      ok "$d ls shows the file (and its new name after mv)"
    else
      bad "$d ls output"; sed 's/^/#   /' "$work/out"
    fi
    if grep -Eq "^  size +$size$" "$work/out" && grep -Eq "^  type +file$" "$work/out"; then
      ok "$d stat reports type and size"
    else
      bad "$d stat output"; sed 's/^/#   /' "$work/out"
    fi
    if [ ! -e "$SAMBA_SHARE/$dir" ]; then
      ok "$d rm removed the file and the directory on the server"
    else
      bad "$d $SAMBA_SHARE/$dir still exists"
    fi
    # the server's copy (before rm) was checked through get; also check
    # the size put reported
    grep -q "put $work/data.bin -> $dir/f.bin: $size bytes" "$work/out" &&
      ok "$d put reports $size bytes" || bad "$d put report"
  fi
  # signed session with a user account, every dialect
  rm -f "$work/back.bin"
  if run "$d user --sign: put/get" 0 -d "$d" -U "$user%$pass" --sign "$url" -c \
      "put $work/data.bin s_$dir.bin; get s_$dir.bin $work/back.bin; rm s_$dir.bin"; then
    cmp -s "$work/data.bin" "$work/back.bin" && ok "$d signed get is byte-exact" ||
      bad "$d signed get differs"
  fi
  # user session without --sign: nothing required, yet on 3.1.1 the
  # TREE_CONNECT is signed (MS-SMB2 3.2.4.1.1: Samba refuses it unsigned)
  rm -f "$work/back.bin"
  if run "$d user without --sign: put/get" 0 -d "$d" -U "$user%$pass" "$url" -c \
      "put $work/data.bin u_$dir.bin; get u_$dir.bin $work/back.bin; rm u_$dir.bin"; then
    cmp -s "$work/data.bin" "$work/back.bin" && ok "$d unsigned-user get is byte-exact" ||
      bad "$d unsigned-user get differs"
  fi
  # encrypted session (3.x)
  case $d in
    3.*)
      rm -f "$work/back.bin"
      if run "$d user --encrypt: put/get/ls" 0 -d "$d" -U "$user%$pass" --encrypt "$url" -c \
          "put $work/data.bin e_$dir.bin; get e_$dir.bin $work/back.bin; ls; rm e_$dir.bin"; then
        cmp -s "$work/data.bin" "$work/back.bin" && ok "$d encrypted get is byte-exact" ||
          bad "$d encrypted get differs"
      fi
      ;;
  esac
done

# --encrypt on 2.x has no cipher: refused
run "2.1 --encrypt is refused (no cipher)" nonzero -d 2.1 -U "$user%$pass" --encrypt "$url" ls
grep -q "no cipher agreed" "$work/err" && ok "message names the missing cipher" || bad "encrypt-2.1 message"

# guest logon; logoff answered
run "guest: ls and echo" 0 -g -v "$url" -c "ls; echo"
grep -q "^logoff: ok$" "$work/err" && ok "LOGOFF answered" || bad "logoff"


# failures: non-zero exit and a clear message
run "get of a missing file fails" nonzero "$url" get no/such/file.bin "$work/x.bin"
grep -q "STATUS_OBJECT_PATH_NOT_FOUND" "$work/err" && ok "message names the status" ||
  bad "missing-path message"; [ ! -e "$work/x.bin" ] && ok "no local file left behind" || bad "local file created"
run "stat of a missing file fails" nonzero "$url" stat nosuchfile
grep -q "OBJECT_NAME_NOT_FOUND" "$work/err" && ok "stat message names the status" || bad "stat message"
run "rm of a missing file fails" nonzero "$url" rm nosuchfile
run "a script stops at the first failure" nonzero "$url" -c "echo; rm nosuchfile; mkdir never_made"
[ ! -e "$SAMBA_SHARE/never_made" ] && ok "commands after the failure did not run" || bad "script went on"
run "a wrong password fails" nonzero -U "$user%wrong" "$url" ls
grep -q "LOGON_FAILURE" "$work/err" && ok "message names LOGON_FAILURE" || bad "logon message"
run "a missing share fails" nonzero "//127.0.0.1:$port/noshare" ls
grep -q "BAD_NETWORK_NAME" "$work/err" && ok "message names BAD_NETWORK_NAME" || bad "share message"
run "mkdir of an existing directory fails" nonzero "$url" -c "mkdir twice; mkdir twice"
run "cleanup" 0 "$url" rm twice
run "an unknown command fails" nonzero "$url" frobnicate
timeout 30 "$client" >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] && ok "no arguments: usage error, exit 2" || bad "no arguments: exit $rc, wanted 2"
run "--sign with an anonymous logon is refused" nonzero --sign "$url" ls

# One signed 3.1.1 user session, captured: put + get of 8 MiB (multi-credit
# 1 MiB WRITEs/READs, progress lines), ls of 1,000 files (several
# QUERY_DIRECTORY rounds, the last STATUS_NO_MORE_FILES), cat (one related
# compound CREATE + READ + CLOSE), echo, LOGOFF; checked in the output and
# in the capture (smbx-dump, tshark).
head -c 8388608 /dev/urandom >"$work/eight.bin"
mkdir -p "$SAMBA_SHARE/many"
for i in $(seq 1 1000); do : >"$SAMBA_SHARE/many/file_with_a_longish_name_$i.txt"; done
rm -f "$work/back.bin"
if run "3.1.1 --sign --pcap: put/get 8 MiB, ls 1,000 files, cat, echo, logoff" 0 \
    -d 3.1.1 -v -U "$user%$pass" --sign --pcap "$work/s.pcap" "$url" -c \
    "put $work/eight.bin eight.bin; get eight.bin $work/back.bin; ls many; \
     put $work/small.txt small.txt; cat small.txt; echo; rm eight.bin; rm small.txt"; then
  cmp -s "$work/eight.bin" "$work/back.bin" && ok "8 MiB byte-exact" || bad "8 MiB differs"
  # progress: transfers over 1 MiB only, ending at 100 %
  grep -q "put eight.bin: 8.0 / 8.0 MiB (100%) [0-9.]* MiB/s" "$work/err" &&
    grep -q "get eight.bin: 8.0 / 8.0 MiB (100%) [0-9.]* MiB/s" "$work/err" &&
    ! grep -q "small.txt: .*MiB/s" "$work/err" &&
    ok "progress lines for the 8 MiB put and get, none for a small file" ||
    { bad "progress lines"; tr '\r' '\n' <"$work/err" | sed 's/^/#   /'; }
  cnt=$(grep -c '^-  *0  file_with_a_longish_name_[0-9]*\.txt$' "$work/out")
  rounds=$(sed -n 's/.*entries in \([0-9]*\) QUERY_DIRECTORY rounds.*/\1/p' "$work/err")
  [ "$cnt" -eq 1000 ] && [ "${rounds:-0}" -ge 3 ] &&
    ok "ls listed all 1000 files in $rounds rounds" || bad "ls many: $cnt files, ${rounds:-?} rounds"
  grep -q '^compound read$' "$work/out" && ok "cat printed the file" || bad "cat output"
  grep -Eq "^echo: [0-9]+\.[0-9]{3} ms$" "$work/out" && ok "echo answered" || bad "echo output"
  grep -q "^logoff: ok$" "$work/err" && ok "LOGOFF answered" || bad "logoff"
  if [ -n "$dump" ]; then
    "$dump" "$work/s.pcap" >"$work/s.json" 2>&1
    sel() { grep "\"cmd_name\":\"$1\",\"response\":$2" "$work/s.json"; }
    errs=$(grep -c '"type":"error"' "$work/s.json")
    recs=$(wc -l <"$work/s.json")
    [ "$recs" -gt 50 ] && [ "$errs" -eq 0 ] && ok "smbx-dump: $recs records, no error record" ||
      bad "smbx-dump: $recs records, $errs error records"
    w16=$(sel WRITE false | grep -c '"credit_charge":16')
    r16=$(sel READ false | grep -c '"credit_charge":16')
    [ "$w16" -ge 8 ] && [ "$r16" -ge 8 ] &&
      ok "multi-credit: $w16 WRITEs and $r16 READs of 1 MiB charge 16 credits" ||
      bad "multi-credit: $w16 WRITEs, $r16 READs with CreditCharge 16"
    qd_ok=$(sel QUERY_DIRECTORY true | grep -c '"status":0,')
    qd_end=$(sel QUERY_DIRECTORY true | grep -c '"status":2147483654,')
    [ "$qd_ok" -ge 3 ] && [ "$qd_end" -eq 1 ] &&
      ok "QUERY_DIRECTORY: $qd_ok rounds with entries, then one STATUS_NO_MORE_FILES" ||
      bad "QUERY_DIRECTORY: $qd_ok with entries, $qd_end NO_MORE_FILES"
    # the compound: CREATE with NextCommand set, READ and CLOSE related
    cc=$(sel CREATE false | grep -vc '"next_command":0,')
    rr=$(sel READ false | grep -c '"related":true')
    rc_=$(sel CLOSE false | grep -c '"related":true')
    [ "$cc" -eq 1 ] && [ "$rr" -eq 1 ] && [ "$rc_" -eq 1 ] &&
      ok "one related compound CREATE + READ + CLOSE on the wire" ||
      bad "compound: $cc chained CREATEs, $rr related READs, $rc_ related CLOSEs"
    [ "$(sel ECHO false | wc -l)" -eq 1 ] && [ "$(sel ECHO true | grep -c '"status":0,')" -eq 1 ] &&
      ok "ECHO request and response" || bad "ECHO on the wire"
    [ "$(sel LOGOFF true | grep -c '"status":0,')" -eq 1 ] && ok "LOGOFF response SUCCESS" ||
      bad "LOGOFF on the wire"
    # --sign: every PDU after the session setup is signed, except ECHO
    # (SessionId 0) and STATUS_PENDING interims (never signed, 3.3.4.2)
    grep '"type":"smb2"' "$work/s.json" |
      grep -v '"cmd_name":"\(NEGOTIATE\|SESSION_SETUP\|ECHO\)"' |
      grep -v '"status":259,' | grep '"signed":false' >"$work/unsigned.json"
    unsigned=$(wc -l <"$work/unsigned.json")
    [ "$unsigned" -eq 0 ] && ok "every PDU after SESSION_SETUP is signed (but ECHO, interims)" ||
      { bad "$unsigned unsigned PDUs after SESSION_SETUP"; cut -c1-300 "$work/unsigned.json" | sed 's/^/#   /'; }
  fi
  if command -v tshark >/dev/null 2>&1; then
    read -r frames mal _ < <(tshark_scan "$work/s.pcap")
    [ "$frames" -gt 100 ] && [ "$mal" -eq 0 ] && ok "tshark: $frames frames, none malformed" ||
      bad "tshark: $frames frames, $mal malformed"
  fi
fi
rm -rf "$SAMBA_SHARE/many"

# cat: one related compound CREATE + READ + CLOSE, for each dialect
for d in 2.0.2 2.1 3.0 3.0.2 3.1.1; do
  if run "$d cat (compound create+read+close)" 0 -d "$d" "$url" -c \
      "put $work/small.txt small.txt; cat small.txt; rm small.txt"; then
    grep -q '^compound read$' "$work/out" && ok "$d cat printed the file" || bad "$d cat output"
  fi
done

# 3.1.1 ciphers one by one (AES-128/256 GCM/CCM), encrypted, byte-exact
for ci in aes-128-gcm aes-256-gcm aes-128-ccm aes-256-ccm; do
  rm -f "$work/back.bin"
  if run "3.1.1 --encrypt --cipher $ci" 0 -d 3.1.1 -v --cipher "$ci" -U "$user%$pass" --encrypt "$url" -c \
      "put $work/data.bin c.bin; get c.bin $work/back.bin; rm c.bin"; then
    want=$(echo "$ci" | tr a-z A-Z)
    grep -q "cipher $want," "$work/err" && cmp -s "$work/data.bin" "$work/back.bin" &&
      ok "$ci negotiated, get byte-exact" || bad "$ci: cipher or data"
  fi
done

# notify: fired by another process
(timeout 60 "$client" "$url" notify >"$work/notify.out" 2>&1; echo "rc=$?" >>"$work/notify.out") &
npid=$!
sleep 1
run "put while notify waits" 0 "$url" put "$work/data.bin" notified.bin
wait "$npid"
if grep -q "^added notified.bin$" "$work/notify.out" && grep -q "^rc=0$" "$work/notify.out"; then
  ok "notify reported the added file"
else
  bad "notify"; sed 's/^/#   /' "$work/notify.out"
fi
run "cleanup" 0 "$url" rm notified.bin

# --pcap: tshark finds no malformed frame
if command -v tshark >/dev/null 2>&1; then
  run "--pcap of an encrypted 3.1.1 session" 0 -d 3.1.1 -U "$user%$pass" --encrypt \
    --pcap "$work/c.pcap" "$url" -c "put $work/data.bin p.bin; get p.bin $work/back.bin; rm p.bin"
  read -r frames mal _ < <(tshark_scan "$work/c.pcap")
  if [ "$frames" -gt 100 ] && [ "$mal" -eq 0 ]; then
    ok "pcap: $frames frames, no malformed"
  else
    bad "pcap: $frames frames, $mal malformed"
  fi
  if [ -n "$dump" ]; then
    recs=$("$dump" "$work/c.pcap" | wc -l)
    errs=$("$dump" "$work/c.pcap" | grep -c '"type":"error"')
    [ "$recs" -gt 20 ] && [ "$errs" -eq 0 ] && ok "smbx-dump: $recs records, no error record" ||
      bad "smbx-dump: $recs records, $errs errors"
  fi
  run "--pcap of a plain 2.1 session" 0 -d 2.1 --pcap "$work/d.pcap" "$url" -c \
    "put $work/data.bin d.bin; get d.bin $work/back.bin; ls; echo; rm d.bin"
  read -r _ mal hits < <(tshark_scan "$work/d.pcap")
  [ "$hits" -ge 2 ] && [ "$mal" -eq 0 ] && ok "pcap decodes QUERY_DIRECTORY ($hits frames)" ||
    bad "pcap 2.1: $hits QUERY_DIRECTORY frames, $mal malformed"
  if [ -n "$dump" ]; then
    # large MTU: 1 MiB READs and WRITEs charge 16 credits each
    w16=$("$dump" "$work/d.pcap" | grep '"cmd_name":"WRITE","response":false' | grep -c '"credit_charge":16')
    r16=$("$dump" "$work/d.pcap" | grep '"cmd_name":"READ","response":false' | grep -c '"credit_charge":16')
    [ "$w16" -ge 4 ] && [ "$r16" -ge 4 ] &&
      ok "2.1 multi-credit 1 MiB WRITEs ($w16) and READs ($r16)" ||
      bad "2.1 multi-credit: $w16 WRITEs, $r16 READs with CreditCharge 16"
  fi
fi

echo "1..$n"
if [ "$fails" -ne 0 ]; then
  echo "FAIL: $fails of $n checks failed"
  exit 1
fi
echo "PASS: $n checks"
exit 0
