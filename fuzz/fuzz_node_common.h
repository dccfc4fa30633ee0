/* SPDX-License-Identifier: MIT */
/* Shared by fuzz_node_client / fuzz_node_server: the abort-on-violation
 * CHECK and the fake crypto hooks both targets use unchanged (hash, MAC,
 * KDF: deterministic, not cryptography). Each target keeps its own AEAD
 * and random hooks: they differ between the two, and are kept as they
 * are so that the stored corpora still reach the same paths. */
#ifndef SMBX_FUZZ_NODE_COMMON_H
#define SMBX_FUZZ_NODE_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/crypto.h>

#define CHECK(c)                                                              \
  do {                                                                        \
    if (!(c))                                                                 \
      abort();                                                                \
  } while (0)

static void mix(uint8_t *out, size_t n, const uint8_t *p, size_t len,
                uint64_t *h)
{
  for (size_t i = 0; i < len; i++)
    *h = (*h ^ p[i]) * 0x100000001B3ull;
  for (size_t i = 0; i < n; i++)
    out[i] = (uint8_t)(*h >> (8 * (i % 8))) ^ (uint8_t)i;
}

static int f_sha512(void *u, const smbx_iov *iov, size_t n, uint8_t out[64])
{
  (void)u;
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++)
    mix(out, 64, iov[i].base, iov[i].len, &h);
  return 0;
}

static int f_mac(void *u, uint32_t alg, const uint8_t *key, size_t kl,
                 const uint8_t *nonce, size_t nl, const smbx_iov *iov,
                 size_t n, uint8_t out[16])
{
  (void)u;
  (void)alg;
  uint64_t h = 7;
  mix(out, 16, key, kl, &h);
  if (nonce)
    mix(out, 16, nonce, nl, &h);
  for (size_t i = 0; i < n; i++)
    mix(out, 16, iov[i].base, iov[i].len, &h);
  return 0;
}

static int f_kdf(void *u, const uint8_t *key, size_t kl, const uint8_t *label,
                 size_t ll, const uint8_t *ctx, size_t cl, uint8_t *out,
                 size_t ol)
{
  (void)u;
  uint64_t h = 13;
  mix(out, ol, key, kl, &h);
  mix(out, ol, label, ll, &h);
  mix(out, ol, ctx, cl, &h);
  return 0;
}

/* A crypto table with the shared hooks; the caller adds AEAD + random. */
static void fake_crypto_init(smbx_crypto *cr)
{
  memset(cr, 0, sizeof *cr);
  cr->struct_size = sizeof *cr;
  cr->sha512 = f_sha512;
  cr->mac = f_mac;
  cr->kdf = f_kdf;
}

#endif
