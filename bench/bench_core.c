/* SPDX-License-Identifier: MIT */
/* lib/core metrics; also the worked example of a suite (docs/bench.md).
 *
 * core.rd_decode_hdrs decodes the naive-parse anchor's messages with the
 * real cursor (core/cursor.h), applying the same checks and producing the
 * same digest, so its ratio to anchor.naive_parse is the cost of the
 * library's cursor against a per-byte one. */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>

#include "bench.h"
#include "core/alloc.h"
#include "core/cursor.h"

/* Same fields, checks and digest as the naive parse in anchors.c. */
static uint64_t rd_decode(const uint8_t *p, size_t len)
{
  /* [MS-SMBD] 2.2.3, 3.1.5.8 */
  smbx__rd r = smbx__rd_make(p, len);
  uint16_t credits_requested = smbx__rd_u16(&r);
  uint16_t credits_granted = smbx__rd_u16(&r);
  uint16_t flags = smbx__rd_u16(&r);
  uint16_t reserved = smbx__rd_u16(&r);
  uint32_t remaining = smbx__rd_u32(&r);
  uint32_t data_offset = smbx__rd_u32(&r);
  uint32_t data_length = smbx__rd_u32(&r);
  uint32_t padding = smbx__rd_u32(&r);
  if (r.bad || credits_requested == 0 || data_offset % 8 != 0 ||
      (uint64_t)data_offset + data_length > len)
    return 0;

  /* [MS-SMB2] 2.2.1.2 */
  smbx__rd h = smbx__rd_make(p + data_offset, data_length);
  const uint8_t *proto = smbx__rd_take(&h, 4);
  uint16_t structure_size = smbx__rd_u16(&h);
  uint16_t credit_charge = smbx__rd_u16(&h);
  uint32_t status = smbx__rd_u32(&h);
  uint16_t command = smbx__rd_u16(&h);
  uint16_t credit_request = smbx__rd_u16(&h);
  uint32_t hflags = smbx__rd_u32(&h);
  uint32_t next_command = smbx__rd_u32(&h);
  uint64_t message_id = smbx__rd_u64(&h);
  uint32_t process_id = smbx__rd_u32(&h);
  uint32_t tree_id = smbx__rd_u32(&h);
  uint64_t session_id = smbx__rd_u64(&h);
  uint64_t sig_lo = smbx__rd_u64(&h);
  uint64_t sig_hi = smbx__rd_u64(&h);
  if (h.bad || proto[0] != 0xFE || proto[1] != 'S' || proto[2] != 'M' ||
      proto[3] != 'B' || structure_size != 64 || next_command % 8 != 0)
    return 0;

  return (uint64_t)credits_requested + credits_granted + flags + reserved +
         remaining + data_offset + data_length + padding + credit_charge +
         status + command + credit_request + hflags + next_command +
         message_id + process_id + tree_id + session_id + sig_lo + sig_hi;
}

/* A decoder context allocated once through the counting allocator at setup;
 * the measured loop must not allocate at all. */
typedef struct decode_state {
  bench_alloc ba;
  uint64_t *digests; /* per message, allocated in setup */
} decode_state;

static void decode_teardown(void *state)
{
  decode_state *s = state;
  smbx__free(&s->ba.a, s->digests, BENCH_HDR_MSGS * sizeof(uint64_t),
             _Alignof(uint64_t));
  free(s);
}

static int decode_setup(void **state, void *arg)
{
  (void)arg;
  decode_state *s = calloc(1, sizeof *s);
  if (!s)
    return -1;
  bench_alloc_init(&s->ba);
  s->digests = smbx__calloc(&s->ba.a, BENCH_HDR_MSGS, sizeof(uint64_t),
                            _Alignof(uint64_t));
  const uint8_t *m = bench_hdr_msgs();
  const uint32_t *lens = bench_hdr_msg_lens();
  bool ok = s->digests != NULL;
  for (size_t i = 0; ok && i < BENCH_HDR_MSGS; i++)
    ok = rd_decode(m + i * BENCH_HDR_MSG_LEN, lens[i]) != 0;
  if (!ok) { /* out of memory, or an input the anchor accepts we reject */
    decode_teardown(s);
    return -1;
  }
  *state = s;
  return 0;
}

static void decode_body(void *ctx, uint64_t iters)
{
  decode_state *s = ctx;
  const uint8_t *msgs = bench_hdr_msgs();
  const uint32_t *lens = bench_hdr_msg_lens();
  uint64_t acc = 0;
  for (uint64_t i = 0; i < iters; i++) {
    size_t k = (size_t)(i % BENCH_HDR_MSGS);
    acc += rd_decode(msgs + k * BENCH_HDR_MSG_LEN, lens[k]);
  }
  s->digests[iters % BENCH_HDR_MSGS] = acc;
  bench_consume(acc);
}

static double decode_run(void *state, uint64_t iters)
{
  return bench_time_ns_per_op(decode_body, state, iters);
}

/* Invariant: allocator calls per decoded message (must be 0). */
static double decode_allocs_run(void *state, uint64_t iters)
{
  decode_state *s = state;
  uint64_t before = bench_alloc_calls(&s->ba);
  decode_body(s, iters);
  return (double)(bench_alloc_calls(&s->ba) - before) / (double)iters;
}

/* A plain value: the cursor must stay small enough to live in registers. */
static double rd_size_run(void *state, uint64_t iters)
{
  (void)state;
  (void)iters;
  return (double)sizeof(smbx__rd);
}

static const bench_metric core_metrics[] = {
    {.name = "core.rd_decode_hdrs", .unit = "ns/msg", .run = decode_run,
     .setup = decode_setup, .teardown = decode_teardown,
     .anchor = "anchor.naive_parse", .goal = BENCH_LE(1.25)},
    {.name = "core.rd_decode_allocs", .unit = "allocs/msg",
     .run = decode_allocs_run, .setup = decode_setup,
     .teardown = decode_teardown, .iters = BENCH_HDR_MSGS,
     .goal = BENCH_LE(0), .flags = BENCH_F_INVARIANT},
    {.name = "core.rd_cursor_size", .unit = "bytes", .run = rd_size_run,
     .iters = 1, .goal = BENCH_LE(32)},
};

BENCH_SUITE_DEFINE(core, core_metrics);
