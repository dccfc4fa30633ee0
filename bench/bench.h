/* SPDX-License-Identifier: MIT */
/* smbx-bench: metric registry and helpers shared by every suite.
 *
 * A suite is one .c file that defines an array of bench_metric and exposes
 * it with BENCH_SUITE_DEFINE(name, array); it is listed once in suites.def
 * and once in bench_sources (bench/meson.build). See docs/bench.md.
 *
 * Every metric's run() performs `iters` iterations of its work and returns
 * the measured value in the metric's unit (ns per operation, bytes per
 * second, a count, ...). The driver calls run() once per run (5 runs by
 * default, interleaved across metrics so drift hits all of them alike),
 * reports the median and checks the goal:
 *   - with an anchor: ratio = median / anchor median, compared to the goal
 *     (a MISS only prints);
 *   - without an anchor: the median itself, compared to the goal as a fixed
 *     number (a MISS only prints);
 *   - BENCH_F_INVARIANT (never with an anchor): the worst run is compared
 *     to the goal, and a break makes smbx-bench exit 1. */
#ifndef SMBX_BENCH_H
#define SMBX_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbx/smbx.h>

/* Goal direction: the measured value (or ratio) must be <= or >= value. */
typedef enum bench_op {
  BENCH_OP_NONE = 0,
  BENCH_OP_LE,
  BENCH_OP_GE,
} bench_op;

typedef struct bench_goal {
  bench_op op;
  double value; /* a ratio when the metric has an anchor, else a fixed value */
} bench_goal;

/* Initialisers for bench_metric.goal: `.goal = BENCH_LE(1.25)`. */
#define BENCH_LE(v) {BENCH_OP_LE, (v)}
#define BENCH_GE(v) {BENCH_OP_GE, (v)}

/* bench_metric.flags */
#define BENCH_F_ANCHOR 0x1u    /* an anchor: others may name it (anchors.c) */
#define BENCH_F_INVARIANT 0x2u /* a break of the goal fails the program */
#define BENCH_F_HIDDEN 0x4u    /* runs only with --selftest (framework tests) */

/* Optional per-metric setup: allocate buffers, build inputs, outside any
 * timing. Stores the state handed to run() and teardown(); arg is
 * bench_metric.arg. Returns 0, or nonzero to abort the program (exit 2). */
typedef int (*bench_setup_fn)(void **state, void *arg);
/* Performs iters iterations; returns the value in the metric's unit. The
 * state persists across calls (a cold walk may keep its position). */
typedef double (*bench_run_fn)(void *state, uint64_t iters);
typedef void (*bench_teardown_fn)(void *state);

typedef struct bench_metric {
  const char *name;    /* "<suite>.<metric>", unique; --filter matches it */
  const char *unit;    /* shown as is: "ns/msg", "B/s", "allocs/msg", ... */
  bench_run_fn run;
  bench_setup_fn setup;       /* optional */
  bench_teardown_fn teardown; /* optional */
  void *arg;                  /* passed to setup */
  /* 0: the driver calibrates iters so one run takes ~50 ms (~3 ms with
   * --quick). Nonzero: exactly this many per run (plain values: 1). */
  uint64_t iters;
  const char *anchor; /* name of a BENCH_F_ANCHOR metric, or NULL */
  bench_goal goal;    /* BENCH_OP_NONE: report only */
  unsigned flags;     /* BENCH_F_* */
} bench_metric;

typedef struct bench_suite {
  const char *name;
  const bench_metric *metrics;
  size_t count;
} bench_suite;

/* In a suite file, after its metric array:
 *   BENCH_SUITE_DEFINE(core, core_metrics);
 * and `BENCH_SUITE(core)` in suites.def. */
#define BENCH_SUITE_DEFINE(sname, array)                                     \
  const bench_suite bench_suite_##sname = {                                  \
      #sname, (array), sizeof(array) / sizeof((array)[0])}

#define BENCH_SUITE(sname) extern const bench_suite bench_suite_##sname;
#include "suites.def"
#undef BENCH_SUITE

/* ---- helpers ------------------------------------------------------------ */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* True under --quick: suites may shrink their inputs (not their runs). */
bool bench_quick(void);

/* Times a closure: calls body(ctx, iters) once and returns the elapsed
 * nanoseconds per iteration. Setup belongs in bench_metric.setup. */
typedef void (*bench_body_fn)(void *ctx, uint64_t iters);
double bench_time_ns_per_op(bench_body_fn body, void *ctx, uint64_t iters);

/* Results fed to the sink cannot be optimised away. Accumulate locally in
 * the loop and consume once per run, or per iteration if cheap enough. */
extern volatile uint64_t bench_sink;
static inline void bench_consume(uint64_t v)
{
  bench_sink += v;
}

/* Tells the compiler that *p is read and written here (keeps a memcpy
 * whose destination nobody reads). */
static inline void bench_clobber(const void *p)
{
#if defined(__GNUC__) || defined(__clang__)
  __asm__ __volatile__("" : : "r"(p) : "memory");
#else
  bench_sink += (uint64_t)(uintptr_t)p & 1u;
#endif
}

/* A counting allocator backed by smbx_allocator_default(). Pass &ba.a to
 * the code under test; read the counters around the measured region. */
typedef struct bench_alloc {
  smbx_allocator a;
  uint64_t allocs;   /* alloc calls (smbx__alloc, smbx__calloc, new) */
  uint64_t reallocs; /* realloc calls */
  uint64_t frees;    /* free calls */
  uint64_t live;     /* blocks allocated and not yet freed */
  uint64_t live_bytes;
  uint64_t peak_bytes;
} bench_alloc;

void bench_alloc_init(bench_alloc *ba);
/* alloc + realloc calls so far: the number an invariant wants at 0. */
uint64_t bench_alloc_calls(const bench_alloc *ba);

/* The shared 512 MiB cold arena (BENCH_ARENA_SIZE), allocated and touched
 * on first use, freed at exit; NULL if it cannot be allocated. Walk it in
 * a scattered order so every access misses the cache. */
#define BENCH_ARENA_SIZE ((size_t)512 << 20)
uint8_t *bench_arena(void);

/* The naive-parse anchor's inputs (anchors.c), for metrics that decode the
 * same messages: BENCH_HDR_MSGS messages of BENCH_HDR_MSG_LEN bytes each,
 * back to back; message i is a 24-byte SMB Direct data-transfer header
 * (DataOffset 24, DataLength 64) followed by a 64-byte SYNC SMB2 header.
 * All are valid; fields vary from message to message. */
#define BENCH_HDR_MSGS 4096u
#define BENCH_HDR_MSG_LEN 88u
const uint8_t *bench_hdr_msgs(void);
/* lens[i] is message i's length (always BENCH_HDR_MSG_LEN) read at run
 * time, so decoders cannot fold their bounds checks into constants. */
const uint32_t *bench_hdr_msg_lens(void);

/* Driver only (main.c / bench.c). */
void bench_set_quick(bool quick);
void bench_arena_release(void);

#endif
