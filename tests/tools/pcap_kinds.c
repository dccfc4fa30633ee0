/* SPDX-License-Identifier: MIT */
/* pcap_kinds: writes one capture of each kind with pcapw, for the tshark
 * checks in tests/tools/check_pcap_kinds.py.
 *
 *   pcap_kinds tcp   PATH   Direct-TCP: SMB2 NEGOTIATE request/response and
 *                           a WRITE request (5000 data bytes, > mss) + response
 *   pcap_kinds roce  PATH   SMB Direct over RoCEv2: negotiate, empty data
 *                           message, SMB2 NEGOTIATE whole and in two
 *                           fragments, SEND with Invalidate, RDMA WRITE 10000
 *                           bytes (mtu 4096), RDMA READ 5000 bytes
 *   pcap_kinds smb2x PATH   Direct-TCP: a compound of two ECHO requests and its
 *                           compound response, CHANGE_NOTIFY with an interim
 *                           (STATUS_PENDING) and a final response, and an
 *                           oplock break notification in the same segment as
 *                           the interim response
 *   pcap_kinds multi PATH   a SEND larger than the mtu (SEND First/Middle/Last,
 *                           which tshark cannot reassemble); checked here by
 *                           reading the file back, no tshark
 * Captures with one defect each, which tshark_check.py must report:
 *   pcap_kinds raw_send PATH      an SMB Direct data message with DataOffset 32
 *                                 (valid for [MS-SMBD], not for tshark's heuristic)
 *   pcap_kinds unreassembled PATH a fragment (RemainingDataLength > 0), no rest
 *   pcap_kinds tcp_cut PATH       a Direct-TCP PDU cut short at the end
 *   pcap_kinds malformed PATH     an SMB2 NEGOTIATE request claiming more
 *                                 dialects than it carries
 *   pcap_kinds tcp_junk PATH      a Direct-TCP PDU that is not SMB2 (ProtocolId)
 *   pcap_kinds smbd_junk PATH     an SMB Direct data message whose payload is
 *                                 not SMB2
 *
 * For tcp and roce it prints on stdout one JSON object describing what it
 * wrote (expected counts and per-frame field values in tshark_check.py's
 * format), so the checker's view can be compared with the writer's.
 * Exit 0 ok, 1 failure, 2 usage.
 *
 * SMB2 messages below are built by hand from the MS-SMB2 layouts
 * (2.2.1.2 SYNC header, 2.2.3 NEGOTIATE Request, 2.2.4 NEGOTIATE Response,
 * 2.2.21 WRITE Request, 2.2.22 WRITE Response; digest in
 * /work/shared/spec/smb2.md sec. 2 and 4); SMB Direct messages from the
 * MS-SMBD 2.2.1 / 2.2.2 / 2.2.3 layouts (spec/smbd.md sec. 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcapw.h"

/* SMB2 NEGOTIATE Request, 108 bytes: dialects 2.0.2, 2.1, 3.0, 3.0.2 */
static const uint8_t smb2_neg_req[108] = {
  /* header: ProtocolId, StructureSize 64, CreditCharge 0, Status 0 */
  0xFE, 'S', 'M', 'B', 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* Command 0 NEGOTIATE, CreditRequest 31, Flags 0, NextCommand 0 */
  0x00, 0x00, 0x1F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* MessageId 0 */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* Reserved 0x0000FEFF, TreeId 0 */
  0xFF, 0xFE, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* SessionId 0 */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* Signature 0 */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* body: StructureSize 36, DialectCount 4, SecurityMode SIGNING_ENABLED,
   * Reserved, Capabilities LARGE_MTU|ENCRYPTION */
  0x24, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x44, 0x00, 0x00, 0x00,
  /* ClientGuid */
  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
  0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10,
  /* ClientStartTime 0 (no 3.1.1) */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* Dialects 0x0202 0x0210 0x0300 0x0302 */
  0x02, 0x02, 0x10, 0x02, 0x00, 0x03, 0x02, 0x03,
};

/* SMB2 NEGOTIATE Response, 128 bytes: dialect 3.0.2, empty security buffer */
static const uint8_t smb2_neg_resp[128] = {
  /* header: ProtocolId, StructureSize 64, CreditCharge 0, Status SUCCESS */
  0xFE, 'S', 'M', 'B', 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* Command 0, CreditResponse 1, Flags SERVER_TO_REDIR, NextCommand 0 */
  0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* MessageId 0 */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* Reserved 0x0000FEFF, TreeId 0 */
  0xFF, 0xFE, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* SessionId 0 */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* Signature 0 */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* body: StructureSize 65, SecurityMode SIGNING_ENABLED, DialectRevision
   * 0x0302, NegotiateContextCount 0 */
  0x41, 0x00, 0x01, 0x00, 0x02, 0x03, 0x00, 0x00,
  /* ServerGuid */
  0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
  0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF,
  /* Capabilities LARGE_MTU, MaxTransactSize/MaxReadSize/MaxWriteSize 8 MiB */
  0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00,
  0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0x00,
  /* SystemTime (FILETIME 2023-11-14 22:13:20 UTC), ServerStartTime 0 */
  0x00, 0x00, 0x6D, 0xC6, 0x47, 0x17, 0xDA, 0x01,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* SecurityBufferOffset 0x80, SecurityBufferLength 0, NegotiateContextOffset 0 */
  0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

enum { WRITE_DATA = 5000 };

/* SMB2 WRITE Request header + fixed body (112 bytes), data follows at 0x70 */
static const uint8_t smb2_write_req_hdr[112] = {
  0xFE, 'S', 'M', 'B', 0x40, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, /* CreditCharge 1 */
  /* Command 9 WRITE, CreditRequest 1, Flags 0, NextCommand 0 */
  0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* MessageId 1 */
  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* Reserved 0x0000FEFF, TreeId 1 */
  0xFF, 0xFE, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
  /* SessionId 0x0000000000001234 */
  0x34, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* body: StructureSize 49, DataOffset 0x70, Length 5000 */
  0x31, 0x00, 0x70, 0x00, 0x88, 0x13, 0x00, 0x00,
  /* Offset 0 */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* FileId {persistent 0x11, volatile 0x22} */
  0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x22, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* Channel NONE, RemainingBytes 0, WriteChannelInfoOffset/Length 0, Flags 0 */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* SMB2 WRITE Response, 81 bytes: Count 5000 */
static const uint8_t smb2_write_resp[81] = {
  0xFE, 'S', 'M', 'B', 0x40, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, /* STATUS_SUCCESS */
  /* Command 9, CreditResponse 1, Flags SERVER_TO_REDIR, NextCommand 0 */
  0x09, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* MessageId 1 */
  0xFF, 0xFE, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* TreeId 1 */
  0x34, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* SessionId 0x1234 */
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  /* body: StructureSize 17, Reserved, Count 5000, Remaining 0, channel info 0 */
  0x11, 0x00, 0x00, 0x00, 0x88, 0x13, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, /* the one variable byte StructureSize 17 counts */
};

/* ---- little helpers */

static void le16(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
  le16(p, v);
  le16(p + 2, v >> 16);
}

static int failed;

static void check(int ok, const char *what)
{
  if (!ok) {
    fprintf(stderr, "pcap_kinds: %s failed\n", what);
    failed = 1;
  }
}

/* JSON "fields" list built as frames are written */
static char fields_buf[8192];
static size_t fields_len;

static void field_entry(uint64_t frame, const char *body)
{
  int n = snprintf(fields_buf + fields_len, sizeof fields_buf - fields_len, "%s{\"frame\": %llu, %s}",
                   fields_len ? ", " : "", (unsigned long long)frame, body);
  if (n < 0 || (size_t)n >= sizeof fields_buf - fields_len) {
    fprintf(stderr, "pcap_kinds: fields buffer full\n");
    exit(1);
  }
  fields_len += (size_t)n;
}

/* ---- (a) Direct-TCP */

static int tcp_stream(pcapw *w, int dir, const uint8_t *pdu, size_t len, const uint8_t *tail,
                      size_t tail_len)
{
  /* Direct-TCP header: 0x00 + 24-bit big-endian length ([MS-SMB2] 2.1) */
  size_t total = len + tail_len;
  uint8_t *buf = malloc(4 + total);
  if (!buf)
    return -1;
  buf[0] = 0;
  buf[1] = (uint8_t)(total >> 16);
  buf[2] = (uint8_t)(total >> 8);
  buf[3] = (uint8_t)total;
  memcpy(buf + 4, pdu, len);
  if (tail_len)
    memcpy(buf + 4 + len, tail, tail_len);
  int rc = pcapw_tcp(w, dir, buf, 4 + total);
  free(buf);
  return rc;
}

static int write_tcp(const char *path)
{
  pcapw *w = pcapw_open(path, NULL);
  if (!w)
    return 1;
  static uint8_t data[WRITE_DATA];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)(i * 31u + 7u);
  char e[256];
  check(tcp_stream(w, 0, smb2_neg_req, sizeof smb2_neg_req, NULL, 0) == 0, "tcp neg req");
  field_entry(pcapw_frame_count(w), "\"smb2.cmd\": [0], \"smb2.msg_id\": [0], "
                                    "\"smb2.credits.requested\": [31]");
  check(tcp_stream(w, 1, smb2_neg_resp, sizeof smb2_neg_resp, NULL, 0) == 0, "tcp neg resp");
  field_entry(pcapw_frame_count(w), "\"smb2.cmd\": [0], \"smb2.msg_id\": [0], "
                                    "\"smb2.credits.granted\": [1], "
                                    "\"smb2.nt_status\": [\"0x00000000\"]");
  uint64_t before = pcapw_frame_count(w);
  check(tcp_stream(w, 0, smb2_write_req_hdr, sizeof smb2_write_req_hdr, data, sizeof data) == 0,
        "tcp write req");
  /* 4 + 112 + 5000 bytes at mss 1460: 4 segments, the PDU completes in the last */
  check(pcapw_frame_count(w) - before == 4, "tcp write req segment count");
  snprintf(e, sizeof e, "\"smb2.cmd\": [9], \"smb2.msg_id\": [1], \"smb2.credits.requested\": [1]");
  field_entry(pcapw_frame_count(w), e);
  check(tcp_stream(w, 1, smb2_write_resp, sizeof smb2_write_resp, NULL, 0) == 0, "tcp write resp");
  field_entry(pcapw_frame_count(w), "\"smb2.cmd\": [9], \"smb2.msg_id\": [1], "
                                    "\"smb2.credits.granted\": [1], "
                                    "\"smb2.nt_status\": [\"0x00000000\"]");
  uint64_t frames = pcapw_frame_count(w) + 3; /* + FIN, FIN, ACK */
  check(pcapw_close(w) == 0, "tcp close");
  printf("{\"frames\": %llu, \"smb2_pdus\": 4, "
         "\"smb2\": {\"NEGOTIATE.req\": 1, \"NEGOTIATE.resp\": 1, \"WRITE.req\": 1, "
         "\"WRITE.resp\": 1}, "
         "\"smb2_status\": {\"0x00000000\": 2}, \"smbd_messages\": 0, "
         "\"fields_list\": \"smb2.cmd,smb2.msg_id,smb2.credits.requested,smb2.credits.granted,"
         "smb2.nt_status\", "
         "\"fields\": [%s]}\n",
         (unsigned long long)frames, fields_buf);
  return failed;
}

/* ---- (a2) SMB2 compound, interim, notification over Direct-TCP */

/* SMB2 header ([MS-SMB2] 2.2.1.1 ASYNC / 2.2.1.2 SYNC), 64 bytes */
static void smb2_hdr(uint8_t *h, uint16_t cmd, uint32_t flags, uint32_t status, uint64_t msg_id,
                     uint32_t next, uint64_t async_id)
{
  memset(h, 0, 64);
  h[0] = 0xFE;
  h[1] = 'S';
  h[2] = 'M';
  h[3] = 'B';
  le16(h + 4, 64);
  le16(h + 6, 1);           /* CreditCharge */
  le32(h + 8, status);
  le16(h + 12, cmd);
  le16(h + 14, 1);          /* CreditRequest / CreditResponse */
  le32(h + 16, flags);
  le32(h + 20, next);
  le32(h + 24, (uint32_t)msg_id);
  le32(h + 28, (uint32_t)(msg_id >> 32));
  if (flags & 0x2u) {       /* ASYNC: AsyncId @32 */
    le32(h + 32, (uint32_t)async_id);
    le32(h + 36, (uint32_t)(async_id >> 32));
  } else {
    le32(h + 32, 0xFEFF);   /* Reserved */
    le32(h + 36, 1);        /* TreeId */
  }
  le32(h + 40, 0x1234);     /* SessionId */
}

static int write_smb2x(const char *path)
{
  pcapw *w = pcapw_open(path, NULL);
  if (!w)
    return 1;
  uint8_t b[512];
  char e[512];
  /* compound: ECHO request (2.2.28: StructureSize 4, Reserved) padded to 8,
   * then a second ECHO request */
  memset(b, 0, sizeof b);
  smb2_hdr(b, 13, 0, 0, 2, 72, 0);
  le16(b + 64, 4);
  smb2_hdr(b + 72, 13, 0, 0, 3, 0, 0);
  le16(b + 72 + 64, 4);
  check(tcp_stream(w, 0, b, 72 + 68, NULL, 0) == 0, "echo compound");
  field_entry(pcapw_frame_count(w), "\"smb2.cmd\": [13, 13], \"smb2.msg_id\": [2, 3]");
  /* compound ECHO responses (2.2.29) */
  memset(b, 0, sizeof b);
  smb2_hdr(b, 13, 0x1, 0, 2, 72, 0);
  le16(b + 64, 4);
  smb2_hdr(b + 72, 13, 0x1, 0, 3, 0, 0);
  le16(b + 72 + 64, 4);
  check(tcp_stream(w, 1, b, 72 + 68, NULL, 0) == 0, "echo compound response");
  field_entry(pcapw_frame_count(w), "\"smb2.cmd\": [13, 13], \"smb2.msg_id\": [2, 3], "
                                    "\"smb2.nt_status\": [\"0x00000000\", \"0x00000000\"]");
  /* CHANGE_NOTIFY request (2.2.35): StructureSize 32, Flags WATCH_TREE,
   * OutputBufferLength 4096, FileId, CompletionFilter FILE_NAME|DIR_NAME */
  memset(b, 0, sizeof b);
  smb2_hdr(b, 15, 0, 0, 4, 0, 0);
  le16(b + 64, 32);
  le16(b + 66, 1);
  le32(b + 68, 4096);
  le32(b + 72, 0x11);
  le32(b + 80, 0x22);
  le32(b + 88, 0x3);
  check(tcp_stream(w, 0, b, 96, NULL, 0) == 0, "change notify request");
  field_entry(pcapw_frame_count(w), "\"smb2.cmd\": [15], \"smb2.msg_id\": [4]");
  /* one segment with two Direct-TCP PDUs: the interim response (ASYNC,
   * STATUS_PENDING, error body 2.2.2: StructureSize 9, ByteCount 0, 1 byte)
   * and an oplock break notification (2.2.23.1: MessageId all ones,
   * StructureSize 24, OplockLevel II, FileId) */
  uint8_t two[256];
  memset(two, 0, sizeof two);
  uint8_t *p = two;
  p[3] = 73;
  smb2_hdr(p + 4, 15, 0x3, 0x00000103u, 4, 0, 7);
  le16(p + 4 + 64, 9);
  p += 4 + 73;
  p[3] = 88;
  smb2_hdr(p + 4, 18, 0x1, 0, UINT64_MAX, 0, 0);
  le32(p + 4 + 36, 0);  /* TreeId 0 */
  le32(p + 4 + 40, 0);  /* SessionId 0 */
  le16(p + 4 + 64, 24);
  p[4 + 66] = 0x01;     /* SMB2_OPLOCK_LEVEL_II */
  le32(p + 4 + 72, 0x11);
  le32(p + 4 + 80, 0x22);
  p += 4 + 88;
  check(pcapw_tcp(w, 1, two, (size_t)(p - two)) == 0, "interim + break");
  field_entry(pcapw_frame_count(w),
              "\"smb2.cmd\": [15, 18], \"smb2.msg_id\": [4, 18446744073709551615], "
              "\"smb2.nt_status\": [\"0x00000103\", \"0x00000000\"]");
  /* final CHANGE_NOTIFY response (2.2.36): ASYNC, StructureSize 9,
   * OutputBufferOffset 0x48, OutputBufferLength 0, 1 byte */
  memset(b, 0, sizeof b);
  smb2_hdr(b, 15, 0x3, 0, 4, 0, 7);
  le16(b + 64, 9);
  le16(b + 66, 0x48);
  check(tcp_stream(w, 1, b, 73, NULL, 0) == 0, "change notify response");
  snprintf(e, sizeof e, "\"smb2.cmd\": [15], \"smb2.msg_id\": [4], "
                        "\"smb2.nt_status\": [\"0x00000000\"]");
  field_entry(pcapw_frame_count(w), e);
  uint64_t frames = pcapw_frame_count(w) + 3;
  check(pcapw_close(w) == 0, "smb2x close");
  printf("{\"frames\": %llu, \"smb2_pdus\": 8, "
         "\"smb2\": {\"ECHO.req\": 2, \"ECHO.resp\": 2, \"CHANGE_NOTIFY.req\": 1, "
         "\"CHANGE_NOTIFY.interim\": 1, \"CHANGE_NOTIFY.resp\": 1, "
         "\"OPLOCK_BREAK.notify\": 1}, "
         "\"smb2_status\": {\"0x00000000\": 4, \"0x00000103\": 1}, \"smbd_messages\": 0, "
         "\"fields_list\": \"smb2.cmd,smb2.msg_id,smb2.nt_status\", "
         "\"fields\": [%s]}\n",
         (unsigned long long)frames, fields_buf);
  return failed;
}

/* ---- (b) SMB Direct over RoCEv2 */

/* Data Transfer message header ([MS-SMBD] 2.2.3); payload at DataOffset 24 */
static size_t smbd_data(uint8_t *out, uint16_t credits_req, uint16_t credits_granted,
                        uint16_t flags, uint32_t remaining, const uint8_t *payload, size_t len)
{
  le16(out, credits_req);
  le16(out + 2, credits_granted);
  le16(out + 4, flags);
  le16(out + 6, 0);
  le32(out + 8, remaining);
  le32(out + 12, len ? 24u : 0u);
  le32(out + 16, (uint32_t)len);
  if (!len)
    return 20;
  le32(out + 20, 0); /* padding to DataOffset */
  memcpy(out + 24, payload, len);
  return 24 + len;
}

static void smbd_fields(uint64_t frame, unsigned req, unsigned granted, unsigned rr,
                        unsigned remaining, unsigned len)
{
  char e[512];
  snprintf(e, sizeof e,
           "\"smb_direct.credits.requested\": [%u], \"smb_direct.credits.granted\": [%u], "
           "\"smb_direct.flags.response_requested\": [%u], \"smb_direct.remaining_length\": [%u], "
           "\"smb_direct.data_offset\": [%u], \"smb_direct.data_length\": [%u]",
           req, granted, rr, remaining, len ? 24u : 0u, len);
  field_entry(frame, e);
}

static int write_roce(const char *path)
{
  pcapw *w = pcapw_open(path, NULL); /* mtu 4096 */
  if (!w)
    return 1;
  uint8_t m[512];

  /* Negotiate Request ([MS-SMBD] 2.2.1): 0x0100..0x0100, CreditsRequested 255,
   * PreferredSendSize 1364, MaxReceiveSize 8192, MaxFragmentedSize 1 MiB */
  le16(m, 0x0100);
  le16(m + 2, 0x0100);
  le16(m + 4, 0);
  le16(m + 6, 255);
  le32(m + 8, 1364);
  le32(m + 12, 8192);
  le32(m + 16, 1048576);
  check(pcapw_smbd_send(w, 0, m, 20) == 0, "negotiate request");
  field_entry(pcapw_frame_count(w), "\"smb_direct.credits.requested\": [255]");

  /* Negotiate Response ([MS-SMBD] 2.2.2): 0x0100 x3, CreditsRequested 255,
   * CreditsGranted 100, Status 0, MaxReadWriteSize 1 MiB, PreferredSendSize
   * 1364, MaxReceiveSize 8192, MaxFragmentedSize 1 MiB */
  le16(m, 0x0100);
  le16(m + 2, 0x0100);
  le16(m + 4, 0x0100);
  le16(m + 6, 0);
  le16(m + 8, 255);
  le16(m + 10, 100);
  le32(m + 12, 0);
  le32(m + 16, 1048576);
  le32(m + 20, 1364);
  le32(m + 24, 8192);
  le32(m + 28, 1048576);
  check(pcapw_smbd_send(w, 1, m, 32) == 0, "negotiate response");
  field_entry(pcapw_frame_count(w),
              "\"smb_direct.credits.requested\": [255], \"smb_direct.credits.granted\": [100]");

  /* empty data message granting credits, RESPONSE_REQUESTED */
  size_t n = smbd_data(m, 255, 64, 0x0001, 0, NULL, 0);
  check(n == 20 && pcapw_smbd_send(w, 0, m, n) == 0, "empty data");
  smbd_fields(pcapw_frame_count(w), 255, 64, 1, 0, 0);

  /* SMB2 NEGOTIATE request whole */
  n = smbd_data(m, 255, 0, 0x0001, 0, smb2_neg_req, sizeof smb2_neg_req);
  check(pcapw_smbd_send(w, 0, m, n) == 0, "data negotiate whole");
  smbd_fields(pcapw_frame_count(w), 255, 0, 1, 0, sizeof smb2_neg_req);

  /* the same in two fragments: RemainingDataLength 52, then 0 */
  n = smbd_data(m, 255, 0, 0, 52, smb2_neg_req, 56);
  check(pcapw_smbd_send(w, 0, m, n) == 0, "data fragment 1");
  smbd_fields(pcapw_frame_count(w), 255, 0, 0, 52, 56);
  n = smbd_data(m, 255, 0, 0, 0, smb2_neg_req + 56, 52);
  check(pcapw_smbd_send(w, 0, m, n) == 0, "data fragment 2");
  smbd_fields(pcapw_frame_count(w), 255, 0, 0, 0, 52);

  /* SMB2 NEGOTIATE response by SEND with Invalidate of rkey 0x00abcdef */
  n = smbd_data(m, 255, 3, 0, 0, smb2_neg_resp, sizeof smb2_neg_resp);
  check(pcapw_smbd_send_inv(w, 1, 0x00abcdefu, m, n) == 0, "send with invalidate");
  smbd_fields(pcapw_frame_count(w), 255, 3, 0, 0, sizeof smb2_neg_resp);

  /* RDMA WRITE of 10000 bytes by the server (as for an SMB2 READ) */
  static uint8_t data[10000];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)(i ^ (i >> 8));
  check(pcapw_rdma_write(w, 1, 0x7f0000001000ull, 0x1a2b3cu, data, 10000) == 0, "rdma write");
  /* RDMA READ of 5000 bytes issued by the server (as for an SMB2 WRITE) */
  check(pcapw_rdma_read(w, 1, 0x7f0000200000ull, 0x4d5e6fu, data, 5000) == 0, "rdma read");
  uint64_t frames = pcapw_frame_count(w);
  check(frames == 7 + 3 + 3, "roce frame count");
  check(pcapw_close(w) == 0, "roce close");
  printf("{\"frames\": %llu, \"smb2_pdus\": 3, "
         "\"smb2\": {\"NEGOTIATE.req\": 2, \"NEGOTIATE.resp\": 1}, "
         "\"smb2_status\": {\"0x00000000\": 1}, \"smbd_messages\": 7, "
         "\"smbd\": {\"negotiate_request\": 1, \"negotiate_response\": 1, \"data\": 5, "
         "\"data_empty\": 1, \"data_fragment\": 1, \"response_requested\": 2}, "
         "\"rdma\": {\"SEND_ONLY\": 6, \"SEND_ONLY_INV\": 1, \"RDMA_WRITE_FIRST\": 1, "
         "\"RDMA_WRITE_MIDDLE\": 1, \"RDMA_WRITE_LAST\": 1, \"RDMA_READ_REQUEST\": 1, "
         "\"RDMA_READ_RESPONSE_FIRST\": 1, \"RDMA_READ_RESPONSE_LAST\": 1}, "
         "\"fields_list\": \"smb_direct.credits.requested,smb_direct.credits.granted,"
         "smb_direct.flags.response_requested,smb_direct.remaining_length,"
         "smb_direct.data_offset,smb_direct.data_length\", "
         "\"fields\": [%s]}\n",
         (unsigned long long)frames, fields_buf);
  return failed;
}

/* ---- (c) multi-packet SEND, checked by reading the file back */

static int write_multi(const char *path)
{
  pcapw_opts o = {.mtu = 1024};
  pcapw *w = pcapw_open(path, &o);
  if (!w)
    return 1;
  static uint8_t m[24 + 3000];
  static uint8_t payload[3000];
  for (size_t i = 0; i < sizeof payload; i++)
    payload[i] = (uint8_t)i;
  size_t n = smbd_data(m, 255, 1, 0, 0, payload, sizeof payload);
  check(pcapw_smbd_send(w, 0, m, n) == 0, "multi send");
  check(pcapw_smbd_send_inv(w, 1, 0x42u, m, n) == 0, "multi send inv");
  check(pcapw_close(w) == 0, "multi close");

  /* 3024 bytes at mtu 1024: First, Middle, Last per message */
  static const uint8_t want_op[6] = {0x00, 0x01, 0x02, 0x00, 0x01, 0x16};
  static const size_t want_len[6] = {1024, 1024, 976, 1024, 1024, 976};
  pcapw_reader *r = pcapw_reader_open(path);
  check(r != NULL, "multi reopen");
  if (!r)
    return 1;
  pcapw_pkt p;
  int count = 0, rc;
  size_t off = 0;
  while ((rc = pcapw_reader_next(r, &p)) == 1) {
    if (count < 6) {
      check(p.kind == PCAPW_PKT_ROCE && p.icrc_ok && p.ip_csum_ok, "multi packet valid");
      check(p.bth.opcode == want_op[count], "multi opcode");
      check(p.bth.psn == (uint32_t)(count % 3), "multi psn");
      check(p.bth.ackreq == (count % 3 == 2), "multi ackreq on last");
      check(p.payload_len == want_len[count], "multi payload length");
      check(p.dir == count / 3, "multi direction");
      if (count % 3 == 0)
        off = 0;
      check(memcmp(p.payload, m + off, p.payload_len) == 0, "multi payload bytes");
      off += p.payload_len;
      check((count == 5) == (p.has_ieth && p.ieth == 0x42u), "multi ieth on last");
    }
    count++;
  }
  check(rc == 0, "multi read to end");
  check(count == 6, "multi frame count");
  pcapw_reader_close(r);
  if (!failed)
    printf("{\"frames\": %d}\n", count);
  return failed;
}

/* ---- captures with one defect each */

static int write_negotiate(pcapw *w)
{
  uint8_t m[32] = {0};
  le16(m, 0x0100);
  le16(m + 2, 0x0100);
  le16(m + 6, 255);
  le32(m + 8, 1364);
  le32(m + 12, 8192);
  le32(m + 16, 1048576);
  int rc = pcapw_smbd_send(w, 0, m, 20);
  memset(m, 0, sizeof m);
  le16(m, 0x0100);
  le16(m + 2, 0x0100);
  le16(m + 4, 0x0100);
  le16(m + 8, 255);
  le16(m + 10, 100);
  le32(m + 16, 1048576);
  le32(m + 20, 1364);
  le32(m + 24, 8192);
  le32(m + 28, 1048576);
  return rc | pcapw_smbd_send(w, 1, m, 32);
}

static int write_defect(const char *kind, const char *path)
{
  pcapw *w = pcapw_open(path, NULL);
  if (!w)
    return 1;
  uint8_t m[256];
  memset(m, 0, sizeof m);
  if (strcmp(kind, "raw_send") == 0) {
    check(write_negotiate(w) == 0, "negotiate");
    /* DataOffset 32: 8 bytes of padding, then the SMB2 PDU */
    le16(m, 255);
    le32(m + 12, 32);
    le32(m + 16, sizeof smb2_neg_req);
    memcpy(m + 32, smb2_neg_req, sizeof smb2_neg_req);
    check(pcapw_smbd_send(w, 0, m, 32 + sizeof smb2_neg_req) == 0, "raw send");
  } else if (strcmp(kind, "unreassembled") == 0) {
    check(write_negotiate(w) == 0, "negotiate");
    size_t n = smbd_data(m, 255, 0, 0, 52, smb2_neg_req, 56);
    check(pcapw_smbd_send(w, 0, m, n) == 0, "fragment");
  } else if (strcmp(kind, "tcp_cut") == 0) {
    check(tcp_stream(w, 0, smb2_neg_req, sizeof smb2_neg_req, NULL, 0) == 0, "whole pdu");
    /* header announces 108 bytes, only 60 follow */
    m[3] = sizeof smb2_neg_req;
    memcpy(m + 4, smb2_neg_req, 60);
    check(pcapw_tcp(w, 0, m, 64) == 0, "cut pdu");
  } else if (strcmp(kind, "malformed") == 0) {
    memcpy(m, smb2_neg_req, sizeof smb2_neg_req);
    m[66] = 200; /* DialectCount 200, 4 present */
    check(tcp_stream(w, 0, m, sizeof smb2_neg_req, NULL, 0) == 0, "malformed pdu");
  } else if (strcmp(kind, "tcp_junk") == 0) {
    memcpy(m, smb2_neg_req, sizeof smb2_neg_req);
    m[0] = 0xFD; /* not 0xFE 'SMB' */
    m[1] = 'X';
    check(tcp_stream(w, 0, m, sizeof smb2_neg_req, NULL, 0) == 0, "junk pdu");
  } else if (strcmp(kind, "smbd_junk") == 0) {
    check(write_negotiate(w) == 0, "negotiate");
    uint8_t junk[64];
    memset(junk, 0x41, sizeof junk);
    size_t n = smbd_data(m, 255, 0, 0, 0, junk, sizeof junk);
    check(pcapw_smbd_send(w, 0, m, n) == 0, "junk data message");
  } else {
    fprintf(stderr, "pcap_kinds: unknown kind '%s'\n", kind);
    pcapw_close(w);
    return 2;
  }
  check(pcapw_close(w) == 0, "close");
  return failed;
}

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: pcap_kinds tcp|smb2x|roce|multi|raw_send|unreassembled|tcp_cut|malformed PATH\n");
    return 2;
  }
  if (strcmp(argv[1], "tcp") == 0)
    return write_tcp(argv[2]);
  if (strcmp(argv[1], "smb2x") == 0)
    return write_smb2x(argv[2]);
  if (strcmp(argv[1], "roce") == 0)
    return write_roce(argv[2]);
  if (strcmp(argv[1], "multi") == 0)
    return write_multi(argv[2]);
  return write_defect(argv[1], argv[2]);
}
