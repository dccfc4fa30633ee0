#!/bin/sh
# The README's usage example must compile against the public headers.
set -eu
readme=$1
src=$2
bld=$3
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^```c$/{on=1; next} /^```$/{if (on) exit} on{print}' "$readme" > "$tmp/example.c"
[ -s "$tmp/example.c" ] || { echo "no \`\`\`c block in $readme"; exit 1; }
"$cc" -std=c11 -Wall -Wextra -Werror -I"$src" -I"$bld" -c "$tmp/example.c" -o "$tmp/example.o"
echo "ok: README example compiles ($(wc -l < "$tmp/example.c") lines)"
