/* SPDX-License-Identifier: MIT */
/* Direct TCP framing metrics (issue 5).
 *
 * tcp.whole_64k        64 KiB PDUs arriving whole, 16 per fed buffer:
 *                      framing cost per PDU (reported).
 * tcp.whole_copies     PDUs copied per PDU in that loop (invariant 0:
 *                      whole PDUs are views into the fed buffer).
 * tcp.whole_1m         1 MiB PDUs arriving whole, one per feed (reported).
 * tcp.split_1m         a 1 MiB PDU arriving as 64 KiB segments: the one
 *                      reassembly copy against anchor.memcpy_1m_hot (goal:
 *                      time <= 1/0.9 of the memcpy).
 * tcp.split_allocs     allocations per split 1 MiB PDU once warm
 *                      (invariant 0).
 * tcp.whole_allocs     allocations per whole PDU (invariant 0). */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include <smbx/tcp.h>

#include "bench.h"

typedef struct tstate {
  bench_alloc ba;
  smbx_tcp_framer *f;
  uint8_t *stream; /* n_pdus framed PDUs back to back */
  size_t len;
  size_t pdu_len;
  uint32_t n_pdus;
  uint32_t seg;    /* feed size; 0 = the whole stream at once */
  uint64_t copies, pdus;
} tstate;

typedef struct tparams {
  size_t pdu_len;
  uint32_t n_pdus;
  uint32_t seg;
} tparams;

static tparams p_whole_64k = {64u << 10, 16, 0};
static tparams p_whole_1m = {1u << 20, 1, 0};
static tparams p_split_1m = {1u << 20, 1, 64u << 10};

static int tsetup(void **state, void *arg)
{
  const tparams *pp = arg;
  tstate *s = calloc(1, sizeof *s);
  if (!s)
    return 1;
  bench_alloc_init(&s->ba);
  s->pdu_len = pp->pdu_len;
  s->n_pdus = pp->n_pdus;
  s->seg = pp->seg;
  s->len = (pp->pdu_len + 4) * pp->n_pdus;
  s->stream = malloc(s->len);
  if (!s->stream ||
      smbx_tcp_framer_new(&s->f, SMBX_TCP_MAX_FRAME, &s->ba.a) != 0) {
    free(s->stream);
    free(s);
    return 1;
  }
  for (uint32_t i = 0; i < pp->n_pdus; i++) {
    uint8_t *q = s->stream + (size_t)i * (pp->pdu_len + 4);
    if (smbx_tcp_encode_prefix(q, 4, pp->pdu_len) != 4)
      return 1;
    memset(q + 4, (int)(0x40 + i), pp->pdu_len);
    q[4] = 0xFE;
  }
  *state = s;
  return 0;
}

static void tteardown(void *state)
{
  tstate *s = state;
  smbx_tcp_framer_free(s->f);
  free(s->stream);
  free(s);
}

/* Feeds the whole stream once (in segments of s->seg bytes, or at once). */
static void feed_stream(tstate *s)
{
  size_t seg = s->seg ? s->seg : s->len;
  for (size_t off = 0; off < s->len; off += seg) {
    const uint8_t *p = s->stream + off;
    size_t n = s->len - off < seg ? s->len - off : seg;
    while (n > 0) {
      smbx_tcp_pdu pdu;
      size_t used = 0;
      int rc = smbx_tcp_framer_feed(s->f, p, n, &used, &pdu);
      p += used;
      n -= used;
      if (rc == 1) {
        s->pdus++;
        s->copies += pdu.copied;
        bench_clobber(pdu.data);
        bench_consume(pdu.data[0] + pdu.len);
      } else if (rc < 0) {
        abort();
      } else {
        break;
      }
    }
  }
}

/* ns per PDU */
static double trun(void *state, uint64_t iters)
{
  tstate *s = state;
  feed_stream(s); /* warm: the split case allocates its buffer once here */
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++)
    feed_stream(s);
  uint64_t t1 = bench_now_ns();
  return (double)(t1 - t0) / (double)(iters * s->n_pdus);
}

static double copies_run(void *state, uint64_t iters)
{
  tstate *s = state;
  s->copies = s->pdus = 0;
  for (uint64_t i = 0; i < iters; i++)
    feed_stream(s);
  return s->pdus ? (double)s->copies / (double)s->pdus : 1.0;
}

static double allocs_run(void *state, uint64_t iters)
{
  tstate *s = state;
  feed_stream(s); /* warm-up may allocate the reassembly buffer */
  uint64_t a0 = bench_alloc_calls(&s->ba);
  s->pdus = 0;
  for (uint64_t i = 0; i < iters; i++)
    feed_stream(s);
  uint64_t a1 = bench_alloc_calls(&s->ba);
  return s->pdus ? (double)(a1 - a0) / (double)s->pdus : 1.0;
}

static const bench_metric tcp_metrics[] = {
  {.name = "tcp.whole_64k", .unit = "ns/pdu", .run = trun, .setup = tsetup,
   .teardown = tteardown, .arg = &p_whole_64k},
  {.name = "tcp.whole_copies", .unit = "copies/pdu", .run = copies_run,
   .setup = tsetup, .teardown = tteardown, .arg = &p_whole_64k,
   .iters = 64, .goal = BENCH_LE(0), .flags = BENCH_F_INVARIANT},
  {.name = "tcp.whole_allocs", .unit = "allocs/pdu", .run = allocs_run,
   .setup = tsetup, .teardown = tteardown, .arg = &p_whole_64k,
   .iters = 64, .goal = BENCH_LE(0), .flags = BENCH_F_INVARIANT},
  {.name = "tcp.whole_1m", .unit = "ns/pdu", .run = trun, .setup = tsetup,
   .teardown = tteardown, .arg = &p_whole_1m},
  {.name = "tcp.split_1m", .unit = "ns/copy", .run = trun, .setup = tsetup,
   .teardown = tteardown, .arg = &p_split_1m,
   .anchor = "anchor.memcpy_1m_hot", .goal = BENCH_LE(1.0 / 0.9)},
  {.name = "tcp.split_allocs", .unit = "allocs/pdu", .run = allocs_run,
   .setup = tsetup, .teardown = tteardown, .arg = &p_split_1m,
   .iters = 16, .goal = BENCH_LE(0), .flags = BENCH_F_INVARIANT},
};

BENCH_SUITE_DEFINE(tcp, tcp_metrics);
