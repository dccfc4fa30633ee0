/* SPDX-License-Identifier: MIT */
/* SMB Direct engine internals shared by the lib/smbd sources. See docs/smbd.md. */
#ifndef SMBX_SMBD_INT_H
#define SMBX_SMBD_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <smbx/smbd.h>
#include <smbx/transport.h>

#include "core/alloc.h"
#include "smbd/smbd_pdu.h"

#define SMBX__SMBD_NIL UINT32_MAX
#define SMBX__SMBD_NEVER UINT64_MAX

/* wr_id and token tags (high 32 bits); the low 32 bits are an index */
#define SMBX__SMBD_WR_RECV 0x5352ull /* "SR" */
#define SMBX__SMBD_WR_SEND 0x5353ull /* "SS" */
#define SMBX__SMBD_TOK_INPLACE 0x5449ull
#define SMBX__SMBD_TOK_REASM 0x5452ull

/* receive buffer states */
enum { RB_FREE, RB_POSTED, RB_HELD, RB_BACKLOG, RB_GONE };
/* send slot states and kinds */
enum { SS_FREE, SS_QUEUED, SS_INFLIGHT };
enum { SK_DATA, SK_CTRL, SK_NEG, SK_NEG_FAIL };
/* KeepaliveRequested, [MS-SMBD] 3.1.1.1 */
enum { KA_NONE, KA_PENDING, KA_SENT };
/* smbx_smbd.due: what may make the pump send. REPLY (RESPONSE_REQUESTED
 * received) and RAISED (the peer raised its credit target) are kept only
 * here; KA (ka == KA_PENDING), CLOSING, ZC (the zero-credit watchdog is
 * running) and QUEUED (q_head != SMBX__SMBD_NIL) are set with their
 * state. */
enum {
  DUE_REPLY = 1u,
  DUE_RAISED = 2u,
  DUE_KA = 4u,
  DUE_CLOSING = 8u,
  DUE_ZC = 16u,
  DUE_QUEUED = 32u
};

typedef struct smbx__smbd_rbuf {
  smbx_sge sg;       /* the buffer as the host lent it: posted as is */
  uint32_t next;     /* free-list / backlog link */
  uint32_t byte_len; /* backlog: completion length */
  uint32_t inv_rkey;
  uint8_t wc_flags; /* backlog: the completion's SMBX_WC_WITH_INVALIDATE */
  uint8_t state;
} smbx__smbd_rbuf;

typedef struct smbx__smbd_slot {
  uint64_t msg_id;
  uint32_t next;      /* queue / free-list link */
  uint32_t data_len;  /* payload bytes at offset 24 */
  uint32_t remaining; /* RemainingDataLength */
  uint32_t inv_rkey;
  uint8_t state, kind, last, inv;
  uint32_t wire_len; /* bytes posted */
} smbx__smbd_slot;

typedef struct smbx__smbd_reasm {
  uint8_t *p;   /* NULL until a message first needs this buffer */
  uint32_t cap; /* bytes at p */
  uint8_t busy; /* delivered, token out */
} smbx__smbd_reasm;

/* Send slot memory comes in chunks of SMBX__SMBD_CHUNK_SLOTS slots, each
 * allocated and registered when the slots made so far run short: a
 * connection holds what its peak of queued fragments needed, not
 * send_buffers. */
#define SMBX__SMBD_CHUNK_SHIFT 5u
#define SMBX__SMBD_CHUNK_SLOTS (1u << SMBX__SMBD_CHUNK_SHIFT)

typedef struct smbx__smbd_chunk {
  uint8_t *mem;
  smbx_mr mr;
} smbx__smbd_chunk;

/* A pending event, compact (the host's smbx_smbd_event is built from it
 * in smbx_smbd_next_event, or for an owner in the upcall). MESSAGE: a
 * flags, b invalidated rkey, c fragments, x token, p/len the bytes.
 * SEND_DONE: x msg id. RECV_BUFFER: a index, p/len the buffer, x its
 * handle. DISCONNECTED: the engine's ev_err, ntstatus and detail.reason
 * (fixed once torn). */
typedef struct smbx__smbd_ev {
  uint32_t type;
  uint32_t a, b, c;
  uint64_t x;
  const uint8_t *p;
  size_t len;
} smbx__smbd_ev;

typedef void (*smbx__smbd_upcall)(void *ctx, const smbx_smbd_event *ev);

struct smbx_smbd {
  smbx_allocator alloc;
  smbx_transport t;
  smbx_smbd_settings s;
  uint32_t role, state;
  bool established, closing, torn, closed_emitted, fail_pending;
  bool backpressure, strict;
  uint8_t ka, due;
  /* negotiated, [MS-SMBD] 3.1.1.1 */
  uint32_t max_send, max_recv, max_frag_send, max_frag_recv, max_rw;
  uint32_t ird, ord;
  /* credits */
  uint32_t send_credits, send_credit_target;
  uint32_t recv_credits, recv_credit_target;
  uint32_t eff_target; /* smbx__smbd_retarget: the target served now */
  /* latched error */
  int err, ev_err;
  uint32_t ntstatus;
  smbx_error_detail detail;
  /* timers (absolute ns, SMBX__SMBD_NEVER = off). idle_at: with ka
   * KA_NONE the time of the last message received (the idle timer runs
   * keepalive_interval from there: only the time is stored per message),
   * else the deadline of the keepalive's answer. */
  uint64_t neg_deadline, idle_at, zc_deadline;
  /* receive buffers */
  smbx__smbd_rbuf *rb;
  uint32_t n_rb, n_free, n_posted, n_held, rbf_head;
  uint32_t bl_head, bl_tail;
  /* send slots. one_frag_max: the largest message sent as one fragment
   * (MaxSendSize less the header, within the peer's MaxFragmentedSize; 0
   * until negotiated), here where the layout has room for it */
  uint32_t one_frag_max;
  smbx__smbd_slot *slot;
  smbx__smbd_chunk *chunk;
  uint32_t n_chunks, n_made; /* chunk table size; slots made so far */
  uint32_t n_slots, slot_size, free_head, n_free_slots;
  uint32_t q_head, q_tail, n_queued, n_inflight;
  uint64_t msg_seq;
  /* reassembly */
  smbx__smbd_reasm *ra;
  uint32_t n_ra, ra_cur, ra_frags, ra_flags, ra_rkey, n_ra_busy;
  uint32_t ra_off, ra_expect, ra_total;
  /* events */
  smbx__smbd_ev *ev;
  uint32_t ev_cap, ev_head, ev_n;
  uint32_t ev_sd; /* SEND_DONE events in the queue */
  smbx__smbd_upcall upcall;
  void *upcall_ctx;
};

/* now + dt, saturating at SMBX__SMBD_NEVER (a huge setting means "off",
 * never a deadline that wrapped into the past) */
static inline uint64_t smbx__smbd_after(uint64_t now, uint64_t dt)
{
  return dt >= SMBX__SMBD_NEVER - now ? SMBX__SMBD_NEVER : now + dt;
}

/* the idle timer's deadline (3.1.6.2), computed when asked: with no
 * keepalive owed, keepalive_interval_ns after the last message received
 * (0 = no keepalive; off before negotiation and after teardown) */
static inline uint64_t smbx__smbd_idle_deadline(const smbx_smbd *d)
{
  if (d->ka != KA_NONE)
    return d->idle_at;
  if (d->idle_at == SMBX__SMBD_NEVER || !d->s.keepalive_interval_ns)
    return SMBX__SMBD_NEVER;
  return smbx__smbd_after(d->idle_at, d->s.keepalive_interval_ns);
}

/* engine.c */
void smbx__smbd_emit(smbx_smbd *d, const smbx__smbd_ev *e);
/* the standalone queue (no owner) */
void smbx__smbd_queue_push(smbx_smbd *d, const smbx__smbd_ev *e);
int smbx__smbd_terminate(smbx_smbd *d, int err, const char *reason,
                         size_t off, uint32_t ntstatus);
void smbx__smbd_check_closed(smbx_smbd *d);
int smbx__smbd_post_recv_failed(smbx_smbd *d, uint32_t i);
void smbx__smbd_recycle_torn(smbx_smbd *d, uint32_t i);
static inline void smbx__smbd_rb_free_push(smbx_smbd *d, uint32_t i)
{
  d->rb[i].state = RB_FREE;
  d->rb[i].next = d->rbf_head;
  d->rbf_head = i;
  d->n_free++;
}
/* pops a FREE receive buffer into limbo, or SMBX__SMBD_NIL */
static inline uint32_t smbx__smbd_rb_free_pop(smbx_smbd *d)
{
  uint32_t i = d->rbf_head;
  if (i == SMBX__SMBD_NIL)
    return i;
  d->rbf_head = d->rb[i].next;
  d->rb[i].state = RB_GONE;
  d->rb[i].next = SMBX__SMBD_NIL;
  d->n_free--;
  return i;
}
static inline uint32_t smbx__smbd_slot_get(smbx_smbd *d)
{
  uint32_t i = d->free_head;
  if (i == SMBX__SMBD_NIL)
    return i;
  d->free_head = d->slot[i].next;
  d->n_free_slots--;
  return i;
}
static inline void smbx__smbd_slot_put(smbx_smbd *d, uint32_t i)
{
  d->slot[i].state = SS_FREE;
  d->slot[i].next = d->free_head;
  d->free_head = i;
  d->n_free_slots++;
}
/* posts receive buffer i (limbo); a failure tears the connection down */
static inline int smbx__smbd_post_recv(smbx_smbd *d, uint32_t i)
{
  smbx__smbd_rbuf *b = &d->rb[i];
  b->state = RB_POSTED;
  d->n_posted++;
  if (d->t.post_recv(d->t.user_data, SMBX__SMBD_WR_RECV << 32 | i, &b->sg) != 0)
    return smbx__smbd_post_recv_failed(d, i);
  return 0;
}
/* posts a FREE receive buffer (n_free > 0): popped and posted at once */
static inline int smbx__smbd_post_free(smbx_smbd *d)
{
  uint32_t i = d->rbf_head;
  d->rbf_head = d->rb[i].next;
  d->n_free--;
  return smbx__smbd_post_recv(d, i);
}
/* A buffer the engine no longer needs (in limbo: counted nowhere): posted
 * again while fewer than the credits we serve are posted, else free. */
static inline void smbx__smbd_recycle(smbx_smbd *d, uint32_t i)
{
  if (d->torn) {
    smbx__smbd_recycle_torn(d, i);
    return;
  }
  if (d->state == SMBX_SMBD_STATE_CONNECTED) {
    uint32_t want = d->eff_target;
    if (want < d->recv_credits)
      want = d->recv_credits;
    if (d->n_posted < want) {
      (void)smbx__smbd_post_recv(d, i);
      return;
    }
  }
  smbx__smbd_rb_free_push(d, i);
}
static inline uint8_t *smbx__smbd_slot_mem(smbx_smbd *d, uint32_t i)
{
  return d->chunk[i >> SMBX__SMBD_CHUNK_SHIFT].mem +
         (size_t)(i & (SMBX__SMBD_CHUNK_SLOTS - 1)) * d->slot_size;
}
/* makes the next chunk of send slots: SMBX_ERR_NOMEM when its memory,
 * SMBX_ERR_TRANSPORT when its registration fails */
int smbx__smbd_grow_slots(smbx_smbd *d);
/* free slots for nf more fragments with one left over for credit-only
 * messages, made if need be: 0, SMBX_ERR_AGAIN (all made, wait for a
 * SEND_DONE) or SMBX_ERR_NOMEM */
int smbx__smbd_grow_for(smbx_smbd *d, uint64_t nf);
static inline int smbx__smbd_reserve_slots(smbx_smbd *d, uint64_t nf)
{
  return nf < d->n_free_slots ? 0 : smbx__smbd_grow_for(d, nf);
}
/* reassembly buffer r made at least len bytes (len <= max_frag_recv) */
int smbx__smbd_ra_reserve(smbx_smbd *d, uint32_t r, uint32_t len);
int smbx__smbd_post_send_failed(smbx_smbd *d, uint32_t i);
/* posts send slot i (wire_len bytes at mem, the slot's memory); a failure
 * frees the slot and tears the connection down */
static inline int smbx__smbd_post_slot(smbx_smbd *d, uint32_t i, uint8_t *mem)
{
  smbx__smbd_slot *s = &d->slot[i];
  smbx_sge sg = {mem, s->wire_len, 0,
                 d->chunk[i >> SMBX__SMBD_CHUNK_SHIFT].mr.handle};
  s->state = SS_INFLIGHT;
  d->n_inflight++;
  if (d->t.post_send(d->t.user_data, SMBX__SMBD_WR_SEND << 32 | i, &sg, 1,
                     s->inv ? SMBX_SEND_INVALIDATE : 0u, s->inv_rkey) != 0)
    return smbx__smbd_post_send_failed(d, i);
  return 0;
}

/* data.c */
/* Fragments of per payload bytes a message of total bytes takes (3.1.5.1);
 * the common single fragment costs no divide. per > 0. */
static inline uint64_t smbx__smbd_frags(uint64_t total, uint64_t per)
{
  return total <= per ? (uint64_t)(total != 0) : (total + per - 1) / per;
}
/* Recomputes eff_target after recv_credit_target or backpressure changed. */
void smbx__smbd_retarget(smbx_smbd *d);
int smbx__smbd_pump_work(smbx_smbd *d, uint64_t now);
/* Sends what is queued and any control message due. Most calls (a
 * completion, a release, a message received) find nothing to do: that is
 * decided here from a few fields, without a call. */
static inline int smbx__smbd_pump(smbx_smbd *d, uint64_t now)
{
  /* nothing queued and no control message can be due: no keepalive or
   * prompt reply owed, no close or watchdog to settle and the peer holds
   * more than a quarter of the target, not raised since */
  if (!d->due && d->recv_credits * 4 > d->eff_target)
    return 0;
  return smbx__smbd_pump_work(d, now);
}
/* smbx_smbd_send for the owner (the upcall is set) of one contiguous
 * message, after it checked the engine takes messages (no error, not
 * closing, CONNECTED: smbx__conn_smbd_ready). Same results otherwise. */
int smbx__smbd_send_msg(smbx_smbd *d, const uint8_t *p, size_t len,
                        uint32_t flags, uint32_t invalidate_rkey,
                        uint64_t now_ns);
/* 3.1.5.8 for receive i (limbo) of a connected engine: 0, a fatal code,
 * or SMBX__SMBD_BLOCKED (it waits at the backlog's front) */
int smbx__smbd_recv_data(smbx_smbd *d, uint32_t i, uint32_t len,
                         uint32_t wc_flags, uint32_t rkey, uint64_t now);
int smbx__smbd_process_backlog(smbx_smbd *d, uint64_t now);
/* engine.c: one received buffer (limbo) by state; a receive that must
 * wait joins the backlog (front: back where it was) */
int smbx__smbd_dispatch(smbx_smbd *d, uint32_t i, uint32_t len, uint32_t wcf,
                        uint32_t rkey, uint64_t now);
void smbx__smbd_backlog_push(smbx_smbd *d, uint32_t i, bool front);

/* An owner (the connection layer) can take the events through an upcall
 * instead of the queue; set before negotiation starts. */
void smbx__smbd_set_upcall(smbx_smbd *d, smbx__smbd_upcall fn, void *ctx);

/* Returned by recv_data when the message must wait (no reassembly
 * buffer free): the receive, its completion kept, is put at the front of
 * the backlog (where it was, or first of an empty one). */
#define SMBX__SMBD_BLOCKED 1

#endif
