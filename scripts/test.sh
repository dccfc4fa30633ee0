#!/usr/bin/env bash
# The README's test command and CI's entry point (.ci/run).
#
# Installs what is missing, then runs the stages, each under its own time
# budget (killed and counted failed past it):
#   gcc      -Werror build + unit tests            (build 6 min, tests 10)
#   asan     clang ASan+UBSan build + unit tests   (build 6 min, tests 10)
#   fuzz     clang libFuzzer build (6 min), corpus replay + a short run per
#            target (4)
#   bench    smbx-bench --quick: hard invariants (1)
#   interop  TCP interop against Samba/smbclient/tshark/smbtorture (17)
#   lab      SMB Direct over soft-RoCE in qemu guests against the Linux
#            kernel client and ksmbd (scripts/rdma-interop.sh; needs the
#            lab in $SMBX_RDMA_LAB, default ../shared/tools/rdma-vm) (25)
# With CI=true a stage that cannot run is a failure; otherwise it is reported
# as skipped. The last line is always "N passed, N failed" (EXIT trap).
#
# Environment: SMBX_STAGES="gcc asan" runs a subset; JOBS=N parallelism.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
logdir=$root/build/logs
mkdir -p "$logdir"
ci=${CI:-false}
jobs=${JOBS:-$(nproc)}
stages=${SMBX_STAGES:-"gcc asan fuzz bench interop lab"}
stage_pass=0
stage_fail=0
stage_skip=0
summary=()

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}

count_meson_results() {
  # Sums meson's per-test results over every build dir of this run.
  /usr/bin/python3 - "$@" <<'EOF'
import json, sys
ok = bad = 0
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                r = json.loads(line).get("result")
                if r in ("OK", "EXPECTEDFAIL", "SKIP"):
                    ok += r != "SKIP"
                else:
                    bad += 1
    except OSError:
        pass
print(ok, bad)
EOF
}

finish() {
  local rc=$?
  local logs=()
  local f
  for f in build/gcc/meson-logs/smbx-*.json build/asan/meson-logs/smbx-*.json \
    build/fuzz/meson-logs/smbx-*.json; do
    [ -f "$f" ] && logs+=("$f")
  done
  local t_ok=0 t_bad=0
  if [ ${#logs[@]} -gt 0 ]; then
    read -r t_ok t_bad < <(count_meson_results "${logs[@]}")
  fi
  echo
  echo "== summary =="
  for line in "${summary[@]}"; do echo "  $line"; done
  echo "  meson tests: $t_ok passed, $t_bad failed; stages: $stage_pass passed, $stage_fail failed, $stage_skip skipped"
  local passed=$((t_ok + stage_pass)) failed=$((t_bad + stage_fail))
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1 # the script itself died outside a stage
  fi
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] || exit 1
  exit 0
}
trap finish EXIT

want() { [[ " $stages " == *" $1 "* ]]; }

# run_stage NAME BUDGET_SECONDS FUNCTION: runs FUNCTION (exported, in a
# child bash with errexit) under a time budget, logs to build/logs/NAME.log
# and records pass/fail.
run_stage() {
  local name=$1 budget=$2 fn=$3
  local log=$logdir/$name.log start end rc=0
  start=$(date +%s)
  echo "== $name (budget ${budget}s) =="
  timeout --kill-after=15 "$budget" bash -euo pipefail -c "$fn" >"$log" 2>&1 || rc=$?
  end=$(date +%s)
  if [ "$rc" -eq 0 ]; then
    stage_pass=$((stage_pass + 1))
    summary+=("PASS $name ($((end - start))s)")
    tail -n 3 "$log" | sed 's/^/   /'
    return 0
  fi
  stage_fail=$((stage_fail + 1))
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    summary+=("FAIL $name: over its ${budget}s budget")
  else
    summary+=("FAIL $name (exit $rc, $((end - start))s)")
  fi
  echo "-- $name failed (exit $rc); last lines of $log:"
  tail -n 60 "$log" | sed 's/^/   /'
  return 1
}

skip_stage() {
  local name=$1 why=$2
  if [ "$ci" = true ]; then
    stage_fail=$((stage_fail + 1))
    summary+=("FAIL $name: cannot run under CI=true: $why")
    echo "== $name: FAIL (cannot run: $why)"
  else
    stage_skip=$((stage_skip + 1))
    summary+=("SKIP $name: $why")
    echo "== $name: skipped ($why)"
  fi
}

install_packages() {
  local pkgs=(meson ninja-build pkg-config gcc g++ clang libclang-rt-14-dev
    libcmocka-dev libssl-dev libibverbs-dev librdmacm-dev zlib1g-dev
    tshark tcpdump samba smbclient python3 python3-impacket winbind
    golang-go golang-github-hirochachacha-go-smb2-dev samba-testsuite)
  local missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages (run as root to install): ${missing[*]}"
    return 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" |
    debconf-set-selections 2>/dev/null || true
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_build() { # DIR [meson args...]
  local dir=$1
  shift
  rm -f "$dir"/meson-logs/smbx-*.json
  if [ -d "$dir" ]; then
    meson setup --wipe "$dir" "$@"
  else
    meson setup "$dir" "$@"
  fi
}

build_gcc() {
  CC=gcc CXX=g++ setup_build build/gcc -Dwerror=true -Dtests=enabled -Dbench=true
  ninja -C build/gcc -j "$jobs"
  # speed ratios need an optimised build; the bench stage runs this one
  CC=gcc CXX=g++ setup_build build/bench -Dbuildtype=release -Dtests=disabled \
    -Dexamples=false -Dbench=true
  ninja -C build/bench -j "$jobs" bench/smbx-bench
}
test_gcc() {
  CC=gcc CXX=g++ meson test -C build/gcc --print-errorlogs --num-processes "$jobs" \
    --no-suite interop --logbase smbx-unit
}
build_asan() {
  CC=clang CXX=clang++ setup_build build/asan -Dtests=enabled -Dbench=true \
    -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true
  ninja -C build/asan -j "$jobs"
}
test_asan() {
  CC=clang CXX=clang++ meson test -C build/asan --print-errorlogs --num-processes "$jobs" \
    --no-suite interop --no-suite bench --timeout-multiplier 3 --logbase smbx-unit
}

build_fuzz() {
  CC=clang CXX=clang++ setup_build build/fuzz -Dfuzzing=true -Dtests=disabled \
    -Dexamples=false -Dbench=false -Db_sanitize=address,undefined -Db_lundef=false
  ninja -C build/fuzz -j "$jobs"
}

fuzz_stage() {
  # corpus and regression replay (every target is a meson test)
  meson test -C build/fuzz --suite fuzz --print-errorlogs --num-processes "$jobs" \
    --logbase smbx-replay
  local targets
  targets=$(cd build/fuzz/fuzz && ls fuzz_* 2>/dev/null | grep -v '\.' || true)
  local n
  n=$(echo "$targets" | wc -w)
  [ "$n" -gt 0 ] || { echo "no fuzz targets built"; return 1; }
  # a short run per target inside the stage budget (~150 s of fuzzing in all)
  local per=$((150 / n))
  [ "$per" -gt 20 ] && per=20
  [ "$per" -lt 5 ] && per=5
  for t in $targets; do
    local work
    work=$(mktemp -d)
    cp -r "fuzz/corpus/$t/." "$work/" 2>/dev/null || true
    echo "-- $t: ${per}s"
    local rc=0
    "build/fuzz/fuzz/$t" -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="build/logs/$t-" "$work" \
      >"$work.out" 2>&1 || rc=$?
    tail -n 4 "$work.out"
    if [ "$rc" -ne 0 ]; then
      # the finding and its stack, the input is in build/logs/$t-crash-*
      grep -A 30 -m 1 'ERROR' "$work.out" || tail -n 40 "$work.out"
      echo "fuzz target $t failed (exit $rc)"
    fi
    rm -rf "$work" "$work.out"
    [ "$rc" -eq 0 ] || return 1
  done
}

bench_stage() {
  build/bench/bench/smbx-bench --quick
}

interop_stage() {
  # TCP interop lives in the meson suite 'interop' (Samba, smbclient, tshark).
  meson test -C build/gcc --suite interop --print-errorlogs --num-processes 1 \
    --logbase smbx-interop
}

lab_stage() {
  # builds the lab (idempotent) and its own static build dir, 8 guest runs
  scripts/rdma-interop.sh build/rdma-lab
}

export -f install_packages setup_build build_gcc test_gcc build_asan test_asan \
  build_fuzz fuzz_stage bench_stage interop_stage lab_stage
export jobs root

run_stage install 900 install_packages || exit 1

if want gcc; then
  run_stage build-gcc 600 build_gcc && run_stage test-gcc 600 test_gcc || true
fi
if want asan; then
  run_stage build-asan 600 build_asan && run_stage test-asan 600 test_asan || true
fi
if want fuzz; then
  if command -v clang >/dev/null; then
    run_stage build-fuzz 360 build_fuzz && run_stage fuzz 480 fuzz_stage || true
  else
    skip_stage fuzz "clang not installed"
  fi
fi
if want bench; then
  if [ -x build/bench/bench/smbx-bench ]; then
    run_stage bench 60 bench_stage || true
  else
    skip_stage bench "needs the gcc stage's release build of smbx-bench"
  fi
fi
if want interop; then
  if [ ! -d build/gcc ]; then
    skip_stage interop "needs the gcc build"
  # no grep -q below: under pipefail its early exit would SIGPIPE meson
  elif ! (meson test -C build/gcc --list 2>/dev/null || true) | grep '^smbx:interop' >/dev/null; then
    skip_stage interop "no interop tests defined yet"
  elif [ "$(id -u)" -ne 0 ]; then
    skip_stage interop "needs root (smbd, tcpdump)"
  else
    run_stage interop 1020 interop_stage || true
  fi
fi
if want lab; then
  lab=${SMBX_RDMA_LAB:-$root/../shared/tools/rdma-vm}
  if [ ! -x "$lab/run.sh" ]; then
    skip_stage lab "no soft-RoCE lab at $lab (set SMBX_RDMA_LAB)"
  elif [ "$(id -u)" -ne 0 ]; then
    skip_stage lab "needs root (the lab installs qemu and kernel packages)"
  else
    export SMBX_RDMA_LAB=$lab
    run_stage lab 1500 lab_stage || true
  fi
fi
