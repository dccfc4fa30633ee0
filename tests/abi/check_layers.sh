#!/bin/sh
# Layering rule (DESIGN.md): a file in lib/<layer>/ includes only headers of
# its own layer or of a lower rank; siblings of one rank never include each
# other; nothing in lib/ includes examples/, tests/ or tools/.
# One grep over the tree and no fork per include: a loaded CI machine
# made the per-line version take over a minute.
set -eu
lib=$1
rank() { # sets R to the rank of layer $1, empty if unknown
  case $1 in
    core) R=0 ;;
    smb2) R=1 ;;
    smbd|tcp) R=2 ;;
    rdma) R=3 ;;
    conn) R=4 ;;
    lease|vmo) R=5 ;;
    server|client) R=6 ;;
    *) R= ;;
  esac
}
bad=0
for dir in "$lib"/*/; do
  layer=${dir%/}
  layer=${layer##*/}
  rank "$layer"
  [ -n "$R" ] || { echo "unknown layer directory lib/$layer (add it to check_layers.sh)"; bad=1; }
done
files=$(find "$lib" -mindepth 2 -maxdepth 2 -type f \( -name '*.c' -o -name '*.h' \) | sort)
checked=$(printf '%s\n' "$files" | grep -c .)
incs=$(printf '%s\n' "$files" | xargs grep -H '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' || true)
while IFS= read -r line; do
  [ -n "$line" ] || continue
  f=${line%%:*}
  layer=${f%/*}
  layer=${layer##*/}
  rank "$layer"
  r=$R
  [ -n "$r" ] || continue # reported above
  inc=${line#*\"}
  inc=${inc%%\"*}
  case $inc in
    */*) other=${inc%%/*} ;;
    *) other=$layer ;; # same-directory include
  esac
  rank "$other"
  if [ -z "$R" ]; then
    echo "$f: includes \"$inc\" outside lib/"; bad=1
  elif [ "$other" != "$layer" ] && [ "$R" -ge "$r" ]; then
    echo "$f: layer $layer (rank $r) includes \"$inc\" of $other (rank $R)"; bad=1
  fi
done <<EOF2
$incs
EOF2
[ "$bad" -eq 0 ] || exit 1
echo "ok: $checked files respect the layer ranks"
