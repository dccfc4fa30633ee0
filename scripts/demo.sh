#!/usr/bin/env bash
# The README's main-job command: installs what it needs, builds, and runs
# the demo (build/demo/examples/demo/smbx-demo).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
need=()
for p in meson ninja-build pkg-config gcc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ ! -f build/demo/build.ninja ]; then
  meson setup build/demo -Dtests=disabled -Dbench=false -Dbuildtype=release >/dev/null
fi
ninja -C build/demo examples/demo/smbx-demo >/dev/null
exec build/demo/examples/demo/smbx-demo "$@"
