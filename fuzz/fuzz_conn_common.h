/* SPDX-License-Identifier: MIT */
/* Shared by fuzz_conn_server / fuzz_conn_client: an input reader, a
 * failing allocator, toy (non-cryptographic, deterministic) crypto hooks,
 * and a builder for SMB2 PDUs from a few input bytes. */
#ifndef SMBX_FUZZ_CONN_COMMON_H
#define SMBX_FUZZ_CONN_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/crypto.h>
#include <smbx/smb2.h>

#include "conn/conn_int.h"

typedef struct fin {
  const uint8_t *p;
  size_t n, off;
} fin;

static uint8_t in_u8(fin *f)
{
  return f->off < f->n ? f->p[f->off++] : 0;
}

static uint16_t in_u16(fin *f)
{
  uint16_t a = in_u8(f);
  return (uint16_t)(a | (uint16_t)(in_u8(f) << 8));
}

static int in_done(const fin *f)
{
  return f->off >= f->n;
}

/* ---- allocator failing on demand ---------------------------------------- */

typedef struct fz_alloc {
  smbx_allocator a;
  uint64_t calls, fail_at;
  int64_t live;
} fz_alloc;

static void *fz_a(size_t size, size_t align, void *ud)
{
  fz_alloc *z = ud;
  z->calls++;
  if (z->fail_at && z->calls == z->fail_at)
    return NULL;
  if (align < 16)
    align = 16;
  size_t n = (size + align - 1) / align * align;
  void *p = aligned_alloc(align, n ? n : align);
  if (p)
    z->live++;
  return p;
}

static void fz_f(void *p, size_t size, size_t align, void *ud)
{
  (void)size;
  (void)align;
  fz_alloc *z = ud;
  if (p) {
    z->live--;
    free(p);
  }
}

static void fz_alloc_init(fz_alloc *z, uint64_t fail_at)
{
  memset(z, 0, sizeof *z);
  z->a.struct_size = sizeof z->a;
  z->a.alloc = fz_a;
  z->a.free = fz_f;
  z->a.user_data = z;
  z->fail_at = fail_at;
}

/* ---- toy crypto: deterministic mixing, not cryptography --------------- */

static uint64_t mix(uint64_t h, const uint8_t *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001B3ull;
  return h;
}

static int toy_sha512(void *ud, const smbx_iov *iov, size_t n, uint8_t out[64])
{
  (void)ud;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++)
    h = mix(h, iov[i].base, iov[i].len);
  for (int i = 0; i < 64; i++)
    out[i] = (uint8_t)(h >> (8 * (i % 8))) ^ (uint8_t)i;
  return 0;
}

static int toy_mac(void *ud, uint32_t alg, const uint8_t *key, size_t kl,
                   const uint8_t *nonce, size_t nl, const smbx_iov *iov,
                   size_t n, uint8_t out[16])
{
  (void)ud;
  uint64_t h = mix(0x1234 + alg, key, kl);
  if (nonce)
    h = mix(h, nonce, nl);
  for (size_t i = 0; i < n; i++)
    h = mix(h, iov[i].base, iov[i].len);
  for (int i = 0; i < 16; i++)
    out[i] = (uint8_t)(h >> (8 * (i % 8)));
  return 0;
}

static void toy_tag(const uint8_t *key, size_t kl, const uint8_t *nonce,
                    size_t nl, const uint8_t *aad, size_t al,
                    const uint8_t *buf, size_t len, uint8_t tag[16])
{
  uint64_t h = mix(mix(mix(mix(77, key, kl), nonce, nl), aad, al), buf, len);
  for (int i = 0; i < 16; i++)
    tag[i] = (uint8_t)(h >> (8 * (i % 8)));
}

static int toy_enc(void *ud, uint32_t cipher, const uint8_t *key, size_t kl,
                   const uint8_t *nonce, size_t nl, const uint8_t *aad,
                   size_t al, uint8_t *buf, size_t len, uint8_t tag[16])
{
  (void)ud;
  (void)cipher;
  for (size_t i = 0; i < len; i++)
    buf[i] ^= (uint8_t)(key[i % kl] + i);
  toy_tag(key, kl, nonce, nl, aad, al, buf, len, tag);
  return 0;
}

static int toy_dec(void *ud, uint32_t cipher, const uint8_t *key, size_t kl,
                   const uint8_t *nonce, size_t nl, const uint8_t *aad,
                   size_t al, uint8_t *buf, size_t len, const uint8_t tag[16])
{
  (void)ud;
  (void)cipher;
  uint8_t t[16];
  toy_tag(key, kl, nonce, nl, aad, al, buf, len, t);
  if (memcmp(t, tag, 16) != 0)
    return SMBX_ERR_AUTH;
  for (size_t i = 0; i < len; i++)
    buf[i] ^= (uint8_t)(key[i % kl] + i);
  return 0;
}

static int toy_random(void *ud, uint8_t *buf, size_t len)
{
  (void)ud;
  for (size_t i = 0; i < len; i++)
    buf[i] = (uint8_t)(i * 31 + 7);
  return 0;
}

static smbx_crypto toy_crypto(void)
{
  smbx_crypto c;
  memset(&c, 0, sizeof c);
  c.struct_size = sizeof c;
  c.sha512 = toy_sha512;
  c.mac = toy_mac;
  c.aead_encrypt = toy_enc;
  c.aead_decrypt = toy_dec;
  c.random = toy_random;
  return c;
}

/* keys for SessionId 1 (both roles use the same toy keys) */
static void toy_keys(smbx__conn_keys *k, uint8_t mode)
{
  memset(k, 0, sizeof *k);
  k->keys.dialect = SMBX_SMB2_DIALECT_311;
  k->keys.signing_alg = (uint16_t)(mode % 3);
  k->keys.cipher = SMBX_CRYPTO_CIPHER_AES128_GCM;
  k->keys.cipher_key_len = 16;
  memset(k->keys.signing, 0x11, 16);
  memset(k->keys.encryption, 0x22, 32);
  memset(k->keys.decryption, 0x22, 32);
  k->flags = SMBX__CONN_KEYS_SIGNING | SMBX__CONN_KEYS_CIPHER;
  if (mode & 4)
    k->flags |= SMBX__CONN_KEYS_SIGN_ALL;
  if (mode & 8)
    k->flags |= SMBX__CONN_KEYS_ENCRYPT_ALL;
}

/* A PDU from input bytes: command, flags, ids, a zero body of the
 * command's StructureSize (sometimes wrong) and a few poked fields. */
static size_t build_pdu(fin *f, uint8_t *p, size_t cap, bool response,
                        uint64_t mid_base)
{
  if (cap < 64 + 256)
    return 0;
  uint8_t cmd = in_u8(f);
  uint8_t fl = in_u8(f);
  uint8_t idsel = in_u8(f);
  uint16_t charge = in_u8(f);
  uint16_t credits = in_u16(f);
  uint8_t extra = in_u8(f);
  memset(p, 0, 64 + 256);
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = (uint16_t)(cmd % 0x15);
  h.credit_charge = (uint16_t)(charge == 0xFF ? 0xFFFF : charge);
  h.credits = credits;
  h.flags = (response ? SMBX_SMB2_FLAGS_SERVER_TO_REDIR : 0) |
            ((fl & 1) ? SMBX_SMB2_FLAGS_ASYNC_COMMAND : 0) |
            ((fl & 2) ? SMBX_SMB2_FLAGS_RELATED_OPERATIONS : 0) |
            ((fl & 4) ? SMBX_SMB2_FLAGS_SIGNED : 0);
  if (fl & 8)
    h.flags ^= SMBX_SMB2_FLAGS_SERVER_TO_REDIR;
  h.message_id = idsel == 0xFF ? UINT64_MAX : mid_base + (idsel & 0x3F);
  h.async_id = (h.flags & SMBX_SMB2_FLAGS_ASYNC_COMMAND) ? in_u8(f) + 1u : 0;
  h.session_id = (fl & 16) ? 1 : ((fl & 32) ? UINT64_MAX : 0);
  h.tree_id = (fl & 64) ? 0xFFFFFFFFu : 3;
  if (response) {
    uint8_t st = in_u8(f);
    h.status = st == 1 ? SMBX_STATUS_PENDING
                       : st == 2 ? SMBX_STATUS_ACCESS_DENIED
                                 : st == 3 ? SMBX_STATUS_MORE_PROCESSING_REQUIRED
                                           : 0;
  }
  (void)smbx_smb2_hdr_encode(&h, p, 64, NULL);
  uint16_t ss = smbx_smb2_structure_size(h.command, response);
  if (response && h.status && h.status != SMBX_STATUS_MORE_PROCESSING_REQUIRED)
    ss = 9;
  if (fl & 128)
    ss = (uint16_t)(ss + 2);
  p[64] = (uint8_t)ss;
  p[65] = (uint8_t)(ss >> 8);
  size_t body = (size_t)(ss & ~1u) + (ss & 1u);
  if (body > 200)
    body = 200;
  size_t n = 64 + body + (extra & 0x1F);
  /* poke a length field (READ Length, IOCTL counts, ...) */
  uint8_t at = in_u8(f);
  uint32_t v = (uint32_t)in_u16(f) << (in_u8(f) & 15);
  if (64u + at + 4 <= n)
    smbx__conn_st32(p + 64 + at, v);
  /* FileId all-ones (inherit) sometimes */
  size_t fo = smbx__conn_fileid_off(h.command);
  if (fo && (extra & 0x80) && fo + 16 <= n)
    memset(p + fo, 0xFF, 16);
  return n;
}

/* Keeps hold h in the first free slot of hold[nhold]; with none free it
 * is released at once (which must succeed). */
static void hold_keep(smbx__conn *c, uint64_t *hold, size_t nhold, uint64_t h,
                      uint64_t now)
{
  for (size_t i = 0; i < nhold; i++)
    if (!hold[i]) {
      hold[i] = h;
      return;
    }
  if (smbx__conn_release(c, h, now) != 0)
    abort();
}

/* Feeds a copy of bytes to c over Direct TCP. The copy must outlive the
 * holds on it, so it is kept in bufs[cap] (freed by the caller at the
 * end); on SMBX_ERR_AGAIN every kept hold is released and feeding is
 * retried, at most 4 times in all. */
static void feed_kept(smbx__conn *c, uint8_t **bufs, size_t *nbufs,
                      size_t cap, uint64_t *hold, size_t nhold,
                      const uint8_t *bytes, size_t n, uint64_t now)
{
  if (!n || *nbufs == cap)
    return;
  uint8_t *b = malloc(n);
  if (!b)
    return;
  memcpy(b, bytes, n);
  bufs[(*nbufs)++] = b;
  size_t off = 0;
  for (int tries = 0; off < n && tries < 4; tries++) {
    size_t used = 0;
    int rc = smbx__conn_tcp_feed(c, b + off, n - off, &used, now);
    if (used > n - off)
      abort();
    off += used;
    if (rc != SMBX_ERR_AGAIN)
      break;
    for (size_t i = 0; i < nhold; i++)
      if (hold[i]) {
        if (smbx__conn_release(c, hold[i], now) != 0)
          abort();
        hold[i] = 0;
      }
  }
}

/* Input ops both drivers run: release one kept hold (chosen by the
 * input), step the clock by an input amount (shift below mask + 1) and run
 * the expiry if due, set an input-chosen dialect. */
static void op_release_hold(smbx__conn *c, uint64_t *hold, size_t nhold,
                            fin *f, uint64_t now)
{
  size_t i = in_u8(f) % nhold;
  if (hold[i]) {
    if (smbx__conn_release(c, hold[i], now) != 0)
      abort();
    hold[i] = 0;
  }
}

static void op_time(smbx__conn *c, uint64_t *now, fin *f, uint8_t mask)
{
  *now += (uint64_t)in_u16(f) << (in_u8(f) & mask);
  if (smbx__conn_expiry(c) <= *now)
    (void)smbx__conn_handle_expiry(c, *now);
}

static void op_set_dialect(smbx__conn *c, fin *f)
{
  static const uint16_t d[5] = {0x202, 0x210, 0x300, 0x302, 0x311};
  (void)smbx__conn_set_dialect(c, d[in_u8(f) % 5],
                               in_u8(f) & 1 ? SMBX_SMB2_CAP_LARGE_MTU : 0);
}

#endif
