#!/bin/sh
# Fails when a test case id of spec/smbd.md sec. 6 (1-50 and 58; 51-57
# belong to the RDMA placement layer) has no cmocka test named
# smbd_case_<N>_... in tests/smbd.
set -eu
dir=$1
missing=""
for n in $(seq 1 50) 58; do
  if ! grep -q "cmocka_unit_test(smbd_case_${n}_" "$dir"/test_*.c; then
    missing="$missing $n"
  fi
done
if [ -n "$missing" ]; then
  echo "spec/smbd.md cases without a test:$missing"
  exit 1
fi
echo "ok: every case 1-50 and 58 has a registered test"
