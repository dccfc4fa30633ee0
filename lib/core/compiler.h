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

#endif
