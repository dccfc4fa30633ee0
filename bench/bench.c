/* SPDX-License-Identifier: MIT */
/* Helpers for suites: clock, closure timing, counting allocator, arena. */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

volatile uint64_t bench_sink;

static bool quick_mode;
static uint8_t *arena;

uint64_t bench_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool bench_quick(void)
{
  return quick_mode;
}

void bench_set_quick(bool quick)
{
  quick_mode = quick;
}

double bench_time_ns_per_op(bench_body_fn body, void *ctx, uint64_t iters)
{
  if (iters == 0)
    return 0;
  uint64_t t0 = bench_now_ns();
  body(ctx, iters);
  uint64_t t1 = bench_now_ns();
  return (double)(t1 - t0) / (double)iters;
}

/* ---- counting allocator ------------------------------------------------- */

static void *count_alloc(size_t size, size_t align, void *user_data)
{
  bench_alloc *ba = user_data;
  const smbx_allocator *d = smbx_allocator_default();
  ba->allocs++;
  void *p = d->alloc(size, align, d->user_data);
  if (p) {
    ba->live++;
    ba->live_bytes += size;
    if (ba->live_bytes > ba->peak_bytes)
      ba->peak_bytes = ba->live_bytes;
  }
  return p;
}

static void *count_realloc(void *p, size_t old_size, size_t new_size,
                           size_t align, void *user_data)
{
  bench_alloc *ba = user_data;
  const smbx_allocator *d = smbx_allocator_default();
  ba->reallocs++;
  void *q = d->realloc(p, old_size, new_size, align, d->user_data);
  if (q) {
    ba->live_bytes = ba->live_bytes - old_size + new_size;
    if (ba->live_bytes > ba->peak_bytes)
      ba->peak_bytes = ba->live_bytes;
  }
  return q;
}

static void count_free(void *p, size_t size, size_t align, void *user_data)
{
  bench_alloc *ba = user_data;
  const smbx_allocator *d = smbx_allocator_default();
  ba->frees++;
  if (p) {
    ba->live--;
    ba->live_bytes -= size;
  }
  d->free(p, size, align, d->user_data);
}

void bench_alloc_init(bench_alloc *ba)
{
  memset(ba, 0, sizeof *ba);
  ba->a.struct_size = sizeof ba->a;
  ba->a.alloc = count_alloc;
  ba->a.realloc = count_realloc;
  ba->a.free = count_free;
  ba->a.user_data = ba;
}

uint64_t bench_alloc_calls(const bench_alloc *ba)
{
  return ba->allocs + ba->reallocs;
}

/* ---- arena -------------------------------------------------------------- */

uint8_t *bench_arena(void)
{
  if (!arena) {
    arena = aligned_alloc(4096, BENCH_ARENA_SIZE);
    if (arena) /* touch every page now, not inside a measured run */
      memset(arena, 0x5a, BENCH_ARENA_SIZE);
  }
  return arena;
}

void bench_arena_release(void)
{
  free(arena);
  arena = NULL;
}
