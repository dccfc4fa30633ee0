/* SPDX-License-Identifier: MIT */
/* The dump context, record emission, and the packet layer: link types,
 * IPv4/IPv6, then TCP (any port) or UDP 4791 (RoCEv2). */
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "dump.h"

#define CLASS_SLOTS 4096u

typedef struct class_slot {
  uint64_t key;
  uint64_t msg_id;
  int cls; /* 0 = empty slot (class 0 is not a directory class) */
} class_slot;

struct dump_ctx {
  class_slot classes[CLASS_SLOTS];
  dump_opts o;
  jw w;
  dump_stats st;
  tcp_table *tcp;
  roce_state *roce;
};

dump_ctx *dump_new(const dump_opts *o)
{
  dump_ctx *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->o = *o;
  jw_init(&d->w);
  d->tcp = tcp_table_new();
  d->roce = roce_new();
  if (!d->tcp || !d->roce) {
    tcp_table_free(NULL, d->tcp);
    roce_free(NULL, d->roce);
    free(d);
    return NULL;
  }
  return d;
}

void dump_finish(dump_ctx *d, dump_stats *st)
{
  if (!d)
    return;
  tcp_table_free(d, d->tcp);
  roce_free(d, d->roce);
  if (st)
    *st = d->st;
  jw_free(&d->w);
  if (d->o.out)
    fflush(d->o.out);
  free(d);
}

jw *dump_jw(dump_ctx *d)
{
  jw_reset(&d->w);
  return &d->w;
}

roce_state *dump_roce(dump_ctx *d)
{
  return d->roce;
}

tcp_table *dump_tcp(dump_ctx *d)
{
  return d->tcp;
}

static uint64_t class_key(const dump_src *src)
{
  return (uint64_t)src->conn << 8 | (uint64_t)(uint8_t)src->transport[0];
}

void dump_remember_class(dump_ctx *d, const dump_src *src, uint64_t msg_id,
                         uint8_t cls)
{
  uint64_t k = class_key(src);
  class_slot *s = &d->classes[(k * 31 + msg_id) % CLASS_SLOTS];
  s->key = k;
  s->msg_id = msg_id;
  s->cls = cls;
}

int dump_lookup_class(dump_ctx *d, const dump_src *src, uint64_t msg_id)
{
  uint64_t k = class_key(src);
  const class_slot *s = &d->classes[(k * 31 + msg_id) % CLASS_SLOTS];
  if (s->cls && s->key == k && s->msg_id == msg_id)
    return s->cls;
  return -1;
}

void dump_src_fields(jw *w, const dump_src *src)
{
  jw_u64(w, "frame", src->frame);
  if (src->first_frame && src->first_frame != src->frame)
    jw_u64(w, "first_frame", src->first_frame);
  jw_str(w, "transport", src->transport);
  jw_u64(w, "conn", src->conn);
  jw_str(w, "direction", src->dir == 0   ? "c2s"
                         : src->dir == 1 ? "s2c"
                                         : "unknown");
}

void dump_emit(dump_ctx *d, jw *w, int kind)
{
  switch (kind) {
  case DUMP_K_SMB2:
    d->st.smb2++;
    break;
  case DUMP_K_SMBD:
    d->st.smbd++;
    break;
  case DUMP_K_RDMA:
    d->st.rdma++;
    break;
  case DUMP_K_ERROR:
    d->st.errors++;
    break;
  default:
    break;
  }
  if (w->oom || !d->o.out)
    return;
  fwrite(w->buf, 1, w->len, d->o.out);
  fputc('\n', d->o.out);
}

void dump_error(dump_ctx *d, const dump_src *src, const char *what,
                const char *reason, uint64_t offset)
{
  jw *w = dump_jw(d);
  jw_obj(w, NULL);
  jw_str(w, "type", "error");
  dump_src_fields(w, src);
  jw_str(w, "layer", what);
  jw_str(w, "reason", reason ? reason : "unknown");
  jw_u64(w, "offset", offset);
  jw_end_obj(w);
  dump_emit(d, w, DUMP_K_ERROR);
}

static void ip_payload(dump_ctx *d, uint64_t frame, int proto,
                       const uint8_t *sip, const uint8_t *dip, size_t alen,
                       const uint8_t *p, size_t len)
{
  if (proto == 6) {
    if (len < 20)
      return;
    size_t hl = (size_t)(p[12] >> 4) * 4;
    if (hl < 20 || hl > len)
      return;
    tcp_segment(d, d->tcp, frame, sip, dip, alen, p, hl, len - hl);
  } else if (proto == 17) {
    if (len < 8)
      return;
    uint16_t dport = be16(p + 2);
    size_t ulen = be16(p + 4);
    if (ulen < 8 || ulen > len)
      ulen = len; /* 0 = jumbogram (RFC 2675); trust the IP length */
    if (dport == 4791)
      roce_packet(d, d->roce, frame, sip, dip, alen, p + 8, ulen - 8);
  }
}

static void ipv4(dump_ctx *d, uint64_t frame, const uint8_t *p, size_t len)
{
  if (len < 20 || (p[0] >> 4) != 4)
    return;
  size_t ihl = (size_t)(p[0] & 15) * 4;
  size_t tot = be16(p + 2);
  if (tot == 0 || tot > len)
    tot = len; /* TSO captures carry 0; a cut packet is trimmed */
  if (ihl < 20 || ihl > tot)
    return;
  uint16_t frag = be16(p + 6);
  if ((frag & 0x1FFF) != 0 || (frag & 0x2000) != 0)
    return; /* IP fragments are not reassembled */
  ip_payload(d, frame, p[9], p + 12, p + 16, 4, p + ihl, tot - ihl);
}

static void ipv6(dump_ctx *d, uint64_t frame, const uint8_t *p, size_t len)
{
  if (len < 40 || (p[0] >> 4) != 6)
    return;
  size_t plen = be16(p + 4);
  if (plen == 0 || plen > len - 40)
    plen = len - 40; /* 0 = jumbogram */
  int nh = p[6];
  const uint8_t *q = p + 40;
  size_t left = plen;
  for (int i = 0; i < 8; i++) {
    if (nh == 0 || nh == 43 || nh == 60) {
      if (left < 8)
        return;
      size_t el = ((size_t)q[1] + 1) * 8;
      if (el > left)
        return;
      nh = q[0];
      q += el;
      left -= el;
    } else if (nh == 44) {
      return; /* fragments are not reassembled */
    } else {
      break;
    }
  }
  ip_payload(d, frame, nh, p + 8, p + 24, 16, q, left);
}

static void ethertype(dump_ctx *d, uint64_t frame, uint16_t et,
                      const uint8_t *p, size_t len)
{
  if (et == 0x0800)
    ipv4(d, frame, p, len);
  else if (et == 0x86DD)
    ipv6(d, frame, p, len);
}

void dump_packet(dump_ctx *d, uint64_t frame, uint32_t linktype,
                 const uint8_t *p, size_t len)
{
  d->st.frames++;
  switch (linktype) {
  case 1: { /* Ethernet, optional VLAN tags */
    if (len < 14)
      return;
    size_t off = 12;
    uint16_t et = be16(p + off);
    while ((et == 0x8100 || et == 0x88A8) && len - off >= 6) {
      off += 4;
      et = be16(p + off);
    }
    off += 2;
    if (off > len)
      return;
    ethertype(d, frame, et, p + off, len - off);
    break;
  }
  case 0:   /* BSD loopback, host-order family */
  case 108: /* OpenBSD loopback, network order */
  {
    if (len < 4)
      return;
    uint32_t af = linktype == 0 ? le32(p) : be32(p);
    if (af > 0xFFFF)
      af = be32(p);
    if (af == 2)
      ipv4(d, frame, p + 4, len - 4);
    else if (af == 10 || af == 24 || af == 28 || af == 30)
      ipv6(d, frame, p + 4, len - 4);
    break;
  }
  case 101: /* raw IP */
  case 12:
  case 14:
    if (len >= 1 && (p[0] >> 4) == 4)
      ipv4(d, frame, p, len);
    else if (len >= 1 && (p[0] >> 4) == 6)
      ipv6(d, frame, p, len);
    break;
  case 113: /* Linux cooked v1 */
    if (len >= 16)
      ethertype(d, frame, be16(p + 14), p + 16, len - 16);
    break;
  case 276: /* Linux cooked v2 */
    if (len >= 20)
      ethertype(d, frame, be16(p), p + 20, len - 20);
    break;
  default:
    break;
  }
}
