#!/bin/sh
# Fails when a spec/smbd.md sec. 6 case of the RDMA placement layer
# (51-57) has no cmocka test named rdma_case_<N>_... in tests/rdma.
set -eu
dir=$1
missing=""
for n in $(seq 51 57); do
  if ! grep -q "cmocka_unit_test(rdma_case_${n}_" "$dir"/test_*.c; then
    missing="$missing $n"
  fi
done
if [ -n "$missing" ]; then
  echo "spec/smbd.md cases without a test:$missing"
  exit 1
fi
echo "ok: every case 51-57 has a registered test"
