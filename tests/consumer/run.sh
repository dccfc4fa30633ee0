#!/bin/sh
# Builds tests/consumer/consumer.c twice: (1) against an installed libsmbx
# found through pkg-config, (2) with smbx as a meson subproject.
set -eu
src=$1
here=$src/tests/consumer
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CC=${CC:-cc}
unset MESON_TESTTHREADS || true

# 1. meson install into a temp prefix, then a plain cc + pkg-config build.
meson setup "$tmp/lib" "$src" --prefix="$tmp/prefix" --libdir=lib \
  -Dtests=disabled -Dexamples=false -Dbench=false -Dfuzzing=false \
  -Db_sanitize=none >"$tmp/setup.log" 2>&1 || { cat "$tmp/setup.log"; exit 1; }
meson install -C "$tmp/lib" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs smbx)
$CC -std=c11 -Wall -Werror "$here/consumer.c" $flags -Wl,-rpath,"$tmp/prefix/lib" -o "$tmp/consumer_pc"
"$tmp/consumer_pc"
# static linking through pkg-config too
$CC -std=c11 "$here/consumer.c" $(pkg-config --cflags smbx) "$tmp/prefix/lib/libsmbx.a" -o "$tmp/consumer_static"
"$tmp/consumer_static"

# 2. smbx as a subproject of another meson project.
mkdir -p "$tmp/proj/subprojects"
cp "$here/consumer.c" "$tmp/proj/"
cp "$here/meson.build.in" "$tmp/proj/meson.build"
ln -s "$src" "$tmp/proj/subprojects/smbx"
unset PKG_CONFIG_PATH
meson setup "$tmp/proj/build" "$tmp/proj" --wrap-mode=forcefallback \
  -Db_sanitize=none >"$tmp/sub.log" 2>&1 || { cat "$tmp/sub.log"; exit 1; }
ninja -C "$tmp/proj/build" >"$tmp/subbuild.log" 2>&1 || { cat "$tmp/subbuild.log"; exit 1; }
"$tmp/proj/build/consumer"
echo "ok: pkg-config (shared + static) and subproject consumers run"
