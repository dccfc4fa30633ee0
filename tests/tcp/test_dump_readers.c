/* SPDX-License-Identifier: MIT */
/* smbx-dump's readers on captures written by the project's pcap writer
 * (pcapw): pcap, pcapng (both byte orders) and gzip, Direct TCP split into
 * small segments, SMB Direct over RoCEv2 with multi-packet SENDs (which
 * tshark 4.0 cannot reassemble), SMBD fragments, RDMA READ/WRITE, and
 * damaged files. Set SMBX_DUMP_CORPUS_DIR to also write the captures there
 * (seeds for fuzz_dump_pcap). */
#define _POSIX_C_SOURCE 200809L
#include "test_main.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dump.h"
#include "pcapw.h"

static char tmpdir[256];

static void put_le16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* An SMB2 header (+ body bytes zeroed) of `len` bytes. */
static void smb2_hdr(uint8_t *p, size_t len, uint16_t cmd, bool resp,
                     uint64_t msg_id, uint32_t status)
{
  memset(p, 0, len);
  p[0] = 0xFE;
  p[1] = 'S';
  p[2] = 'M';
  p[3] = 'B';
  put_le16(p + 4, 64);
  put_le16(p + 6, 1);
  put_le32(p + 8, status);
  put_le16(p + 12, cmd);
  put_le16(p + 14, resp ? 7 : 3);
  put_le32(p + 16, resp ? 1 : 0);
  put_le64(p + 24, msg_id);
  put_le32(p + 36, 0x1234);
  put_le64(p + 40, 0xABCDEF);
}

/* ECHO (68 bytes) */
static size_t echo(uint8_t *p, bool resp, uint64_t id)
{
  smb2_hdr(p, 68, 0x0D, resp, id, 0);
  put_le16(p + 64, 4);
  return 68;
}

/* WRITE request with `n` inline bytes at 0x70 */
static size_t write_req(uint8_t *p, size_t n, uint64_t id)
{
  size_t len = 0x70 + n;
  smb2_hdr(p, len, 0x09, false, id, 0);
  put_le16(p + 64, 49);
  put_le16(p + 66, 0x70);
  put_le32(p + 68, (uint32_t)n);
  for (size_t i = 0; i < n; i++)
    p[0x70 + i] = (uint8_t)(i * 7);
  return len;
}

static size_t tcp_frame(uint8_t *out, const uint8_t *pdu, size_t n)
{
  out[0] = 0;
  out[1] = (uint8_t)(n >> 16);
  out[2] = (uint8_t)(n >> 8);
  out[3] = (uint8_t)n;
  memcpy(out + 4, pdu, n);
  return n + 4;
}

/* SMBD data message: 24-byte header + payload */
static size_t smbd_data(uint8_t *out, const uint8_t *payload, size_t n,
                        uint32_t remaining, uint16_t granted)
{
  memset(out, 0, 24);
  put_le16(out, 255);
  put_le16(out + 2, granted);
  put_le32(out + 8, remaining);
  put_le32(out + 12, n ? 24 : 0);
  put_le32(out + 16, (uint32_t)n);
  if (n)
    memcpy(out + 24, payload, n);
  return n ? 24 + n : 20;
}

static uint8_t *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
  assert_non_null(b);
  assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return b;
}

static void seed(const char *name, const uint8_t *p, size_t n)
{
  const char *dir = getenv("SMBX_DUMP_CORPUS_DIR");
  if (!dir)
    return;
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (f) {
    fwrite(p, 1, n, f);
    fclose(f);
  }
}

/* Runs the capture reader; returns the JSON lines (malloc'ed). */
static char *run_dump(const uint8_t *p, size_t n, bool stream,
                      dump_stats *st, int *rc)
{
  char *out = NULL;
  size_t outlen = 0;
  FILE *f = open_memstream(&out, &outlen);
  assert_non_null(f);
  dump_opts o = {f, false};
  dump_ctx *d = dump_new(&o);
  assert_non_null(d);
  *rc = stream ? dump_tcp_stream(d, p, n) : dump_capture(d, p, n);
  dump_finish(d, st);
  fclose(f);
  return out;
}

static int count(const char *hay, const char *needle)
{
  int n = 0;
  for (const char *q = strstr(hay, needle); q; q = strstr(q + 1, needle))
    n++;
  return n;
}

static char *path_of(const char *name)
{
  static char p[4][512];
  static int i;
  i = (i + 1) % 4;
  snprintf(p[i], sizeof p[i], "%s/%s", tmpdir, name);
  return p[i];
}

/* ---- pcap -> pcapng conversion (the test's own writer) ---- */

static void ng_u32(FILE *f, uint32_t v, bool be)
{
  uint8_t b[4];
  for (int i = 0; i < 4; i++)
    b[i] = (uint8_t)(v >> (be ? 24 - 8 * i : 8 * i));
  fwrite(b, 1, 4, f);
}

static void ng_u16(FILE *f, uint16_t v, bool be)
{
  uint8_t b[2] = {(uint8_t)(be ? v >> 8 : v), (uint8_t)(be ? v : v >> 8)};
  fwrite(b, 1, 2, f);
}

static void to_pcapng(const char *src, const char *dst, bool be)
{
  size_t n;
  uint8_t *p = slurp(src, &n);
  FILE *f = fopen(dst, "wb");
  assert_non_null(f);
  /* SHB */
  ng_u32(f, 0x0A0D0D0A, be);
  ng_u32(f, 28, be);
  ng_u32(f, 0x1A2B3C4D, be);
  ng_u16(f, 1, be);
  ng_u16(f, 0, be);
  ng_u32(f, 0xFFFFFFFF, be);
  ng_u32(f, 0xFFFFFFFF, be);
  ng_u32(f, 28, be);
  /* IDB: Ethernet */
  ng_u32(f, 1, be);
  ng_u32(f, 20, be);
  ng_u16(f, 1, be);
  ng_u16(f, 0, be);
  ng_u32(f, 262144, be);
  ng_u32(f, 20, be);
  /* a name-resolution block to skip */
  ng_u32(f, 4, be);
  ng_u32(f, 16, be);
  ng_u32(f, 0, be);
  ng_u32(f, 16, be);
  for (size_t off = 24; off + 16 <= n;) {
    uint32_t cap = (uint32_t)p[off + 8] | (uint32_t)p[off + 9] << 8 |
                   (uint32_t)p[off + 10] << 16 | (uint32_t)p[off + 11] << 24;
    uint32_t pad = (4 - cap % 4) % 4;
    uint32_t blen = 32 + cap + pad;
    ng_u32(f, 6, be);
    ng_u32(f, blen, be);
    ng_u32(f, 0, be);
    ng_u32(f, 0, be);
    ng_u32(f, (uint32_t)off, be);
    ng_u32(f, cap, be);
    ng_u32(f, cap, be);
    fwrite(p + off + 16, 1, cap, f);
    for (uint32_t i = 0; i < pad; i++)
      fputc(0, f);
    ng_u32(f, blen, be);
    off += 16 + cap;
  }
  fclose(f);
  free(p);
}

/* ---- captures ---- */

/* TCP: two PDUs in one write, a 3000-byte WRITE in 100-byte segments, a
 * response; returns the file path. */
static const char *make_tcp(void)
{
  const char *path = path_of("tcp.pcap");
  pcapw_opts o = {0, 100, 445};
  pcapw *w = pcapw_open(path, &o);
  assert_non_null(w);
  uint8_t pdu[4096], buf[8192];
  size_t n = 0;
  n += tcp_frame(buf + n, pdu, echo(pdu, false, 1));
  n += tcp_frame(buf + n, pdu, echo(pdu, false, 2));
  assert_int_equal(pcapw_tcp(w, 0, buf, n), 0);
  n = tcp_frame(buf, pdu, write_req(pdu, 3000, 3));
  assert_int_equal(pcapw_tcp(w, 0, buf, 10), 0); /* split mid-header */
  assert_int_equal(pcapw_tcp(w, 0, buf + 10, n - 10), 0);
  n = tcp_frame(buf, pdu, echo(pdu, true, 1));
  assert_int_equal(pcapw_tcp(w, 1, buf, n), 0);
  assert_int_equal(pcapw_close(w), 0);
  return path;
}

/* SMB Direct: negotiate, a WRITE request (3 KiB inline) as one SMBD
 * message over a 1024-byte MTU (SEND First/Middle/Last), a second WRITE in
 * two SMBD fragments that are themselves multi-packet, a credit-only
 * message, an RDMA WRITE and an RDMA READ. */
static const char *make_roce(void)
{
  const char *path = path_of("roce.pcap");
  pcapw_opts o = {1024, 0, 0};
  pcapw *w = pcapw_open(path, &o);
  assert_non_null(w);
  uint8_t req[20] = {0};
  put_le16(req, 0x100);
  put_le16(req + 2, 0x100);
  put_le16(req + 6, 255);
  put_le32(req + 8, 1364);
  put_le32(req + 12, 8192);
  put_le32(req + 16, 1048576);
  assert_int_equal(pcapw_smbd_send(w, 0, req, 20), 0);
  uint8_t resp[32] = {0};
  put_le16(resp, 0x100);
  put_le16(resp + 2, 0x100);
  put_le16(resp + 4, 0x100);
  put_le16(resp + 8, 255);
  put_le16(resp + 10, 255);
  put_le32(resp + 16, 1048576);
  put_le32(resp + 20, 1364);
  put_le32(resp + 24, 8192);
  put_le32(resp + 28, 1048576);
  assert_int_equal(pcapw_smbd_send(w, 1, resp, 32), 0);
  static uint8_t pdu[8192], msg[8192];
  size_t n = write_req(pdu, 3000, 7);
  size_t m = smbd_data(msg, pdu, n, 0, 10);
  assert_true(m > 2048);
  assert_int_equal(pcapw_smbd_send(w, 0, msg, m), 0);
  /* credit-only from the server */
  m = smbd_data(msg, NULL, 0, 0, 5);
  assert_int_equal(pcapw_smbd_send(w, 1, msg, m), 0);
  /* second WRITE: 5000 inline bytes in fragments of 2500 + rest */
  n = write_req(pdu, 5000, 8);
  m = smbd_data(msg, pdu, 2500, (uint32_t)(n - 2500), 0);
  assert_int_equal(pcapw_smbd_send(w, 0, msg, m), 0);
  m = smbd_data(msg, pdu + 2500, n - 2500, 0, 0);
  assert_int_equal(pcapw_smbd_send_inv(w, 0, 0x77, msg, m), 0);
  /* direct placement */
  static uint8_t data[10000];
  assert_int_equal(pcapw_rdma_write(w, 1, 0x1000, 0x55, data, 10000), 0);
  assert_int_equal(pcapw_rdma_read(w, 1, 0x2000, 0x66, data, 3000), 0);
  assert_int_equal(pcapw_close(w), 0);
  return path;
}

static void dump_tcp_segments_reassembled_by_sequence(void **state)
{
  (void)state;
  size_t n;
  uint8_t *p = slurp(make_tcp(), &n);
  seed("tcp_pcap", p, n);
  dump_stats st;
  int rc;
  char *out = run_dump(p, n, false, &st, &rc);
  assert_int_equal(rc, 0);
  assert_int_equal(st.smb2, 4);
  assert_int_equal(st.errors, 0);
  assert_int_equal(count(out, "\"cmd_name\":\"ECHO\""), 3);
  assert_int_equal(count(out, "\"cmd_name\":\"WRITE\""), 1);
  assert_int_equal(count(out, "\"msg_id\":3,"), 1);
  assert_int_equal(count(out, "\"pdu_length\":3112"), 1);
  assert_int_equal(count(out, "\"direction\":\"s2c\""), 1);
  assert_int_equal(count(out, "\"transport\":\"tcp\""), 4);
  assert_int_equal(count(out, "\"session_id\":11259375"), 4);
  assert_int_equal(count(out, "\"tree_id\":4660"), 4);
  /* the second ECHO (72 bytes from offset 72) and the WRITE span 100-byte
   * segments: first_frame is reported for them */
  assert_int_equal(count(out, "\"first_frame\""), 2);
  free(out);
  free(p);
}

static void dump_roce_multi_packet_send_and_smbd_fragments(void **state)
{
  (void)state;
  size_t n;
  const char *path = make_roce();
  uint8_t *p = slurp(path, &n);
  seed("roce_pcap", p, n);
  dump_stats st;
  int rc;
  char *out = run_dump(p, n, false, &st, &rc);
  assert_int_equal(rc, 0);
  assert_int_equal(st.errors, 0);
  assert_int_equal(count(out, "\"type\":\"smbd_negotiate_req\""), 1);
  assert_int_equal(count(out, "\"type\":\"smbd_negotiate_resp\""), 1);
  assert_int_equal(count(out, "\"type\":\"smbd_data\""), 1);
  assert_int_equal(count(out, "\"credits_granted\":5"), 1);
  assert_int_equal(st.smb2, 2);
  assert_int_equal(count(out, "\"msg_id\":7,"), 1);
  assert_int_equal(count(out, "\"msg_id\":8,"), 1);
  assert_int_equal(count(out, "\"pdu_length\":3112"), 1);
  assert_int_equal(count(out, "\"pdu_length\":5112"), 1);
  assert_int_equal(count(out, "\"fragments\":2"), 1);
  assert_int_equal(count(out, "\"fragments\":1"), 1);
  assert_int_equal(count(out, "\"type\":\"rdma_write\""), 1);
  assert_int_equal(count(out, "\"length\":10000,\"bytes\":10000,\"complete\":true"),
                   1);
  assert_int_equal(count(out, "\"type\":\"rdma_read\""), 1);
  assert_int_equal(count(out, "\"length\":3000,\"bytes\":3000,\"complete\":true"), 1);
  assert_int_equal(count(out, "\"rkey\":102"), 1);
  free(out);
  free(p);

  /* tshark 4.0 does not reassemble SEND First/Middle/Last: it sees none
   * of the SMB2 PDUs that smbx-dump found */
  if (system("command -v tshark >/dev/null 2>&1") == 0) {
    char cmd[700];
    snprintf(cmd, sizeof cmd,
             "tshark -r '%s' -Y smb2 -T fields -e frame.number 2>/dev/null | wc -l",
             path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    int lines = -1;
    assert_int_equal(fscanf(f, "%d", &lines), 1);
    pclose(f);
    assert_int_equal(lines, 0);
  }
}

static void dump_pcapng_both_orders_and_gzip_match_pcap(void **state)
{
  (void)state;
  char *srcs[2] = {strdup(make_tcp()), strdup(make_roce())};
  for (int k = 0; k < 2; k++) {
    size_t n;
    uint8_t *p = slurp(srcs[k], &n);
    dump_stats st0;
    int rc;
    char *want = run_dump(p, n, false, &st0, &rc);
    assert_int_equal(rc, 0);
    free(p);
    for (int be = 0; be < 2; be++) {
      const char *ng = path_of(be ? "be.pcapng" : "le.pcapng");
      to_pcapng(srcs[k], ng, be);
      p = slurp(ng, &n);
      seed(k ? (be ? "roce_be.pcapng" : "roce_le.pcapng")
             : (be ? "tcp_be.pcapng" : "tcp_le.pcapng"),
           p, n);
      dump_stats st;
      char *got = run_dump(p, n, false, &st, &rc);
      assert_int_equal(rc, 0);
      assert_string_equal(got, want);
      free(got);
      free(p);
    }
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "gzip -c '%s' > '%s'", srcs[k],
             path_of("c.pcap.gz"));
    if (system(cmd) == 0) {
      p = slurp(path_of("c.pcap.gz"), &n);
      dump_stats st;
      char *got = run_dump(p, n, false, &st, &rc);
#ifdef SMBX_DUMP_HAVE_ZLIB
      assert_int_equal(rc, 0);
      assert_string_equal(got, want);
#else
      assert_int_equal(rc, -1);
#endif
      free(got);
      /* a cut gzip stream: what inflated is still read, plus an error */
      got = run_dump(p, n - 10, false, &st, &rc);
      assert_true(st.errors >= 1);
      free(got);
      free(p);
    }
    free(want);
    free(srcs[k]);
  }
}

static void dump_damaged_captures_give_error_records(void **state)
{
  (void)state;
  size_t n;
  uint8_t *p = slurp(make_roce(), &n);
  dump_stats st;
  int rc;
  /* cut inside every region of the file: never a crash, always a record */
  for (size_t cut = 0; cut < n; cut += (cut < 200 ? 1 : 97)) {
    char *out = run_dump(p, cut, false, &st, &rc);
    if (cut < 24)
      assert_int_equal(rc, -1);
    else
      assert_int_equal(rc, 0);
    free(out);
  }
  /* truncated mid-record: the record error names the frame */
  char *out = run_dump(p, n - 5, false, &st, &rc);
  assert_int_equal(count(out, "pcap: record truncated"), 1);
  free(out);
  /* a corrupted byte inside a SEND Middle's payload region never crashes;
   * flipping BTH opcodes gives SEND-order errors */
  for (size_t i = 24; i < n; i += 131) {
    uint8_t save = p[i];
    p[i] ^= 0x5A;
    out = run_dump(p, n, false, &st, &rc);
    assert_int_equal(rc, 0);
    free(out);
    p[i] = save;
  }
  out = run_dump((const uint8_t *)"hello world", 11, false, &st, &rc);
  assert_int_equal(rc, -1);
  assert_int_equal(count(out, "not a pcap, pcapng or gzip file"), 1);
  free(out);
  free(p);
}

/* pcap records of a capture, to rebuild it in another order */
typedef struct recs {
  const uint8_t *p[512];
  size_t len[512];
  size_t n;
} recs;

static void split_records(const uint8_t *p, size_t n, recs *r)
{
  r->n = 0;
  for (size_t off = 24; off + 16 <= n && r->n < 512;) {
    size_t cap = (size_t)p[off + 8] | (size_t)p[off + 9] << 8 |
                 (size_t)p[off + 10] << 16 | (size_t)p[off + 11] << 24;
    r->p[r->n] = p + off;
    r->len[r->n++] = 16 + cap;
    off += 16 + cap;
  }
}

/* header + the records named by idx (count k) */
static uint8_t *join_records(const uint8_t *hdr, const recs *r,
                             const size_t *idx, size_t k, size_t *out_len)
{
  size_t n = 24;
  for (size_t i = 0; i < k; i++)
    n += r->len[idx[i]];
  uint8_t *b = malloc(n);
  assert_non_null(b);
  memcpy(b, hdr, 24);
  size_t off = 24;
  for (size_t i = 0; i < k; i++) {
    memcpy(b + off, r->p[idx[i]], r->len[idx[i]]);
    off += r->len[idx[i]];
  }
  *out_len = n;
  return b;
}

static void dump_tcp_reorder_retransmit_and_gap(void **state)
{
  (void)state;
  size_t n;
  uint8_t *p = slurp(make_tcp(), &n);
  recs r;
  split_records(p, n, &r);
  /* frames: 0-2 handshake, 3-4 the two ECHOs, 5.. the WRITE (10 bytes,
   * then 100-byte segments), then the response, then FINs */
  assert_true(r.n > 20);
  size_t idx[600], k;
  dump_stats st;
  int rc;

  /* out of order: swap two WRITE segments and move one later still */
  k = 0;
  for (size_t i = 0; i < r.n; i++)
    idx[k++] = i;
  idx[8] = 9;
  idx[9] = 8;
  size_t t = idx[12];
  idx[12] = idx[13];
  idx[13] = idx[14];
  idx[14] = t;
  size_t m;
  uint8_t *q = join_records(p, &r, idx, k, &m);
  char *out = run_dump(q, m, false, &st, &rc);
  assert_int_equal(st.smb2, 4);
  assert_int_equal(st.errors, 0);
  assert_int_equal(count(out, "\"pdu_length\":3112"), 1);
  free(out);
  free(q);

  /* retransmissions: every data segment twice, one of them much later */
  k = 0;
  for (size_t i = 0; i < r.n; i++) {
    idx[k++] = i;
    if (i >= 3 && i < r.n - 3)
      idx[k++] = i;
  }
  idx[k++] = 10;
  q = join_records(p, &r, idx, k, &m);
  out = run_dump(q, m, false, &st, &rc);
  assert_int_equal(st.smb2, 4);
  assert_int_equal(st.errors, 0);
  free(out);
  free(q);

  /* a segment the capture lost: the server's ACK covers it, so the gap is
   * reported and skipped; the WRITE is lost, everything else decodes */
  k = 0;
  for (size_t i = 0; i < r.n; i++)
    if (i != 10)
      idx[k++] = i;
  q = join_records(p, &r, idx, k, &m);
  out = run_dump(q, m, false, &st, &rc);
  assert_int_equal(st.smb2, 3);
  assert_int_equal(count(out, "segments missing from the capture"), 1);
  assert_int_equal(count(out, "\"cmd_name\":\"WRITE\""), 0);
  free(out);
  free(q);
  free(p);
}

static void dump_roce_lost_send_middle_is_reported(void **state)
{
  (void)state;
  size_t n;
  uint8_t *p = slurp(make_roce(), &n);
  recs r;
  split_records(p, n, &r);
  /* 0 negotiate request, 1 response, 2-5 the first WRITE's SEND
   * First/Middle/Middle/Last */
  size_t idx[512], k = 0;
  for (size_t i = 0; i < r.n; i++)
    if (i != 3)
      idx[k++] = i;
  size_t m;
  uint8_t *q = join_records(p, &r, idx, k, &m);
  dump_stats st;
  int rc;
  char *out = run_dump(q, m, false, &st, &rc);
  assert_int_equal(rc, 0);
  assert_int_equal(count(out, "PSN gap inside a multi-packet operation"), 1);
  assert_int_equal(st.smb2, 1); /* the second WRITE still decodes */
  assert_int_equal(count(out, "\"msg_id\":8,"), 1);
  assert_int_equal(count(out, "\"type\":\"rdma_read\""), 1);
  free(out);
  free(q);
  free(p);
}

static void dump_raw_tcp_stream(void **state)
{
  (void)state;
  uint8_t pdu[256], buf[1024];
  size_t n = 0;
  n += tcp_frame(buf + n, pdu, echo(pdu, false, 1));
  n += tcp_frame(buf + n, pdu, echo(pdu, true, 1));
  /* a compound of two ECHOs: NextCommand 72 */
  uint8_t comp[72 + 68];
  echo(comp, false, 2);
  put_le32(comp + 20, 72);
  echo(comp + 72, false, 3);
  n += tcp_frame(buf + n, comp, sizeof comp);
  dump_stats st;
  int rc;
  char *out = run_dump(buf, n, true, &st, &rc);
  assert_int_equal(rc, 0);
  assert_int_equal(st.smb2, 4);
  assert_int_equal(count(out, "\"index\":1"), 1);
  assert_int_equal(count(out, "\"direction\":\"s2c\""), 1);
  assert_int_equal(count(out, "\"transport\":\"stream\""), 4);
  free(out);
  seed("stream_as_capture", buf, n);
  /* a bad prefix stops the stream with one error record */
  buf[n - sizeof comp - 4] = 0x85;
  out = run_dump(buf, n, true, &st, &rc);
  assert_int_equal(st.smb2, 2);
  assert_int_equal(st.errors, 1);
  assert_int_equal(count(out, "first prefix byte is not 0x00"), 1);
  free(out);
  /* a truncated last PDU is reported */
  buf[n - sizeof comp - 4] = 0;
  out = run_dump(buf, n - 1, true, &st, &rc);
  assert_int_equal(st.smb2, 2);
  assert_int_equal(count(out, "stream ended inside a PDU"), 1);
  free(out);
  /* a bad NextCommand yields the PDU and an error record */
  put_le32(buf + n - sizeof comp + 20, 70);
  out = run_dump(buf, n, true, &st, &rc);
  assert_int_equal(count(out, "bad NextCommand"), 1);
  free(out);
}

static int setup(void **state)
{
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "%s/smbx-dump-test-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
  (void)state;
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(dump_tcp_segments_reassembled_by_sequence),
      cmocka_unit_test(dump_roce_multi_packet_send_and_smbd_fragments),
      cmocka_unit_test(dump_pcapng_both_orders_and_gzip_match_pcap),
      cmocka_unit_test(dump_damaged_captures_give_error_records),
      cmocka_unit_test(dump_tcp_reorder_retransmit_and_gap),
      cmocka_unit_test(dump_roce_lost_send_middle_is_reported),
      cmocka_unit_test(dump_raw_tcp_stream),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
