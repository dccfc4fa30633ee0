/* SPDX-License-Identifier: MIT */
/* The anchors: the yardsticks every speed goal is a ratio to.
 *
 * FROZEN. These were written once; every ratio ever reported is relative to
 * them, so a change here silently moves every goal. Do not change this file
 * (not the inputs, not the naive cursor, not the iteration scheme) unless
 * the commit message gives the reason, and expect every ratio to move.
 *
 * - anchor.memcpy_{4k,64k,1m}_hot: memcpy between the same two buffers,
 *   which stay in cache; ns per copy.
 * - anchor.memcpy_{4k,64k,1m}_cold: memcpy between slots of the 512 MiB
 *   arena (source in the first half, destination in the second) visited in
 *   a scattered order, so every copy misses the cache; ns per copy.
 * - anchor.naive_parse: a 24-byte SMB Direct data-transfer header and the
 *   64-byte SMB2 header behind it, read field by field through a
 *   deliberately naive cursor (bounds check and shift per byte) and checked
 *   ([MS-SMBD] 3.1.5.8: CreditsRequested != 0, DataOffset 8-aligned and in
 *   bounds; [MS-SMB2] 2.2.1: ProtocolId FE 'SMB', StructureSize 64,
 *   NextCommand 8-aligned), over 4,096 distinct messages cycling in cache;
 *   ns per message. */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* ---- memcpy ------------------------------------------------------------- */

typedef struct copy_state {
  uint8_t *src, *dst; /* hot: own buffers; cold: inside the arena */
  size_t size;
  size_t slots; /* cold: slots per arena half (a power of two) */
  uint64_t pos; /* cold: walk position, kept across runs */
} copy_state;

static int copy_hot_setup(void **state, void *arg)
{
  size_t size = (size_t)(uintptr_t)arg;
  copy_state *s = calloc(1, sizeof *s);
  if (!s)
    return -1;
  s->size = size;
  s->src = aligned_alloc(64, size);
  s->dst = aligned_alloc(64, size);
  if (!s->src || !s->dst) {
    free(s->src);
    free(s->dst);
    free(s);
    return -1;
  }
  for (size_t i = 0; i < size; i++)
    s->src[i] = (uint8_t)(i * 131u + 7u);
  memset(s->dst, 0, size);
  *state = s;
  return 0;
}

static void copy_hot_teardown(void *state)
{
  copy_state *s = state;
  free(s->src);
  free(s->dst);
  free(s);
}

static double copy_hot_run(void *state, uint64_t iters)
{
  copy_state *s = state;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++) {
    memcpy(s->dst, s->src, s->size);
    bench_clobber(s->dst);
  }
  uint64_t t1 = bench_now_ns();
  bench_consume(s->dst[s->size - 1]);
  return (double)(t1 - t0) / (double)iters;
}

static int copy_cold_setup(void **state, void *arg)
{
  uint8_t *arena = bench_arena();
  if (!arena)
    return -1;
  copy_state *s = calloc(1, sizeof *s);
  if (!s)
    return -1;
  s->size = (size_t)(uintptr_t)arg;
  s->src = arena;
  s->dst = arena + BENCH_ARENA_SIZE / 2;
  s->slots = BENCH_ARENA_SIZE / 2 / s->size;
  *state = s;
  return 0;
}

static void copy_cold_teardown(void *state)
{
  free(state);
}

/* Odd multipliers permute the slots (their count is a power of two); two
 * different ones keep source and destination apart and the order
 * scattered, so neither the caches nor the prefetchers hold the next slot. */
#define COLD_STEP_SRC 0x9E3779B97F4A7C15u
#define COLD_STEP_DST 0xC2B2AE3D27D4EB4Fu

static double copy_cold_run(void *state, uint64_t iters)
{
  copy_state *s = state;
  uint64_t mask = s->slots - 1, pos = s->pos;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++, pos++) {
    size_t from = (size_t)((pos * COLD_STEP_SRC) & mask);
    size_t to = (size_t)((pos * COLD_STEP_DST + 1) & mask);
    memcpy(s->dst + to * s->size, s->src + from * s->size, s->size);
    bench_clobber(s->dst);
  }
  uint64_t t1 = bench_now_ns();
  s->pos = pos;
  return (double)(t1 - t0) / (double)iters;
}

/* ---- naive parse -------------------------------------------------------- */

/* Deliberately naive: one bounds check and one shift per byte. */
typedef struct naive_cur {
  const uint8_t *p;
  size_t len;
  size_t off;
  int bad;
} naive_cur;

static uint8_t naive_u8(naive_cur *c)
{
  if (c->off >= c->len) {
    c->bad = 1;
    return 0;
  }
  return c->p[c->off++];
}

static uint16_t naive_u16(naive_cur *c)
{
  uint16_t v = naive_u8(c);
  v = (uint16_t)(v | (unsigned)naive_u8(c) << 8);
  return v;
}

static uint32_t naive_u32(naive_cur *c)
{
  uint32_t v = 0;
  for (unsigned i = 0; i < 4; i++)
    v |= (uint32_t)naive_u8(c) << (8 * i);
  return v;
}

static uint64_t naive_u64(naive_cur *c)
{
  uint64_t v = 0;
  for (unsigned i = 0; i < 8; i++)
    v |= (uint64_t)naive_u8(c) << (8 * i);
  return v;
}

/* Returns a digest of every field, or 0 when the message is invalid. */
static uint64_t naive_parse(const uint8_t *p, size_t len)
{
  naive_cur c = {p, len, 0, 0};
  /* [MS-SMBD] 2.2.3 */
  uint16_t credits_requested = naive_u16(&c);
  uint16_t credits_granted = naive_u16(&c);
  uint16_t flags = naive_u16(&c);
  uint16_t reserved = naive_u16(&c);
  uint32_t remaining = naive_u32(&c);
  uint32_t data_offset = naive_u32(&c);
  uint32_t data_length = naive_u32(&c);
  uint32_t padding = naive_u32(&c);
  if (c.bad || credits_requested == 0 || data_offset % 8 != 0 ||
      (uint64_t)data_offset + data_length > len)
    return 0;

  /* [MS-SMB2] 2.2.1.2, inside DataOffset/DataLength */
  naive_cur h = {p + data_offset, data_length, 0, 0};
  uint8_t proto[4];
  for (unsigned i = 0; i < 4; i++)
    proto[i] = naive_u8(&h);
  uint16_t structure_size = naive_u16(&h);
  uint16_t credit_charge = naive_u16(&h);
  uint32_t status = naive_u32(&h);
  uint16_t command = naive_u16(&h);
  uint16_t credit_request = naive_u16(&h);
  uint32_t hflags = naive_u32(&h);
  uint32_t next_command = naive_u32(&h);
  uint64_t message_id = naive_u64(&h);
  uint32_t process_id = naive_u32(&h);
  uint32_t tree_id = naive_u32(&h);
  uint64_t session_id = naive_u64(&h);
  uint64_t sig_lo = naive_u64(&h);
  uint64_t sig_hi = naive_u64(&h);
  if (h.bad || proto[0] != 0xFE || proto[1] != 'S' || proto[2] != 'M' ||
      proto[3] != 'B' || structure_size != 64 || next_command % 8 != 0)
    return 0;

  return (uint64_t)credits_requested + credits_granted + flags + reserved +
         remaining + data_offset + data_length + padding + credit_charge +
         status + command + credit_request + hflags + next_command +
         message_id + process_id + tree_id + session_id + sig_lo + sig_hi;
}

/* ---- the anchor inputs -------------------------------------------------- */

static uint8_t hdr_msgs[BENCH_HDR_MSGS * BENCH_HDR_MSG_LEN];
static uint32_t hdr_lens[BENCH_HDR_MSGS];
static bool hdr_built;

static uint64_t lcg_next(uint64_t *x)
{
  *x = *x * 6364136223846793005u + 1442695040888963407u;
  return *x >> 33;
}

static void put16(uint8_t *p, uint64_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint64_t v)
{
  for (unsigned i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
  for (unsigned i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static void build_hdr_msgs(void)
{
  uint64_t x = 0x736d6278; /* fixed seed: the same messages every run */
  for (size_t i = 0; i < BENCH_HDR_MSGS; i++) {
    uint8_t *m = hdr_msgs + i * BENCH_HDR_MSG_LEN;
    hdr_lens[i] = BENCH_HDR_MSG_LEN;
    put16(m + 0, 1 + lcg_next(&x) % 255); /* CreditsRequested >= 1 */
    put16(m + 2, lcg_next(&x) % 256);     /* CreditsGranted */
    put16(m + 4, lcg_next(&x) & 1);       /* Flags */
    put16(m + 6, 0);                      /* Reserved */
    put32(m + 8, 0);                      /* RemainingDataLength */
    put32(m + 12, 24);                    /* DataOffset */
    put32(m + 16, 64);                    /* DataLength */
    put32(m + 20, 0);                     /* Padding */
    uint8_t *h = m + 24;
    h[0] = 0xFE;
    h[1] = 'S';
    h[2] = 'M';
    h[3] = 'B';
    put16(h + 4, 64);                      /* StructureSize */
    put16(h + 6, 1 + lcg_next(&x) % 8);    /* CreditCharge */
    put32(h + 8, lcg_next(&x) & 1 ? 0 : lcg_next(&x)); /* Status */
    put16(h + 12, lcg_next(&x) % 19);      /* Command */
    put16(h + 14, 1 + lcg_next(&x) % 512); /* CreditRequest */
    put32(h + 16, lcg_next(&x) & 0x9);     /* Flags */
    put32(h + 20, (lcg_next(&x) % 4) * 8); /* NextCommand */
    put64(h + 24, i);                      /* MessageId */
    put32(h + 32, 0xFEFF);                 /* Reserved (ProcessId) */
    put32(h + 36, lcg_next(&x));           /* TreeId */
    put64(h + 40, lcg_next(&x) << 31 | lcg_next(&x)); /* SessionId */
    for (unsigned k = 0; k < 16; k++)      /* Signature */
      h[48 + k] = (uint8_t)lcg_next(&x);
  }
  hdr_built = true;
}

const uint8_t *bench_hdr_msgs(void)
{
  if (!hdr_built)
    build_hdr_msgs();
  return hdr_msgs;
}

const uint32_t *bench_hdr_msg_lens(void)
{
  if (!hdr_built)
    build_hdr_msgs();
  return hdr_lens;
}

static int naive_setup(void **state, void *arg)
{
  (void)arg;
  const uint8_t *m = bench_hdr_msgs();
  const uint32_t *lens = bench_hdr_msg_lens();
  for (size_t i = 0; i < BENCH_HDR_MSGS; i++)
    if (naive_parse(m + i * BENCH_HDR_MSG_LEN, lens[i]) == 0)
      return -1; /* every input must be valid */
  *state = NULL;
  return 0;
}

static double naive_run(void *state, uint64_t iters)
{
  (void)state;
  const uint8_t *msgs = bench_hdr_msgs();
  const uint32_t *lens = bench_hdr_msg_lens();
  uint64_t acc = 0;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++) {
    size_t k = (size_t)(i % BENCH_HDR_MSGS);
    acc += naive_parse(msgs + k * BENCH_HDR_MSG_LEN, lens[k]);
  }
  uint64_t t1 = bench_now_ns();
  bench_consume(acc);
  return (double)(t1 - t0) / (double)iters;
}

/* ---- registry ----------------------------------------------------------- */

#define HOT(nm, size)                                                         \
  {.name = "anchor.memcpy_" nm "_hot", .unit = "ns/copy",                    \
   .run = copy_hot_run, .setup = copy_hot_setup,                             \
   .teardown = copy_hot_teardown, .arg = (void *)(uintptr_t)(size),          \
   .flags = BENCH_F_ANCHOR}
#define COLD(nm, size)                                                        \
  {.name = "anchor.memcpy_" nm "_cold", .unit = "ns/copy",                   \
   .run = copy_cold_run, .setup = copy_cold_setup,                           \
   .teardown = copy_cold_teardown, .arg = (void *)(uintptr_t)(size),         \
   .flags = BENCH_F_ANCHOR}

static const bench_metric anchor_metrics[] = {
    HOT("4k", 4096),
    HOT("64k", 65536),
    HOT("1m", 1048576),
    COLD("4k", 4096),
    COLD("64k", 65536),
    COLD("1m", 1048576),
    {.name = "anchor.naive_parse", .unit = "ns/msg", .run = naive_run,
     .setup = naive_setup, .flags = BENCH_F_ANCHOR},
};

BENCH_SUITE_DEFINE(anchors, anchor_metrics);
