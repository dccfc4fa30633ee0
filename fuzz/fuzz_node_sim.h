/* SPDX-License-Identifier: MIT */
/* Shared by fuzz_node_rdma / fuzz_node_vmo: a client and a server node
 * joined by the simulated NIC (tests/sim), driven by input bytes. Here:
 * the input reader, the pump to quiescence, and the client's NREG
 * registered regions (between guard bytes) that descriptor lists aim at.
 *
 * Include after defining NREG regions of REG_LEN bytes with GUARD bytes
 * before, between and after them, then `struct fz` with the fields
 *   const uint8_t *in; size_t n, at;          the input
 *   sim *w; smbx_transport t[2];              the NIC, client/server hooks
 *   smbx_client *cli; smbx_server *srv;
 *   uint64_t cconn, sconn, now;
 *   uint8_t *cmem; smbx_mr reg[NREG]; bool reg_live[NREG];
 * and declaring `static void srv_drain(fz *f)` / `cli_drain(fz *f)`, which
 * take each node's events. Both targets consume input bytes exactly as
 * before the fold, so the stored corpora reach the same paths. */
#ifndef SMBX_FUZZ_NODE_SIM_H
#define SMBX_FUZZ_NODE_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/client.h>
#include <smbx/server.h>

#include "../tests/sim/pair.h"
#include "../tests/sim/sim.h"

#define CMEM_LEN (GUARD + NREG * (REG_LEN + GUARD))
#define CMEM_FILL 0x5A

/* ---- input ---------------------------------------------------------------- */

static uint8_t take(fz *f)
{
  return f->at < f->n ? f->in[f->at++] : 0;
}

static uint16_t take16(fz *f)
{
  uint16_t v = take(f);
  return (uint16_t)(v | (uint16_t)(take(f) << 8));
}

static uint32_t take32(fz *f)
{
  uint32_t v = take16(f);
  return v | (uint32_t)take16(f) << 16;
}

/* ---- driving both nodes ------------------------------------------------------ */

/* One round: due deliveries, every completion, both event queues.
 * Returns whether anything moved. */
static bool step(fz *f)
{
  f->w->now = f->now;
  sim_pair p = {f->cli, f->cconn, f->srv, f->sconn};
  int moved = sim_pair_step(f->w, &p, f->now);
  if (moved < 0)
    abort(); /* the server posted a work request it cannot route */
  srv_drain(f);
  cli_drain(f);
  return moved > 0;
}

/* Steps, advancing time to the NIC's next delivery, until nothing is
 * left to happen. */
static void pump(fz *f)
{
  for (int i = 0; i < 100000; i++) {
    if (!step(f)) {
      uint64_t t = sim_next_time(f->w);
      if (t == UINT64_MAX)
        return;
      f->now = t > f->now ? t : f->now;
    }
  }
  abort(); /* no quiescence */
}

/* ---- client memory: NREG regions between guards ------------------------------ */

static bool cmem_alloc(fz *f)
{
  f->cmem = malloc(CMEM_LEN);
  if (!f->cmem)
    return false;
  memset(f->cmem, CMEM_FILL, CMEM_LEN);
  return true;
}

static uint8_t *region(fz *f, int i)
{
  return f->cmem + GUARD + (size_t)i * (REG_LEN + GUARD);
}

/* The NIC only moves bytes inside registrations. */
static bool cmem_guards_intact(const fz *f)
{
  for (int r = 0; r <= NREG; r++) {
    const uint8_t *p = f->cmem + (size_t)r * (REG_LEN + GUARD);
    for (size_t i = 0; i < GUARD; i++)
      if (p[i] != CMEM_FILL)
        return false;
  }
  return true;
}

static void deregister_region(fz *f, int i)
{
  const sim_mr *m = sim_mr_by_key(f->w, f->reg[i].key);
  if (m && m->invalidated)
    f->reg[i].flags = SMBX_MR_F_INVALIDATED;
  f->t[0].deregister_mr(f->t[0].user_data, &f->reg[i]);
  f->reg_live[i] = false;
}

/* At teardown, before the NIC goes. */
static void cmem_deregister(fz *f)
{
  for (int r = 0; f->w && r < NREG; r++)
    if (f->reg_live[r])
      deregister_region(f, r);
}

/* A live key for region i (the server may have invalidated the last). */
static void refresh_region(fz *f, int i)
{
  if (f->reg_live[i]) {
    const sim_mr *m = sim_mr_by_key(f->w, f->reg[i].key);
    if (m && !m->invalidated)
      return;
    deregister_region(f, i);
  }
  f->reg_live[i] =
      f->t[0].register_mr(f->t[0].user_data, region(f, i), REG_LEN,
                          SMBX_MR_LOCAL_WRITE | SMBX_MR_REMOTE_READ |
                              SMBX_MR_REMOTE_WRITE,
                          &f->reg[i]) == 0;
}

/* ---- descriptor lists ------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
  put32(p, (uint32_t)v);
  put32(p + 4, (uint32_t)(v >> 32));
}

/* How a target draws descriptors aimed at a region. */
typedef struct desc_shape {
  uint32_t count_mod;  /* count: an input byte modulo this */
  bool far_offsets;    /* mode bit 0x10: any 16-bit offset into the region
                          (else within its first 4 KiB) */
  uint32_t length_mod; /* length: 1 + a 16-bit input modulo this */
} desc_shape;

/* SMB2_BUFFER_DESCRIPTOR_V1 elements from the input into ci: mostly aimed
 * at a region (mode bits: 0x40 a wrong key, 0x20 any length), raw with
 * mode bit 0x80. Returns the bytes written; *sum the lengths' total. */
static size_t build_descs(fz *f, const desc_shape *sh, uint8_t *ci,
                          size_t cap, uint32_t *sum)
{
  size_t nd = take(f) % sh->count_mod, len = 0;
  *sum = 0;
  for (size_t k = 0; k < nd && len + 16 <= cap; k++) {
    uint8_t m = take(f);
    uint64_t off;
    uint32_t key, dl;
    if (m & 0x80) {
      off = (uint64_t)take32(f) << 32 | take32(f);
      key = take32(f);
      dl = take32(f);
    } else {
      int r = m & 3;
      refresh_region(f, r);
      off = f->reg[r].address + (sh->far_offsets && (m & 0x10)
                                     ? take16(f)
                                     : take16(f) % 4096u);
      key = m & 0x40 ? take32(f) : f->reg[r].key;
      dl = m & 0x20 ? take32(f) : 1u + take16(f) % sh->length_mod;
    }
    put64(ci + len, off);
    put32(ci + len + 8, key);
    put32(ci + len + 12, dl);
    len += 16;
    *sum += dl;
  }
  return len;
}

#endif
