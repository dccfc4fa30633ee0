/* SPDX-License-Identifier: MIT */
/* Time helpers. Time is an input (monotonic ns from the host); lib/ never
 * reads a clock. A deadline is an absolute time in ns; SMBX__NO_DEADLINE
 * (UINT64_MAX) means "none", so computed deadlines saturate one below it. */
#ifndef SMBX_CORE_TIME_H
#define SMBX_CORE_TIME_H

#include <stdbool.h>
#include <stdint.h>

#define SMBX__NS_PER_US UINT64_C(1000)
#define SMBX__NS_PER_MS UINT64_C(1000000)
#define SMBX__NS_PER_S UINT64_C(1000000000)
#define SMBX__NO_DEADLINE UINT64_MAX

/* now + interval, clamped to UINT64_MAX - 1 so a real deadline never reads
 * as "no deadline". To disable a timer, store SMBX__NO_DEADLINE instead. */
static inline uint64_t smbx__deadline_add(uint64_t now, uint64_t interval)
{
  if (now >= UINT64_MAX - 1 || interval >= UINT64_MAX - 1 - now)
    return UINT64_MAX - 1;
  return now + interval;
}

static inline uint64_t smbx__deadline_min(uint64_t a, uint64_t b)
{
  return a < b ? a : b;
}

/* True when deadline is set and now has reached it. */
static inline bool smbx__deadline_passed(uint64_t now, uint64_t deadline)
{
  return deadline != SMBX__NO_DEADLINE && now >= deadline;
}

/* ns left until deadline: 0 once passed, UINT64_MAX for no deadline. */
static inline uint64_t smbx__deadline_left(uint64_t now, uint64_t deadline)
{
  if (deadline == SMBX__NO_DEADLINE)
    return UINT64_MAX;
  return now >= deadline ? 0 : deadline - now;
}

/* Saturating unit conversions (settings in ms or s -> ns intervals). */
static inline uint64_t smbx__ns_mul(uint64_t v, uint64_t unit_ns)
{
  if (unit_ns && v > UINT64_MAX / unit_ns)
    return UINT64_MAX;
  return v * unit_ns;
}

static inline uint64_t smbx__ns_from_ms(uint64_t ms)
{
  return smbx__ns_mul(ms, SMBX__NS_PER_MS);
}

static inline uint64_t smbx__ns_from_s(uint64_t s)
{
  return smbx__ns_mul(s, SMBX__NS_PER_S);
}

#endif
