#!/bin/sh
# Fails when libsmbx.so exports anything but ^smbx_[a-z] (smbx__ internals
# and stray helpers must stay hidden), or exports nothing.
set -eu
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '{print $NF}')
[ -n "$syms" ] || { echo "no exported symbols in $lib"; exit 1; }
bad=$(printf '%s\n' "$syms" | grep -v '^smbx_[a-z]' || true)
if [ -n "$bad" ]; then
  echo "symbols exported outside ^smbx_[a-z]:"
  printf '%s\n' "$bad"
  exit 1
fi
for must in smbx_version smbx_strerror smbx_allocator_default; do
  printf '%s\n' "$syms" | grep -qx "$must" || { echo "missing export $must"; exit 1; }
done
echo "ok: $(printf '%s\n' "$syms" | wc -l) symbols, all ^smbx_[a-z]"
