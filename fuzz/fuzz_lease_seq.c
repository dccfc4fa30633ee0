/* SPDX-License-Identifier: MIT */
/* Sequence fuzzer for the server lease manager (lib/lease/server_mgr.c):
 * the input is a script of opens (three clients, four lease keys, oplock
 * levels, stat/read/write access, overwrite, share conflicts, three files
 * and a directory), closes, acks (right, wrong and unknown), clock steps
 * with expiry, data / child / handle changes, cancels and lost
 * connections, and raw bytes as an OPLOCK_BREAK request body
 * (smbx_lease_ack_pdu) or a CREATE's context area
 * (smbx_lease_create_parse). The host side obeys the protocol: an open that had to wait
 * is finished only after its READY event. After every step:
 *  - the manager's structural invariants hold (smbx__lease_check: counts,
 *    lists, table, nested break states, no W lease beside a non-stat open
 *    of another lease);
 *  - each BREAK event only takes bits away and names a live lease;
 *  - epochs of a lease never go back (u16 serial order) while it lives.
 * At the end the clock passes every deadline (no lease stays breaking),
 * every open closes (no lease, file, client or waiter is left) and the
 * manager frees everything it allocated. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/lease.h>
#include <smbx/smb2.h>

#include "lease/server_int.h"

#define CHECK(c)                                                              \
  do {                                                                        \
    if (!(c))                                                                 \
      abort();                                                                \
  } while (0)

#define S 1000000000ull
#define MAX_OPENS 64
#define N_CLIENTS 3
#define N_KEYS 4

typedef struct fopen_ {
  uint64_t h;
  bool waiting;  /* begun, READY not seen yet */
  bool share;    /* begun for a share conflict: fails once ready */
  uint8_t client;
} fopen_;

typedef struct fz {
  smbx_lease_mgr *m;
  uint64_t now;
  fopen_ opens[MAX_OPENS];
  size_t n;
  uint16_t epoch[N_CLIENTS][N_KEYS + 1];
  bool seen[N_CLIENTS][N_KEYS + 1];
  uint64_t next_user;
  /* the last break seen (for acks) */
  uint8_t brk_client, brk_key;
  uint32_t brk_state;
  bool have_brk;
  /* allocator accounting */
  long live_blocks;
} fz;

static void *fa_alloc(size_t size, size_t align, void *ud)
{
  (void)align;
  fz *z = ud;
  void *p = malloc(size ? size : 1);
  if (p)
    z->live_blocks++;
  return p;
}

static void fa_free(void *p, size_t size, size_t align, void *ud)
{
  (void)size;
  (void)align;
  fz *z = ud;
  if (p)
    z->live_blocks--;
  free(p);
}

static void guid_of(uint8_t g[16], uint8_t c)
{
  memset(g, 0x10 + c, 16);
}

static void key_of(uint8_t k[16], uint8_t key)
{
  memset(k, 0x40 + key, 16);
}

static void invariants(fz *z)
{
  const char *why = NULL;
  CHECK(smbx__lease_check(z->m, &why) == 0);
  /* epochs never go back while a lease lives */
  for (uint8_t c = 0; c < N_CLIENTS; c++)
    for (uint8_t k = 1; k <= N_KEYS; k++) {
      uint8_t g[16], kk[16];
      guid_of(g, c);
      key_of(kk, k);
      smbx_lease_info in;
      memset(&in, 0, sizeof in);
      in.struct_size = sizeof in;
      if (smbx_lease_query(z->m, g, kk, &in) != 0) {
        z->seen[c][k] = false;
        continue;
      }
      if (z->seen[c][k])
        CHECK((int16_t)(uint16_t)(in.epoch - z->epoch[c][k]) >= 0);
      z->seen[c][k] = true;
      z->epoch[c][k] = in.epoch;
    }
}

static void finish(fz *z, size_t i, uint32_t status)
{
  smbx_lease_grant g;
  memset(&g, 0, sizeof g);
  g.struct_size = sizeof g;
  CHECK(smbx_lease_open_finish(z->m, z->opens[i].h, status, z->now, &g) == 0);
  if (status != SMBX_STATUS_SUCCESS) {
    z->opens[i] = z->opens[--z->n];
    return;
  }
  z->opens[i].waiting = false;
  if (g.has_lease)
    CHECK((g.lease.state & ~7u) == 0);
}

static void drain(fz *z)
{
  smbx_lease_event e;
  memset(&e, 0, sizeof e);
  e.struct_size = sizeof e;
  int rc;
  while ((rc = smbx_lease_next_event(z->m, &e)) == 1) {
    if (e.type == SMBX_LEASE_EV_BREAK) {
      CHECK((e.new_state & ~e.current_state) == 0);
      CHECK(e.new_state != e.current_state);
      CHECK(e.body_len == 44);
      CHECK(e.conn != 0 && e.open == 0 && e.user == 0);
      z->have_brk = true;
      z->brk_client = (uint8_t)(e.client_guid[0] - 0x10);
      z->brk_key = (uint8_t)(e.lease_key[0] - 0x40);
      z->brk_state = e.new_state;
    } else if (e.type == SMBX_LEASE_EV_OPLOCK_BREAK) {
      CHECK(e.body_len == 24);
      CHECK(e.new_state == SMBX_SMB2_OPLOCK_LEVEL_II ||
            e.new_state == SMBX_SMB2_OPLOCK_LEVEL_NONE);
    } else {
      CHECK(e.type == SMBX_LEASE_EV_READY);
      for (size_t i = 0; i < z->n; i++)
        if (z->opens[i].h == e.open && z->opens[i].waiting) {
          finish(z, i, z->opens[i].share ? SMBX_STATUS_SHARING_VIOLATION
                                         : SMBX_STATUS_SUCCESS);
          break;
        }
    }
  }
  CHECK(rc == 0);
}

static uint64_t file_key_of(uint8_t f, uint64_t k[2])
{
  k[0] = 9;
  k[1] = 100u + f; /* f == 3: the directory */
  return k[1];
}

static void op_open(fz *z, const uint8_t *a)
{
  if (z->n == MAX_OPENS)
    return;
  uint8_t c = a[0] % N_CLIENTS, f = a[1] % 4, key = a[2] % (N_KEYS + 1);
  smbx_lease_open_req q;
  memset(&q, 0, sizeof q);
  q.struct_size = sizeof q;
  guid_of(q.client_guid, c);
  /* two connections per client, or none (a host's own open) */
  q.conn = (a[3] & 6u) == 6u ? 0u : 1u + c + 3u * (a[3] & 1u);
  q.user = ++z->next_user;
  file_key_of(f, q.file_key);
  q.is_dir = f == 3;
  if (f != 3) {
    q.has_parent = 1;
    file_key_of(3, q.parent_key);
  }
  static const uint32_t acc[3] = {0x80, 0x120089, 0x12019F};
  q.access = acc[a[4] % 3];
  q.disposition = (a[4] & 0x10) ? 5u : 1u;
  q.dialect = (a[5] & 1) ? SMBX_SMB2_DIALECT_210 : SMBX_SMB2_DIALECT_311;
  q.capabilities = SMBX_SMB2_CAP_LEASING | SMBX_SMB2_CAP_DIRECTORY_LEASING;
  q.share_conflict = (a[5] & 0x6) == 0x6;
  q.byte_locks = (a[5] & 0x18) == 0x18;
  if (key) {
    q.requested_oplock = SMBX_SMB2_OPLOCK_LEVEL_LEASE;
    q.has_lease = 1;
    q.lease.version = (a[5] & 0x20) ? 1 : 2;
    key_of(q.lease.key, key);
    q.lease.state = a[6] & 7u;
    q.lease.epoch = (uint16_t)(a[6] << 8 | a[7]);
    if (a[5] & 0x40) {
      q.lease.flags = SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET;
      key_of(q.lease.parent_key, (uint8_t)(a[7] % (N_KEYS + 1)));
    }
  } else {
    static const uint8_t lv[4] = {0, SMBX_SMB2_OPLOCK_LEVEL_II,
                                  SMBX_SMB2_OPLOCK_LEVEL_EXCLUSIVE,
                                  SMBX_SMB2_OPLOCK_LEVEL_BATCH};
    q.requested_oplock = lv[a[6] & 3];
  }
  uint64_t h = 0;
  uint32_t st = 0;
  int rc = smbx_lease_open_begin(z->m, &q, z->now, &h, &st);
  CHECK(rc == 0 || rc == 1 || rc == SMBX_ERR_LIMIT);
  if (rc < 0 || st != SMBX_STATUS_SUCCESS) {
    CHECK(rc < 0 || h == 0);
    return;
  }
  fopen_ *o = &z->opens[z->n++];
  o->h = h;
  o->client = c;
  o->share = q.share_conflict;
  o->waiting = rc == 1;
  if (rc == 0)
    finish(z, z->n - 1,
           (a[7] & 0x80) || o->share ? SMBX_STATUS_SHARING_VIOLATION
                                     : SMBX_STATUS_SUCCESS);
}

static void op_close(fz *z, uint8_t pick)
{
  if (!z->n)
    return;
  size_t i = pick % z->n;
  CHECK(smbx_lease_close(z->m, z->opens[i].h, z->now) == 0);
  z->opens[i] = z->opens[--z->n];
  /* the last close deletes a lease; a new one may take its key */
  memset(z->seen, 0, sizeof z->seen);
}

static void op_ack(fz *z, const uint8_t *a)
{
  smbx_smb2_lease_break_ack ack, resp;
  memset(&ack, 0, sizeof ack);
  uint8_t c, key;
  if (z->have_brk && (a[0] & 3)) {
    c = z->brk_client;
    key = z->brk_key;
    ack.lease_state = (a[0] & 4) ? z->brk_state : (a[1] & 7u);
  } else {
    c = a[1] % N_CLIENTS;
    key = (uint8_t)(a[2] % (N_KEYS + 2)); /* N_KEYS + 1: never used */
    ack.lease_state = a[0] & 7u;
  }
  uint8_t g[16];
  guid_of(g, c);
  key_of(ack.lease_key, key);
  smbx_lease_info before;
  memset(&before, 0, sizeof before);
  before.struct_size = sizeof before;
  int had = smbx_lease_query(z->m, g, ack.lease_key, &before);
  uint32_t st = 0;
  CHECK(smbx_lease_ack(z->m, g, &ack, z->now, &resp, &st) == 0);
  /* leases.md 3.6, in order */
  if (had != 0)
    CHECK(st == SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  else if (!before.breaking)
    CHECK(st == SMBX_STATUS_UNSUCCESSFUL);
  else if (ack.lease_state & ~before.breaking_to)
    CHECK(st == SMBX_STATUS_REQUEST_NOT_ACCEPTED);
  else
    CHECK(st == SMBX_STATUS_SUCCESS && resp.lease_state == ack.lease_state);
}

static void op_oplock_ack(fz *z, const uint8_t *a)
{
  if (!z->n)
    return;
  size_t i = a[0] % z->n;
  uint8_t lvl = 0;
  uint32_t st = 0;
  static const uint8_t lv[4] = {0, SMBX_SMB2_OPLOCK_LEVEL_II,
                                SMBX_SMB2_OPLOCK_LEVEL_EXCLUSIVE, 0x33};
  CHECK(smbx_lease_oplock_ack(z->m, z->opens[i].h, lv[a[1] & 3], z->now, &lvl,
                              &st) == 0);
}

static void op_change(fz *z, const uint8_t *a)
{
  smbx_lease_change c;
  memset(&c, 0, sizeof c);
  c.struct_size = sizeof c;
  static const uint32_t kinds[4] = {
      SMBX_LEASE_CHG_DATA, SMBX_LEASE_CHG_CHILD, SMBX_LEASE_CHG_HANDLES,
      SMBX_LEASE_CHG_DIR_ACCESS};
  c.kind = kinds[a[0] & 3];
  size_t i = z->n ? a[1] % z->n : 0;
  if (z->n && (a[0] & 4) && !z->opens[i].waiting)
    c.open = z->opens[i].h;
  c.user = ++z->next_user;
  file_key_of((uint8_t)(a[2] % 4), c.file_key);
  file_key_of(3, c.dir_key);
  int rc = smbx_lease_change_report(z->m, &c, z->now);
  CHECK(rc == 0 || rc == 1 || rc == SMBX_ERR_LIMIT);
  if (rc == 1 && (a[0] & 8))
    CHECK(smbx_lease_cancel(z->m, c.user, z->now) == 0);
}

static void op_time(fz *z, uint8_t b)
{
  z->now += (uint64_t)b * S / 4; /* up to ~64 s */
  int n = smbx_lease_handle_expiry(z->m, z->now);
  CHECK(n >= 0);
  CHECK(smbx_lease_expiry(z->m) > z->now);
}

static void op_cancel(fz *z, uint8_t pick)
{
  for (size_t k = 0; k < z->n; k++) {
    size_t i = (pick + k) % z->n;
    if (!z->opens[i].waiting)
      continue;
    /* the waiter's cookie is not kept here: cancel through the open */
    CHECK(smbx_lease_open_finish(z->m, z->opens[i].h, SMBX_STATUS_CANCELLED,
                                 z->now, NULL) == 0);
    z->opens[i] = z->opens[--z->n];
    return;
  }
}

/* Hostile bytes: an OPLOCK_BREAK request body after a valid header, and
 * a create-context area. */
static void op_raw(fz *z, const uint8_t *a, const uint8_t *raw, size_t n)
{
  uint8_t pdu[64 + 64];
  memset(pdu, 0, 64);
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = SMBX_SMB2_OPLOCK_BREAK;
  h.message_id = 9;
  CHECK(smbx_smb2_hdr_encode(&h, pdu, sizeof pdu, NULL) == 64);
  size_t body = n < 64 ? n : 64;
  memcpy(pdu + 64, raw, body);
  smbx_lease_ack_result res;
  memset(&res, 0, sizeof res);
  res.struct_size = sizeof res;
  uint8_t g[16];
  guid_of(g, a[0] % N_CLIENTS);
  CHECK(smbx_lease_ack_pdu(z->m, g, (a[1] & 1) ? SMBX_SMB2_DIALECT_202
                                               : SMBX_SMB2_DIALECT_311,
                           pdu, 64 + body, z->now, &res) == 0);
  CHECK(res.kind == 0 || res.kind == SMBX_SMB2_BREAK_OPLOCK ||
        res.kind == SMBX_SMB2_BREAK_LEASE_ACK);
  CHECK(res.body_len == 0 || res.body_len == 36);
  smbx_smb2_create_req cr;
  memset(&cr, 0, sizeof cr);
  cr.requested_oplock_level = a[2];
  cr.contexts.p = raw;
  cr.contexts.len = n;
  smbx_lease_open_req q;
  memset(&q, 0, sizeof q);
  uint32_t st = 0;
  CHECK(smbx_lease_create_parse(&cr, a[3] & SMBX_LEASE_STRICT_DUP, &q,
                                &st) == 0);
  CHECK(st == SMBX_STATUS_SUCCESS || st == SMBX_STATUS_INVALID_PARAMETER);
  if (q.has_lease)
    CHECK(st == SMBX_STATUS_SUCCESS &&
          (q.lease.version == 1 || q.lease.version == 2) &&
          (q.lease.flags & ~SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fz *z = calloc(1, sizeof *z);
  if (!z)
    return 0;
  smbx_allocator al = {sizeof al, fa_alloc, NULL, fa_free, z};
  smbx_lease_settings s;
  smbx_lease_settings_default(&s, sizeof s);
  s.max_leases = 32;
  s.max_opens = 48; /* below MAX_OPENS: the LIMIT path runs too */
  s.max_files = 8;
  s.max_clients = 4;
  s.max_waiters = 8;
  s.max_events = 2;
  s.hash_seed = 7;
  CHECK(smbx_lease_mgr_new(&z->m, &s, &al) == 0);
  z->now = 1000 * S;
  size_t off = 0;
  while (off + 9 <= size) {
    const uint8_t *a = data + off + 1;
    if (data[off] == 0xFF) {
      /* raw op: a[4] bytes of hostile input follow the 9-byte op */
      size_t n = a[4];
      if (n > size - off - 9)
        n = size - off - 9;
      op_raw(z, a, data + off + 9, n);
      off += 9 + n;
      drain(z);
      invariants(z);
      continue;
    }
    switch (data[off] % 9) {
    case 0:
    case 1:
      op_open(z, a);
      break;
    case 2:
      op_close(z, a[0]);
      break;
    case 3:
      op_ack(z, a);
      break;
    case 4:
      op_time(z, a[0]);
      break;
    case 5:
      op_change(z, a);
      break;
    case 6:
      op_cancel(z, a[0]);
      break;
    case 7:
      op_oplock_ack(z, a);
      break;
    default:
      CHECK(smbx_lease_conn_down(z->m, 1u + a[0] % 6u) == 0);
      break;
    }
    off += 9;
    drain(z);
    invariants(z);
  }
  /* every break is acked or times out */
  z->now += 36 * S;
  CHECK(smbx_lease_handle_expiry(z->m, z->now) >= 0);
  drain(z);
  invariants(z);
  smbx_lease_stats st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  CHECK(smbx_lease_get_stats(z->m, &st) == 0);
  CHECK(st.breaking == 0);
  /* no lost or leaked lease: closing every open leaves nothing */
  while (z->n) {
    CHECK(smbx_lease_close(z->m, z->opens[z->n - 1].h, z->now) == 0);
    z->n--;
    drain(z);
    invariants(z);
  }
  CHECK(smbx_lease_get_stats(z->m, &st) == 0);
  CHECK(st.leases == 0 && st.opens == 0 && st.files == 0 &&
        st.clients == 0 && st.waiters == 0);
  smbx_lease_mgr_free(z->m);
  CHECK(z->live_blocks == 0);
  free(z);
  return 0;
}
