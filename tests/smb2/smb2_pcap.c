/* SPDX-License-Identifier: MIT */
/* Encodes one SMB2 conversation with every part-1 command (NEGOTIATE with
 * all 3.1.1 contexts, SESSION_SETUP legs, TREE_CONNECT/DISCONNECT, CREATE
 * with MxAc/QFid/DH2Q/RqLs v2, CLOSE, FLUSH, ECHO, CANCEL, LOGOFF,
 * OPLOCK_BREAK in oplock and lease forms, ERROR with contexts, a related
 * compound, an async interim) into a pcap through pcapw_tcp (port 445),
 * and writes, per frame, the tshark field values it encoded as JSON.
 * check_smb2_pcap.py runs tools/tshark_check.py --fields and compares.
 *
 * usage: smb2_pcap OUT.pcap OUT.json */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/smb2.h>

#include "pcapw.h"

#define MAXF 64

static FILE *jf;
static int nframes;
static pcapw *w;

/* expected fields of the frame being built: field -> JSON values */
static struct {
  const char *field;
  char vals[1024];
} cur[MAXF];
static int ncur;

static void die(const char *what)
{
  fprintf(stderr, "smb2_pcap: %s\n", what);
  exit(1);
}

static void add(const char *field, const char *json)
{
  int i;
  for (i = 0; i < ncur; i++)
    if (strcmp(cur[i].field, field) == 0)
      break;
  if (i == ncur) {
    if (ncur == MAXF)
      die("too many fields");
    cur[ncur].field = field;
    cur[ncur].vals[0] = 0;
    ncur++;
  }
  size_t l = strlen(cur[i].vals);
  snprintf(cur[i].vals + l, sizeof cur[i].vals - l, "%s%s", l ? "," : "",
           json);
}

static void add_u(const char *field, unsigned long long v)
{
  char b[32];
  snprintf(b, sizeof b, "%llu", v);
  add(field, b);
}

static void add_s(const char *field, const char *s)
{
  char b[600];
  size_t o = 0;
  b[o++] = '"';
  for (; *s && o + 4 < sizeof b; s++) {
    if (*s == '\\' || *s == '"')
      b[o++] = '\\';
    b[o++] = *s;
  }
  b[o++] = '"';
  b[o] = 0;
  add(field, b);
}

static void add_hex(const char *field, const char *tag, const uint8_t *p,
                    size_t n)
{
  char b[600];
  size_t o = (size_t)snprintf(b, sizeof b, "\"%s:", tag);
  for (size_t i = 0; i < n && o + 3 < sizeof b; i++)
    o += (size_t)snprintf(b + o, sizeof b - o, "%02x", p[i]);
  snprintf(b + o, sizeof b - o, "\"");
  add(field, b);
}

/* Header fields tshark shows for every PDU. */
static void expect_hdr(const smbx_smb2_hdr *h)
{
  int resp = (h->flags & SMBX_SMB2_FLAGS_SERVER_TO_REDIR) != 0;
  add_u("smb2.cmd", h->command);
  add_u("smb2.msg_id", h->message_id);
  add_u(resp ? "smb2.credits.granted" : "smb2.credits.requested", h->credits);
  if (resp)
    add_u("smb2.nt_status", h->status);
  add_u("smb2.sesid", h->session_id);
  if (h->flags & SMBX_SMB2_FLAGS_ASYNC_COMMAND)
    add_u("smb2.aid", h->async_id);
  else
    add_u("smb2.tid", h->tree_id);
  add_u("smb2.flags.response", (unsigned)resp);
  add_u("smb2.flags.async", (h->flags & SMBX_SMB2_FLAGS_ASYNC_COMMAND) != 0);
  add_u("smb2.flags.chained",
        (h->flags & SMBX_SMB2_FLAGS_RELATED_OPERATIONS) != 0);
}

/* The body StructureSize of every PDU in the message: it must be the
 * table value (or 9 for ERROR, 36/44 for the lease break forms), and
 * tshark must find it where it was written. */
static void expect_body_ss(const uint8_t *p, size_t n)
{
  smbx_smb2_chain c;
  smbx_smb2_bytes pdu;
  smbx_smb2_hdr h;
  smbx_smb2_chain_init(&c, p, n, 0);
  while (smbx_smb2_chain_next(&c, &pdu, &h, NULL) == 1) {
    uint16_t ss = (uint16_t)(pdu.p[64] | pdu.p[65] << 8);
    int resp = (h.flags & SMBX_SMB2_FLAGS_SERVER_TO_REDIR) != 0;
    if (ss != smbx_smb2_structure_size(h.command, resp) && ss != 9 &&
        !(h.command == SMBX_SMB2_OPLOCK_BREAK && (ss == 36 || ss == 44)))
      die("unexpected StructureSize");
    if (smbx_smb2_pdu_validate(pdu.p, pdu.len, NULL, NULL) != 0)
      die("an encoded PDU does not validate");
    /* tshark shows the masked field shifted: (SS & 0xFFFE) >> 1 */
    add_u("smb2.buffer_code.length", ss >> 1);
    add_u("smb2.buffer_code.dynamic", ss & 1u);
  }
}

/* One transport message: Direct-TCP prefix + bytes, one frame. */
static void send_msg(int dir, const uint8_t *p, size_t n)
{
  expect_body_ss(p, n);
  static uint8_t tcp[1 << 16];
  if (n > sizeof tcp - 4)
    die("message too long");
  tcp[0] = 0;
  tcp[1] = (uint8_t)(n >> 16);
  tcp[2] = (uint8_t)(n >> 8);
  tcp[3] = (uint8_t)n;
  memcpy(tcp + 4, p, n);
  if (pcapw_tcp(w, dir, tcp, n + 4) != 0)
    die("pcapw_tcp");
  fprintf(jf, "%s\n  {", nframes ? "," : "");
  for (int i = 0; i < ncur; i++)
    fprintf(jf, "%s\"%s\": [%s]", i ? ", " : "", cur[i].field, cur[i].vals);
  fprintf(jf, "}");
  nframes++;
  ncur = 0;
}

static void check(smbx_ssize n)
{
  if (n <= 0)
    die("encode failed");
}

static smbx_smb2_hdr hdr(uint16_t cmd, uint64_t mid, int resp)
{
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = cmd;
  h.message_id = mid;
  h.credits = resp ? 32 : 1;
  h.flags = resp ? SMBX_SMB2_FLAGS_SERVER_TO_REDIR : 0;
  h.session_id = mid >= 2 ? 0x0000100000000001ull : 0;
  h.tree_id = mid >= 4 ? 5 : 0;
  h.credit_charge = 1;
  return h;
}

static smbx_smb2_bytes B(const void *p, size_t n)
{
  smbx_smb2_bytes b = {(const uint8_t *)p, n};
  return b;
}

/* UTF-16LE of an ASCII string into out; returns the byte length. */
static size_t u16(const char *s, uint8_t *out)
{
  size_t n = 0;
  for (; *s; s++) {
    out[n++] = (uint8_t)*s;
    out[n++] = 0;
  }
  return n;
}

/* SPNEGO tokens tshark parses cleanly (RFC 4178): a NegTokenInit offering
 * NTLMSSP, a negTokenResp accept-incomplete, a negTokenResp with only a
 * negState accept-completed. */
static const uint8_t BLOB[] = {
  0x60, 0x1c, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02, 0xa0, 0x12,
  0x30, 0x10, 0xa0, 0x0e, 0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04,
  0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
static const uint8_t RESP_INCOMPLETE[] = {0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03,
                                          0x0a, 0x01, 0x01};
static const uint8_t ACCEPT_DONE[] = {0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03,
                                   0x0a, 0x01, 0x00};
static const uint8_t KEY[16] = {0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
                                0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf};
static const uint8_t PKEY[16] = {0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6,
                                 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd,
                                 0xde, 0xdf};

static uint8_t buf[8192];

static void negotiate(void)
{
  static const uint8_t dialects[] = {0x02, 0x02, 0x10, 0x02, 0x00, 0x03,
                                     0x02, 0x03, 0x11, 0x03};
  uint8_t salt[32], data[8][64], list[1024];
  for (int i = 0; i < 32; i++)
    salt[i] = (uint8_t)(0x60 + i);
  static const uint8_t sha512[] = {1, 0}, ciphers[] = {2, 0, 1, 0, 4, 0, 3, 0},
                       comp[] = {2, 0}, rdma[] = {1, 0},
                       sign[] = {2, 0, 1, 0, 0, 0};
  static const uint8_t posix[16] = {0x93, 0xAD, 0x25, 0x50, 0x9C, 0xB4, 0x11,
                                    0xE7, 0xB4, 0x23, 0x83, 0xDE, 0x96, 0x8B,
                                    0xCD, 0x7C};
  uint8_t netname[16];
  size_t nn = u16("srv", netname);
  smbx_smb2_neg_ctx_info info[8];
  memset(info, 0, sizeof info);
  info[0].type = SMBX_SMB2_NEG_CTX_PREAUTH;
  info[0].count = 1;
  info[0].ids = B(sha512, 2);
  info[0].salt = B(salt, 32);
  info[1].type = SMBX_SMB2_NEG_CTX_ENCRYPTION;
  info[1].count = 4;
  info[1].ids = B(ciphers, 8);
  info[2].type = SMBX_SMB2_NEG_CTX_COMPRESSION;
  info[2].count = 1;
  info[2].ids = B(comp, 2);
  info[3].type = SMBX_SMB2_NEG_CTX_NETNAME;
  info[3].value = B(netname, nn);
  info[4].type = SMBX_SMB2_NEG_CTX_TRANSPORT;
  info[5].type = SMBX_SMB2_NEG_CTX_RDMA_TRANSFORM;
  info[5].count = 1;
  info[5].ids = B(rdma, 2);
  info[6].type = SMBX_SMB2_NEG_CTX_SIGNING;
  info[6].count = 3;
  info[6].ids = B(sign, 6);
  info[7].type = SMBX_SMB2_NEG_CTX_POSIX;
  info[7].value = B(posix, 16);
  smbx_smb2_neg_ctx ctx[8];
  for (int i = 0; i < 8; i++) {
    smbx_ssize n = smbx_smb2_neg_ctx_build(&info[i], data[i], sizeof data[i],
                                           NULL);
    check(n + 1);
    ctx[i].type = info[i].type;
    ctx[i].reserved = 0;
    ctx[i].data = B(data[i], (size_t)n);
  }
  smbx_ssize ln = smbx_smb2_neg_ctx_list_encode(ctx, 8, list, sizeof list,
                                                NULL);
  check(ln);
  smbx_smb2_negotiate_req q;
  memset(&q, 0, sizeof q);
  q.security_mode = SMBX_SMB2_NEGOTIATE_SIGNING_ENABLED;
  q.capabilities = 0x7F;
  for (int i = 0; i < 16; i++)
    q.client_guid[i] = (uint8_t)(0x10 + i);
  q.dialects = B(dialects, sizeof dialects);
  q.neg_ctx = B(list, (size_t)ln);
  q.neg_ctx_count = 8;
  smbx_smb2_hdr h = hdr(SMBX_SMB2_NEGOTIATE, 0, 0);
  h.credit_charge = 0;
  smbx_ssize n = smbx_smb2_encode_negotiate_req(&h, &q, buf, sizeof buf, NULL);
  check(n);
  expect_hdr(&h);
  add_u("smb2.dialect_count", 5);
  for (int i = 0; i < 5; i++)
    add_u("smb2.dialect", smbx_smb2_bytes_u16(q.dialects, (size_t)i));
  add_u("smb2.negotiate_context.count", 8);
  add_u("smb2.negotiate_context.offset", 0x70);
  for (int i = 0; i < 8; i++)
    add_u("smb2.negotiate_context.type", ctx[i].type);
  for (int i = 0; i < 8; i++)
    add_u("smb2.negotiate_context.data_length", ctx[i].data.len);
  add_u("smb2.negotiate_context.salt_length", 32);
  for (int i = 0; i < 4; i++)
    add_u("smb2.negotiate_context.cipher_id",
          smbx_smb2_bytes_u16(info[1].ids, (size_t)i));
  add_s("smb2.negotiate_context.netname", "srv");
  for (int i = 0; i < 3; i++)
    add_u("smb2.negotiate_context.signing_id",
          smbx_smb2_bytes_u16(info[6].ids, (size_t)i));
  add_u("smb2.negotiate_context.rdma_transform_id", 1);
  send_msg(0, buf, (size_t)n);

  /* response: one cipher, one signing algorithm, preauth salt */
  smbx_smb2_neg_ctx rc[3] = {ctx[0], ctx[1], ctx[6]};
  static const uint8_t one_cipher[] = {1, 0, 2, 0}, one_sign[] = {1, 0, 2, 0};
  rc[1].data = B(one_cipher, 4);
  rc[2].data = B(one_sign, 4);
  ln = smbx_smb2_neg_ctx_list_encode(rc, 3, list, sizeof list, NULL);
  check(ln);
  smbx_smb2_negotiate_resp r;
  memset(&r, 0, sizeof r);
  r.security_mode = SMBX_SMB2_NEGOTIATE_SIGNING_ENABLED;
  r.dialect_revision = SMBX_SMB2_DIALECT_311;
  r.neg_ctx_count = 3;
  for (int i = 0; i < 16; i++)
    r.server_guid[i] = (uint8_t)(0x40 + i);
  r.capabilities = 0x2F;
  r.max_transact_size = r.max_read_size = r.max_write_size = 8388608;
  r.system_time = 0x01DA000000000000ull;
  r.security_buffer = B(BLOB, sizeof BLOB);
  r.neg_ctx = B(list, (size_t)ln);
  h = hdr(SMBX_SMB2_NEGOTIATE, 0, 1);
  h.credit_charge = 0;
  n = smbx_smb2_encode_negotiate_resp(&h, &r, buf, sizeof buf, NULL);
  check(n);
  expect_hdr(&h);
  add_u("smb2.dialect", 0x0311);
  add_u("smb2.max_read_size", 8388608);
  add_hex("smb2.security_blob", "bytes", BLOB, sizeof BLOB);
  add_u("smb2.negotiate_context.count", 3);
  add_u("smb2.negotiate_context.offset", (128 + sizeof BLOB + 7) & ~7u);
  add_u("smb2.negotiate_context.cipher_id", 2);
  add_u("smb2.negotiate_context.signing_id", 2);
  send_msg(1, buf, (size_t)n);
}

static void session_setup(void)
{
  for (int leg = 0; leg < 2; leg++) {
    smbx_smb2_session_setup_req q;
    memset(&q, 0, sizeof q);
    q.security_mode = 1;
    q.capabilities = 1;
    q.security_buffer = leg ? B(ACCEPT_DONE, sizeof ACCEPT_DONE) : B(BLOB, sizeof BLOB);
    smbx_smb2_hdr h = hdr(SMBX_SMB2_SESSION_SETUP, 1u + (unsigned)leg, 0);
    h.session_id = leg ? 0x0000100000000001ull : 0;
    smbx_ssize n = smbx_smb2_encode_session_setup_req(&h, &q, buf, sizeof buf,
                                                      NULL);
    check(n);
    expect_hdr(&h);
    add_hex("smb2.security_blob", "bytes", q.security_buffer.p,
            q.security_buffer.len);
    send_msg(0, buf, (size_t)n);
    smbx_smb2_session_setup_resp r;
    memset(&r, 0, sizeof r);
    h = hdr(SMBX_SMB2_SESSION_SETUP, 1u + (unsigned)leg, 1);
    h.session_id = 0x0000100000000001ull;
    if (leg == 0) {
      h.status = SMBX_STATUS_MORE_PROCESSING_REQUIRED;
      r.security_buffer = B(RESP_INCOMPLETE, sizeof RESP_INCOMPLETE);
    } else {
      h.flags |= SMBX_SMB2_FLAGS_SIGNED;
      memset(h.signature, 0xA5, 16);
    }
    n = smbx_smb2_encode_session_setup_resp(&h, &r, buf, sizeof buf, NULL);
    check(n);
    expect_hdr(&h);
    if (r.security_buffer.len)
      add_hex("smb2.security_blob", "bytes", r.security_buffer.p,
              r.security_buffer.len);
    add_u("smb2.flags.signature", (unsigned)leg);
    send_msg(1, buf, (size_t)n);
  }
}

static void tree_connect(uint64_t mid, const char *path, uint32_t fail)
{
  uint8_t p16[128];
  smbx_smb2_tree_connect_req q;
  memset(&q, 0, sizeof q);
  q.path = B(p16, u16(path, p16));
  smbx_smb2_hdr h = hdr(SMBX_SMB2_TREE_CONNECT, mid, 0);
  h.tree_id = 0;
  smbx_ssize n = smbx_smb2_encode_tree_connect_req(&h, &q, buf, sizeof buf,
                                                   NULL);
  check(n);
  expect_hdr(&h);
  add_s("smb2.tree", path);
  send_msg(0, buf, (size_t)n);
  h = hdr(SMBX_SMB2_TREE_CONNECT, mid, 1);
  if (fail) {
    /* ERROR with one 3.1.1 context (DEFAULT, 4 bytes) */
    static const uint8_t d4[4] = {1, 2, 3, 4};
    smbx_smb2_error_ctx ec = {SMBX_SMB2_ERROR_ID_DEFAULT, {d4, 4}};
    uint8_t ed[64];
    smbx_ssize en = smbx_smb2_error_ctx_encode(&ec, 1, ed, sizeof ed, NULL);
    check(en);
    smbx_smb2_error_resp e;
    memset(&e, 0, sizeof e);
    e.context_count = 1;
    e.data = B(ed, (size_t)en);
    h.status = fail;
    h.tree_id = 0;
    n = smbx_smb2_encode_error_resp(&h, &e, buf, sizeof buf, NULL);
    check(n);
    expect_hdr(&h);
    add_u("smb2.error.context_count", 1);
    add_u("smb2.error.byte_count", (unsigned long long)en);
    send_msg(1, buf, (size_t)n);
    return;
  }
  smbx_smb2_tree_connect_resp r;
  memset(&r, 0, sizeof r);
  r.share_type = SMBX_SMB2_SHARE_TYPE_DISK;
  r.maximal_access = 0x001F01FF;
  h.tree_id = 5;
  n = smbx_smb2_encode_tree_connect_resp(&h, &r, buf, sizeof buf, NULL);
  check(n);
  expect_hdr(&h);
  /* tshark shows the share type twice: the field and the generated tree
   * information of the response's TreeId */
  add_u("smb2.share_type", 1);
  add_u("smb2.share_type", 1);
  send_msg(1, buf, (size_t)n);
}

static smbx_smb2_fileid FID = {0x1122334455667788ull, 0x99AABBCCDDEEFF00ull};

/* CREATE request with name and MxAc, QFid, DH2Q, RqLs v2 (case 7) into
 * b; returns its length and records the expectations. */
static size_t create_req(uint8_t *b, size_t cap, smbx_smb2_hdr *h,
                         const char *name, int with_ctx)
{
  uint8_t n16[128], lease[52], dh2q[32], list[512];
  smbx_smb2_create_req q;
  memset(&q, 0, sizeof q);
  q.requested_oplock_level =
      with_ctx ? SMBX_SMB2_OPLOCK_LEVEL_LEASE : SMBX_SMB2_OPLOCK_LEVEL_BATCH;
  q.impersonation_level = 2;
  q.desired_access = 0x0012019F;
  q.file_attributes = 0x80;
  q.share_access = 7;
  q.create_disposition = 1;
  q.create_options = 0x40;
  q.name = B(n16, u16(name, n16));
  size_t nc = 0;
  if (with_ctx) {
    smbx_smb2_lease l;
    memset(&l, 0, sizeof l);
    l.version = 2;
    memcpy(l.key, KEY, 16);
    memcpy(l.parent_key, PKEY, 16);
    l.state = 7;
    l.flags = SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET;
    l.epoch = 7;
    check(smbx_smb2_lease_encode(&l, lease, sizeof lease, NULL));
    smbx_smb2_ctx_data d;
    memset(&d, 0, sizeof d);
    d.timeout = 60000;
    for (int i = 0; i < 16; i++)
      d.guid[i] = (uint8_t)(0x70 + i);
    check(smbx_smb2_ctx_data_encode(SMBX_SMB2_CTXD_DH2Q_REQ, &d, dh2q,
                                    sizeof dh2q, NULL));
    smbx_smb2_create_ctx c[4] = {
      {B("MxAc", 4), B(NULL, 0), 0},
      {B("QFid", 4), B(NULL, 0), 0},
      {B("DH2Q", 4), B(dh2q, 32), 0},
      {B("RqLs", 4), B(lease, 52), 0},
    };
    smbx_ssize ln = smbx_smb2_create_ctx_list_encode(c, 4, list, sizeof list,
                                                     NULL);
    check(ln);
    q.contexts = B(list, (size_t)ln);
    nc = 4;
  }
  smbx_ssize n = smbx_smb2_encode_create_req(h, &q, b, cap, NULL);
  check(n);
  expect_hdr(h);
  add_s("smb2.filename", name);
  if (nc) {
    add_s("smb2.tag", "MxAc");
    add_s("smb2.tag", "QFid");
    add_s("smb2.tag", "DH2Q");
    add_s("smb2.tag", "RqLs");
    add_u("smb2.create.chain_offset", 24);
    add_u("smb2.create.chain_offset", 24);
    add_u("smb2.create.chain_offset", 56);
    add_u("smb2.create.chain_offset", 0);
    add_hex("smb2.lease.lease_key", "guid", KEY, 16);
    add_hex("smb2.lease.parent_lease_key", "guid", PKEY, 16);
    add_u("smb2.lease.lease_state", 7);
    add_u("smb2.lease.lease_flags", 4);
    add_u("smb2.lease.lease_oplock", 7); /* tshark 4.0's name for Epoch */
    add_u("smb2.dh2x.timeout", 60000);
  }
  return (size_t)n;
}

static size_t create_resp(uint8_t *b, size_t cap, smbx_smb2_hdr *h,
                          int with_ctx)
{
  uint8_t mx[8], qf[32], lease[52], list[512];
  smbx_smb2_create_resp r;
  memset(&r, 0, sizeof r);
  r.oplock_level =
      with_ctx ? SMBX_SMB2_OPLOCK_LEVEL_LEASE : SMBX_SMB2_OPLOCK_LEVEL_NONE;
  r.create_action = 1;
  r.creation_time = r.last_access_time = r.last_write_time = r.change_time =
      0x01D9000000000000ull;
  r.allocation_size = 4096;
  r.end_of_file = 1234;
  r.file_attributes = 0x20;
  r.file_id = FID;
  if (with_ctx) {
    smbx_smb2_ctx_data d;
    memset(&d, 0, sizeof d);
    d.maximal_access = 0x001F01FF;
    check(smbx_smb2_ctx_data_encode(SMBX_SMB2_CTXD_MXAC_RESP, &d, mx,
                                    sizeof mx, NULL));
    d.disk_file_id = 0x0102030405060708ull;
    d.volume_id = 0x1112131415161718ull;
    check(smbx_smb2_ctx_data_encode(SMBX_SMB2_CTXD_QFID_RESP, &d, qf,
                                    sizeof qf, NULL));
    smbx_smb2_lease l;
    memset(&l, 0, sizeof l);
    l.version = 2;
    memcpy(l.key, KEY, 16);
    memcpy(l.parent_key, PKEY, 16);
    l.state = 3;
    l.flags = SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET;
    l.epoch = 8;
    check(smbx_smb2_lease_encode(&l, lease, sizeof lease, NULL));
    smbx_smb2_create_ctx c[3] = {
      {B("MxAc", 4), B(mx, 8), 0},
      {B("QFid", 4), B(qf, 32), 0},
      {B("RqLs", 4), B(lease, 52), 0},
    };
    smbx_ssize ln = smbx_smb2_create_ctx_list_encode(c, 3, list, sizeof list,
                                                     NULL);
    check(ln);
    r.contexts = B(list, (size_t)ln);
  }
  smbx_ssize n = smbx_smb2_encode_create_resp(h, &r, b, cap, NULL);
  check(n);
  expect_hdr(h);
  add_u("smb2.create.action", 1);
  add_u("smb2.eof", 1234);
  if (with_ctx) {
    add_s("smb2.tag", "MxAc");
    add_s("smb2.tag", "QFid");
    add_s("smb2.tag", "RqLs");
    add_u("smb2.create.chain_offset", 32);
    add_u("smb2.create.chain_offset", 56);
    add_u("smb2.create.chain_offset", 0);
    add_hex("smb2.lease.lease_key", "guid", KEY, 16);
    add_hex("smb2.lease.parent_lease_key", "guid", PKEY, 16);
    add_u("smb2.lease.lease_state", 3);
    add_u("smb2.lease.lease_flags", 4);
    add_u("smb2.lease.lease_oplock", 8);
  }
  return (size_t)n;
}

static void simple(uint16_t cmd, uint64_t mid)
{
  smbx_smb2_simple s = {0};
  for (int resp = 0; resp < 2; resp++) {
    smbx_smb2_hdr h = hdr(cmd, mid, resp);
    check(smbx_smb2_encode_simple(&h, &s, buf, sizeof buf, NULL));
    expect_hdr(&h);
    send_msg(resp, buf, 68);
  }
}

static void file_ops(void)
{
  smbx_smb2_hdr h = hdr(SMBX_SMB2_CREATE, 4, 0);
  size_t n = create_req(buf, sizeof buf, &h, "dir\\file.txt", 1);
  send_msg(0, buf, n);
  h = hdr(SMBX_SMB2_CREATE, 4, 1);
  n = create_resp(buf, sizeof buf, &h, 1);
  send_msg(1, buf, n);

  smbx_smb2_flush_req f;
  memset(&f, 0, sizeof f);
  f.file_id = FID;
  h = hdr(SMBX_SMB2_FLUSH, 5, 0);
  check(smbx_smb2_encode_flush_req(&h, &f, buf, sizeof buf, NULL));
  expect_hdr(&h);
  send_msg(0, buf, 88);
  h = hdr(SMBX_SMB2_FLUSH, 5, 1);
  smbx_smb2_simple s = {0};
  check(smbx_smb2_encode_simple(&h, &s, buf, sizeof buf, NULL));
  expect_hdr(&h);
  send_msg(1, buf, 68);

  simple(SMBX_SMB2_ECHO, 6);

  /* lease break notification, ack, response */
  smbx_smb2_lease_break_notify ln;
  memset(&ln, 0, sizeof ln);
  ln.new_epoch = 9;
  ln.flags = SMBX_SMB2_LEASE_BREAK_ACK_REQUIRED;
  memcpy(ln.lease_key, KEY, 16);
  ln.current_state = 3;
  ln.new_state = 1;
  h = hdr(SMBX_SMB2_OPLOCK_BREAK, SMBX_SMB2_MSGID_UNSOLICITED, 1);
  h.session_id = 0;
  h.tree_id = 0;
  h.credits = 0;
  h.credit_charge = 0;
  check(smbx_smb2_encode_lease_break_notify(&h, &ln, buf, sizeof buf, NULL));
  expect_hdr(&h);
  add_hex("smb2.lease.lease_key", "guid", KEY, 16);
  add_u("smb2.lease.lease_state", 3);
  add_u("smb2.lease.lease_state", 1);
  add_u("smb2.lease.lease_flags", SMBX_SMB2_LEASE_BREAK_ACK_REQUIRED);
  add_u("smb2.lease.lease_oplock", 9); /* NewEpoch */
  send_msg(1, buf, 108);
  smbx_smb2_lease_break_ack la;
  memset(&la, 0, sizeof la);
  memcpy(la.lease_key, KEY, 16);
  la.lease_state = 1;
  for (int resp = 0; resp < 2; resp++) {
    h = hdr(SMBX_SMB2_OPLOCK_BREAK, 7, resp);
    check(smbx_smb2_encode_lease_break_ack(&h, &la, buf, sizeof buf, NULL));
    expect_hdr(&h);
    add_hex("smb2.lease.lease_key", "guid", KEY, 16);
    add_u("smb2.lease.lease_state", 1);
    send_msg(resp, buf, 100);
  }

  /* a failing CREATE: the ERROR body (73 bytes) */
  h = hdr(SMBX_SMB2_CREATE, 8, 0);
  n = create_req(buf, sizeof buf, &h, "missing.txt", 0);
  send_msg(0, buf, n);
  smbx_smb2_error_resp e;
  memset(&e, 0, sizeof e);
  h = hdr(SMBX_SMB2_CREATE, 8, 1);
  h.status = SMBX_STATUS_OBJECT_NAME_NOT_FOUND;
  check(smbx_smb2_encode_error_resp(&h, &e, buf, sizeof buf, NULL));
  expect_hdr(&h);
  add_u("smb2.error.byte_count", 0);
  send_msg(1, buf, 73);

  /* oplock break notification, ack, response */
  smbx_smb2_oplock_break ob;
  memset(&ob, 0, sizeof ob);
  ob.oplock_level = SMBX_SMB2_OPLOCK_LEVEL_II;
  ob.file_id = FID;
  h = hdr(SMBX_SMB2_OPLOCK_BREAK, SMBX_SMB2_MSGID_UNSOLICITED, 1);
  h.credits = 0;
  h.credit_charge = 0;
  check(smbx_smb2_encode_oplock_break(&h, &ob, buf, sizeof buf, NULL));
  expect_hdr(&h);
  send_msg(1, buf, 88);
  for (int resp = 0; resp < 2; resp++) {
    h = hdr(SMBX_SMB2_OPLOCK_BREAK, 9, resp);
    check(smbx_smb2_encode_oplock_break(&h, &ob, buf, sizeof buf, NULL));
    expect_hdr(&h);
    send_msg(resp, buf, 88);
  }

  /* async: interim PENDING, CANCEL with AsyncId, final CANCELLED */
  h = hdr(SMBX_SMB2_CREATE, 10, 0);
  n = create_req(buf, sizeof buf, &h, "slow.txt", 0);
  send_msg(0, buf, n);
  h = hdr(SMBX_SMB2_CREATE, 10, 1);
  h.flags |= SMBX_SMB2_FLAGS_ASYNC_COMMAND;
  h.async_id = 0x2A;
  h.status = SMBX_STATUS_PENDING;
  check(smbx_smb2_encode_error_resp(&h, &e, buf, sizeof buf, NULL));
  expect_hdr(&h);
  send_msg(1, buf, 73);
  h = hdr(SMBX_SMB2_CANCEL, 10, 0);
  h.flags |= SMBX_SMB2_FLAGS_ASYNC_COMMAND;
  h.async_id = 0x2A;
  h.credits = 0;
  check(smbx_smb2_encode_simple(&h, &s, buf, sizeof buf, NULL));
  expect_hdr(&h);
  send_msg(0, buf, 68);
  h = hdr(SMBX_SMB2_CREATE, 10, 1);
  h.flags |= SMBX_SMB2_FLAGS_ASYNC_COMMAND;
  h.async_id = 0x2A;
  h.status = SMBX_STATUS_CANCELLED;
  h.credits = 0;
  check(smbx_smb2_encode_error_resp(&h, &e, buf, sizeof buf, NULL));
  expect_hdr(&h);
  send_msg(1, buf, 73);

  /* related compound CREATE + CLOSE and its compounded response */
  h = hdr(SMBX_SMB2_CREATE, 11, 0);
  n = create_req(buf, sizeof buf, &h, "a.txt", 0);
  smbx_ssize p = smbx_smb2_chain_link(buf, n, sizeof buf);
  check(p);
  add_u("smb2.chain_offset", (unsigned long long)p);
  smbx_smb2_close_req cq;
  memset(&cq, 0, sizeof cq);
  cq.flags = SMBX_SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB;
  cq.file_id.persistent_id = cq.file_id.volatile_id = UINT64_MAX;
  h = hdr(SMBX_SMB2_CLOSE, 12, 0);
  h.flags |= SMBX_SMB2_FLAGS_RELATED_OPERATIONS;
  h.session_id = SMBX_SMB2_SESSION_ID_INHERIT;
  h.tree_id = SMBX_SMB2_TREE_ID_INHERIT;
  smbx_ssize c = smbx_smb2_encode_close_req(&h, &cq, buf + p,
                                            sizeof buf - (size_t)p, NULL);
  check(c);
  expect_hdr(&h);
  add_u("smb2.close.flags", 1);
  add_u("smb2.chain_offset", 0);
  send_msg(0, buf, (size_t)(p + c));
  h = hdr(SMBX_SMB2_CREATE, 11, 1);
  n = create_resp(buf, sizeof buf, &h, 0);
  p = smbx_smb2_chain_link(buf, n, sizeof buf);
  check(p);
  add_u("smb2.chain_offset", (unsigned long long)p);
  smbx_smb2_close_resp cr;
  memset(&cr, 0, sizeof cr);
  cr.flags = SMBX_SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB;
  cr.end_of_file = 1234;
  cr.allocation_size = 4096;
  cr.file_attributes = 0x20;
  h = hdr(SMBX_SMB2_CLOSE, 12, 1);
  h.flags |= SMBX_SMB2_FLAGS_RELATED_OPERATIONS;
  c = smbx_smb2_encode_close_resp(&h, &cr, buf + p, sizeof buf - (size_t)p,
                                  NULL);
  check(c);
  expect_hdr(&h);
  add_u("smb2.close.flags", 1);
  add_u("smb2.eof", 1234);
  add_u("smb2.chain_offset", 0);
  send_msg(1, buf, (size_t)(p + c));

  /* plain CLOSE of the first file */
  memset(&cq, 0, sizeof cq);
  cq.file_id = FID;
  h = hdr(SMBX_SMB2_CLOSE, 13, 0);
  check(smbx_smb2_encode_close_req(&h, &cq, buf, sizeof buf, NULL));
  expect_hdr(&h);
  add_u("smb2.close.flags", 0);
  send_msg(0, buf, 88);
  memset(&cr, 0, sizeof cr);
  h = hdr(SMBX_SMB2_CLOSE, 13, 1);
  check(smbx_smb2_encode_close_resp(&h, &cr, buf, sizeof buf, NULL));
  expect_hdr(&h);
  add_u("smb2.close.flags", 0);
  add_u("smb2.eof", 0);
  send_msg(1, buf, 124);
}

int main(int argc, char **argv)
{
  if (argc != 3)
    die("usage: smb2_pcap OUT.pcap OUT.json");
  w = pcapw_open(argv[1], NULL);
  jf = fopen(argv[2], "w");
  if (!w || !jf)
    die("cannot open the outputs");
  fprintf(jf, "[");
  negotiate();
  session_setup();
  tree_connect(3, "\\\\srv\\share", 0);
  file_ops();
  tree_connect(14, "\\\\srv\\missing", SMBX_STATUS_BAD_NETWORK_NAME);
  simple(SMBX_SMB2_TREE_DISCONNECT, 15);
  simple(SMBX_SMB2_LOGOFF, 16);
  fprintf(jf, "\n]\n");
  if (fclose(jf) != 0 || pcapw_close(w) != 0)
    die("cannot write the outputs");
  return 0;
}
