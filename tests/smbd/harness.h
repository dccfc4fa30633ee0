/* SPDX-License-Identifier: MIT */
/* Test host for smbx_smbd engines on the simulated NIC: buffers, event
 * recording (message bytes copied), completion pumping, virtual time. */
#ifndef SMBX_TESTS_SMBD_HARNESS_H
#define SMBX_TESTS_SMBD_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbx/smbd.h>

#include "sim.h"
#include "test_alloc.h"

#define H_NBUF_MAX 512
#define H_S 1000000000ull

typedef struct h_ev {
  uint32_t type;
  int error;
  uint32_t ntstatus;
  const char *reason;
  uint8_t *data; /* copy */
  const uint8_t *ptr; /* the view as delivered */
  size_t len;
  uint64_t token, msg_id;
  uint32_t frags, mflags, rkey, index;
  uint64_t at;
} h_ev;

typedef struct h_side {
  smbx_smbd *d;
  uint8_t *mem;
  size_t nbuf;
  smbx_smbd_recv_buf bufs[H_NBUF_MAX];
  h_ev *ev;
  size_t ev_n, ev_cap;
  bool auto_release;    /* release message tokens at once (default) */
  bool auto_disconnect; /* on DISCONNECTED: sim_disconnect + peer CM event */
  uint32_t returned[H_NBUF_MAX];
  size_t n_returned;
  bool closed;
  bool pending_cm;       /* peer disconnected: CM event after the CQ */
  int first_err;        /* first negative return of an engine call */
  smbx_transport t;
} h_side;

typedef struct h {
  sim *w;
  h_side s[2]; /* 0 = active, 1 = passive */
  test_alloc ta;
  bool use_ta;
} h;

/* Creates engines for the sides with settings (NULL = raw endpoint). */
int h_init(h *x, const smbx_smbd_settings *s0, const smbx_smbd_settings *s1,
           size_t nbuf0, size_t nbuf1, uint64_t latency_ns);
/* smbx_smbd_settings_default with the role set */
smbx_smbd_settings h_settings(uint32_t role);
smbx_smbd_settings h_linux(uint32_t role);
void h_establish(h *x);
/* Runs until nothing moves and no timer is due before `until`; time then
 * stands at `until` (or at the last activity if until is 0). */
void h_run(h *x, uint64_t until);
/* One pass: deliver the wire, feed completions, drain events. */
int h_step(h *x);
void h_drain(h *x, int side);
void h_fini(h *x);
size_t h_count(const h *x, int side, uint32_t type);
const h_ev *h_find(const h *x, int side, uint32_t type, size_t k);
smbx_smbd_params h_params(const h *x, int side);
/* Sends len bytes of a pattern (seed) from side; returns rc. */
int h_send(h *x, int side, size_t len, uint8_t seed);
void h_fill(uint8_t *p, size_t len, uint8_t seed);
/* Raw side bytes helpers */
int h_raw(h *x, int side, const void *b, size_t len);
size_t h_data_msg(uint8_t *b, uint16_t cr, uint16_t cg, uint16_t flags,
                  uint32_t rem, uint32_t off, uint32_t dlen, uint8_t fill);
/* The negotiate response of a Windows-like passive peer: version 1.0,
 * 255 credits asked, 10 granted, sizes 1364 / 8192 / 1 MiB. */
extern const smbx_smbd_negotiate_resp h_good_resp;
/* An engine with settings s on side 0 (active) negotiated against a raw
 * passive peer answering r (NULL: h_good_resp). */
void h_active_up(h *x, smbx_smbd_settings s, size_t nbuf,
                 const smbx_smbd_negotiate_resp *r);
/* side's engine is alive: no DISCONNECTED, no latched error. */
void h_expect_alive(h *x, int side);
/* side's engine died with err and tore down cleanly: DISCONNECTED once,
 * every buffer back exactly once, CLOSED (h_fini checks registrations). */
void h_expect_dead(h *x, int side, int err);
/* The data header of the k-th message side sent. */
smbx_smbd_data h_sent_data(h *x, int side, size_t k);
/* Completes the handshake of engine side e against a raw peer. */
void h_raw_negotiate(h *x, int e, uint16_t credits_granted,
                     uint16_t credits_requested);

#endif
