/* SPDX-License-Identifier: MIT */
/* Framework self-test metrics (BENCH_F_HIDDEN: only with --selftest). They
 * miss, break or fail their setup on purpose so bench/check_bench.py can
 * check that a MISS or SKIP only prints and a broken invariant makes
 * smbx-bench exit 1. */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/alloc.h"

/* One smbx__alloc per iteration through the counting allocator. */
static double allocating_run(void *state, uint64_t iters)
{
  (void)state;
  bench_alloc ba;
  bench_alloc_init(&ba);
  for (uint64_t i = 0; i < iters; i++) {
    void *p = smbx__alloc(&ba.a, 64, 8);
    bench_clobber(p);
    smbx__free(&ba.a, p, 64, 8);
  }
  return ba.live ? -1 : (double)bench_alloc_calls(&ba) / (double)iters;
}

static double value_2048_run(void *state, uint64_t iters)
{
  (void)state;
  (void)iters;
  return 2048;
}

typedef struct two_copies {
  uint8_t src[4096], dst[4096];
} two_copies;

static int two_copies_setup(void **state, void *arg)
{
  (void)arg;
  two_copies *s = calloc(1, sizeof *s);
  if (!s)
    return -1;
  *state = s;
  return 0;
}

static void two_copies_teardown(void *state)
{
  free(state);
}

/* Two 4 KiB copies per iteration: about twice anchor.memcpy_4k_hot. */
static double two_copies_run(void *state, uint64_t iters)
{
  two_copies *s = state;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++) {
    memcpy(s->dst, s->src, sizeof s->src);
    bench_clobber(s->dst);
    memcpy(s->src, s->dst, sizeof s->src);
    bench_clobber(s->src);
  }
  return (double)(bench_now_ns() - t0) / (double)iters;
}

static int failing_setup(void **state, void *arg)
{
  (void)state;
  (void)arg;
  return -1;
}

static const bench_metric selftest_metrics[] = {
    {.name = "selftest.invariant_broken", .unit = "allocs/op",
     .run = allocating_run, .iters = 100, .goal = BENCH_LE(0),
     .flags = BENCH_F_INVARIANT | BENCH_F_HIDDEN},
    {.name = "selftest.invariant_held", .unit = "allocs/op",
     .run = allocating_run, .iters = 100, .goal = BENCH_LE(1),
     .flags = BENCH_F_INVARIANT | BENCH_F_HIDDEN},
    {.name = "selftest.value_miss", .unit = "bytes", .run = value_2048_run,
     .iters = 1, .goal = BENCH_LE(1024), .flags = BENCH_F_HIDDEN},
    {.name = "selftest.ratio_miss", .unit = "ns/op", .run = two_copies_run,
     .setup = two_copies_setup, .teardown = two_copies_teardown,
     .anchor = "anchor.memcpy_4k_hot", .goal = BENCH_LE(0.1), /* 2 copies: ~2x; noise never reaches 0.1x */
     .flags = BENCH_F_HIDDEN},
    {.name = "selftest.setup_fails", .unit = "ns/op", .run = value_2048_run,
     .setup = failing_setup, .goal = BENCH_LE(1), .flags = BENCH_F_HIDDEN},
};

BENCH_SUITE_DEFINE(selftest, selftest_metrics);
