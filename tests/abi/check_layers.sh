#!/bin/sh
# Layering rule (DESIGN.md): a file in lib/<layer>/ includes only headers of
# its own layer or of a lower rank; siblings of one rank never include each
# other; nothing in lib/ includes examples/, tests/ or tools/.
set -eu
lib=$1
rank() {
  case $1 in
    core) echo 0 ;;
    smb2) echo 1 ;;
    smbd|tcp) echo 2 ;;
    rdma) echo 3 ;;
    conn) echo 4 ;;
    lease|vmo) echo 5 ;;
    server|client) echo 6 ;;
    *) echo "" ;;
  esac
}
bad=0
checked=0
for dir in "$lib"/*/; do
  layer=$(basename "$dir")
  r=$(rank "$layer")
  [ -n "$r" ] || { echo "unknown layer directory lib/$layer (add it to check_layers.sh)"; bad=1; continue; }
  for f in "$dir"*.c "$dir"*.h; do
    [ -f "$f" ] || continue
    checked=$((checked + 1))
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | while IFS= read -r line; do
      inc=$(printf '%s\n' "$line" | sed 's/.*"\(.*\)".*/\1/')
      case $inc in
        */*) other=${inc%%/*} ;;
        *) other=$layer ;; # same-directory include
      esac
      ro=$(rank "$other")
      if [ -z "$ro" ]; then
        echo "$f: includes \"$inc\" outside lib/"
        exit 1
      fi
      if [ "$other" != "$layer" ] && [ "$ro" -ge "$r" ]; then
        echo "$f: layer $layer (rank $r) includes \"$inc\" of $other (rank $ro)"
        exit 1
      fi
    done || bad=1
  done
done
[ "$bad" -eq 0 ] || exit 1
echo "ok: $checked files respect the layer ranks"
