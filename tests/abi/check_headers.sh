#!/bin/sh
# Every public header must compile on its own, pedantically, as C11 and C++.
set -eu
src=$1
bld=$2
cc=${CC:-cc}
cxx=${CXX:-c++}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for h in "$src"/smbx/*.h; do
  name=$(basename "$h")
  printf '#include <smbx/%s>\n#include <smbx/%s>\nint main(void) { return 0; }\n' "$name" "$name" > "$tmp/t.c"
  cp "$tmp/t.c" "$tmp/t.cpp"
  "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$src" -I"$bld" -c "$tmp/t.c" -o "$tmp/t.o" ||
    { echo "FAIL C11: $name"; exit 1; }
  "$cxx" -std=c++11 -Wall -Wextra -Wpedantic -Werror -I"$src" -I"$bld" -c "$tmp/t.cpp" -o "$tmp/t.o" ||
    { echo "FAIL C++: $name"; exit 1; }
  n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "no headers found in $src/smbx"; exit 1; }
echo "ok: $n headers compile alone as C11 and C++11"
