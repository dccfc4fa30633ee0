/* SPDX-License-Identifier: MIT */
/* TCP stream reassembly by sequence number (retransmits and overlaps
 * trimmed, out-of-order segments held up to a cap), then Direct TCP
 * framing with lib/tcp's framer, one per direction. Any port: a direction
 * is SMB when its stream starts with 00 xx xx xx {FE,FD,FC,FF} 'SMB' (or,
 * for a capture that starts mid-connection, from the first such point). */
#include <stdlib.h>
#include <string.h>

#include <smbx/tcp.h>

#include "dump.h"

#define OOO_MAX_BYTES ((size_t)32 << 20)
#define OOO_MAX_SEGS 8192u
#define SCAN_LIMIT ((uint64_t)4 << 20) /* give up finding SMB after 4 MiB */
#define BUCKETS 4096u

typedef struct seg {
  struct seg *next;
  uint32_t seq;
  uint32_t len;
  uint64_t frame;
  uint8_t data[];
} seg;

enum { H_PROBE, H_SCAN, H_FRAMING, H_IGNORED, H_DEAD };

typedef struct half {
  int state;
  bool have_isn, syn_seen, have_acked;
  uint32_t next_seq;
  uint32_t acked; /* highest ACK the peer sent for this direction */
  uint64_t delivered; /* stream bytes delivered in order */
  uint8_t probe[8];
  uint32_t probe_len;
  smbx_tcp_framer *fr;
  uint64_t pdu_first_frame;
  seg *ooo; /* sorted by seq (relative to next_seq) */
  size_t ooo_bytes;
  uint32_t ooo_n;
} half;

typedef struct conn {
  struct conn *next; /* bucket chain */
  struct conn *all;  /* every conn, for the final flush */
  uint8_t ip[2][16];
  uint16_t port[2];
  size_t alen;
  int server; /* index of the server side (0/1) */
  uint32_t id;
  bool retired;
  half h[2];
} conn;

struct tcp_table {
  conn *b[BUCKETS];
  conn *all;
  uint32_t next_id;
};

tcp_table *tcp_table_new(void)
{
  return calloc(1, sizeof(tcp_table));
}

static dump_src src_of(const conn *c, int side, uint64_t frame, uint64_t first)
{
  dump_src s = {frame, first, "tcp", c->id, side == c->server ? 1 : 0};
  return s;
}

static void free_ooo(half *h)
{
  seg *s = h->ooo;
  while (s) {
    seg *n = s->next;
    free(s);
    s = n;
  }
  h->ooo = NULL;
  h->ooo_bytes = 0;
  h->ooo_n = 0;
}

/* Reports what is left at the end of a connection. */
static void flush_conn(dump_ctx *d, conn *c, uint64_t frame)
{
  for (int i = 0; i < 2; i++) {
    half *h = &c->h[i];
    if (d && h->state == H_FRAMING && h->fr &&
        smbx_tcp_framer_pending(h->fr) > 0) {
      dump_src s = src_of(c, i, frame, h->pdu_first_frame);
      dump_error(d, &s, "tcp", "stream ended inside a PDU (truncated capture)",
                 h->delivered);
    }
    if (d && h->ooo) {
      dump_src s = src_of(c, i, frame, 0);
      dump_error(d, &s, "tcp", "segments missing before the end of the stream",
                 h->delivered);
    }
    free_ooo(h);
    smbx_tcp_framer_free(h->fr);
    h->fr = NULL;
  }
}

void tcp_table_free(dump_ctx *d, tcp_table *t)
{
  if (!t)
    return;
  conn *c = t->all;
  while (c) {
    conn *n = c->all;
    if (!c->retired)
      flush_conn(d, c, 0);
    free(c);
    c = n;
  }
  free(t);
}

static bool smb_magic(const uint8_t *p)
{
  return (p[0] == 0xFE || p[0] == 0xFD || p[0] == 0xFC || p[0] == 0xFF) &&
         p[1] == 'S' && p[2] == 'M' && p[3] == 'B';
}

static void feed_framer(dump_ctx *d, conn *c, int side, uint64_t frame,
                        const uint8_t *p, size_t len)
{
  half *h = &c->h[side];
  if (!h->fr && smbx_tcp_framer_new(&h->fr, SMBX_TCP_MAX_FRAME, NULL) != 0) {
    h->state = H_DEAD;
    return;
  }
  while (len > 0) {
    if (smbx_tcp_framer_pending(h->fr) == 0)
      h->pdu_first_frame = frame;
    smbx_tcp_pdu pdu;
    size_t used = 0;
    int rc = smbx_tcp_framer_feed(h->fr, p, len, &used, &pdu);
    p += used;
    len -= used;
    h->delivered += used;
    if (rc == 1) {
      dump_src s = src_of(c, side, frame, h->pdu_first_frame);
      dump_smb2_message(d, &s, pdu.data, pdu.len, NULL);
    } else if (rc < 0) {
      smbx_error_detail det = {0};
      smbx_tcp_framer_error_detail(h->fr, &det);
      dump_src s = src_of(c, side, frame, 0);
      dump_error(d, &s, "tcp",
                 det.reason ? det.reason : smbx_strerror(rc),
                 det.reason ? det.offset : h->delivered);
      h->state = H_DEAD; /* the stream is out of step: stop here */
      return;
    } else {
      break;
    }
  }
}

/* In-order bytes of one direction. */
static void deliver(dump_ctx *d, conn *c, int side, uint64_t frame,
                    const uint8_t *p, size_t len)
{
  half *h = &c->h[side];
  if (h->state == H_PROBE) {
    /* the first 8 bytes decide whether this direction carries SMB */
    size_t take = 8 - h->probe_len;
    if (take > len)
      take = len;
    memcpy(h->probe + h->probe_len, p, take);
    h->probe_len += (uint32_t)take;
    p += take;
    len -= take;
    if (h->probe_len > 0 && h->probe[0] != 0) {
      h->state = H_IGNORED;
      return;
    }
    if (h->probe_len < 8)
      return;
    if (!smb_magic(h->probe + 4)) {
      h->state = H_IGNORED;
      return;
    }
    h->state = H_FRAMING;
    feed_framer(d, c, side, frame, h->probe, 8);
  } else if (h->state == H_SCAN) {
    /* mid-connection start: skip to the first plausible Direct TCP prefix
     * of an SMB message (the prefix and magic must sit in one segment) */
    size_t i = 0;
    bool found = false;
    for (; len >= 8 && i <= len - 8; i++)
      if (p[i] == 0 && smb_magic(p + i + 4) && be24(p + i + 1) >= 4) {
        found = true;
        break;
      }
    if (!found) {
      h->delivered += len;
      if (h->delivered > SCAN_LIMIT)
        h->state = H_IGNORED;
      return;
    }
    h->delivered += i;
    p += i;
    len -= i;
    h->state = H_FRAMING;
  }
  if (h->state == H_FRAMING && len > 0)
    feed_framer(d, c, side, frame, p, len);
}

static void drain(dump_ctx *d, conn *c, int side)
{
  half *h = &c->h[side];
  while (h->ooo) {
    seg *s = h->ooo;
    int32_t rel = (int32_t)(s->seq - h->next_seq);
    if (rel > 0)
      return;
    h->ooo = s->next;
    h->ooo_bytes -= s->len;
    h->ooo_n--;
    uint32_t skip = h->next_seq - s->seq; /* rel <= 0: bytes already seen */
    if (skip < s->len) {
      h->next_seq += s->len - skip;
      deliver(d, c, side, s->frame, s->data + skip, s->len - skip);
    }
    free(s);
  }
}

/* Bytes before the first held segment will never come (the capture lost
 * them, or the cap was hit): report the gap and resynchronise after it. */
static void skip_gap(dump_ctx *d, conn *c, int side, uint64_t frame)
{
  half *h = &c->h[side];
  uint32_t gap = h->ooo->seq - h->next_seq;
  dump_src src = src_of(c, side, frame, 0);
  dump_error(d, &src, "tcp",
             "segments missing from the capture: skipped a gap (offset = "
             "bytes skipped)",
             (uint64_t)gap);
  smbx_tcp_framer_free(h->fr);
  h->fr = NULL;
  if (h->state == H_FRAMING || h->state == H_PROBE)
    h->state = H_SCAN;
  h->delivered += gap;
  h->next_seq = h->ooo->seq;
  drain(d, c, side);
}

/* The peer acknowledged bytes this capture never showed. */
static bool acked_unseen(const half *h)
{
  return h->have_isn && h->have_acked &&
         (int32_t)(h->acked - h->next_seq) > 0;
}

static void hold(dump_ctx *d, conn *c, int side, uint64_t frame, uint32_t seq,
                 const uint8_t *p, size_t len)
{
  half *h = &c->h[side];
  if (h->state == H_IGNORED || h->state == H_DEAD)
    return;
  seg *s = malloc(sizeof *s + len);
  if (!s)
    return;
  s->seq = seq;
  s->len = (uint32_t)len;
  s->frame = frame;
  memcpy(s->data, p, len);
  seg **pp = &h->ooo;
  while (*pp && (int32_t)((*pp)->seq - seq) <= 0)
    pp = &(*pp)->next;
  s->next = *pp;
  *pp = s;
  h->ooo_bytes += len;
  h->ooo_n++;
  while (h->ooo && (h->ooo_bytes > OOO_MAX_BYTES || h->ooo_n > OOO_MAX_SEGS ||
                    acked_unseen(h)))
    skip_gap(d, c, side, frame);
}

static uint32_t hash_key(const uint8_t *a, const uint8_t *b, size_t alen,
                         uint16_t pa, uint16_t pb)
{
  uint32_t x = 2166136261u;
  for (size_t i = 0; i < alen; i++)
    x = (x ^ (uint32_t)(a[i] ^ b[i])) * 16777619u;
  x = (x ^ (uint32_t)(pa ^ pb)) * 16777619u;
  return x % BUCKETS;
}

static conn *find(tcp_table *t, const uint8_t *sip, const uint8_t *dip,
                  size_t alen, uint16_t sp, uint16_t dp, uint32_t hk,
                  int *side)
{
  for (conn *c = t->b[hk]; c; c = c->next) {
    if (c->alen != alen)
      continue;
    for (int i = 0; i < 2; i++)
      if (c->port[i] == sp && c->port[1 - i] == dp &&
          memcmp(c->ip[i], sip, alen) == 0 &&
          memcmp(c->ip[1 - i], dip, alen) == 0) {
        *side = i;
        return c;
      }
  }
  return NULL;
}

void tcp_segment(dump_ctx *d, tcp_table *t, uint64_t frame,
                 const uint8_t *sip, const uint8_t *dip, size_t alen,
                 const uint8_t *tcp, size_t hl, size_t paylen)
{
  uint16_t sp = be16(tcp), dp = be16(tcp + 2);
  uint32_t seq = be32(tcp + 4);
  uint8_t fl = tcp[13];
  bool syn = fl & 0x02, ack = fl & 0x10, rst = fl & 0x04;
  const uint8_t *pay = tcp + hl;
  uint32_t hk = hash_key(sip, dip, alen, sp, dp);
  int side = 0;
  conn *c = find(t, sip, dip, alen, sp, dp, hk, &side);
  if (c && syn && !ack &&
      (c->h[0].delivered || c->h[1].delivered || c->h[0].probe_len ||
       c->h[1].probe_len)) {
    /* a new connection reusing the ports: retire the old one */
    flush_conn(d, c, frame);
    c->retired = true;
    conn **pp = &t->b[hk];
    while (*pp != c)
      pp = &(*pp)->next;
    *pp = c->next;
    c = NULL;
  }
  if (!c) {
    if (rst || (paylen == 0 && !syn))
      return; /* nothing to follow yet */
    c = calloc(1, sizeof *c);
    if (!c)
      return;
    c->alen = alen;
    memcpy(c->ip[0], sip, alen);
    memcpy(c->ip[1], dip, alen);
    c->port[0] = sp;
    c->port[1] = dp;
    side = 0;
    if (syn)
      c->server = ack ? 0 : 1;
    else if (dp == 445 || dp == 139)
      c->server = 1;
    else if (sp == 445 || sp == 139)
      c->server = 0;
    else
      c->server = dp < sp ? 1 : 0;
    c->id = t->next_id++;
    for (int i = 0; i < 2; i++)
      c->h[i].state = H_SCAN;
    c->next = t->b[hk];
    t->b[hk] = c;
    c->all = t->all;
    t->all = c;
  }
  half *h = &c->h[side];
  if (ack) {
    /* the ACK number covers the other direction's bytes */
    half *o = &c->h[1 - side];
    uint32_t an = be32(tcp + 8);
    if (!o->have_acked || (int32_t)(an - o->acked) > 0) {
      o->acked = an;
      o->have_acked = true;
    }
    while (o->ooo && acked_unseen(o))
      skip_gap(d, c, 1 - side, frame);
  }
  if (syn) {
    if (!h->have_isn || h->delivered == 0) {
      h->next_seq = seq + 1;
      h->have_isn = true;
      h->syn_seen = true;
      if (h->state == H_SCAN && h->delivered == 0)
        h->state = H_PROBE;
    }
    return; /* data on SYN is not followed */
  }
  if (paylen == 0)
    return;
  if (!h->have_isn) {
    h->next_seq = seq;
    h->have_isn = true;
  }
  if (h->state == H_IGNORED || h->state == H_DEAD)
    return;
  int32_t rel = (int32_t)(seq - h->next_seq);
  if (rel > 0) {
    hold(d, c, side, frame, seq, pay, paylen);
    return;
  }
  uint32_t skip = h->next_seq - seq; /* rel <= 0: bytes already seen */
  if (skip >= paylen)
    return; /* retransmission of bytes already seen */
  h->next_seq += (uint32_t)(paylen - skip);
  deliver(d, c, side, frame, pay + skip, paylen - skip);
  drain(d, c, side);
}

/* ---- raw Direct-TCP byte stream (--tcp-stream) ---- */
int dump_tcp_stream(dump_ctx *d, const uint8_t *data, size_t len)
{
  smbx_tcp_framer *fr = NULL;
  if (smbx_tcp_framer_new(&fr, SMBX_TCP_MAX_FRAME, NULL) != 0)
    return -1;
  uint64_t n = 0;
  size_t off = 0;
  while (off < len) {
    smbx_tcp_pdu pdu;
    size_t used = 0;
    int rc = smbx_tcp_framer_feed(fr, data + off, len - off, &used, &pdu);
    off += used;
    if (rc == 1) {
      n++;
      /* "frame" counts messages in a raw stream; direction from flags */
      dump_src s = {n, 0, "stream", 0, -1};
      if (pdu.len >= 20 && pdu.data[0] == 0xFE)
        s.dir = (le32(pdu.data + 16) & 1) ? 1 : 0;
      dump_smb2_message(d, &s, pdu.data, pdu.len, NULL);
    } else if (rc < 0) {
      smbx_error_detail det = {0};
      smbx_tcp_framer_error_detail(fr, &det);
      dump_src s = {n + 1, 0, "stream", 0, -1};
      dump_error(d, &s, "tcp", det.reason ? det.reason : smbx_strerror(rc),
                 det.reason ? det.offset : off);
      smbx_tcp_framer_free(fr);
      return 0;
    } else {
      break;
    }
  }
  if (smbx_tcp_framer_pending(fr) > 0) {
    dump_src s = {n + 1, 0, "stream", 0, -1};
    dump_error(d, &s, "tcp", "stream ended inside a PDU", len);
  }
  smbx_tcp_framer_free(fr);
  return 0;
}
