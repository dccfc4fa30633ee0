/* SPDX-License-Identifier: MIT */
/* pcapw: classic pcap writer for Direct-TCP and SMB Direct over RoCEv2 test
 * captures. Test tooling, not part of libsmbx: plain stdio and malloc.
 *
 * Layouts used here (all network headers big-endian):
 *   pcap:     global header 24 bytes, record header 16 bytes (written
 *             little-endian, magic 0xa1b2c3d4, microsecond timestamps)
 *   Ethernet: dst MAC, src MAC, EtherType 0x0800
 *   IPv4:     RFC 791, 20 bytes, DF, TTL 64, header checksum RFC 1071
 *   TCP:      RFC 9293, 20 bytes (SYNs add MSS + window scale options,
 *             RFC 7323), checksum over the IPv4 pseudo-header
 *   UDP:      RFC 768, dst port 4791 (RoCEv2, IBA Annex A17), checksum 0
 *   BTH:      IBA vol. 1 9.2: opcode, SE|M|PadCnt|TVer, P_Key, resv8,
 *             DestQP(24), A|resv7, PSN(24)
 *   RETH:     VA u64, R_Key u32, DMA length u32 (9.3.3)
 *   AETH:     syndrome u8, MSN u24 (9.3.5)
 *   IETH:     R_Key u32 (9.3.7)
 *   ICRC:     CRC-32 over the masked packet (IBA Annex A17.3.3)
 */
#include "pcapw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  ETH_HLEN = 14,
  IP_HLEN = 20,
  TCP_HLEN = 20,
  TCP_SYN_OPT_LEN = 8, /* MSS (4) + NOP (1) + window scale (3) */
  UDP_HLEN = 8,
  BTH_LEN = 12,
  RETH_LEN = 16,
  AETH_LEN = 4,
  IETH_LEN = 4,
  ICRC_LEN = 4,
  IP_MAX = 65535,
  FRAME_MAX = ETH_HLEN + IP_MAX,
  TCP_WSCALE = 14, /* advertised window 65535 << 14: tshark never sees a full window */
  AETH_ACK_NO_CREDIT = 0x1F, /* syndrome: ACK, credit count "invalid" (no flow control) */
};

#define TCP_FIN 0x01u
#define TCP_SYN 0x02u
#define TCP_PSH 0x08u
#define TCP_ACK 0x10u

static const uint8_t mac_client[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t mac_server[6] = {0x02, 0, 0, 0, 0, 0x02};
/* initial sequence numbers per direction (arbitrary, fixed for reproducibility) */
static const uint32_t tcp_isn[2] = {0x00010000u, 0x00200000u};

struct pcapw {
  FILE *f;
  pcapw_opts o;
  int io_error;        /* sticky */
  int tcp_state;       /* 0 = not started, 1 = established */
  uint32_t tcp_next[2];/* next sequence number to send, per direction */
  uint32_t psn[2];     /* next request PSN per sending side */
  uint32_t msn[2];     /* messages completed by the responder on side d */
  uint32_t qp_step;    /* added to both QPNs: 0 for the first RC connection */
  uint16_t ip_id;
  uint64_t frames;
  uint8_t frame[FRAME_MAX];
};

/* ------------------------------------------------------------ byte helpers */

static void put_be16(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put_be24(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 16);
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
  put_be32(p, (uint32_t)(v >> 32));
  put_be32(p + 4, (uint32_t)v);
}

static void put_le16(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_be16(const uint8_t *p)
{
  return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get_be24(const uint8_t *p)
{
  return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t get_be32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t get_le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------ pure helpers */

uint32_t pcapw_inet_sum(uint32_t sum, const void *data, size_t len)
{
  const uint8_t *p = data;
  uint64_t s = sum;
  size_t i = 0;
  for (; i + 1 < len; i += 2)
    s += (uint32_t)p[i] << 8 | p[i + 1];
  if (i < len)
    s += (uint32_t)p[i] << 8;
  while (s >> 32)
    s = (s & 0xFFFFFFFFu) + (s >> 32);
  return (uint32_t)s;
}

uint16_t pcapw_inet_checksum(uint32_t sum, const void *data, size_t len)
{
  uint32_t s = pcapw_inet_sum(sum, data, len);
  while (s >> 16)
    s = (s & 0xFFFFu) + (s >> 16);
  return (uint16_t)(~s & 0xFFFFu);
}

/* CRC-32 remainders of the 16 nibble values (reflected polynomial
 * 0xEDB88320), two lookups per byte; constant, so no init and no races. */
static const uint32_t crc_nibble[16] = {
  0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
  0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
  0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t pcapw_crc32(uint32_t crc, const void *data, size_t len)
{
  const uint8_t *p = data;
  uint32_t c = ~crc;
  for (size_t i = 0; i < len; i++) {
    c ^= p[i];
    c = crc_nibble[c & 0x0Fu] ^ (c >> 4);
    c = crc_nibble[c & 0x0Fu] ^ (c >> 4);
  }
  return ~c;
}

uint32_t pcapw_roce_icrc(const uint8_t *ip, size_t len, int *ok)
{
  static const uint8_t lrh_mask[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  uint8_t hdr[60 + UDP_HLEN + BTH_LEN];
  if (ok)
    *ok = 0;
  if (len < IP_HLEN)
    return 0;
  size_t ihl = (size_t)(ip[0] & 0x0Fu) * 4;
  if ((ip[0] >> 4) != 4 || ihl < IP_HLEN || len < ihl + UDP_HLEN + BTH_LEN)
    return 0;
  size_t hlen = ihl + UDP_HLEN + BTH_LEN;
  memcpy(hdr, ip, hlen);
  hdr[1] = 0xFF;                     /* TOS (DSCP + ECN) */
  hdr[8] = 0xFF;                     /* TTL */
  hdr[10] = 0xFF;                    /* header checksum */
  hdr[11] = 0xFF;
  hdr[ihl + 6] = 0xFF;               /* UDP checksum */
  hdr[ihl + 7] = 0xFF;
  hdr[ihl + UDP_HLEN + 4] = 0xFF;    /* BTH resv8a (FECN/BECN/reserved) */
  uint32_t crc = pcapw_crc32(0, lrh_mask, sizeof lrh_mask);
  crc = pcapw_crc32(crc, hdr, hlen);
  crc = pcapw_crc32(crc, ip + hlen, len - hlen);
  if (ok)
    *ok = 1;
  return crc;
}

void pcapw_bth_encode(uint8_t out[12], const pcapw_bth *b)
{
  out[0] = b->opcode;
  out[1] = (uint8_t)((b->se & 1u) << 7 | (b->migreq & 1u) << 6 | (b->pad & 3u) << 4 |
                     (b->tver & 0x0Fu));
  put_be16(out + 2, b->pkey);
  out[4] = 0;
  put_be24(out + 5, b->dest_qp & 0xFFFFFFu);
  out[8] = (uint8_t)((b->ackreq & 1u) << 7);
  put_be24(out + 9, b->psn & 0xFFFFFFu);
}

int pcapw_bth_decode(const uint8_t *p, size_t len, pcapw_bth *b)
{
  if (len < BTH_LEN)
    return -1;
  b->opcode = p[0];
  b->se = (uint8_t)(p[1] >> 7);
  b->migreq = (uint8_t)((p[1] >> 6) & 1u);
  b->pad = (uint8_t)((p[1] >> 4) & 3u);
  b->tver = (uint8_t)(p[1] & 0x0Fu);
  b->pkey = (uint16_t)get_be16(p + 2);
  b->dest_qp = get_be24(p + 5);
  b->ackreq = (uint8_t)(p[8] >> 7);
  b->psn = get_be24(p + 9);
  return 0;
}

size_t pcapw_segment_count(size_t len, uint32_t unit, int empty_is_one)
{
  if (unit == 0)
    return 0;
  if (len == 0)
    return empty_is_one ? 1 : 0;
  return (len - 1) / unit + 1;
}

/* ------------------------------------------------------------ writer */

pcapw *pcapw_open(const char *path, const pcapw_opts *opts)
{
  pcapw_opts o = {PCAPW_DEFAULT_MTU, PCAPW_DEFAULT_MSS, PCAPW_DEFAULT_TCP_PORT};
  if (opts) {
    if (opts->mtu)
      o.mtu = opts->mtu;
    if (opts->mss)
      o.mss = opts->mss;
    if (opts->tcp_port)
      o.tcp_port = opts->tcp_port;
  }
  if (!path || o.mtu > 65536u || o.mss > IP_MAX - IP_HLEN - TCP_HLEN)
    return NULL;
  pcapw *w = calloc(1, sizeof *w);
  if (!w)
    return NULL;
  w->o = o;
  w->ip_id = 1;
  w->f = fopen(path, "wb");
  if (!w->f) {
    free(w);
    return NULL;
  }
  uint8_t gh[24];
  put_le32(gh, 0xA1B2C3D4u); /* microsecond timestamps */
  put_le16(gh + 4, 2);       /* version 2.4 */
  put_le16(gh + 6, 4);
  put_le32(gh + 8, 0);       /* thiszone */
  put_le32(gh + 12, 0);      /* sigfigs */
  put_le32(gh + 16, PCAPW_SNAPLEN);
  put_le32(gh + 20, 1);      /* LINKTYPE_ETHERNET */
  if (fwrite(gh, 1, sizeof gh, w->f) != sizeof gh)
    w->io_error = 1;
  return w;
}

uint64_t pcapw_frame_count(const pcapw *w)
{
  return w ? w->frames : 0;
}

/* Fill the Ethernet and IPv4 headers for an IP payload of l4_len bytes
 * (placed at frame + ETH_HLEN + IP_HLEN); returns the frame length. */
static size_t fill_ip(pcapw *w, int dir, uint8_t proto, size_t l4_len)
{
  uint8_t *f = w->frame;
  size_t ip_len = IP_HLEN + l4_len;
  memcpy(f, dir == 0 ? mac_server : mac_client, 6);
  memcpy(f + 6, dir == 0 ? mac_client : mac_server, 6);
  put_be16(f + 12, 0x0800);
  uint8_t *ip = f + ETH_HLEN;
  ip[0] = 0x45;
  ip[1] = 0;
  put_be16(ip + 2, (uint32_t)ip_len);
  put_be16(ip + 4, w->ip_id);
  put_be16(ip + 6, 0x4000); /* DF */
  ip[8] = 64;
  ip[9] = proto;
  put_be16(ip + 10, 0);
  put_be32(ip + 12, dir == 0 ? PCAPW_CLIENT_IP : PCAPW_SERVER_IP);
  put_be32(ip + 16, dir == 0 ? PCAPW_SERVER_IP : PCAPW_CLIENT_IP);
  put_be16(ip + 10, pcapw_inet_checksum(0, ip, IP_HLEN));
  w->ip_id = (uint16_t)(w->ip_id + 1);
  return ETH_HLEN + ip_len;
}

/* One pcap record: the frame's timestamp is its index in microseconds. */
static int write_frame(pcapw *w, size_t flen)
{
  uint8_t rh[16];
  put_le32(rh, (uint32_t)(PCAPW_TS_START + w->frames / 1000000u));
  put_le32(rh + 4, (uint32_t)(w->frames % 1000000u));
  put_le32(rh + 8, (uint32_t)flen);
  put_le32(rh + 12, (uint32_t)flen);
  w->frames++;
  if (fwrite(rh, 1, sizeof rh, w->f) != sizeof rh || fwrite(w->frame, 1, flen, w->f) != flen)
    w->io_error = 1;
  return w->io_error ? -1 : 0;
}

/* ---- TCP */

static int tcp_segment(pcapw *w, int dir, uint32_t flags, const uint8_t *data, size_t len)
{
  uint8_t *t = w->frame + ETH_HLEN + IP_HLEN;
  size_t hlen = TCP_HLEN + ((flags & TCP_SYN) ? TCP_SYN_OPT_LEN : 0);
  uint16_t sport = (uint16_t)(dir == 0 ? PCAPW_CLIENT_TCP_PORT : w->o.tcp_port);
  uint16_t dport = (uint16_t)(dir == 0 ? w->o.tcp_port : PCAPW_CLIENT_TCP_PORT);
  put_be16(t, sport);
  put_be16(t + 2, dport);
  put_be32(t + 4, w->tcp_next[dir]);
  put_be32(t + 8, (flags & TCP_ACK) ? w->tcp_next[1 - dir] : 0);
  t[12] = (uint8_t)((hlen / 4) << 4);
  t[13] = (uint8_t)flags;
  put_be16(t + 14, 0xFFFF); /* window (scaled by 2^14 after the handshake) */
  put_be16(t + 16, 0);      /* checksum, below */
  put_be16(t + 18, 0);      /* urgent pointer */
  if (flags & TCP_SYN) {
    t[20] = 2; /* MSS */
    t[21] = 4;
    put_be16(t + 22, w->o.mss);
    t[24] = 1; /* NOP */
    t[25] = 3; /* window scale */
    t[26] = 3;
    t[27] = TCP_WSCALE;
  }
  if (len)
    memcpy(t + hlen, data, len);
  size_t l4 = hlen + len;
  uint8_t ph[12];
  put_be32(ph, dir == 0 ? PCAPW_CLIENT_IP : PCAPW_SERVER_IP);
  put_be32(ph + 4, dir == 0 ? PCAPW_SERVER_IP : PCAPW_CLIENT_IP);
  ph[8] = 0;
  ph[9] = 6;
  put_be16(ph + 10, (uint32_t)l4);
  put_be16(t + 16, pcapw_inet_checksum(pcapw_inet_sum(0, ph, sizeof ph), t, l4));
  w->tcp_next[dir] += (uint32_t)len + ((flags & (TCP_SYN | TCP_FIN)) ? 1u : 0u);
  return write_frame(w, fill_ip(w, dir, 6, l4));
}

static int tcp_start(pcapw *w)
{
  if (w->tcp_state)
    return 0;
  w->tcp_next[0] = tcp_isn[0];
  w->tcp_next[1] = tcp_isn[1];
  w->tcp_state = 1;
  if (tcp_segment(w, 0, TCP_SYN, NULL, 0) || tcp_segment(w, 1, TCP_SYN | TCP_ACK, NULL, 0) ||
      tcp_segment(w, 0, TCP_ACK, NULL, 0))
    return -1;
  return 0;
}

int pcapw_tcp(pcapw *w, int dir, const void *bytes, size_t len)
{
  if (!w || (dir != 0 && dir != 1) || (len && !bytes))
    return -1;
  if (w->io_error)
    return -1;
  if (len == 0)
    return 0;
  if (tcp_start(w))
    return -1;
  const uint8_t *p = bytes;
  for (size_t off = 0; off < len;) {
    size_t n = len - off < w->o.mss ? len - off : w->o.mss;
    uint32_t fl = TCP_ACK | (off + n == len ? TCP_PSH : 0u);
    if (tcp_segment(w, dir, fl, p + off, n))
      return -1;
    off += n;
  }
  return 0;
}

/* ---- RoCEv2 */

/* One RC packet from side `dir`: BTH + ext + payload + pad + ICRC. */
static int roce_packet(pcapw *w, int dir, uint8_t opcode, int ackreq, uint32_t psn,
                       const uint8_t *ext, size_t ext_len, const uint8_t *data, size_t len)
{
  size_t body = ext_len + len;
  size_t pad = (4 - body % 4) % 4;
  size_t l4 = UDP_HLEN + BTH_LEN + body + pad + ICRC_LEN;
  if (IP_HLEN + l4 > IP_MAX)
    return -1;
  uint8_t *u = w->frame + ETH_HLEN + IP_HLEN;
  uint32_t src_qp = (dir == 0 ? PCAPW_CLIENT_QPN : PCAPW_SERVER_QPN) + w->qp_step;
  put_be16(u, 0xC000u | (src_qp & 0x3FFFu)); /* source port: flow entropy from the QP */
  put_be16(u + 2, PCAPW_ROCE_UDP_PORT);
  put_be16(u + 4, (uint32_t)l4);
  put_be16(u + 6, 0); /* no UDP checksum (IPv4) */
  pcapw_bth b = {
    .opcode = opcode,
    .pad = (uint8_t)pad,
    .pkey = 0xFFFF,
    .dest_qp = ((dir == 0 ? PCAPW_SERVER_QPN : PCAPW_CLIENT_QPN) + w->qp_step) & 0xFFFFFFu,
    .ackreq = (uint8_t)(ackreq ? 1 : 0),
    .psn = psn & 0xFFFFFFu,
  };
  uint8_t *p = u + UDP_HLEN;
  pcapw_bth_encode(p, &b);
  p += BTH_LEN;
  if (ext_len)
    memcpy(p, ext, ext_len);
  p += ext_len;
  if (len)
    memcpy(p, data, len);
  p += len;
  memset(p, 0, pad);
  p += pad;
  /* the ICRC covers the (masked) IPv4 header, so fill it first */
  size_t flen = fill_ip(w, dir, 17, l4);
  uint32_t icrc = pcapw_roce_icrc(w->frame + ETH_HLEN, IP_HLEN + l4 - ICRC_LEN, NULL);
  put_le32(p, icrc);
  return write_frame(w, flen);
}

static int roce_fits(size_t ext_len, size_t chunk)
{
  return IP_HLEN + UDP_HLEN + BTH_LEN + ext_len + chunk + 3 + ICRC_LEN <= IP_MAX;
}

static int check_common(const pcapw *w, int dir, const void *p, size_t len)
{
  if (!w || (dir != 0 && dir != 1) || (len && !p) || w->io_error)
    return -1;
  return 0;
}

static int send_msg(pcapw *w, int dir, int inv, uint32_t rkey, const void *msg, size_t len)
{
  if (check_common(w, dir, msg, len))
    return -1;
  size_t chunk = len < w->o.mtu ? len : w->o.mtu;
  if (!roce_fits(inv ? IETH_LEN : 0, chunk))
    return -1;
  uint8_t ieth[IETH_LEN];
  put_be32(ieth, rkey);
  const uint8_t *p = msg;
  size_t n = pcapw_segment_count(len, w->o.mtu, 1);
  for (size_t i = 0; i < n; i++) {
    size_t off = i * w->o.mtu;
    size_t c = len - off < w->o.mtu ? len - off : w->o.mtu;
    int last = i + 1 == n;
    uint8_t op;
    if (n == 1)
      op = inv ? PCAPW_OP_SEND_ONLY_INV : PCAPW_OP_SEND_ONLY;
    else if (i == 0)
      op = PCAPW_OP_SEND_FIRST;
    else if (!last)
      op = PCAPW_OP_SEND_MIDDLE;
    else
      op = inv ? PCAPW_OP_SEND_LAST_INV : PCAPW_OP_SEND_LAST;
    int with_ieth = inv && last;
    if (roce_packet(w, dir, op, last, w->psn[dir], with_ieth ? ieth : NULL,
                    with_ieth ? IETH_LEN : 0, c ? p + off : NULL, c))
      return -1;
    w->psn[dir] = (w->psn[dir] + 1) & 0xFFFFFFu;
  }
  w->msn[1 - dir] = (w->msn[1 - dir] + 1) & 0xFFFFFFu;
  return 0;
}

int pcapw_smbd_send(pcapw *w, int dir, const void *msg, size_t len)
{
  return send_msg(w, dir, 0, 0, msg, len);
}

int pcapw_smbd_send_inv(pcapw *w, int dir, uint32_t rkey, const void *msg, size_t len)
{
  return send_msg(w, dir, 1, rkey, msg, len);
}

static void reth_encode(uint8_t out[RETH_LEN], uint64_t va, uint32_t rkey, size_t len)
{
  put_be64(out, va);
  put_be32(out + 8, rkey);
  put_be32(out + 12, (uint32_t)len);
}

int pcapw_rdma_write(pcapw *w, int dir, uint64_t raddr, uint32_t rkey, const void *data,
                     size_t len)
{
  if (check_common(w, dir, data, len) || len > UINT32_MAX)
    return -1;
  size_t chunk = len < w->o.mtu ? len : w->o.mtu;
  if (!roce_fits(RETH_LEN, chunk))
    return -1;
  uint8_t reth[RETH_LEN];
  reth_encode(reth, raddr, rkey, len);
  const uint8_t *p = data;
  size_t n = pcapw_segment_count(len, w->o.mtu, 1);
  for (size_t i = 0; i < n; i++) {
    size_t off = i * w->o.mtu;
    size_t c = len - off < w->o.mtu ? len - off : w->o.mtu;
    int last = i + 1 == n;
    uint8_t op;
    if (n == 1)
      op = PCAPW_OP_WRITE_ONLY;
    else if (i == 0)
      op = PCAPW_OP_WRITE_FIRST;
    else if (!last)
      op = PCAPW_OP_WRITE_MIDDLE;
    else
      op = PCAPW_OP_WRITE_LAST;
    if (roce_packet(w, dir, op, last, w->psn[dir], i == 0 ? reth : NULL, i == 0 ? RETH_LEN : 0,
                    c ? p + off : NULL, c))
      return -1;
    w->psn[dir] = (w->psn[dir] + 1) & 0xFFFFFFu;
  }
  w->msn[1 - dir] = (w->msn[1 - dir] + 1) & 0xFFFFFFu;
  return 0;
}

int pcapw_rdma_read(pcapw *w, int dir, uint64_t raddr, uint32_t rkey, const void *data,
                    size_t len)
{
  if (check_common(w, dir, data, len) || len > UINT32_MAX)
    return -1;
  size_t chunk = len < w->o.mtu ? len : w->o.mtu;
  if (!roce_fits(AETH_LEN, chunk))
    return -1;
  uint8_t reth[RETH_LEN];
  reth_encode(reth, raddr, rkey, len);
  /* IBA 9.4.4: a READ Request consumes one PSN per response packet; the
   * responses carry the requester's PSNs. */
  size_t n = pcapw_segment_count(len, w->o.mtu, 1);
  uint32_t psn0 = w->psn[dir];
  if (roce_packet(w, dir, PCAPW_OP_READ_REQUEST, 1, psn0, reth, RETH_LEN, NULL, 0))
    return -1;
  w->psn[dir] = (uint32_t)((psn0 + n) & 0xFFFFFFu);
  int resp = 1 - dir;
  w->msn[resp] = (w->msn[resp] + 1) & 0xFFFFFFu;
  uint8_t aeth[AETH_LEN];
  put_be32(aeth, (uint32_t)AETH_ACK_NO_CREDIT << 24 | w->msn[resp]);
  const uint8_t *p = data;
  for (size_t i = 0; i < n; i++) {
    size_t off = i * w->o.mtu;
    size_t c = len - off < w->o.mtu ? len - off : w->o.mtu;
    int last = i + 1 == n;
    uint8_t op;
    if (n == 1)
      op = PCAPW_OP_READ_RESP_ONLY;
    else if (i == 0)
      op = PCAPW_OP_READ_RESP_FIRST;
    else if (!last)
      op = PCAPW_OP_READ_RESP_MIDDLE;
    else
      op = PCAPW_OP_READ_RESP_LAST;
    int with_aeth = op != PCAPW_OP_READ_RESP_MIDDLE;
    if (roce_packet(w, resp, op, 0, (uint32_t)(psn0 + i), with_aeth ? aeth : NULL,
                    with_aeth ? AETH_LEN : 0, c ? p + off : NULL, c))
      return -1;
  }
  return 0;
}

int pcapw_roce_reconnect(pcapw *w)
{
  if (!w || w->io_error)
    return -1;
  if (w->qp_step >= 0xFFF000u)
    return -1;
  w->qp_step += PCAPW_QPN_STEP;
  w->psn[0] = w->psn[1] = 0;
  w->msn[0] = w->msn[1] = 0;
  return 0;
}

int pcapw_close(pcapw *w)
{
  if (!w)
    return 0;
  if (w->tcp_state == 1 && !w->io_error) {
    /* active close by the client, then the server's FIN, then the last ACK */
    if (tcp_segment(w, 0, TCP_FIN | TCP_ACK, NULL, 0) == 0 &&
        tcp_segment(w, 1, TCP_FIN | TCP_ACK, NULL, 0) == 0)
      (void)tcp_segment(w, 0, TCP_ACK, NULL, 0);
    w->tcp_state = 2;
  }
  int rc = w->io_error ? -1 : 0;
  if (fclose(w->f) != 0)
    rc = -1;
  free(w);
  return rc;
}

/* ------------------------------------------------------------ reader */

struct pcapw_reader {
  FILE *f;
  uint8_t frame[PCAPW_SNAPLEN];
};

pcapw_reader *pcapw_reader_open(const char *path)
{
  pcapw_reader *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->f = path ? fopen(path, "rb") : NULL;
  uint8_t gh[24];
  if (!r->f || fread(gh, 1, sizeof gh, r->f) != sizeof gh || get_le32(gh) != 0xA1B2C3D4u ||
      get_le32(gh + 20) != 1) {
    if (r->f)
      fclose(r->f);
    free(r);
    return NULL;
  }
  return r;
}

void pcapw_reader_close(pcapw_reader *r)
{
  if (!r)
    return;
  fclose(r->f);
  free(r);
}

static void parse_roce(pcapw_pkt *p, const uint8_t *ip, size_t ip_len, size_t ihl)
{
  const uint8_t *u = ip + ihl;
  size_t l4 = ip_len - ihl;
  if (l4 < UDP_HLEN + BTH_LEN + ICRC_LEN)
    return;
  p->kind = PCAPW_PKT_ROCE;
  p->l4_csum_ok = get_be16(u + 6) == 0; /* pcapw writes no UDP checksum */
  pcapw_bth_decode(u + UDP_HLEN, l4 - UDP_HLEN, &p->bth);
  int icrc_ok;
  uint32_t icrc = pcapw_roce_icrc(ip, ip_len - ICRC_LEN, &icrc_ok);
  p->icrc_ok = icrc_ok && icrc == get_le32(ip + ip_len - ICRC_LEN);
  const uint8_t *q = u + UDP_HLEN + BTH_LEN;
  size_t rest = l4 - UDP_HLEN - BTH_LEN - ICRC_LEN;
  uint8_t op = p->bth.opcode;
  if (op == PCAPW_OP_WRITE_FIRST || op == PCAPW_OP_WRITE_ONLY || op == PCAPW_OP_READ_REQUEST) {
    if (rest < RETH_LEN)
      return;
    p->has_reth = 1;
    p->reth_va = (uint64_t)get_be32(q) << 32 | get_be32(q + 4);
    p->reth_rkey = get_be32(q + 8);
    p->reth_len = get_be32(q + 12);
    q += RETH_LEN;
    rest -= RETH_LEN;
  }
  if (op == PCAPW_OP_READ_RESP_FIRST || op == PCAPW_OP_READ_RESP_LAST ||
      op == PCAPW_OP_READ_RESP_ONLY || op == 0x11 /* ACK */) {
    if (rest < AETH_LEN)
      return;
    p->has_aeth = 1;
    p->aeth = get_be32(q);
    q += AETH_LEN;
    rest -= AETH_LEN;
  }
  if (op == PCAPW_OP_SEND_LAST_INV || op == PCAPW_OP_SEND_ONLY_INV) {
    if (rest < IETH_LEN)
      return;
    p->has_ieth = 1;
    p->ieth = get_be32(q);
    q += IETH_LEN;
    rest -= IETH_LEN;
  }
  if (p->bth.pad > rest)
    return;
  p->payload = q;
  p->payload_len = rest - p->bth.pad;
}

int pcapw_reader_next(pcapw_reader *r, pcapw_pkt *p)
{
  uint8_t rh[16];
  size_t got = fread(rh, 1, sizeof rh, r->f);
  if (got == 0)
    return 0;
  if (got != sizeof rh)
    return -1;
  uint32_t incl = get_le32(rh + 8);
  if (incl > PCAPW_SNAPLEN || fread(r->frame, 1, incl, r->f) != incl)
    return -1;
  memset(p, 0, sizeof *p);
  p->ts_sec = get_le32(rh);
  p->ts_usec = get_le32(rh + 4);
  p->frame_len = incl;
  p->dir = -1;
  const uint8_t *f = r->frame;
  if (incl < ETH_HLEN + IP_HLEN || get_be16(f + 12) != 0x0800)
    return 1;
  const uint8_t *ip = f + ETH_HLEN;
  size_t ihl = (size_t)(ip[0] & 0x0Fu) * 4;
  size_t ip_len = get_be16(ip + 2);
  if ((ip[0] >> 4) != 4 || ihl < IP_HLEN || ip_len < ihl || ip_len > incl - ETH_HLEN)
    return 1;
  p->ip_csum_ok = pcapw_inet_checksum(0, ip, ihl) == 0;
  p->ip_id = (uint16_t)get_be16(ip + 4);
  uint32_t src = get_be32(ip + 12);
  p->dir = src == PCAPW_CLIENT_IP ? 0 : src == PCAPW_SERVER_IP ? 1 : -1;
  const uint8_t *l4 = ip + ihl;
  size_t l4_len = ip_len - ihl;
  if (ip[9] == 6 && l4_len >= TCP_HLEN) {
    size_t thl = (size_t)(l4[12] >> 4) * 4;
    if (thl < TCP_HLEN || thl > l4_len)
      return 1;
    p->kind = PCAPW_PKT_TCP;
    p->sport = (uint16_t)get_be16(l4);
    p->dport = (uint16_t)get_be16(l4 + 2);
    p->seq = get_be32(l4 + 4);
    p->ack = get_be32(l4 + 8);
    p->tcp_flags = l4[13];
    uint8_t ph[12];
    memcpy(ph, ip + 12, 8);
    ph[8] = 0;
    ph[9] = 6;
    put_be16(ph + 10, (uint32_t)l4_len);
    p->l4_csum_ok = pcapw_inet_checksum(pcapw_inet_sum(0, ph, sizeof ph), l4, l4_len) == 0;
    p->payload = l4 + thl;
    p->payload_len = l4_len - thl;
  } else if (ip[9] == 17 && l4_len >= UDP_HLEN && get_be16(l4 + 2) == PCAPW_ROCE_UDP_PORT) {
    parse_roce(p, ip, ip_len, ihl);
  }
  return 1;
}
