/* SPDX-License-Identifier: MIT */
/* Writes a Direct-TCP capture (pcapw, port 445) of PDUs encoded with
 * libsmbx's codec that exercise smbx-dump's body fields: CREATE with
 * MxAc/QFid/DH2Q/RqLs v2 and its response, a lease break notification, ack
 * and ack response, a related CREATE+CLOSE compound, READ with RDMA_V1
 * descriptors, a QUERY_DIRECTORY pattern and a CHANGE_NOTIFY response with
 * entries. With a second file name it also writes an SMB Direct capture
 * (every message one SEND Only, so tshark decodes it): negotiate, a
 * credit-only message, the CREATE request in one data message, its
 * response in two fragments, RDMA WRITE and READ.
 * dump_fields_vs_tshark.py compares smbx-dump with tshark on both.
 * usage: dump_fields_gen OUT.pcap [OUT_SMBD.pcap] */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/smb2.h>
#include <smbx/tcp.h>

#include "pcapw.h"

static pcapw *w;

static void check(smbx_ssize n, const char *what)
{
  if (n < 0) {
    fprintf(stderr, "dump_fields_gen: encoding %s failed: %s\n", what,
            smbx_strerror((int)n));
    exit(1);
  }
}

static smbx_smb2_hdr hdr(uint16_t cmd, bool resp, uint64_t id)
{
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = cmd;
  h.credit_charge = 1;
  h.credits = resp ? 10 : 2;
  h.flags = resp ? SMBX_SMB2_FLAGS_SERVER_TO_REDIR : 0;
  h.message_id = id;
  h.session_id = 0x0000100000000005ull;
  h.tree_id = 7;
  return h;
}

static size_t utf16(uint8_t *out, const char *s)
{
  size_t n = 0;
  for (; *s; s++) {
    out[n++] = (uint8_t)*s;
    out[n++] = 0;
  }
  return n;
}

static void le16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* SMB Direct data message (24-byte header when there is a payload) */
static size_t smbd_data(uint8_t *out, const uint8_t *pl, size_t n,
                        uint32_t remaining, uint16_t req, uint16_t granted,
                        uint16_t flags)
{
  memset(out, 0, 24);
  le16(out, req);
  le16(out + 2, granted);
  le16(out + 4, flags);
  le32(out + 8, remaining);
  le32(out + 12, n ? 24 : 0);
  le32(out + 16, (uint32_t)n);
  if (n)
    memcpy(out + 24, pl, n);
  return n ? 24 + n : 20;
}

static int write_smbd(const char *path, const uint8_t *creq, size_t creq_len,
                      const uint8_t *cresp, size_t cresp_len,
                      const uint8_t *rreq, size_t rreq_len)
{
  pcapw *s = pcapw_open(path, NULL);
  if (!s)
    return 1;
  static uint8_t m[8192];
  uint8_t nreq[20] = {0}, nresp[32] = {0};
  le16(nreq, 0x100);
  le16(nreq + 2, 0x100);
  le16(nreq + 6, 255);
  le32(nreq + 8, 1364);
  le32(nreq + 12, 8192);
  le32(nreq + 16, 1048576);
  le16(nresp, 0x100);
  le16(nresp + 2, 0x100);
  le16(nresp + 4, 0x100);
  le16(nresp + 8, 200);
  le16(nresp + 10, 100);
  le32(nresp + 16, 1048576);
  le32(nresp + 20, 1364);
  le32(nresp + 24, 8192);
  le32(nresp + 28, 1048576);
  int rc = pcapw_smbd_send(s, 0, nreq, 20);
  rc |= pcapw_smbd_send(s, 1, nresp, 32);
  size_t n = smbd_data(m, NULL, 0, 0, 255, 10, 1); /* credits + flag */
  rc |= pcapw_smbd_send(s, 0, m, n);
  n = smbd_data(m, creq, creq_len, 0, 255, 0, 0);
  rc |= pcapw_smbd_send(s, 0, m, n);
  size_t half = (cresp_len / 2 + 7) & ~(size_t)7;
  n = smbd_data(m, cresp, half, (uint32_t)(cresp_len - half), 200, 3, 0);
  rc |= pcapw_smbd_send(s, 1, m, n);
  n = smbd_data(m, cresp + half, cresp_len - half, 0, 200, 2, 0);
  rc |= pcapw_smbd_send(s, 1, m, n);
  n = smbd_data(m, rreq, rreq_len, 0, 255, 1, 0);
  rc |= pcapw_smbd_send(s, 0, m, n);
  static uint8_t bulk[6000];
  rc |= pcapw_rdma_write(s, 1, 0x10000, 0x77, bulk, sizeof bulk);
  rc |= pcapw_rdma_read(s, 1, 0x20000, 0x78, bulk, 100);
  rc |= pcapw_close(s);
  return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: dump_fields_gen OUT.pcap [OUT_SMBD.pcap]\n");
    return 2;
  }
  static uint8_t creq[4096], cresp[4096], rreq[512];
  size_t creq_len = 0, cresp_len = 0, rreq_len = 0;
  w = pcapw_open(argv[1], NULL);
  if (!w)
    return 1;
  static uint8_t buf[65536], msg[65536], ctxbuf[1024], data[256];
  static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                  14, 15, 16};
  static const uint8_t parent[16] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6,
                                     0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD,
                                     0xAE, 0xAF};
  uint8_t name[128];
  size_t namelen = utf16(name, "dir\\file.txt");

  /* CREATE request: MxAc, QFid, DH2Q, RqLs v2 */
  smbx_smb2_lease l;
  memset(&l, 0, sizeof l);
  l.version = 2;
  memcpy(l.key, key, 16);
  l.state = SMBX_SMB2_LEASE_READ | SMBX_SMB2_LEASE_HANDLE | SMBX_SMB2_LEASE_WRITE;
  l.flags = SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET;
  memcpy(l.parent_key, parent, 16);
  l.epoch = 3;
  smbx_ssize ln = smbx_smb2_lease_encode(&l, data, sizeof data, NULL);
  check(ln, "lease");
  smbx_smb2_ctx_data dh;
  memset(&dh, 0, sizeof dh);
  dh.timeout = 60000;
  memcpy(dh.guid, parent, 16);
  static uint8_t dhbuf[64];
  smbx_ssize dn = smbx_smb2_ctx_data_encode(SMBX_SMB2_CTXD_DH2Q_REQ, &dh, dhbuf,
                                            sizeof dhbuf, NULL);
  check(dn, "DH2Q");
  smbx_smb2_create_ctx c[4];
  memset(c, 0, sizeof c);
  c[0].name = (smbx_smb2_bytes){(const uint8_t *)"MxAc", 4};
  c[1].name = (smbx_smb2_bytes){(const uint8_t *)"QFid", 4};
  c[2].name = (smbx_smb2_bytes){(const uint8_t *)"DH2Q", 4};
  c[2].data = (smbx_smb2_bytes){dhbuf, (size_t)dn};
  c[3].name = (smbx_smb2_bytes){(const uint8_t *)"RqLs", 4};
  c[3].data = (smbx_smb2_bytes){data, (size_t)ln};
  smbx_ssize cn = smbx_smb2_create_ctx_list_encode(c, 4, ctxbuf, sizeof ctxbuf,
                                                   NULL);
  check(cn, "contexts");
  smbx_smb2_create_req cr;
  memset(&cr, 0, sizeof cr);
  cr.requested_oplock_level = 0xFF; /* LEASE */
  cr.impersonation_level = 2;
  cr.desired_access = 0x0012019F;
  cr.share_access = 7;
  cr.create_disposition = 1;
  cr.name = (smbx_smb2_bytes){name, namelen};
  cr.contexts = (smbx_smb2_bytes){ctxbuf, (size_t)cn};
  smbx_smb2_hdr h = hdr(SMBX_SMB2_CREATE, false, 5);
  smbx_ssize n = smbx_smb2_encode_create_req(&h, &cr, msg, sizeof msg, NULL);
  check(n, "create req");
  memcpy(creq, msg, (size_t)n);
  creq_len = (size_t)n;
  size_t off = 0;
  off += (size_t)smbx_tcp_encode_prefix(buf + off, 4, (size_t)n);
  memcpy(buf + off, msg, (size_t)n);
  off += (size_t)n;
  if (pcapw_tcp(w, 0, buf, off))
    return 1;

  /* CREATE response: RqLs v2 granted RH, epoch 4 */
  l.state = SMBX_SMB2_LEASE_READ | SMBX_SMB2_LEASE_HANDLE;
  l.epoch = 4;
  ln = smbx_smb2_lease_encode(&l, data, sizeof data, NULL);
  check(ln, "lease resp");
  c[0].name = (smbx_smb2_bytes){(const uint8_t *)"RqLs", 4};
  c[0].data = (smbx_smb2_bytes){data, (size_t)ln};
  cn = smbx_smb2_create_ctx_list_encode(c, 1, ctxbuf, sizeof ctxbuf, NULL);
  check(cn, "resp contexts");
  smbx_smb2_create_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.oplock_level = 0xFF;
  rs.create_action = 1;
  rs.file_id.persistent_id = 0x1111;
  rs.file_id.volatile_id = 0x2222;
  rs.end_of_file = 12345;
  rs.file_attributes = 0x20;
  rs.contexts = (smbx_smb2_bytes){ctxbuf, (size_t)cn};
  h = hdr(SMBX_SMB2_CREATE, true, 5);
  n = smbx_smb2_encode_create_resp(&h, &rs, msg, sizeof msg, NULL);
  check(n, "create resp");
  memcpy(cresp, msg, (size_t)n);
  cresp_len = (size_t)n;
  off = (size_t)smbx_tcp_encode_prefix(buf, 4, (size_t)n);
  memcpy(buf + off, msg, (size_t)n);
  if (pcapw_tcp(w, 1, buf, off + (size_t)n))
    return 1;

  /* lease break notification, ack, ack response */
  smbx_smb2_lease_break_notify bn;
  memset(&bn, 0, sizeof bn);
  bn.new_epoch = 5;
  bn.flags = SMBX_SMB2_LEASE_BREAK_ACK_REQUIRED;
  memcpy(bn.lease_key, key, 16);
  bn.current_state = SMBX_SMB2_LEASE_READ | SMBX_SMB2_LEASE_HANDLE;
  bn.new_state = SMBX_SMB2_LEASE_READ;
  h = hdr(SMBX_SMB2_OPLOCK_BREAK, true, UINT64_MAX);
  h.session_id = 0;
  h.tree_id = 0;
  n = smbx_smb2_encode_lease_break_notify(&h, &bn, msg, sizeof msg, NULL);
  check(n, "lease break");
  off = (size_t)smbx_tcp_encode_prefix(buf, 4, (size_t)n);
  memcpy(buf + off, msg, (size_t)n);
  if (pcapw_tcp(w, 1, buf, off + (size_t)n))
    return 1;
  smbx_smb2_lease_break_ack ba;
  memset(&ba, 0, sizeof ba);
  memcpy(ba.lease_key, key, 16);
  ba.lease_state = SMBX_SMB2_LEASE_READ;
  h = hdr(SMBX_SMB2_OPLOCK_BREAK, false, 6);
  n = smbx_smb2_encode_lease_break_ack(&h, &ba, msg, sizeof msg, NULL);
  check(n, "lease ack");
  off = (size_t)smbx_tcp_encode_prefix(buf, 4, (size_t)n);
  memcpy(buf + off, msg, (size_t)n);
  if (pcapw_tcp(w, 0, buf, off + (size_t)n))
    return 1;
  h = hdr(SMBX_SMB2_OPLOCK_BREAK, true, 6);
  n = smbx_smb2_encode_lease_break_ack(&h, &ba, msg, sizeof msg, NULL);
  check(n, "lease ack resp");
  off = (size_t)smbx_tcp_encode_prefix(buf, 4, (size_t)n);
  memcpy(buf + off, msg, (size_t)n);
  if (pcapw_tcp(w, 1, buf, off + (size_t)n))
    return 1;

  /* related compound: CREATE (no contexts) + CLOSE */
  cr.contexts = (smbx_smb2_bytes){NULL, 0};
  cr.requested_oplock_level = 0;
  namelen = utf16(name, "other.txt");
  cr.name = (smbx_smb2_bytes){name, namelen};
  h = hdr(SMBX_SMB2_CREATE, false, 7);
  n = smbx_smb2_encode_create_req(&h, &cr, msg, sizeof msg, NULL);
  check(n, "compound create");
  smbx_ssize linked = smbx_smb2_chain_link(msg, (size_t)n, sizeof msg);
  check(linked, "chain link");
  smbx_smb2_close_req cl;
  memset(&cl, 0, sizeof cl);
  cl.file_id.persistent_id = UINT64_MAX;
  cl.file_id.volatile_id = UINT64_MAX;
  h = hdr(SMBX_SMB2_CLOSE, false, 8);
  h.flags |= SMBX_SMB2_FLAGS_RELATED_OPERATIONS;
  h.session_id = UINT64_MAX;
  h.tree_id = 0xFFFFFFFFu;
  smbx_ssize n2 = smbx_smb2_encode_close_req(&h, &cl, msg + linked,
                                             sizeof msg - (size_t)linked, NULL);
  check(n2, "compound close");
  size_t total = (size_t)linked + (size_t)n2;
  off = (size_t)smbx_tcp_encode_prefix(buf, 4, total);
  memcpy(buf + off, msg, total);
  if (pcapw_tcp(w, 0, buf, off + total))
    return 1;

  /* READ with RDMA_V1 channel and two descriptors */
  smbx_smb2_buffer_desc d[2] = {{0x10000, 0x77, 0xFFFC0}, {0x20000, 0x78, 0x40}};
  static uint8_t descbuf[64];
  smbx_ssize dl = smbx_smb2_desc_list_encode(d, 2, descbuf, sizeof descbuf, NULL);
  check(dl, "descriptors");
  smbx_smb2_read_req rr;
  memset(&rr, 0, sizeof rr);
  rr.padding = 0x50;
  rr.length = 0x100000;
  rr.offset = 0x200000;
  rr.file_id.persistent_id = 0x1111;
  rr.file_id.volatile_id = 0x2222;
  rr.channel = SMBX_SMB2_CHANNEL_RDMA_V1;
  rr.channel_info = (smbx_smb2_bytes){descbuf, (size_t)dl};
  h = hdr(SMBX_SMB2_READ, false, 9);
  n = smbx_smb2_encode_read_req(&h, &rr, msg, sizeof msg, NULL);
  check(n, "read req");
  memcpy(rreq, msg, (size_t)n);
  rreq_len = (size_t)n;
  off = (size_t)smbx_tcp_encode_prefix(buf, 4, (size_t)n);
  memcpy(buf + off, msg, (size_t)n);
  if (pcapw_tcp(w, 0, buf, off + (size_t)n))
    return 1;

  /* QUERY_DIRECTORY request with a pattern */
  smbx_smb2_query_directory_req q;
  memset(&q, 0, sizeof q);
  q.info_class = SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION;
  q.file_id = rr.file_id;
  namelen = utf16(name, "*.txt");
  q.file_name = (smbx_smb2_bytes){name, namelen};
  q.output_buffer_length = 65536;
  h = hdr(SMBX_SMB2_QUERY_DIRECTORY, false, 10);
  n = smbx_smb2_encode_query_directory_req(&h, &q, msg, sizeof msg, NULL);
  check(n, "query directory");
  off = (size_t)smbx_tcp_encode_prefix(buf, 4, (size_t)n);
  memcpy(buf + off, msg, (size_t)n);
  if (pcapw_tcp(w, 0, buf, off + (size_t)n))
    return 1;

  if (pcapw_close(w))
    return 1;
  if (argc == 3)
    return write_smbd(argv[2], creq, creq_len, cresp, cresp_len, rreq,
                      rreq_len);
  return 0;
}
