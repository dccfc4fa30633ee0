/* SPDX-License-Identifier: MIT */
/* RoCEv2 (UDP 4791): InfiniBand BTH + RETH/AETH/IETH/ImmDt, RC opcodes.
 * Multi-packet SENDs (First/Middle/Last) are reassembled per destination
 * QP (tshark 4.0 cannot), then SMB Direct messages are classified by phase
 * (each side's first message is its negotiate message), and data-transfer
 * fragments are joined by RemainingDataLength ([MS-SMBD] 3.1.5.8 with the
 * cross-fragment rule of spec/smbd.md 1.3). RDMA WRITE and READ operations
 * each give one record. */
#include <stdlib.h>
#include <string.h>

#include <smbx/smbd.h>

#include "dump.h"

#define SEND_MAX ((size_t)16 << 20)  /* one SMBD message */
#define MSG_MAX ((size_t)64 << 20)   /* one reassembled upper message */
#define MAX_QPS 64       /* destination QPs followed per side */
#define MAX_READS 1024   /* outstanding RDMA READs per side */
#define MAX_CONVS 65536u /* conversations (address pairs) followed */
#define BUCKETS 4096u

typedef struct qp {
  uint32_t qpn;
  int used;
  /* SEND reassembly */
  bool in_send;
  uint8_t *sbuf;
  size_t slen, scap;
  uint64_t s_first;
  bool have_psn;
  uint32_t next_psn;
  uint64_t nmsgs; /* SMB Direct messages completed on this QP */
  /* SMBD data reassembly */
  bool in_msg;
  uint8_t *mbuf;
  size_t mlen, mcap;
  uint32_t m_remaining;
  uint32_t m_frags;
  uint64_t m_first;
  /* RDMA WRITE in progress */
  bool in_write;
  uint64_t w_va, w_bytes, w_first;
  uint32_t w_rkey, w_len;
} qp;

typedef struct rd_op {
  uint64_t va, first, bytes;
  uint32_t rkey, len;
  bool started;
} rd_op;

typedef struct side {
  qp *qps[MAX_QPS]; /* by destination QP of this side's packets; lazily */
  rd_op *reads;      /* READs this side issued, oldest first (grown) */
  uint32_t nreads, reads_cap;
} side;

typedef struct rconv {
  struct rconv *next;   /* every conversation */
  struct rconv *bnext;  /* hash bucket chain */
  uint8_t ip[2][16];
  size_t alen;
  int client; /* index of the client, -1 unknown */
  uint32_t id;
  side s[2];
} rconv;

struct roce_state {
  rconv *all;
  rconv *b[BUCKETS];
  uint32_t next_id;
  bool full_reported;
};

roce_state *roce_new(void)
{
  return calloc(1, sizeof(roce_state));
}

static dump_src src_of(const rconv *c, int sd, uint64_t frame, uint64_t first)
{
  dump_src s = {frame, first, "smbd", c->id,
                c->client < 0 ? -1 : (sd == c->client ? 0 : 1)};
  return s;
}

static void rdma_record(dump_ctx *d, const rconv *c, int sd, uint64_t frame,
                        const char *type, uint64_t first, uint64_t va,
                        uint32_t rkey, uint32_t len, uint64_t bytes,
                        bool complete)
{
  jw *w = dump_jw(d);
  jw_obj(w, NULL);
  jw_str(w, "type", type);
  dump_src s = src_of(c, sd, frame, first);
  dump_src_fields(w, &s);
  jw_u64(w, "va", va);
  jw_u64(w, "rkey", rkey);
  jw_u64(w, "length", len);
  jw_u64(w, "bytes", bytes);
  jw_bool(w, "complete", complete && bytes == len);
  jw_end_obj(w);
  dump_emit(d, w, DUMP_K_RDMA);
}

void roce_free(dump_ctx *d, roce_state *r)
{
  if (!r)
    return;
  rconv *c = r->all;
  while (c) {
    rconv *n = c->next;
    for (int i = 0; i < 2; i++) {
      side *s = &c->s[i];
      for (int k = 0; k < MAX_QPS && s->qps[k]; k++) {
        qp *q = s->qps[k];
        if (d && q->in_write)
          rdma_record(d, c, i, 0, "rdma_write", q->w_first, q->w_va, q->w_rkey,
                      q->w_len, q->w_bytes, false);
        if (d && q->in_send) {
          dump_src src = src_of(c, i, 0, q->s_first);
          dump_error(d, &src, "roce", "capture ended inside a multi-packet SEND",
                     q->slen);
        }
        if (d && q->in_msg) {
          dump_src src = src_of(c, i, 0, q->m_first);
          dump_error(d, &src, "smbd",
                     "capture ended inside a fragmented message", q->mlen);
        }
        free(q->sbuf);
        free(q->mbuf);
        free(q);
      }
      for (uint32_t k = 0; d && k < s->nreads; k++)
        rdma_record(d, c, i, 0, "rdma_read", s->reads[k].first, s->reads[k].va,
                    s->reads[k].rkey, s->reads[k].len, s->reads[k].bytes, false);
      free(s->reads);
    }
    free(c);
    c = n;
  }
  free(r);
}

/* symmetric in the two addresses: both directions land in one bucket */
static uint32_t conv_hash(const uint8_t *a, const uint8_t *b, size_t alen)
{
  uint32_t x = 2166136261u;
  for (size_t i = 0; i < alen; i++)
    x = (x ^ (uint32_t)(a[i] ^ b[i])) * 16777619u;
  return x % BUCKETS;
}

static rconv *conv_find(dump_ctx *d, roce_state *r, uint64_t frame,
                        const uint8_t *sip, const uint8_t *dip, size_t alen,
                        int *sd)
{
  uint32_t h = conv_hash(sip, dip, alen);
  for (rconv *c = r->b[h]; c; c = c->bnext) {
    if (c->alen != alen)
      continue;
    for (int i = 0; i < 2; i++)
      if (memcmp(c->ip[i], sip, alen) == 0 &&
          memcmp(c->ip[1 - i], dip, alen) == 0) {
        *sd = i;
        return c;
      }
  }
  if (r->next_id >= MAX_CONVS) {
    if (!r->full_reported) {
      dump_src src = {frame, 0, "smbd", r->next_id, -1};
      dump_error(d, &src, "roce", "too many RoCE conversations; later ones "
                                  "are not followed", r->next_id);
      r->full_reported = true;
    }
    return NULL;
  }
  rconv *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  memcpy(c->ip[0], sip, alen);
  memcpy(c->ip[1], dip, alen);
  c->alen = alen;
  c->client = -1;
  c->id = r->next_id++;
  c->next = r->all;
  r->all = c;
  c->bnext = r->b[h];
  r->b[h] = c;
  *sd = 0;
  return c;
}

static qp *qp_get(side *s, uint32_t qpn)
{
  int k = 0;
  for (; k < MAX_QPS && s->qps[k]; k++)
    if (s->qps[k]->qpn == qpn)
      return s->qps[k];
  if (k == MAX_QPS)
    return NULL;
  qp *q = calloc(1, sizeof *q);
  if (!q)
    return NULL;
  q->used = 1;
  q->qpn = qpn;
  s->qps[k] = q;
  return q;
}

static bool append(uint8_t **buf, size_t *len, size_t *cap, const uint8_t *p,
                   size_t n, size_t max)
{
  if (n > max - *len)
    return false;
  if (*cap - *len < n) {
    size_t nc = *cap ? *cap : 4096;
    while (nc - *len < n)
      nc *= 2;
    uint8_t *nb = realloc(*buf, nc);
    if (!nb)
      return false;
    *buf = nb;
    *cap = nc;
  }
  if (n)
    memcpy(*buf + *len, p, n);
  *len += n;
  return true;
}

/* ---- SMB Direct messages ---- */

static void smbd_negotiate_req(dump_ctx *d, const dump_src *src,
                               const smbx_smbd_negotiate_req *m, size_t len)
{
  jw *w = dump_jw(d);
  jw_obj(w, NULL);
  jw_str(w, "type", "smbd_negotiate_req");
  dump_src_fields(w, src);
  jw_u64(w, "length", len);
  jw_u64(w, "min_version", m->min_version);
  jw_u64(w, "max_version", m->max_version);
  jw_u64(w, "credits_requested", m->credits_requested);
  jw_u64(w, "preferred_send_size", m->preferred_send_size);
  jw_u64(w, "max_receive_size", m->max_receive_size);
  jw_u64(w, "max_fragmented_size", m->max_fragmented_size);
  jw_end_obj(w);
  dump_emit(d, w, DUMP_K_SMBD);
}

static void smbd_negotiate_resp(dump_ctx *d, const dump_src *src,
                                const smbx_smbd_negotiate_resp *m, size_t len)
{
  jw *w = dump_jw(d);
  jw_obj(w, NULL);
  jw_str(w, "type", "smbd_negotiate_resp");
  dump_src_fields(w, src);
  jw_u64(w, "length", len);
  jw_u64(w, "min_version", m->min_version);
  jw_u64(w, "max_version", m->max_version);
  jw_u64(w, "negotiated_version", m->negotiated_version);
  jw_u64(w, "credits_requested", m->credits_requested);
  jw_u64(w, "credits_granted", m->credits_granted);
  jw_u64(w, "status", m->status);
  jw_u64(w, "max_read_write_size", m->max_read_write_size);
  jw_u64(w, "preferred_send_size", m->preferred_send_size);
  jw_u64(w, "max_receive_size", m->max_receive_size);
  jw_u64(w, "max_fragmented_size", m->max_fragmented_size);
  jw_end_obj(w);
  dump_emit(d, w, DUMP_K_SMBD);
}

static void smbd_data_record(dump_ctx *d, const dump_src *src,
                             const smbx_smbd_data *m, size_t len, bool has_inv,
                             uint32_t inv)
{
  jw *w = dump_jw(d);
  jw_obj(w, NULL);
  jw_str(w, "type", "smbd_data");
  dump_src_fields(w, src);
  jw_u64(w, "length", len);
  jw_u64(w, "credits_requested", m->credits_requested);
  jw_u64(w, "credits_granted", m->credits_granted);
  jw_u64(w, "flags", m->flags);
  jw_bool(w, "response_requested",
          (m->flags & SMBX_SMBD_FLAG_RESPONSE_REQUESTED) != 0);
  jw_u64(w, "remaining_data_length", m->remaining_data_length);
  jw_u64(w, "data_offset", m->data_offset);
  jw_u64(w, "data_length", m->data_length);
  if (has_inv)
    jw_u64(w, "invalidate_rkey", inv);
  jw_end_obj(w);
  dump_emit(d, w, DUMP_K_SMBD);
}

static void smbd_message(dump_ctx *d, rconv *c, int sd, qp *q, uint64_t frame,
                         uint64_t first, const uint8_t *p, size_t len,
                         bool has_inv, uint32_t inv)
{
  dump_src src = src_of(c, sd, frame, first);
  uint64_t n = q->nmsgs++;
  bool is_client = c->client == sd;
  smbx_error_detail e = {0};
  /* [MS-SMBD] 2.2.1 / 2.2.2: each side's first message is its negotiate
   * message (no type field); a capture that starts later falls through to
   * data transfer */
  if (n == 0 && is_client) {
    smbx_smbd_negotiate_req m;
    if (smbx_smbd_decode_negotiate_req(p, len, &m, &e) == 0 &&
        m.min_version <= 0x0100 && m.max_version >= 0x0100) {
      smbd_negotiate_req(d, &src, &m, len);
      return;
    }
  }
  if (n == 0 && !is_client) {
    smbx_smbd_negotiate_resp m;
    if (smbx_smbd_decode_negotiate_resp(p, len, &m, &e) == 0 &&
        m.min_version == 0x0100 && m.max_version == 0x0100) {
      smbd_negotiate_resp(d, &src, &m, len);
      return;
    }
  }
  /* [MS-SMBD] 2.2.3 data transfer; receiver rules 3.1.5.8 (no
   * MaxFragmentedSize here: a dump has no local limit) */
  smbx_smbd_data m;
  int rc = smbx_smbd_decode_data(p, len, 0, 0, &m, &e);
  if (rc != 0) {
    dump_error(d, &src, "smbd", e.reason ? e.reason : smbx_strerror(rc),
               e.offset);
    return;
  }
  if (m.data_length == 0) {
    /* credit-only (or keepalive) message: its RemainingDataLength neither
     * ends nor alters a reassembly in progress */
    smbd_data_record(d, &src, &m, len, has_inv, inv);
    return;
  }
  uint32_t remaining = m.remaining_data_length, dlen = m.data_length;
  const uint8_t *payload = m.payload;
  dump_smbd_info info = {m.credits_requested, m.credits_granted, m.flags, 1};
  if (!q->in_msg) {
    if (remaining == 0) {
      dump_smb2_message(d, &src, payload, dlen, &info);
      return;
    }
    if ((uint64_t)remaining + dlen > MSG_MAX) {
      dump_error(d, &src, "smbd", "fragmented message too large for smbx-dump",
                 8);
      return;
    }
    q->in_msg = true;
    q->mlen = 0;
    q->m_frags = 0;
    q->m_first = first;
  } else if ((uint64_t)dlen + remaining != q->m_remaining) {
    /* spec/smbd.md 1.3 cross-fragment rule */
    dump_src s2 = src_of(c, sd, frame, q->m_first);
    dump_error(d, &s2, "smbd",
               "DataLength + RemainingDataLength differs from the previous "
               "RemainingDataLength",
               8);
    q->in_msg = false;
    return;
  }
  if (!append(&q->mbuf, &q->mlen, &q->mcap, payload, dlen, MSG_MAX)) {
    dump_error(d, &src, "smbd", "reassembly buffer limit", 16);
    q->in_msg = false;
    return;
  }
  q->m_frags++;
  q->m_remaining = remaining;
  if (remaining == 0) {
    q->in_msg = false;
    info.fragments = q->m_frags;
    dump_src s2 = src_of(c, sd, frame, q->m_first);
    dump_smb2_message(d, &s2, q->mbuf, q->mlen, &info);
  }
}

/* ---- InfiniBand transport ---- */

static const char *const op_names[] = {
    [0x00] = "SEND First", [0x01] = "SEND Middle", [0x02] = "SEND Last",
    [0x03] = "SEND Last Imm", [0x04] = "SEND Only", [0x05] = "SEND Only Imm",
    [0x06] = "WRITE First", [0x07] = "WRITE Middle", [0x08] = "WRITE Last",
    [0x09] = "WRITE Last Imm", [0x0A] = "WRITE Only",
    [0x0B] = "WRITE Only Imm", [0x0C] = "READ Request",
    [0x0D] = "READ Response First", [0x0E] = "READ Response Middle",
    [0x0F] = "READ Response Last", [0x10] = "READ Response Only",
    [0x11] = "Acknowledge", [0x16] = "SEND Last Inv", [0x17] = "SEND Only Inv",
};

void roce_packet(dump_ctx *d, roce_state *r, uint64_t frame,
                 const uint8_t *sip, const uint8_t *dip, size_t alen,
                 const uint8_t *p, size_t len)
{
  int sd = 0;
  rconv *c = conv_find(d, r, frame, sip, dip, alen, &sd);
  if (!c)
    return;
  dump_src src = src_of(c, sd, frame, 0);
  if (len < 12 + 4) {
    dump_error(d, &src, "roce", "packet shorter than BTH + ICRC", len);
    return;
  }
  uint8_t op = p[0];
  if (op >> 5 != 0)
    return; /* only RC is followed (UC/UD/CNP are not used by SMB Direct) */
  size_t pad = (p[1] >> 4) & 3;
  uint32_t qpn = be24(p + 5);
  uint32_t psn = be24(p + 9);
  size_t off = 12, end = len - 4;
  size_t ext = 0;
  bool reth = false, aeth = false, imm = false, ieth = false;
  switch (op) {
  case 0x03: case 0x05: case 0x09: imm = true; break;
  case 0x06: case 0x0A: case 0x0C: reth = true; break;
  case 0x0B: reth = true; imm = true; break;
  case 0x0D: case 0x0F: case 0x10: case 0x11: aeth = true; break;
  case 0x16: case 0x17: ieth = true; break;
  default: break;
  }
  ext = (reth ? 16u : 0u) + (aeth ? 4u : 0u) + (imm ? 4u : 0u) +
        (ieth ? 4u : 0u);
  if (end - off < ext + pad) {
    dump_error(d, &src, "roce", "packet shorter than its headers", len);
    return;
  }
  const uint8_t *rh = p + off;
  uint64_t va = reth ? be64(rh) : 0;
  uint32_t rkey = reth ? be32(rh + 8) : 0, dmalen = reth ? be32(rh + 12) : 0;
  uint32_t inv = ieth ? be32(p + off + (aeth ? 4 : 0)) : 0;
  off += ext;
  end -= pad;
  const uint8_t *pay = p + off;
  size_t plen = end - off;

  side *s = &c->s[sd];
  qp *q = qp_get(s, qpn);
  if (!q) {
    dump_error(d, &src, "roce", "too many queue pairs", qpn);
    return;
  }
  /* PSN order on requests (responses use the requester's PSN space) */
  if (op <= 0x0C || op == 0x16 || op == 0x17) {
    if (q->have_psn) {
      uint32_t diff = (psn - q->next_psn) & 0xFFFFFFu;
      if (diff >= 0x800000u)
        return; /* retransmitted packet: already seen */
      if (diff != 0 && (q->in_send || q->in_write)) {
        dump_error(d, &src, "roce", "PSN gap inside a multi-packet operation",
                   psn);
        q->in_send = false;
        q->in_write = false;
      }
    }
    q->have_psn = op != 0x0C; /* a READ Request consumes one PSN per
                                 response packet: resynchronise after it */
    q->next_psn = (psn + 1) & 0xFFFFFFu;
  }

  switch (op) {
  case 0x00: /* SEND First */
    if (q->in_send)
      dump_error(d, &src, "roce", "SEND First while a SEND is open", psn);
    if (c->client < 0)
      c->client = sd;
    q->in_send = true;
    q->slen = 0;
    q->s_first = frame;
    if (!append(&q->sbuf, &q->slen, &q->scap, pay, plen, SEND_MAX)) {
      dump_error(d, &src, "roce", "SEND too large for smbx-dump", psn);
      q->in_send = false;
    }
    break;
  case 0x01: /* SEND Middle */
  case 0x02: case 0x03: case 0x16: /* SEND Last */
    if (!q->in_send) {
      dump_error(d, &src, "roce",
                 op == 0x01 ? "SEND Middle without SEND First"
                            : "SEND Last without SEND First",
                 psn);
      break;
    }
    if (!append(&q->sbuf, &q->slen, &q->scap, pay, plen, SEND_MAX)) {
      dump_error(d, &src, "roce", "SEND too large for smbx-dump", psn);
      q->in_send = false;
      break;
    }
    if (op != 0x01) {
      q->in_send = false;
      smbd_message(d, c, sd, q, frame, q->s_first, q->sbuf, q->slen, ieth, inv);
    }
    break;
  case 0x04: case 0x05: case 0x17: /* SEND Only */
    if (q->in_send) {
      dump_error(d, &src, "roce", "SEND Only while a SEND is open", psn);
      q->in_send = false;
    }
    if (c->client < 0)
      c->client = sd;
    smbd_message(d, c, sd, q, frame, frame, pay, plen, ieth, inv);
    break;
  case 0x06: case 0x0A: case 0x0B: /* WRITE First / Only */
    if (q->in_write)
      rdma_record(d, c, sd, frame, "rdma_write", q->w_first, q->w_va,
                  q->w_rkey, q->w_len, q->w_bytes, false);
    q->in_write = true;
    q->w_va = va;
    q->w_rkey = rkey;
    q->w_len = dmalen;
    q->w_bytes = plen;
    q->w_first = frame;
    if (op != 0x06) {
      q->in_write = false;
      rdma_record(d, c, sd, frame, "rdma_write", frame, va, rkey, dmalen, plen,
                  true);
    }
    break;
  case 0x07: case 0x08: case 0x09: /* WRITE Middle / Last */
    if (!q->in_write) {
      dump_error(d, &src, "roce", "RDMA WRITE continuation without First",
                 psn);
      break;
    }
    q->w_bytes += plen;
    if (op != 0x07) {
      q->in_write = false;
      rdma_record(d, c, sd, frame, "rdma_write", q->w_first, q->w_va,
                  q->w_rkey, q->w_len, q->w_bytes, true);
    }
    break;
  case 0x0C: /* READ Request: issued by this side */
    if (s->nreads == s->reads_cap) {
      uint32_t nc = s->reads_cap ? s->reads_cap * 2 : 8;
      rd_op *nr = nc <= MAX_READS ? realloc(s->reads, nc * sizeof *nr) : NULL;
      if (!nr) {
        dump_error(d, &src, "roce", "too many outstanding RDMA READs", psn);
        break;
      }
      s->reads = nr;
      s->reads_cap = nc;
    }
    s->reads[s->nreads].va = va;
    s->reads[s->nreads].rkey = rkey;
    s->reads[s->nreads].len = dmalen;
    s->reads[s->nreads].first = frame;
    s->reads[s->nreads].bytes = 0;
    s->reads[s->nreads].started = false;
    s->nreads++;
    if (dmalen == 0) {
      /* a zero-length READ has no data; it completes with one response */
    }
    break;
  case 0x0D: case 0x0E: case 0x0F: case 0x10: { /* READ Response */
    side *req = &c->s[1 - sd];
    if (req->nreads == 0) {
      dump_error(d, &src, "roce", "READ Response without a READ Request", psn);
      break;
    }
    rd_op *o = &req->reads[0];
    o->bytes += plen;
    o->started = true;
    if (op == 0x0F || op == 0x10) {
      rdma_record(d, c, 1 - sd, frame, "rdma_read", o->first, o->va, o->rkey,
                  o->len, o->bytes, true);
      memmove(&req->reads[0], &req->reads[1],
              (req->nreads - 1) * sizeof req->reads[0]);
      req->nreads--;
    }
    break;
  }
  default:
    (void)op_names;
    break; /* ACKs, atomics: not part of SMB Direct's data */
  }
}
