/* SPDX-License-Identifier: MIT */
/* Test host for lib/conn: a client and a server connection back to back
 * over Direct TCP byte pipes in memory or over the simulated SMB Direct NIC
 * (tests/sim), or one connection against a raw peer the test writes bytes
 * for. Upcalls are recorded as events (PDU bytes copied). */
#ifndef SMBX_TESTS_CONN_TH_H
#define SMBX_TESTS_CONN_TH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbx/smbd.h>

#include "conn/conn.h"
#include "sim.h"
#include "test_alloc.h"

#define TH_CLI 0
#define TH_SRV 1
#define TH_IN_CAP (24u << 20)
#define TH_OUT_CAP ((8u << 20) + 4096u)
#define TH_NBUF 64

enum {
  TE_REQUEST = 1,
  TE_COMPLETE,
  TE_INTERIM,
  TE_NOTIFY,
  TE_CANCEL,
  TE_ABORT,
  TE_DOWN,
  TE_WRITABLE,
  TE_SMBD
};

typedef struct th_ev {
  int kind;
  uint64_t req, user, hold;
  int err;
  uint32_t flags, status;
  smbx_smb2_hdr hdr;
  smbx_smb2_fileid fileid;
  uint16_t chain_index, chain_count;
  uint8_t *bytes; /* copy */
  const uint8_t *ptr; /* the view as delivered */
  size_t len;
  bool released;
} th_ev;

struct th;

typedef struct th_side {
  struct th *x;
  int idx;
  smbx__conn *c;
  bool raw;
  th_ev *ev;
  size_t ev_n, ev_cap;
  uint8_t *in; /* inbound Direct TCP bytes */
  size_t in_len, in_off;
  size_t raw_off; /* raw side: parse position */
  bool auto_release;
  bool auto_respond; /* server: answer each request inside the upcall */
  int downs, down_err;
  uint32_t down_status;
  int writable_n;
  int send_fail; /* TCP send upcall fails when set */
  bool keys_on;
  smbx__conn_keys keys;
  uint64_t key_sid;
  uint8_t *out; /* TH_OUT_CAP + HEADROOM */
  uint64_t read_sid; /* SessionId th_send_read uses */
  /* SMB Direct */
  smbx_smbd *d;
  uint8_t *mem;
  smbx_smbd_recv_buf bufs[TH_NBUF];
  smbx_transport t;
  bool pending_cm;
  int smbd_closed;
} th_side;

typedef struct th {
  th_side s[2];
  test_alloc ta;
  bool smbd;
  sim *w;
  uint64_t now;
  smbx_crypto cr;
  bool have_cr;
  /* optional tap on every Direct TCP byte sent (dir 0: client -> server) */
  void (*tap)(void *ud, int dir, const uint8_t *p, size_t len);
  void *tap_ud;
} th;

smbx__conn_settings th_settings(uint32_t role);
/* TCP pair; NULL settings = raw side. cr may be NULL. Returns the first
 * creation error (0). */
int th_init_tcp(th *x, const smbx__conn_settings *cli,
                const smbx__conn_settings *srv, const smbx_crypto *cr);
/* SMB Direct pair over tests/sim; both sides are connections. Send
 * buffers per engine: th_smbd_send_buffers (default 900). */
extern uint32_t th_smbd_send_buffers;
int th_init_smbd(th *x, const smbx__conn_settings *cli,
                 const smbx__conn_settings *srv, const smbx_crypto *cr);
void th_fini(th *x);
/* Pumps bytes / completions until nothing moves. */
void th_run(th *x);
/* Both sides: smbx__conn_set_dialect. */
void th_dialect(th *x, uint16_t dialect, uint32_t caps);

size_t th_count(const th *x, int side, int kind);
th_ev *th_find(th *x, int side, int kind, size_t k);
void th_release_all(th *x, int side);

/* A minimal PDU of a command at p (header + zero body of the command's
 * StructureSize, or an ERROR body when response with a non-success
 * status, + extra zero bytes). Returns its length. */
size_t th_pdu(uint8_t *p, uint16_t cmd, bool response, uint32_t status,
              size_t extra);
/* Client: builds a request at side out buffer and sends it. */
int th_send(th *x, uint16_t cmd, uint64_t sid, uint32_t tid, uint64_t user,
            uint64_t *req);
/* Client: READ of `length` bytes. */
int th_send_read(th *x, uint32_t length, uint64_t user, uint64_t *req);
/* Server: a success response to req (READ: the data its Length asked;
 * CREATE: FileId {0xF1, MessageId}); status != 0: an ERROR response. */
int th_respond(th *x, uint64_t req, uint32_t status);

/* Raw side `from` sends one message (prefix added) to the other side. */
void th_raw_send(th *x, int from, const void *msg, size_t len);
/* Raw side: the next message the connection sent it; false when none. */
bool th_raw_next(th *x, int side, const uint8_t **msg, size_t *len);

#endif
