#!/bin/sh
# libsmbx.so must not depend on any crypto library: no NEEDED entry for one
# and no undefined symbol from one (DESIGN.md "Crypto and authentication").
set -eu
so=$1
readelf=${READELF:-readelf}
nm=${NM:-nm}
needed=$("$readelf" -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p')
[ -n "$needed" ] || { echo "no NEEDED entries read from $so"; exit 1; }
echo "NEEDED: $(echo $needed)"
if echo "$needed" | grep -Ei 'crypto|ssl|gnutls|nettle|gcrypt|mbed|sodium|wolf|bcrypt'; then
  echo "FAIL: $so links a crypto library"
  exit 1
fi
undef=$("$nm" -D --undefined-only "$so" | awk '{print $NF}')
[ -n "$undef" ] || { echo "no undefined symbols read from $so"; exit 1; }
if echo "$undef" | grep -E '^(EVP_|OSSL_|OPENSSL_|SHA[0-9]|HMAC|CMAC|AES_|RAND_|gnutls_|nettle_|gcry_|mbedtls_|crypto_)'; then
  echo "FAIL: $so references crypto symbols"
  exit 1
fi
echo "ok: $so links no crypto library"
