/* SPDX-License-Identifier: MIT */
/* Unit tests of the test-tool pcap writer (tools/pcap/pcapw.c): checksums,
 * the RoCEv2 ICRC, BTH layout, segmentation, and a read-back of written
 * captures. */
#define _POSIX_C_SOURCE 200809L
#include "test_main.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pcapw.h"

/* ---- temp files */

static char *tmp_path(void)
{
  static char path[64];
  snprintf(path, sizeof path, "/tmp/smbx_pcapw_XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  return path;
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(seed + i * 7u);
}

/* ---- vectors */

/* RoCEv2 IPv4 packets (IPv4 header .. last byte before the ICRC) and the ICRC
 * that follows them on the wire, produced at development time by the
 * reference tool /work/shared/tools/smbpcap.py (pcap of the text records
 * "C smbd 0001 0001 0000 ff00 54050000 00200000 00001000" and
 * "S rdma_read 0010000000000000 44332211 0102030405060708090a0b0c0d"),
 * whose ICRC follows Linux rdma_rxe (zlib CRC-32 of 8 x 0xFF + masked packet,
 * stored little-endian). */
static const uint8_t icrc_pkt1[] = {
  0x45, 0x00, 0x00, 0x40, 0x00, 0x01, 0x40, 0x00, 0x40, 0x11, 0x3c, 0xa9, 0x7f, 0x00, 0x00, 0x01,
  0x7f, 0x00, 0x00, 0x02, 0xc0, 0x11, 0x12, 0xb7, 0x00, 0x2c, 0x00, 0x00, 0x04, 0x00, 0xff, 0xff,
  0x00, 0x00, 0x00, 0x22, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0x00,
  0x54, 0x05, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
};
static const uint32_t icrc_val1 = 0x88f11672u; /* wire bytes 72 16 f1 88 */

static const uint8_t icrc_pkt2[] = {
  0x45, 0x00, 0x00, 0x3c, 0x00, 0x02, 0x40, 0x00, 0x40, 0x11, 0x3c, 0xac, 0x7f, 0x00, 0x00, 0x02,
  0x7f, 0x00, 0x00, 0x01, 0xc0, 0x22, 0x12, 0xb7, 0x00, 0x28, 0x00, 0x00, 0x0c, 0x00, 0xff, 0xff,
  0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
  0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x0d,
};
static const uint32_t icrc_val2 = 0x1b538084u; /* wire bytes 84 80 53 1b */

static const uint8_t icrc_pkt3[] = {
  0x45, 0x00, 0x00, 0x40, 0x00, 0x03, 0x40, 0x00, 0x40, 0x11, 0x3c, 0xa7, 0x7f, 0x00, 0x00, 0x01,
  0x7f, 0x00, 0x00, 0x02, 0xc0, 0x11, 0x12, 0xb7, 0x00, 0x2c, 0x00, 0x00, 0x10, 0x30, 0xff, 0xff,
  0x00, 0x00, 0x00, 0x22, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04,
  0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x00, 0x00,
};
static const uint32_t icrc_val3 = 0x07d2b9cdu; /* wire bytes cd b9 d2 07 */

/* ---- pure functions */

static void crc32_ieee_check_value_123456789(void **state)
{
  (void)state;
  /* the CRC-32/ISO-HDLC catalogue check value */
  assert_int_equal(pcapw_crc32(0, "123456789", 9), 0xCBF43926u);
  /* chaining gives the same result as one call */
  assert_int_equal(pcapw_crc32(pcapw_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
  assert_int_equal(pcapw_crc32(0, "", 0), 0);
}

static void icrc_a17_lrh_mask_seed_is_rxe_constant(void **state)
{
  (void)state;
  /* Linux rdma_rxe seeds its ICRC CRC with 0xdebb20e3, the CRC register after
   * 8 bytes of 0xFF (the masked LRH that RoCEv2 does not carry). */
  static const uint8_t ff8[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  assert_int_equal(~pcapw_crc32(0, ff8, 8), 0xdebb20e3u);
}

static void icrc_a17_matches_reference_vectors(void **state)
{
  (void)state;
  int ok = 0;
  assert_int_equal(pcapw_roce_icrc(icrc_pkt1, sizeof icrc_pkt1, &ok), icrc_val1);
  assert_int_equal(ok, 1);
  assert_int_equal(pcapw_roce_icrc(icrc_pkt2, sizeof icrc_pkt2, &ok), icrc_val2);
  assert_int_equal(ok, 1);
  assert_int_equal(pcapw_roce_icrc(icrc_pkt3, sizeof icrc_pkt3, &ok), icrc_val3);
  assert_int_equal(ok, 1);
}

static void icrc_a17_masked_fields_do_not_matter(void **state)
{
  (void)state;
  uint8_t p[sizeof icrc_pkt1];
  memcpy(p, icrc_pkt1, sizeof p);
  p[1] = 0x2e;  /* TOS */
  p[8] = 1;     /* TTL */
  p[10] = 0x12; /* IP checksum */
  p[26] = 0x34; /* UDP checksum */
  p[27] = 0x56;
  p[32] = 0xC0; /* BTH FECN/BECN/resv */
  int ok = 0;
  assert_int_equal(pcapw_roce_icrc(p, sizeof p, &ok), icrc_val1);
  /* an unmasked field (the PSN) changes it */
  p[41] ^= 1;
  assert_int_not_equal(pcapw_roce_icrc(p, sizeof p, &ok), icrc_val1);
  /* too short for IPv4 + UDP + BTH */
  assert_int_equal(pcapw_roce_icrc(icrc_pkt1, 39, &ok), 0);
  assert_int_equal(ok, 0);
}

static void ipv4_rfc1071_header_checksum(void **state)
{
  (void)state;
  /* classic example header 192.168.0.1 -> 192.168.0.199, UDP, checksum 0xb861 */
  uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                   0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  assert_int_equal(pcapw_inet_checksum(0, h, sizeof h), 0xb861);
  h[10] = 0xb8;
  h[11] = 0x61;
  assert_int_equal(pcapw_inet_checksum(0, h, sizeof h), 0);
  /* odd length pads with a zero byte; chaining with inet_sum */
  static const uint8_t odd[3] = {0x01, 0x02, 0x03};
  assert_int_equal(pcapw_inet_checksum(0, odd, 3), (uint16_t)~(0x0102 + 0x0300));
  assert_int_equal(pcapw_inet_checksum(pcapw_inet_sum(0, h, 10), h + 10, 10), 0);
  /* the reference packets' IPv4 headers verify */
  assert_int_equal(pcapw_inet_checksum(0, icrc_pkt1, 20), 0);
  assert_int_equal(pcapw_inet_checksum(0, icrc_pkt2, 20), 0);
}

static void segment_count_tcp_and_rdma(void **state)
{
  (void)state;
  assert_int_equal(pcapw_segment_count(0, 1460, 0), 0);
  assert_int_equal(pcapw_segment_count(0, 4096, 1), 1);
  assert_int_equal(pcapw_segment_count(1, 1460, 0), 1);
  assert_int_equal(pcapw_segment_count(1460, 1460, 0), 1);
  assert_int_equal(pcapw_segment_count(1461, 1460, 0), 2);
  assert_int_equal(pcapw_segment_count(5000 + 4 + 64 + 48, 1460, 0), 4);
  assert_int_equal(pcapw_segment_count(10000, 4096, 1), 3);
  assert_int_equal(pcapw_segment_count(8192, 4096, 1), 2);
  assert_int_equal(pcapw_segment_count(5, 0, 1), 0);
}

static void bth_iba_9_2_layout_big_endian(void **state)
{
  (void)state;
  pcapw_bth b = {.opcode = 0x0A, .se = 1, .migreq = 0, .pad = 3, .tver = 0, .pkey = 0xFFFF,
                 .dest_qp = 0x123456, .ackreq = 1, .psn = 0xABCDEF};
  uint8_t out[12];
  pcapw_bth_encode(out, &b);
  static const uint8_t want[12] = {0x0A, 0xB0, 0xFF, 0xFF, 0x00, 0x12, 0x34, 0x56,
                                   0x80, 0xAB, 0xCD, 0xEF};
  assert_memory_equal(out, want, 12);
  pcapw_bth d;
  assert_int_equal(pcapw_bth_decode(out, 12, &d), 0);
  assert_int_equal(d.opcode, 0x0A);
  assert_int_equal(d.se, 1);
  assert_int_equal(d.migreq, 0);
  assert_int_equal(d.pad, 3);
  assert_int_equal(d.tver, 0);
  assert_int_equal(d.pkey, 0xFFFF);
  assert_int_equal(d.dest_qp, 0x123456);
  assert_int_equal(d.ackreq, 1);
  assert_int_equal(d.psn, 0xABCDEF);
  assert_int_equal(pcapw_bth_decode(out, 11, &d), -1);
  /* 24-bit fields are truncated, not spilled into neighbours */
  b.dest_qp = 0xFF000001;
  b.psn = 0x01000002;
  pcapw_bth_encode(out, &b);
  assert_int_equal(out[4], 0);
  assert_int_equal(out[8], 0x80);
  assert_int_equal(out[7], 1);
  assert_int_equal(out[11], 2);
}

/* ---- writer + reader */

static int read_all(const char *path, pcapw_pkt *pk, uint8_t (*payloads)[8192], size_t max)
{
  pcapw_reader *r = pcapw_reader_open(path);
  assert_non_null(r);
  size_t n = 0;
  int rc;
  while ((rc = pcapw_reader_next(r, &pk[n])) == 1) {
    assert_true(n < max);
    if (payloads && pk[n].payload_len <= 8192) {
      memcpy(payloads[n], pk[n].payload, pk[n].payload_len);
      pk[n].payload = payloads[n];
    } else {
      pk[n].payload = NULL;
    }
    n++;
  }
  assert_int_equal(rc, 0);
  pcapw_reader_close(r);
  return (int)n;
}

static void tcp_rfc9293_handshake_segments_fin(void **state)
{
  (void)state;
  char *path = tmp_path();
  pcapw_opts o = {.mss = 1460};
  pcapw *w = pcapw_open(path, &o);
  assert_non_null(w);
  static uint8_t big[5000];
  fill(big, sizeof big, 3);
  static const uint8_t small[100] = {0};
  assert_int_equal(pcapw_tcp(w, 0, big, sizeof big), 0); /* 3 handshake + 4 segments */
  assert_int_equal(pcapw_frame_count(w), 7);
  assert_int_equal(pcapw_tcp(w, 1, small, sizeof small), 0);
  assert_int_equal(pcapw_tcp(w, 1, small, 0), 0); /* nothing */
  assert_int_equal(pcapw_frame_count(w), 8);
  assert_int_equal(pcapw_tcp(w, 2, small, 1), -1);
  assert_int_equal(pcapw_close(w), 0);

  static pcapw_pkt pk[16];
  static uint8_t pl[16][8192];
  int n = read_all(path, pk, pl, 16);
  assert_int_equal(n, 11); /* + FIN, FIN, ACK */
  static const uint8_t flags[11] = {0x02, 0x12, 0x10, 0x10, 0x10, 0x10, 0x18, 0x18,
                                    0x11, 0x11, 0x10};
  static const int dirs[11] = {0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0};
  uint32_t cseq = pk[0].seq, sseq = pk[1].seq;
  size_t off = 0;
  for (int i = 0; i < n; i++) {
    assert_int_equal(pk[i].kind, PCAPW_PKT_TCP);
    assert_int_equal(pk[i].ip_csum_ok, 1);
    assert_int_equal(pk[i].l4_csum_ok, 1);
    assert_int_equal(pk[i].tcp_flags, flags[i]);
    assert_int_equal(pk[i].dir, dirs[i]);
    assert_int_equal(pk[i].ts_sec, PCAPW_TS_START);
    assert_int_equal(pk[i].ts_usec, (uint32_t)i);
    assert_int_equal(pk[i].sport, dirs[i] == 0 ? 50000 : 445);
    assert_int_equal(pk[i].dport, dirs[i] == 0 ? 445 : 50000);
  }
  assert_int_equal(pk[1].ack, cseq + 1);
  assert_int_equal(pk[2].seq, cseq + 1);
  assert_int_equal(pk[2].ack, sseq + 1);
  /* client data: 1460 + 1460 + 1460 + 620, contiguous, acking the server */
  static const size_t seglen[4] = {1460, 1460, 1460, 620};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(pk[3 + i].payload_len, seglen[i]);
    assert_int_equal(pk[3 + i].seq, cseq + 1 + (uint32_t)off);
    assert_int_equal(pk[3 + i].ack, sseq + 1);
    assert_memory_equal(pk[3 + i].payload, big + off, seglen[i]);
    off += seglen[i];
  }
  assert_int_equal(pk[7].seq, sseq + 1);
  assert_int_equal(pk[7].ack, cseq + 1 + 5000);
  assert_int_equal(pk[7].payload_len, 100);
  /* FIN from client, FIN from server, last ACK */
  assert_int_equal(pk[8].seq, cseq + 5001);
  assert_int_equal(pk[9].seq, sseq + 101);
  assert_int_equal(pk[9].ack, cseq + 5002);
  assert_int_equal(pk[10].seq, cseq + 5002);
  assert_int_equal(pk[10].ack, sseq + 102);
  unlink(path);
}

static void roce_send_only_pad_and_icrc(void **state)
{
  (void)state;
  char *path = tmp_path();
  pcapw *w = pcapw_open(path, NULL);
  assert_non_null(w);
  uint8_t m[21];
  fill(m, sizeof m, 1);
  assert_int_equal(pcapw_smbd_send(w, 0, m, 20), 0);
  assert_int_equal(pcapw_smbd_send(w, 1, m, 21), 0);
  assert_int_equal(pcapw_smbd_send(w, 0, m, 19), 0);
  assert_int_equal(pcapw_smbd_send_inv(w, 1, 0xA1B2C3D4u, m, 18), 0);
  assert_int_equal(pcapw_close(w), 0);

  static pcapw_pkt pk[8];
  static uint8_t pl[8][8192];
  assert_int_equal(read_all(path, pk, pl, 8), 4);
  static const uint8_t op[4] = {0x04, 0x04, 0x04, 0x17};
  static const uint8_t pad[4] = {0, 3, 1, 2};
  static const size_t len[4] = {20, 21, 19, 18};
  static const uint32_t psn[4] = {0, 0, 1, 1};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(pk[i].kind, PCAPW_PKT_ROCE);
    assert_int_equal(pk[i].ip_csum_ok, 1);
    assert_int_equal(pk[i].l4_csum_ok, 1);
    assert_int_equal(pk[i].icrc_ok, 1);
    assert_int_equal(pk[i].dir, i % 2);
    assert_int_equal(pk[i].bth.opcode, op[i]);
    assert_int_equal(pk[i].bth.pad, pad[i]);
    assert_int_equal(pk[i].bth.pkey, 0xFFFF);
    assert_int_equal(pk[i].bth.tver, 0);
    assert_int_equal(pk[i].bth.ackreq, 1);
    assert_int_equal(pk[i].bth.psn, psn[i]);
    assert_int_equal(pk[i].bth.dest_qp, i % 2 ? PCAPW_CLIENT_QPN : PCAPW_SERVER_QPN);
    assert_int_equal(pk[i].payload_len, len[i]);
    assert_memory_equal(pk[i].payload, m, len[i]);
    /* Ethernet + IPv4 + UDP + BTH + (IETH) + payload + pad + ICRC */
    assert_int_equal(pk[i].frame_len, 14 + 20 + 8 + 12 + (i == 3 ? 4u : 0u) + len[i] + pad[i] + 4);
  }
  assert_int_equal(pk[3].has_ieth, 1);
  assert_int_equal(pk[3].ieth, 0xA1B2C3D4u);
  assert_int_equal(pk[0].has_ieth, 0);
  unlink(path);
}

/* A second RC connection: new QPNs (both + PCAPW_QPN_STEP), PSNs from 0. */
static void roce_reconnect_new_qpns_psns_from_zero(void **state)
{
  (void)state;
  char *path = tmp_path();
  pcapw *w = pcapw_open(path, NULL);
  assert_non_null(w);
  uint8_t m[20];
  fill(m, sizeof m, 3);
  assert_int_equal(pcapw_smbd_send(w, 0, m, 20), 0);
  assert_int_equal(pcapw_smbd_send(w, 0, m, 20), 0);
  assert_int_equal(pcapw_roce_reconnect(w), 0);
  assert_int_equal(pcapw_smbd_send(w, 0, m, 20), 0);
  assert_int_equal(pcapw_smbd_send(w, 1, m, 20), 0);
  assert_int_equal(pcapw_roce_reconnect(NULL), -1);
  assert_int_equal(pcapw_close(w), 0);
  static pcapw_pkt pk[4];
  static uint8_t pl[4][8192];
  assert_int_equal(read_all(path, pk, pl, 4), 4);
  static const uint32_t psn[4] = {0, 1, 0, 0};
  static const uint32_t qp[4] = {PCAPW_SERVER_QPN, PCAPW_SERVER_QPN,
                                 PCAPW_SERVER_QPN + PCAPW_QPN_STEP,
                                 PCAPW_CLIENT_QPN + PCAPW_QPN_STEP};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(pk[i].icrc_ok, 1);
    assert_int_equal(pk[i].bth.psn, psn[i]);
    assert_int_equal(pk[i].bth.dest_qp, qp[i]);
  }
  unlink(path);
}

static void roce_send_above_mtu_first_middle_last(void **state)
{
  (void)state;
  char *path = tmp_path();
  pcapw_opts o = {.mtu = 1024};
  pcapw *w = pcapw_open(path, &o);
  assert_non_null(w);
  static uint8_t m[2500];
  fill(m, sizeof m, 9);
  assert_int_equal(pcapw_smbd_send(w, 0, m, sizeof m), 0);
  assert_int_equal(pcapw_smbd_send_inv(w, 0, 0x55u, m, 2048), 0);
  assert_int_equal(pcapw_close(w), 0);
  static pcapw_pkt pk[8];
  static uint8_t pl[8][8192];
  assert_int_equal(read_all(path, pk, pl, 8), 5);
  static const uint8_t op[5] = {0x00, 0x01, 0x02, 0x00, 0x16};
  static const uint8_t ack[5] = {0, 0, 1, 0, 1};
  static const size_t len[5] = {1024, 1024, 452, 1024, 1024};
  size_t off[5] = {0, 1024, 2048, 0, 1024};
  for (int i = 0; i < 5; i++) {
    assert_int_equal(pk[i].bth.opcode, op[i]);
    assert_int_equal(pk[i].bth.ackreq, ack[i]);
    assert_int_equal(pk[i].bth.psn, (uint32_t)i);
    assert_int_equal(pk[i].icrc_ok, 1);
    assert_int_equal(pk[i].payload_len, len[i]);
    assert_memory_equal(pk[i].payload, m + off[i], len[i]);
    assert_int_equal(pk[i].has_ieth, i == 4);
  }
  assert_int_equal(pk[4].ieth, 0x55u);
  unlink(path);
}

static void roce_rdma_write_reth_on_first_only(void **state)
{
  (void)state;
  char *path = tmp_path();
  pcapw *w = pcapw_open(path, NULL); /* mtu 4096 */
  assert_non_null(w);
  static uint8_t d[10000];
  fill(d, sizeof d, 5);
  assert_int_equal(pcapw_rdma_write(w, 1, 0x7f0000001000ull, 0x1a2b3cu, d, sizeof d), 0);
  assert_int_equal(pcapw_rdma_write(w, 1, 0x10ull, 0x77u, d, 100), 0);
  assert_int_equal(pcapw_rdma_write(w, 0, 0x20ull, 0x78u, NULL, 0), 0);
  assert_int_equal(pcapw_close(w), 0);
  static pcapw_pkt pk[8];
  static uint8_t pl[8][8192];
  assert_int_equal(read_all(path, pk, pl, 8), 5);
  static const uint8_t op[5] = {0x06, 0x07, 0x08, 0x0A, 0x0A};
  static const size_t len[5] = {4096, 4096, 1808, 100, 0};
  static const uint32_t psn[5] = {0, 1, 2, 3, 0};
  for (int i = 0; i < 5; i++) {
    assert_int_equal(pk[i].bth.opcode, op[i]);
    assert_int_equal(pk[i].bth.psn, psn[i]);
    assert_int_equal(pk[i].payload_len, len[i]);
    assert_int_equal(pk[i].icrc_ok, 1);
    assert_int_equal(pk[i].has_reth, i == 0 || i >= 3);
    assert_int_equal(pk[i].bth.ackreq, i >= 2);
  }
  assert_memory_equal(pk[1].payload, d + 4096, 4096);
  assert_int_equal(pk[0].reth_va, 0x7f0000001000ull);
  assert_int_equal(pk[0].reth_rkey, 0x1a2b3cu);
  assert_int_equal(pk[0].reth_len, 10000);
  assert_int_equal(pk[3].reth_len, 100);
  assert_int_equal(pk[4].reth_len, 0);
  assert_int_equal(pk[4].dir, 0);
  unlink(path);
}

static void roce_rdma_read_request_and_responses_share_psns(void **state)
{
  (void)state;
  char *path = tmp_path();
  pcapw *w = pcapw_open(path, NULL);
  assert_non_null(w);
  static uint8_t d[9000];
  fill(d, sizeof d, 11);
  uint8_t m[20] = {0};
  assert_int_equal(pcapw_smbd_send(w, 1, m, sizeof m), 0);     /* server PSN 0 */
  assert_int_equal(pcapw_rdma_read(w, 1, 0x2000ull, 0x4d5e6fu, d, 5000), 0); /* PSN 1, 2 */
  assert_int_equal(pcapw_rdma_read(w, 1, 0x9000ull, 0x99u, d, 8192 + 1), 0); /* PSN 3..5 */
  assert_int_equal(pcapw_smbd_send(w, 1, m, sizeof m), 0);     /* PSN 6 */
  assert_int_equal(pcapw_close(w), 0);
  static pcapw_pkt pk[16];
  static uint8_t pl[16][8192];
  assert_int_equal(read_all(path, pk, pl, 16), 9);
  static const uint8_t op[9] = {0x04, 0x0C, 0x0D, 0x0F, 0x0C, 0x0D, 0x0E, 0x0F, 0x04};
  static const int dir[9] = {1, 1, 0, 0, 1, 0, 0, 0, 1};
  static const uint32_t psn[9] = {0, 1, 1, 2, 3, 3, 4, 5, 6};
  static const size_t len[9] = {20, 0, 4096, 904, 0, 4096, 4096, 1, 20};
  for (int i = 0; i < 9; i++) {
    assert_int_equal(pk[i].bth.opcode, op[i]);
    assert_int_equal(pk[i].dir, dir[i]);
    assert_int_equal(pk[i].bth.psn, psn[i]);
    assert_int_equal(pk[i].payload_len, len[i]);
    assert_int_equal(pk[i].icrc_ok, 1);
    assert_int_equal(pk[i].has_aeth, op[i] == 0x0D || op[i] == 0x0F);
    assert_int_equal(pk[i].bth.dest_qp, dir[i] ? PCAPW_CLIENT_QPN : PCAPW_SERVER_QPN);
  }
  assert_int_equal(pk[1].reth_va, 0x2000ull);
  assert_int_equal(pk[1].reth_rkey, 0x4d5e6fu);
  assert_int_equal(pk[1].reth_len, 5000);
  assert_memory_equal(pk[3].payload, d + 4096, 904);
  /* AETH: ACK syndrome, MSN counts the requests the client completed (the
   * server's SEND, then each READ) */
  assert_int_equal(pk[2].aeth, 0x1F000002u);
  assert_int_equal(pk[3].aeth, 0x1F000002u);
  assert_int_equal(pk[7].aeth, 0x1F000003u);
  unlink(path);
}

static void roce_packet_larger_than_ipv4_is_refused_without_output(void **state)
{
  (void)state;
  char *path = tmp_path();
  pcapw_opts o = {.mtu = 65536};
  pcapw *w = pcapw_open(path, &o);
  assert_non_null(w);
  static uint8_t big[70000];
  /* 20 IPv4 + 8 UDP + 12 BTH + 65487 + 4 ICRC = 65531 (+ pad 1): fits */
  assert_int_equal(pcapw_smbd_send(w, 0, big, 65487), 0);
  assert_int_equal(pcapw_frame_count(w), 1);
  /* the documented limits: 65488 bytes (no pad) is the largest SEND Only,
   * 65484 with an IETH */
  assert_int_equal(pcapw_smbd_send(w, 0, big, 65488), 0);
  assert_int_equal(pcapw_smbd_send(w, 0, big, 65489), -1);
  assert_int_equal(pcapw_smbd_send_inv(w, 0, 1, big, 65484), 0);
  assert_int_equal(pcapw_smbd_send_inv(w, 0, 1, big, 65485), -1);
  assert_int_equal(pcapw_frame_count(w), 3);
  assert_int_equal(pcapw_smbd_send(w, 0, big, 65496), -1);
  assert_int_equal(pcapw_smbd_send(w, 0, big, 70000), -1); /* First would be 65536 */
  assert_int_equal(pcapw_rdma_write(w, 0, 0, 0, big, 65500), -1);
  assert_int_equal(pcapw_rdma_read(w, 0, 0, 0, big, 65500), -1);
  assert_int_equal(pcapw_smbd_send(w, 3, big, 20), -1);
  assert_int_equal(pcapw_smbd_send(w, 0, NULL, 20), -1);
  assert_int_equal(pcapw_frame_count(w), 3);
  /* still usable */
  assert_int_equal(pcapw_smbd_send(w, 1, big, 20), 0);
  assert_int_equal(pcapw_close(w), 0);
  static pcapw_pkt pk[8];
  assert_int_equal(read_all(path, pk, NULL, 8), 4);
  assert_int_equal(pk[1].frame_len, 14 + 65532);
  assert_int_equal(pk[2].frame_len, 14 + 65532);
  assert_int_equal(pk[2].icrc_ok, 1);
  assert_int_equal(pk[2].ieth, 1);
  assert_int_equal(pk[0].payload_len, 65487);
  assert_int_equal(pk[0].frame_len, 14 + 65531 + 1); /* + pad 1 */
  assert_int_equal(pk[0].icrc_ok, 1);
  unlink(path);
}

static void open_rejects_bad_options_and_defaults_zero_fields(void **state)
{
  (void)state;
  char *path = tmp_path();
  pcapw_opts o = {.mss = 65496};
  assert_null(pcapw_open(path, &o));
  o.mss = 0;
  o.mtu = 65537;
  assert_null(pcapw_open(path, &o));
  assert_null(pcapw_open(NULL, NULL));
  assert_null(pcapw_open("/nonexistent-dir/x.pcap", NULL));
  assert_int_equal(pcapw_close(NULL), 0);
  o.mtu = 0;
  o.tcp_port = 4450;
  pcapw *w = pcapw_open(path, &o);
  assert_non_null(w);
  static uint8_t d[5000];
  assert_int_equal(pcapw_tcp(w, 0, d, 2000), 0);        /* mss default 1460 */
  assert_int_equal(pcapw_rdma_write(w, 0, 0, 1, d, 5000), 0); /* mtu default 4096 */
  assert_int_equal(pcapw_frame_count(w), 3 + 2 + 2);
  assert_int_equal(pcapw_close(w), 0);
  static pcapw_pkt pk[16];
  assert_int_equal(read_all(path, pk, NULL, 16), 10);
  assert_int_equal(pk[0].dport, 4450);
  assert_int_equal(pk[5].bth.opcode, PCAPW_OP_WRITE_FIRST);
  unlink(path);
}

static void output_is_reproducible(void **state)
{
  (void)state;
  char a[64], b[64];
  snprintf(a, sizeof a, "%s", tmp_path());
  snprintf(b, sizeof b, "%s", tmp_path());
  static uint8_t d[9000];
  fill(d, sizeof d, 1);
  for (int k = 0; k < 2; k++) {
    pcapw *w = pcapw_open(k ? b : a, NULL);
    assert_non_null(w);
    assert_int_equal(pcapw_tcp(w, 0, d, 3000), 0);
    assert_int_equal(pcapw_smbd_send(w, 0, d, 100), 0);
    assert_int_equal(pcapw_rdma_read(w, 1, 5, 6, d, 9000), 0);
    assert_int_equal(pcapw_close(w), 0);
  }
  FILE *fa = fopen(a, "rb");
  FILE *fb = fopen(b, "rb");
  assert_non_null(fa);
  assert_non_null(fb);
  static uint8_t ba[40000], bb[40000];
  size_t na = fread(ba, 1, sizeof ba, fa);
  size_t nb = fread(bb, 1, sizeof bb, fb);
  fclose(fa);
  fclose(fb);
  assert_true(na > 24 + 9000);
  assert_int_equal(na, nb);
  assert_memory_equal(ba, bb, na);
  /* pcap global header: LE magic, v2.4, snaplen, LINKTYPE_ETHERNET */
  static const uint8_t gh[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
                                 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0};
  assert_memory_equal(ba, gh, 24);
  unlink(a);
  unlink(b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(crc32_ieee_check_value_123456789),
    cmocka_unit_test(icrc_a17_lrh_mask_seed_is_rxe_constant),
    cmocka_unit_test(icrc_a17_matches_reference_vectors),
    cmocka_unit_test(icrc_a17_masked_fields_do_not_matter),
    cmocka_unit_test(ipv4_rfc1071_header_checksum),
    cmocka_unit_test(segment_count_tcp_and_rdma),
    cmocka_unit_test(bth_iba_9_2_layout_big_endian),
    cmocka_unit_test(tcp_rfc9293_handshake_segments_fin),
    cmocka_unit_test(roce_send_only_pad_and_icrc),
    cmocka_unit_test(roce_send_above_mtu_first_middle_last),
    cmocka_unit_test(roce_reconnect_new_qpns_psns_from_zero),
    cmocka_unit_test(roce_rdma_write_reth_on_first_only),
    cmocka_unit_test(roce_rdma_read_request_and_responses_share_psns),
    cmocka_unit_test(roce_packet_larger_than_ipv4_is_refused_without_output),
    cmocka_unit_test(open_rejects_bad_options_and_defaults_zero_fields),
    cmocka_unit_test(output_is_reproducible),
  };
  return RUN_TESTS(tests);
}
