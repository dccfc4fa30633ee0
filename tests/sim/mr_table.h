/* SPDX-License-Identifier: MIT */
/* Memory registrations of a simulated NIC and the checks the NIC applies
 * to every operation that names them: keys carry a generation (a stale
 * key never matches a reused slot), a local element must lie in a live
 * registration of the poster (with LOCAL_WRITE when it is written), a
 * remote range in a live, not invalidated registration of the peer with
 * the access the operation needs. Shared by the test NIC (sim.c) and the
 * benchmark's NIC stub (bench/bench_rdma.c); header only, so every
 * program that compiles sim.c gets it without another source file. */
#ifndef SMBX_TESTS_SIM_MR_TABLE_H
#define SMBX_TESTS_SIM_MR_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <smbx/transport.h>

typedef struct sim_mr {
  int live, ep, invalidated;
  uint8_t *addr;
  size_t len;
  uint32_t access, key;
  uint64_t handle;
} sim_mr;

typedef struct sim_mrt {
  sim_mr *mr; /* n entries, zeroed at first */
  uint32_t n, gen;
  uint64_t handle_base; /* the handle of entry i is handle_base + i */
  uint32_t lo; /* no free entry below it (0 at first) */
} sim_mrt;

/* deregistration outcomes (sim_mrt_remove) */
#define SIM_MRT_UNKNOWN (-1)            /* twice, foreign, never given */
#define SIM_MRT_FALSE_INVALIDATION (-2) /* released, but it claimed a
                                           remote invalidation that did
                                           not happen */

static inline sim_mr *sim_mrt_find(const sim_mrt *t, uint32_t key)
{
  uint32_t i = (key >> 8) - 1;
  if ((key >> 8) == 0 || i >= t->n || !t->mr[i].live || t->mr[i].key != key)
    return NULL;
  return &t->mr[i];
}

/* Registers [addr, addr+len) for endpoint ep: 0 with *out filled, -1
 * when the table is full or the range empty. */
static inline int sim_mrt_add(sim_mrt *t, int ep, void *addr, size_t len,
                              uint32_t access, smbx_mr *out)
{
  uint32_t i = t->lo;
  while (i < t->n && t->mr[i].live)
    i++;
  if (i == t->n || !addr || len == 0)
    return -1;
  t->lo = i + 1;
  t->gen++;
  sim_mr *m = &t->mr[i];
  m->live = 1;
  m->invalidated = 0;
  m->ep = ep;
  m->addr = addr;
  m->len = len;
  m->access = access;
  m->key = (i + 1) << 8 | (t->gen & 0xFFu);
  m->handle = t->handle_base + i;
  out->address = (uint64_t)(uintptr_t)addr;
  out->key = m->key;
  out->handle = m->handle;
  out->flags = 0;
  return 0;
}

/* Endpoint ep releases mr: 0, SIM_MRT_UNKNOWN (nothing released) or
 * SIM_MRT_FALSE_INVALIDATION. */
static inline int sim_mrt_remove(sim_mrt *t, int ep, const smbx_mr *mr)
{
  sim_mr *m = sim_mrt_find(t, mr->key);
  if (!m || m->ep != ep || m->handle != mr->handle)
    return SIM_MRT_UNKNOWN;
  m->live = 0;
  uint32_t i = (uint32_t)(m - t->mr);
  if (i < t->lo)
    t->lo = i;
  return (mr->flags & SMBX_MR_F_INVALIDATED) && !m->invalidated
             ? SIM_MRT_FALSE_INVALIDATION
             : 0;
}

/* SEND_WITH_INVALIDATE of rkey arriving at endpoint ep: 0, or -1 when the
 * key is not a live, valid one of ep's (nothing changes). */
static inline int sim_mrt_invalidate(sim_mrt *t, int ep, uint32_t rkey)
{
  sim_mr *m = sim_mrt_find(t, rkey);
  if (!m || m->ep != ep || m->invalidated)
    return -1;
  m->invalidated = 1;
  return 0;
}

/* Whether the n local elements lie in live registrations of endpoint ep
 * (with LOCAL_WRITE when write). */
static inline int sim_mrt_local_ok(const sim_mrt *t, int ep,
                                   const smbx_sge *sg, size_t n, int write)
{
  for (size_t k = 0; k < n; k++) {
    uint64_t i = sg[k].handle - t->handle_base;
    if (sg[k].handle < t->handle_base || i >= t->n)
      return 0;
    const sim_mr *m = &t->mr[i];
    if (!m->live || m->ep != ep ||
        (write && !(m->access & SMBX_MR_LOCAL_WRITE)))
      return 0;
    const uint8_t *p = sg[k].addr;
    if (p < m->addr || (size_t)(p - m->addr) > m->len ||
        sg[k].length > m->len - (size_t)(p - m->addr))
      return 0;
  }
  return 1;
}

/* Where [raddr, raddr+len) of rkey lies when it is inside a live, not
 * invalidated registration of endpoint peer granting access; NULL if not. */
static inline uint8_t *sim_mrt_remote(const sim_mrt *t, int peer,
                                      uint64_t raddr, uint32_t rkey,
                                      uint64_t len, uint32_t access)
{
  const sim_mr *m = sim_mrt_find(t, rkey);
  if (!m || m->ep != peer || m->invalidated || !(m->access & access))
    return NULL;
  uint64_t base = (uint64_t)(uintptr_t)m->addr;
  if (raddr < base || raddr - base > m->len || len > m->len - (raddr - base))
    return NULL;
  return m->addr + (raddr - base);
}

#endif
