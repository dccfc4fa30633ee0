/* SPDX-License-Identifier: MIT */
/* MessageId window, CreditCharge and credit granting (smb2.md 6.1). */
#include "conn/conn_int.h"

/* Server window: ids [low, high) are granted; a bitmap of bm_bits bits
 * (power of two, >= 2 * credits_max) marks ids above low already seen.
 * Grants never let high - low exceed bm_bits, so every id in the window
 * has its own bit. */
int smbx__conn_win_init(smbx__conn *c)
{
  c->low = 0;
  c->high = 1; /* start: 1 credit, valid ids {0} */
  if (c->role != SMBX__CONN_SERVER)
    return 0;
  uint64_t bits = 64;
  while (bits < 2ull * c->s.credits_max)
    bits <<= 1;
  c->bm_bits = bits;
  c->bm = smbx__calloc(&c->alloc, (size_t)(bits / 64), sizeof(uint64_t),
                       _Alignof(uint64_t));
  return c->bm ? 0 : SMBX_ERR_NOMEM;
}

void smbx__conn_win_free(smbx__conn *c)
{
  if (c->bm)
    smbx__free(&c->alloc, c->bm, (size_t)(c->bm_bits / 64) * sizeof(uint64_t),
               _Alignof(uint64_t));
  c->bm = NULL;
}

static bool bit_get(const smbx__conn *c, uint64_t id)
{
  uint64_t i = id & (c->bm_bits - 1);
  return (c->bm[i >> 6] >> (i & 63)) & 1u;
}

static void bit_set(smbx__conn *c, uint64_t id, bool on)
{
  uint64_t i = id & (c->bm_bits - 1);
  uint64_t m = 1ull << (i & 63);
  if (on)
    c->bm[i >> 6] |= m;
  else
    c->bm[i >> 6] &= ~m;
}

/* smb2.md 6.1 / case 24: every id of [mid, mid + n) inside [low, high)
 * and unseen; out-of-order arrival is legal; wrap ends the connection. */
int smbx__conn_win_take_any(smbx__conn *c, uint64_t mid, uint64_t n)
{
  if (n == 0 || mid > UINT64_MAX - n)
    return SMBX_ERR_PROTO;
  if (mid < c->low || mid + n > c->high)
    return SMBX_ERR_PROTO;
  for (uint64_t i = 0; i < n; i++)
    if (bit_get(c, mid + i))
      return SMBX_ERR_PROTO;
  for (uint64_t i = 0; i < n; i++)
    bit_set(c, mid + i, true);
  c->nseen += n;
  while (c->low < c->high && bit_get(c, c->low)) {
    bit_set(c, c->low, false);
    c->low++;
    c->nseen--;
  }
  c->inflight += n;
  return 0;
}
