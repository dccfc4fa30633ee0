/* SPDX-License-Identifier: MIT */
/* The nodes' host event queues: a ring of smbx_event. An event is built
 * once, in place in its ring slot, and copied once, into the host's
 * struct by next_event. Only the bytes a kind uses move: the header and
 * the largest member in use (u.pdu); the rest of the union is room for
 * new kinds, never written by the nodes, never copied. */
#ifndef SMBX_CORE_EVQ_H
#define SMBX_CORE_EVQ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <smbx/event.h>

#include "core/ring.h"

#define SMBX__EV_BYTES \
  (offsetof(smbx_event, u) + sizeof(((smbx_event *)0)->u.pdu))

#define SMBX__EV_FITS(m) \
  _Static_assert(sizeof(((smbx_event *)0)->u.m) <= \
                     sizeof(((smbx_event *)0)->u.pdu), \
                 "u." #m " fits in SMBX__EV_BYTES")
SMBX__EV_FITS(negotiated);
SMBX__EV_FITS(session);
SMBX__EV_FITS(tree);
SMBX__EV_FITS(down);
SMBX__EV_FITS(smbd);
SMBX__EV_FITS(lease);
SMBX__EV_FITS(xfer);
#undef SMBX__EV_FITS

/* Zeroes the bytes an event uses in 64-byte pieces: compilers store each
 * piece with vector moves, where one memset of them all becomes
 * `rep stos` (twice the instructions, and a slow start). */
static inline void smbx__evq_zero(smbx_event *e)
{
  uint8_t *p = (uint8_t *)e;
  size_t i = 0;
  /* unrolled: a loop of stores costs more than the stores */
#if defined(__GNUC__) || defined(__clang__)
  _Pragma("GCC unroll 4")
#endif
  for (; i + 64 <= SMBX__EV_BYTES; i += 64)
    memset(p + i, 0, 64);
  memset(p + i, 0, SMBX__EV_BYTES - i);
}

/* The back slot, its used bytes zeroed, struct_size/type/conn set; NULL
 * when the ring is full (the caller grows it first). */
static inline smbx_event *smbx__evq_push(smbx__ring *q, uint32_t type,
                                         uint64_t conn)
{
  smbx_event *e = smbx__ring_push_slot(q);
  if (!e)
    return NULL;
  smbx__evq_zero(e);
  e->struct_size = sizeof *e;
  e->type = type;
  e->conn = conn;
  return e;
}

/* next_event: the next event that was not withdrawn (SMBX_EV_NONE) into
 * ev (at most ev->struct_size bytes, which ev keeps); 1, or 0 when none
 * is queued. ev->struct_size >= offsetof(smbx_event, u) was checked. The
 * empty queue, what a host's event loop mostly finds, is answered inline;
 * the copy is out of line (evq.c). */
int smbx__evq_take(smbx__ring *q, smbx_event *ev);
static inline int smbx__evq_pop(smbx__ring *q, smbx_event *ev)
{
  return q->len ? smbx__evq_take(q, ev) : 0;
}

#endif
