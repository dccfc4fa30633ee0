/* SPDX-License-Identifier: MIT */
/* A counting allocator for tests: fails the Nth allocation on request,
 * tracks live blocks and bytes, and checks size/alignment on free. Backed by
 * cmocka's test_malloc so cmocka also reports leaks and overruns. */
#ifndef SMBX_TEST_ALLOC_H
#define SMBX_TEST_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include <smbx/smbx.h>

typedef struct test_alloc {
  smbx_allocator a;  /* pass &ta.a to the library */
  uint64_t calls;    /* successful + failed alloc/realloc calls */
  uint64_t fail_at;  /* 1-based call number to fail; 0 = never */
  uint64_t fail_from; /* fail every call >= this (0 = off) */
  uint64_t live;     /* blocks allocated and not freed */
  uint64_t live_bytes;
  uint64_t total;    /* successful allocations */
  uint64_t failed;   /* failed calls */
} test_alloc;

void test_alloc_init(test_alloc *ta);
/* Fail call number n (1-based) from now on counting from 0 again. */
void test_alloc_fail_nth(test_alloc *ta, uint64_t n);

/* Runs scenario(ta, arg) once to count its allocations, then once per
 * allocation i failing exactly the i-th; each failing run must return
 * SMBX_ERR_NOMEM (checked by the callback's return) and leak nothing.
 * Returns the number of allocations of the successful run. */
typedef int (*test_alloc_scenario)(test_alloc *ta, void *arg);
uint64_t test_alloc_each_failure(test_alloc_scenario scenario, void *arg);

#endif
