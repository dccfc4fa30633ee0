#!/bin/bash
# The project's private Samba for interop tests.
#
#   scripts/samba.sh start  [PORT]   start (or reprint) a private smbd; default 445
#   scripts/samba.sh status [PORT]   exit 0 running (prints the lines), 3 not
#   scripts/samba.sh stop   [PORT]   stop it (no-op when stopped)
#   eval "$(scripts/samba.sh start 445)"
#
# smbd gets its own smb.conf and state under ROOT=${TMPDIR:-/tmp}/smbx-samba-PORT
# (SMBX_SAMBA_ROOT overrides), listens on 127.0.0.1:PORT only, and serves one
# guest-writable share `share` (ROOT/share; file operations run as root), with
# SMB2 leases on (smb2 leases = yes, kernel oplocks = no), signing allowed but
# not required, SMB2_02..SMB3_11, no NetBIOS and no printing. Port 445 is the
# default because tshark decodes other ports as NetBIOS (17-bit lengths) and
# mis-frames PDUs above 128 KiB.
#
# start prints shell assignments on stdout (messages go to stderr):
#   SAMBA_PID=... SAMBA_PORT=... SAMBA_ROOT=... SAMBA_SHARE=... SAMBA_URL=...
# It is idempotent, fails (exit 1) if another process holds the port, and
# stop signals only the recorded PID after checking that it is the smbd
# started with this ROOT's smb.conf. Must run as root (smbd needs it).
# SMBX_SAMBA_LOG_LEVEL (default 1) sets smbd's log level.
set -euo pipefail

die() { echo "samba.sh: $*" >&2; exit 1; }

cmd=${1:-}
port=${2:-445}
case "$cmd" in
  start|stop|status) ;;
  -h|--help|help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: $0 start|stop|status [PORT]" >&2; exit 2 ;;
esac
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] ||
  die "bad port: $port"
[ "$(id -u)" -eq 0 ] || die "must run as root (smbd needs it)"

root=${SMBX_SAMBA_ROOT:-${TMPDIR:-/tmp}/smbx-samba-$port}
conf=$root/smb.conf
share=$root/share
pidfile=$root/run/smbd.pid

smbd_bin=$(command -v smbd || true)
if [ -z "$smbd_bin" ] && [ -x /usr/sbin/smbd ]; then
  smbd_bin=/usr/sbin/smbd
fi

print_vars() {
  echo "SAMBA_PID=$1"
  echo "SAMBA_PORT=$port"
  echo "SAMBA_ROOT=$root"
  echo "SAMBA_SHARE=$share"
  echo "SAMBA_URL=//127.0.0.1/share"
}

# PID of our smbd, or nothing: the recorded PID must be alive, be smbd, and
# run with this ROOT's smb.conf.
our_pid() {
  local pid cmdline
  [ -f "$pidfile" ] || return 0
  pid=$(tr -dc '0-9' < "$pidfile")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 0
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 0
  cmdline=$(tr '\0' ' ' < "/proc/$pid/cmdline")
  case "$cmdline" in
    *smbd*"$conf"*) echo "$pid" ;;
  esac
}

# Live processes started with this ROOT's smb.conf (smbd's children); a
# zombie's cmdline is empty, so it never matches.
our_children() {
  local f
  for f in $(grep -l -a -F -- "$conf" /proc/[0-9]*/cmdline 2>/dev/null); do
    f=${f#/proc/}
    echo "${f%/cmdline}"
  done
  return 0
}

# Is anything listening on 127.0.0.1:PORT or *:PORT (IPv4/IPv6)?
port_busy() {
  local hex
  hex=$(printf '%04X' "$port")
  awk -v h="$hex" 'NR > 1 && $4 == "0A" { split($2, a, ":"); if (a[2] == h) f = 1 }
                   END { exit f ? 0 : 1 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

write_conf() {
  mkdir -p "$root"/{share,private,lock,state,cache,run,logs,ncalrpc,binddns}
  cat > "$conf" <<EOF
# written by smbx scripts/samba.sh; rewritten on each start
[global]
  server role = standalone server
  netbios name = SMBXSAMBA
  workgroup = SMBX
  interfaces = 127.0.0.1
  bind interfaces only = yes
  smb ports = $port
  disable netbios = yes
  server min protocol = SMB2_02
  server max protocol = SMB3_11
  server signing = auto
  smb2 leases = yes
  kernel oplocks = no
  map to guest = Bad User
  restrict anonymous = 0
  guest account = root
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  passdb backend = tdbsam:$root/private/passdb.tdb
  private dir = $root/private
  lock directory = $root/lock
  state directory = $root/state
  cache directory = $root/cache
  pid directory = $root/run
  ncalrpc dir = $root/ncalrpc
  binddns dir = $root/binddns
  log file = $root/logs/log.%m
  max log size = 10000
  log level = ${SMBX_SAMBA_LOG_LEVEL:-1}
  obey pam restrictions = no
  vfs objects = streams_xattr
[share]
  path = $share
  read only = no
  guest ok = yes
  force user = root
  create mask = 0644
  directory mask = 0755
EOF
}

case "$cmd" in
status)
  pid=$(our_pid)
  if [ -n "$pid" ]; then print_vars "$pid"; exit 0; fi
  echo "samba.sh: not running on port $port (root $root)" >&2
  exit 3
  ;;
stop)
  pid=$(our_pid)
  if [ -z "$pid" ]; then rm -f "$pidfile"; exit 0; fi
  # smbd removes its pid file early in its shutdown and exits later, so
  # wait for the process itself (and then for the port), not for the file
  alive() { [ -d "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do
    alive "$pid" || break
    sleep 0.05
  done
  if alive "$pid"; then
    echo "samba.sh: smbd $pid ignored SIGTERM for 10 s, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  # children serving clients can outlive the parent for a moment and keep
  # the listening socket: signal each remaining process whose command line
  # names this ROOT's smb.conf (ours alone), by PID
  for sig in TERM KILL; do
    for i in $(seq 1 100); do
      left=$(our_children)
      [ -n "$left" ] || break
      if [ "$i" -eq 1 ]; then
        # shellcheck disable=SC2086
        kill "-$sig" $left 2>/dev/null || true
      fi
      sleep 0.05
    done
  done
  for _ in $(seq 1 200); do
    port_busy || break
    sleep 0.05
  done
  port_busy && echo "samba.sh: port $port still in use after stopping smbd $pid" >&2
  rm -f "$pidfile"
  echo "samba.sh: stopped smbd $pid (port $port)" >&2
  exit 0
  ;;
start)
  pid=$(our_pid)
  if [ -n "$pid" ]; then print_vars "$pid"; exit 0; fi
  [ -x "$smbd_bin" ] || die "smbd not found: apt-get install -y samba"
  port_busy && die "port $port is held by another process"
  write_conf
  rm -f "$root"/run/*.pid
  # -D: daemon; it writes its pid file into "pid directory". The file name
  # depends on the Samba version and config name: normalise to smbd.pid.
  "$smbd_bin" -D -s "$conf" </dev/null >>"$root/logs/start.log" 2>&1 ||
    die "smbd failed to start (see $root/logs)"
  for _ in $(seq 1 100); do
    f=$(ls "$root"/run/smbd*.pid 2>/dev/null | head -n1 || true)
    if [ -n "$f" ] && port_busy; then
      [ "$f" = "$pidfile" ] || cp "$f" "$pidfile"
      break
    fi
    sleep 0.05
  done
  pid=$(our_pid)
  [ -n "$pid" ] || die "smbd did not come up on 127.0.0.1:$port (see $root/logs)"
  echo "samba.sh: smbd $pid listening on 127.0.0.1:$port" >&2
  print_vars "$pid"
  ;;
esac
