/* SPDX-License-Identifier: MIT */
/* Compiler hints (GCC, Clang; no-ops elsewhere). */
#ifndef SMBX_CORE_COMPILER_H
#define SMBX_CORE_COMPILER_H

/* A function off the hot path: kept out of line so its callers' fast
 * paths need no register saves for it. */
#if defined(__GNUC__) || defined(__clang__)
#define SMBX__COLD __attribute__((cold, noinline))
#else
#define SMBX__COLD
#endif

/* A general path kept out of its fast path's function (not cold: it runs
 * often enough to be optimised for speed), so the fast path saves only
 * the registers it needs. */
#if defined(__GNUC__) || defined(__clang__)
#define SMBX__NOINLINE __attribute__((noinline))
#else
#define SMBX__NOINLINE
#endif

#endif
