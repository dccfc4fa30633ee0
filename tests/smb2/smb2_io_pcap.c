/* SPDX-License-Identifier: MIT */
/* Encodes every I/O command of smbx/smb2_io.h (requests and responses)
 * with the codec, writes them to a pcap as Direct-TCP on port 445
 * (tools/pcap/pcapw.h), and prints on stdout, as JSON, what tshark must
 * read back per frame (check_io_pcap.py compares it with
 * tools/tshark_check.py's output, field by field).
 *
 * usage: smb2_io_pcap OUT.pcap [roce]
 * roce: READ and WRITE with RDMA channels over SMB Direct / RoCEv2: SMBD
 * negotiate, requests carrying buffer descriptors, the server's RDMA
 * WRITE / READ of the payload, responses (READ's by SEND with Invalidate
 * of the first token). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/smb2.h>
#include <smbx/smbd.h>

#include "pcapw.h"

static pcapw *W;
static int first_frame = 1;
static unsigned n_pdus;
static unsigned counts[0x13][2];

static void die(const char *what)
{
  fprintf(stderr, "smb2_io_pcap: %s\n", what);
  exit(1);
}

/* Expectation text of the current frame, as "field": value pairs. */
static char exp_buf[8192];
static size_t exp_len;

static void want(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void want(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(exp_buf + exp_len, sizeof exp_buf - exp_len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof exp_buf - exp_len)
    die("expectation buffer full");
  exp_len += (size_t)n;
}

/* One frame's expected fields: starts with the header fields. */
static void begin_frame(uint16_t cmd, uint64_t msg_id, int resp)
{
  printf("%s{\"smb2.cmd\": [%u], \"smb2.msg_id\": [%llu], "
         "\"smb2.flags.response\": [%d]",
         first_frame ? "" : ",\n", cmd, (unsigned long long)msg_id, resp);
  first_frame = 0;
  exp_len = 0;
  exp_buf[0] = 0;
  counts[cmd][resp ? 1 : 0]++;
  n_pdus++;
}

static void end_frame(void)
{
  printf("%s}", exp_buf);
}

static smbx_smb2_hdr hdr(uint16_t cmd, uint64_t msg_id, int resp)
{
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = cmd;
  h.message_id = msg_id;
  h.credit_charge = 1;
  h.credits = 1;
  h.flags = resp ? SMBX_SMB2_FLAGS_SERVER_TO_REDIR : 0;
  h.reserved = 0xFEFF;
  h.tree_id = 5;
  h.session_id = 0x0000400000000011ull;
  return h;
}

/* Writes an encoded PDU (with the Direct-TCP prefix) in one TCP send. */
static void send_pdu(int dir, const uint8_t *pdu, smbx_ssize n)
{
  static uint8_t frame[70000];
  if (n <= 0 || (size_t)n + 4 > sizeof frame)
    die("encode failed");
  frame[0] = 0;
  frame[1] = (uint8_t)(n >> 16);
  frame[2] = (uint8_t)(n >> 8);
  frame[3] = (uint8_t)n;
  memcpy(frame + 4, pdu, (size_t)n);
  if (pcapw_tcp(W, dir, frame, (size_t)n + 4) != 0)
    die("pcapw_tcp failed");
}

static int roce;

static const smbx_smb2_fileid FID = {0x1122334455667788ull,
                                     0x99AABBCCDDEEFF00ull};
static uint8_t buf[65536];

/* Over SMB Direct: the PDU as one Data Transfer message in one SEND. */
static void send_smbd(int dir, const uint8_t *pdu, smbx_ssize n, int inv,
                      uint32_t rkey)
{
  static uint8_t msg[70000];
  if (n <= 0)
    die("encode failed");
  smbx_smbd_data d;
  memset(&d, 0, sizeof d);
  d.credits_requested = 255;
  d.credits_granted = dir ? 16 : 0;
  d.data_offset = SMBX_SMBD_DATA_HDR_SIZE;
  d.data_length = (uint32_t)n;
  d.payload = pdu;
  int m = smbx_smbd_encode_data(&d, msg, sizeof msg);
  if (m <= 0)
    die("smbd encode failed");
  int rc = inv ? pcapw_smbd_send_inv(W, dir, rkey, msg, (size_t)m)
               : pcapw_smbd_send(W, dir, msg, (size_t)m);
  if (rc != 0)
    die("pcapw_smbd_send failed");
}

static void roce_negotiate(void)
{
  uint8_t m[64];
  smbx_smbd_negotiate_req q = {0x0100, 0x0100, 0, 255, 1364, 8192, 1048576};
  int n = smbx_smbd_encode_negotiate_req(&q, m, sizeof m);
  if (n <= 0 || pcapw_smbd_send(W, 0, m, (size_t)n) != 0)
    die("smbd negotiate request");
  smbx_smbd_negotiate_resp r = {0x0100, 0x0100, 0x0100, 0,   255,
                                255,    0,      1048576, 1364, 8192,
                                1048576};
  n = smbx_smbd_encode_negotiate_resp(&r, m, sizeof m);
  if (n <= 0 || pcapw_smbd_send(W, 1, m, (size_t)n) != 0)
    die("smbd negotiate response");
}

/* READ 64 KiB into two client buffers (0xFFC0 + 0x40, as Windows splits a
 * read) and WRITE 32 KiB pulled from one, over RDMA (smbd.md 4). */
static void roce_read_write(void)
{
  static uint8_t data[65536];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)(i * 7 + (i >> 8));
  smbx_smb2_buffer_desc d[2] = {{0x00007F0000010000ull, 0x00AB0001u, 0xFFC0},
                                {0x00007F0000200000ull, 0x00AB0002u, 0x40}};
  uint8_t ci[32];
  if (smbx_smb2_desc_list_encode(d, 2, ci, sizeof ci, NULL) != 32)
    die("desc");
  smbx_smb2_hdr h = hdr(SMBX_SMB2_READ, 100, 0);
  smbx_smb2_read_req rq;
  memset(&rq, 0, sizeof rq);
  rq.padding = 0x50;
  rq.length = 65536;
  rq.file_id = FID;
  rq.channel = SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE;
  rq.channel_info.p = ci;
  rq.channel_info.len = 32;
  begin_frame(SMBX_SMB2_READ, 100, 0);
  want(", \"smb2.read_length\": [65536], "
       "\"smb2.channel\": [\"0x00000002\"], "
       "\"smb2.olb.offset\": [\"0x00000070\"], \"smb2.olb.length\": [32], "
       "\"smb2.buffer_descriptor.offset\": [%llu, %llu], "
       "\"smb2.buffer_descriptor.token\": [\"0x00ab0001\", \"0x00ab0002\"], "
       "\"smb2.buffer_descriptor.length\": [65472, 64]",
       (unsigned long long)d[0].offset, (unsigned long long)d[1].offset);
  end_frame();
  send_smbd(0, buf, smbx_smb2_encode_read_req(&h, &rq, buf, sizeof buf, NULL),
            0, 0);
  /* the server places the data, then answers with DataLength 0 */
  if (pcapw_rdma_write(W, 1, d[0].offset, d[0].token, data, d[0].length) ||
      pcapw_rdma_write(W, 1, d[1].offset, d[1].token, data + d[0].length,
                       d[1].length))
    die("rdma write");
  h = hdr(SMBX_SMB2_READ, 100, 1);
  smbx_smb2_read_resp rp;
  memset(&rp, 0, sizeof rp);
  rp.data_remaining = 65536;
  begin_frame(SMBX_SMB2_READ, 100, 1);
  want(", \"smb2.olb.length\": [0], \"smb2.read_remaining\": [65536]");
  end_frame();
  send_smbd(1, buf, smbx_smb2_encode_read_resp(&h, &rp, buf, sizeof buf, NULL),
            1, d[0].token);

  smbx_smb2_buffer_desc wd = {0x00007F0000400000ull, 0x00CD0001u, 32768};
  uint8_t wci[16];
  if (smbx_smb2_desc_list_encode(&wd, 1, wci, sizeof wci, NULL) != 16)
    die("desc");
  h = hdr(SMBX_SMB2_WRITE, 101, 0);
  smbx_smb2_write_req wq;
  memset(&wq, 0, sizeof wq);
  wq.file_id = FID;
  wq.channel = SMBX_SMB2_CHANNEL_RDMA_V1;
  wq.remaining_bytes = 32768;
  wq.channel_info.p = wci;
  wq.channel_info.len = 16;
  begin_frame(SMBX_SMB2_WRITE, 101, 0);
  want(", \"smb2.write_length\": [0], \"smb2.channel\": [\"0x00000001\"], "
       "\"smb2.remaining_bytes\": [32768], "
       "\"smb2.olb.offset\": [\"0x00000070\"], \"smb2.olb.length\": [16], "
       "\"smb2.buffer_descriptor.token\": [\"0x00cd0001\"], "
       "\"smb2.buffer_descriptor.length\": [32768]");
  end_frame();
  send_smbd(0, buf, smbx_smb2_encode_write_req(&h, &wq, buf, sizeof buf, NULL),
            0, 0);
  if (pcapw_rdma_read(W, 1, wd.offset, wd.token, data, wd.length))
    die("rdma read");
  h = hdr(SMBX_SMB2_WRITE, 101, 1);
  smbx_smb2_write_resp wp;
  memset(&wp, 0, sizeof wp);
  wp.count = 32768;
  begin_frame(SMBX_SMB2_WRITE, 101, 1);
  want(", \"smb2.write.count\": [32768]");
  end_frame();
  send_smbd(1, buf, smbx_smb2_encode_write_resp(&h, &wp, buf, sizeof buf, NULL),
            0, 0);
}

static smbx_smb2_bytes u16name(const char *ascii, uint8_t *store)
{
  size_t l = strlen(ascii);
  for (size_t i = 0; i < l; i++) {
    store[2 * i] = (uint8_t)ascii[i];
    store[2 * i + 1] = 0;
  }
  smbx_smb2_bytes b = {store, 2 * l};
  return b;
}


static void read_write_lock(void)
{
  /* READ inline */
  smbx_smb2_hdr h = hdr(SMBX_SMB2_READ, 10, 0);
  smbx_smb2_read_req rq;
  memset(&rq, 0, sizeof rq);
  rq.padding = 0x50;
  rq.length = 65536;
  rq.offset = 8192;
  rq.file_id = FID;
  begin_frame(SMBX_SMB2_READ, 10, 0);
  want(", \"smb2.read_length\": [65536], \"smb2.file_offset\": [8192], "
       "\"smb2.channel\": [\"0x00000000\"]");
  end_frame();
  send_pdu(0, buf, smbx_smb2_encode_read_req(&h, &rq, buf, sizeof buf, NULL));
  h = hdr(SMBX_SMB2_READ, 10, 1);
  smbx_smb2_read_resp rp;
  memset(&rp, 0, sizeof rp);
  rp.data.p = (const uint8_t *)"hello, world";
  rp.data.len = 12;
  begin_frame(SMBX_SMB2_READ, 10, 1);
  want(", \"smb2.olb.offset\": [\"0x00000050\"], \"smb2.olb.length\": [12], "
       "\"smb2.read_remaining\": [0]");
  end_frame();
  send_pdu(1, buf, smbx_smb2_encode_read_resp(&h, &rp, buf, sizeof buf, NULL));

  /* READ RDMA_V1_INVALIDATE with 2 descriptors (case 10) */
  smbx_smb2_buffer_desc d[2] = {{0x00007F0000010000ull, 0x1234, 0xFFFC0},
                                {0x00007F0000200000ull, 0x1235, 0x40}};
  uint8_t ci[32];
  if (smbx_smb2_desc_list_encode(d, 2, ci, sizeof ci, NULL) != 32)
    die("desc");
  h = hdr(SMBX_SMB2_READ, 11, 0);
  rq.length = 0x100000;
  rq.offset = 0;
  rq.channel = SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE;
  rq.channel_info.p = ci;
  rq.channel_info.len = 32;
  begin_frame(SMBX_SMB2_READ, 11, 0);
  want(", \"smb2.read_length\": [1048576], "
       "\"smb2.channel\": [\"0x00000002\"], "
       "\"smb2.olb.offset\": [\"0x00000070\"], \"smb2.olb.length\": [32], "
       "\"smb2.buffer_descriptor.offset\": [%llu, %llu], "
       "\"smb2.buffer_descriptor.token\": [\"0x00001234\", \"0x00001235\"], "
       "\"smb2.buffer_descriptor.length\": [1048512, 64]",
       (unsigned long long)d[0].offset, (unsigned long long)d[1].offset);
  end_frame();
  send_pdu(0, buf, smbx_smb2_encode_read_req(&h, &rq, buf, sizeof buf, NULL));
  h = hdr(SMBX_SMB2_READ, 11, 1);
  memset(&rp, 0, sizeof rp);
  rp.data_remaining = 0x100000;
  begin_frame(SMBX_SMB2_READ, 11, 1);
  want(", \"smb2.olb.length\": [0], \"smb2.read_remaining\": [1048576]");
  end_frame();
  send_pdu(1, buf, smbx_smb2_encode_read_resp(&h, &rp, buf, sizeof buf, NULL));

  /* WRITE inline and WRITE over RDMA (case 11) */
  h = hdr(SMBX_SMB2_WRITE, 20, 0);
  smbx_smb2_write_req wq;
  memset(&wq, 0, sizeof wq);
  wq.file_id = FID;
  wq.offset = 4096;
  wq.data.p = (const uint8_t *)"0123456789abcdef";
  wq.data.len = 16;
  wq.flags = SMBX_SMB2_WRITEFLAG_WRITE_THROUGH;
  begin_frame(SMBX_SMB2_WRITE, 20, 0);
  want(", \"smb2.data_offset\": [\"0x0070\"], \"smb2.write_length\": [16], "
       "\"smb2.file_offset\": [4096], \"smb2.channel\": [\"0x00000000\"]");
  end_frame();
  send_pdu(0, buf, smbx_smb2_encode_write_req(&h, &wq, buf, sizeof buf, NULL));
  h = hdr(SMBX_SMB2_WRITE, 20, 1);
  smbx_smb2_write_resp wp;
  memset(&wp, 0, sizeof wp);
  wp.count = 16;
  begin_frame(SMBX_SMB2_WRITE, 20, 1);
  want(", \"smb2.write.count\": [16], \"smb2.write.remaining\": [0]");
  end_frame();
  send_pdu(1, buf, smbx_smb2_encode_write_resp(&h, &wp, buf, sizeof buf, NULL));

  smbx_smb2_buffer_desc wd = {0x00007F0000400000ull, 0x3333, 0x100000};
  uint8_t wci[16];
  if (smbx_smb2_desc_list_encode(&wd, 1, wci, sizeof wci, NULL) != 16)
    die("desc");
  h = hdr(SMBX_SMB2_WRITE, 21, 0);
  memset(&wq, 0, sizeof wq);
  wq.file_id = FID;
  wq.channel = SMBX_SMB2_CHANNEL_RDMA_V1;
  wq.remaining_bytes = 0x100000;
  wq.channel_info.p = wci;
  wq.channel_info.len = 16;
  begin_frame(SMBX_SMB2_WRITE, 21, 0);
  want(", \"smb2.data_offset\": [\"0x0000\"], \"smb2.write_length\": [0], "
       "\"smb2.channel\": [\"0x00000001\"], "
       "\"smb2.remaining_bytes\": [1048576], "
       "\"smb2.olb.offset\": [\"0x00000070\"], \"smb2.olb.length\": [16], "
       "\"smb2.buffer_descriptor.token\": [\"0x00003333\"], "
       "\"smb2.buffer_descriptor.length\": [1048576]");
  end_frame();
  send_pdu(0, buf, smbx_smb2_encode_write_req(&h, &wq, buf, sizeof buf, NULL));
  h = hdr(SMBX_SMB2_WRITE, 21, 1);
  wp.count = 0x100000;
  begin_frame(SMBX_SMB2_WRITE, 21, 1);
  want(", \"smb2.write.count\": [1048576]");
  end_frame();
  send_pdu(1, buf, smbx_smb2_encode_write_resp(&h, &wp, buf, sizeof buf, NULL));

  /* LOCK with 3 elements (case 12) */
  smbx_smb2_lock_element el[3] = {
    {0, 100, SMBX_SMB2_LOCKFLAG_EXCLUSIVE | SMBX_SMB2_LOCKFLAG_FAIL_IMMEDIATELY,
     0},
    {200, 50, SMBX_SMB2_LOCKFLAG_SHARED, 0},
    {1000, 10, SMBX_SMB2_LOCKFLAG_UNLOCK, 0},
  };
  smbx_smb2_lock_req lq;
  memset(&lq, 0, sizeof lq);
  lq.file_id = FID;
  lq.lock_count = 3;
  lq.elements = el;
  h = hdr(SMBX_SMB2_LOCK, 30, 0);
  begin_frame(SMBX_SMB2_LOCK, 30, 0);
  want(", \"smb2.lock_count\": [3], \"smb2.lock_length\": [100, 50, 10], "
       "\"smb2.lock_flags\": [\"0x00000012\", \"0x00000001\", "
       "\"0x00000004\"]");
  end_frame();
  send_pdu(0, buf, smbx_smb2_encode_lock_req(&h, &lq, buf, sizeof buf, NULL));
  h = hdr(SMBX_SMB2_LOCK, 30, 1);
  smbx_smb2_lock_resp lp = {0};
  begin_frame(SMBX_SMB2_LOCK, 30, 1);
  end_frame();
  send_pdu(1, buf, smbx_smb2_encode_lock_resp(&h, &lp, buf, sizeof buf, NULL));
}

static void ioctl(void)
{
  static const smbx_smb2_fileid ALL = {UINT64_MAX, UINT64_MAX};
  /* VALIDATE_NEGOTIATE_INFO (case 13) */
  uint8_t dialects[8] = {0x02, 0x02, 0x10, 0x02, 0x00, 0x03, 0x02, 0x03};
  smbx_smb2_vni_req v;
  memset(&v, 0, sizeof v);
  v.capabilities = 0x7F;
  v.security_mode = 1;
  for (int i = 0; i < 16; i++)
    v.guid[i] = (uint8_t)(0x10 + i);
  v.dialects.p = dialects;
  v.dialects.len = 8;
  uint8_t in[64];
  smbx_ssize vn = smbx_smb2_vni_req_encode(&v, in, sizeof in, NULL);
  if (vn != 32)
    die("vni");
  smbx_smb2_ioctl_req q;
  memset(&q, 0, sizeof q);
  q.ctl_code = SMBX_SMB2_FSCTL_VALIDATE_NEGOTIATE_INFO;
  q.file_id = ALL;
  q.flags = SMBX_SMB2_IOCTL_IS_FSCTL;
  q.max_output_response = 24;
  q.input.p = in;
  q.input.len = 32;
  smbx_smb2_hdr h = hdr(SMBX_SMB2_IOCTL, 40, 0);
  begin_frame(SMBX_SMB2_IOCTL, 40, 0);
  want(", \"smb2.ioctl.function\": [\"0x00140204\"], "
       "\"smb2.dialect_count\": [4], "
       "\"smb2.dialect\": [\"0x0202\", \"0x0210\", \"0x0300\", \"0x0302\"]");
  end_frame();
  send_pdu(0, buf, smbx_smb2_encode_ioctl_req(&h, &q, buf, sizeof buf, NULL));
  smbx_smb2_vni_resp vr;
  memset(&vr, 0, sizeof vr);
  vr.capabilities = 0x2F;
  vr.security_mode = 1;
  vr.dialect = SMBX_SMB2_DIALECT_302;
  uint8_t out[512];
  if (smbx_smb2_vni_resp_encode(&vr, out, sizeof out, NULL) != 24)
    die("vni resp");
  smbx_smb2_ioctl_resp r;
  memset(&r, 0, sizeof r);
  r.ctl_code = SMBX_SMB2_FSCTL_VALIDATE_NEGOTIATE_INFO;
  r.file_id = ALL;
  r.output.p = out;
  r.output.len = 24;
  h = hdr(SMBX_SMB2_IOCTL, 40, 1);
  begin_frame(SMBX_SMB2_IOCTL, 40, 1);
  want(", \"smb2.ioctl.function\": [\"0x00140204\"], "
       "\"smb2.dialect\": [\"0x0302\"]");
  end_frame();
  send_pdu(1, buf, smbx_smb2_encode_ioctl_resp(&h, &r, buf, sizeof buf, NULL));

  /* QUERY_NETWORK_INTERFACE_INFO: IPv4 RSS|RDMA + IPv6 (case 13) */
  memset(&q, 0, sizeof q);
  q.ctl_code = SMBX_SMB2_FSCTL_QUERY_NETWORK_INTERFACE_INFO;
  q.file_id = ALL;
  q.flags = SMBX_SMB2_IOCTL_IS_FSCTL;
  q.max_output_response = 65536;
  h = hdr(SMBX_SMB2_IOCTL, 41, 0);
  begin_frame(SMBX_SMB2_IOCTL, 41, 0);
  want(", \"smb2.ioctl.function\": [\"0x001401fc\"]");
  end_frame();
  send_pdu(0, buf, smbx_smb2_encode_ioctl_req(&h, &q, buf, sizeof buf, NULL));
  smbx_smb2_netif ni[2];
  memset(ni, 0, sizeof ni);
  ni[0].if_index = 3;
  ni[0].capability = SMBX_SMB2_NETIF_RSS_CAPABLE | SMBX_SMB2_NETIF_RDMA_CAPABLE;
  ni[0].link_speed = 100000000000ull;
  ni[0].family = SMBX_SMB2_NETIF_FAMILY_INET;
  ni[0].addr[0] = 192;
  ni[0].addr[1] = 168;
  ni[0].addr[2] = 7;
  ni[0].addr[3] = 1;
  ni[1].if_index = 4;
  ni[1].capability = SMBX_SMB2_NETIF_RSS_CAPABLE;
  ni[1].link_speed = 25000000000ull;
  ni[1].family = SMBX_SMB2_NETIF_FAMILY_INET6;
  static const uint8_t v6[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0,
                                 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55};
  memcpy(ni[1].addr, v6, 16);
  if (smbx_smb2_netif_encode(ni, 2, out, sizeof out, NULL) != 304)
    die("netif");
  memset(&r, 0, sizeof r);
  r.ctl_code = SMBX_SMB2_FSCTL_QUERY_NETWORK_INTERFACE_INFO;
  r.file_id = ALL;
  r.output.p = out;
  r.output.len = 304;
  h = hdr(SMBX_SMB2_IOCTL, 41, 1);
  begin_frame(SMBX_SMB2_IOCTL, 41, 1);
  want(", \"smb2.ioctl.function\": [\"0x001401fc\"], "
       "\"smb2.ioctl.network_interfaces.next_offset\": [\"0x00000098\", "
       "\"0x00000000\"], "
       "\"smb2.ioctl.network_interfaces.index\": [3, 4], "
       "\"smb2.ioctl.network_interfaces.capabilities\": [\"0x00000003\", "
       "\"0x00000001\"], "
       "\"smb2.ioctl.network_interfaces.link_speed\": [100000000000, "
       "25000000000], "
       "\"smb2.windows.sockaddr.in.addr\": [\"192.168.7.1\"], "
       "\"smb2.windows.sockaddr.in6.addr\": [\"fe80::211:22ff:fe33:4455\"]");
  end_frame();
  send_pdu(1, buf, smbx_smb2_encode_ioctl_resp(&h, &r, buf, sizeof buf, NULL));
}

static const char *const dir_names[3] = {".", "..", "abc"};

static void query_directory(uint8_t cls, uint64_t mid, int names_known)
{
  uint8_t star[2];
  smbx_smb2_query_directory_req q;
  memset(&q, 0, sizeof q);
  q.info_class = cls;
  q.flags = SMBX_SMB2_RESTART_SCANS;
  q.file_id = FID;
  q.file_name = u16name("*", star);
  q.output_buffer_length = 65536;
  smbx_smb2_hdr h = hdr(SMBX_SMB2_QUERY_DIRECTORY, mid, 0);
  begin_frame(SMBX_SMB2_QUERY_DIRECTORY, mid, 0);
  want(", \"smb2.find.infolevel\": [%u], \"smb2.find.pattern\": [\"*\"]", cls);
  end_frame();
  send_pdu(0, buf,
           smbx_smb2_encode_query_directory_req(&h, &q, buf, sizeof buf, NULL));

  uint8_t out[2048], names[3][16], sn[8];
  smbx_smb2_dir_builder b;
  if (smbx_smb2_dir_builder_init(&b, cls, out, sizeof out) != 0)
    die("dir builder");
  for (int i = 0; i < 3; i++) {
    smbx_smb2_dir_entry e;
    memset(&e, 0, sizeof e);
    e.file_index = (uint32_t)i + 1;
    e.creation_time = 0x01D9000000000001ull;
    e.last_access_time = 0x01D9000000000002ull;
    e.last_write_time = 0x01D9000000000003ull;
    e.change_time = 0x01D9000000000004ull;
    e.end_of_file = 1234u * (uint64_t)(i + 1);
    e.allocation_size = 4096;
    e.file_attributes = i < 2 ? 0x10 : 0x20;
    e.file_id = 0x1000u + (uint64_t)i;
    e.file_name = u16name(dir_names[i], names[i]);
    if (i == 2 && (cls == 3 || cls == 37))
      e.short_name = u16name("ABC", sn);
    if (smbx_smb2_dir_builder_add(&b, &e) != 0)
      die("dir add");
  }
  smbx_smb2_output_resp r;
  r.output_buffer_offset = 0;
  r.output.p = out;
  r.output.len = b.len;
  h = hdr(SMBX_SMB2_QUERY_DIRECTORY, mid, 1);
  begin_frame(SMBX_SMB2_QUERY_DIRECTORY, mid, 1);
  want(", \"smb2.olb.offset\": [\"0x00000048\"], \"smb2.olb.length\": [%zu]",
       b.len);
  if (names_known)
    want(", \"smb2.filename\": [\".\", \"..\", \"abc\"]");
  end_frame();
  send_pdu(1, buf, smbx_smb2_encode_query_directory_resp(&h, &r, buf,
                                                         sizeof buf, NULL));
}

static void change_notify(void)
{
  smbx_smb2_change_notify_req q;
  memset(&q, 0, sizeof q);
  q.flags = SMBX_SMB2_WATCH_TREE;
  q.output_buffer_length = 4096;
  q.file_id = FID;
  q.completion_filter = 0x17;
  smbx_smb2_hdr h = hdr(SMBX_SMB2_CHANGE_NOTIFY, 60, 0);
  begin_frame(SMBX_SMB2_CHANGE_NOTIFY, 60, 0);
  want(", \"smb2.notify.watch_tree\": [1], "
       "\"smb2.output_buffer_len\": [4096]");
  end_frame();
  send_pdu(0, buf,
           smbx_smb2_encode_change_notify_req(&h, &q, buf, sizeof buf, NULL));
  uint8_t out[256], n[3][16];
  smbx_smb2_notify_builder b;
  smbx_smb2_notify_builder_init(&b, out, sizeof out);
  static const char *const nm[3] = {"a", "bcd", "ef"};
  static const uint32_t act[3] = {SMBX_SMB2_ACTION_ADDED,
                                  SMBX_SMB2_ACTION_RENAMED_OLD_NAME,
                                  SMBX_SMB2_ACTION_RENAMED_NEW_NAME};
  for (int i = 0; i < 3; i++) {
    smbx_smb2_notify_entry e;
    memset(&e, 0, sizeof e);
    e.action = act[i];
    e.file_name = u16name(nm[i], n[i]);
    if (smbx_smb2_notify_builder_add(&b, &e) != 0)
      die("notify add");
  }
  smbx_smb2_output_resp r;
  r.output_buffer_offset = 0;
  r.output.p = out;
  r.output.len = b.len;
  h = hdr(SMBX_SMB2_CHANGE_NOTIFY, 60, 1);
  begin_frame(SMBX_SMB2_CHANGE_NOTIFY, 60, 1);
  want(", \"smb2.notify.action\": [\"0x00000001\", \"0x00000004\", "
       "\"0x00000005\"], \"smb2.filename\": [\"a\", \"bcd\", \"ef\"], "
       "\"smb2.notify.next_offset\": [\"0x00000010\", \"0x00000014\", "
       "\"0x00000000\"]");
  end_frame();
  send_pdu(1, buf,
           smbx_smb2_encode_change_notify_resp(&h, &r, buf, sizeof buf, NULL));
}

static void query_set_info(void)
{
  /* QUERY_INFO FileAllInformation (case 16) */
  smbx_smb2_query_info_req q;
  memset(&q, 0, sizeof q);
  q.info_type = SMBX_SMB2_0_INFO_FILE;
  q.file_info_class = SMBX_SMB2_FILE_ALL_INFORMATION;
  q.output_buffer_length = 4096;
  q.file_id = FID;
  smbx_smb2_hdr h = hdr(SMBX_SMB2_QUERY_INFO, 70, 0);
  begin_frame(SMBX_SMB2_QUERY_INFO, 70, 0);
  want(", \"smb2.class\": [\"0x01\"], \"smb2.file_info.infolevel\": "
       "[\"0x12\"]");
  end_frame();
  send_pdu(0, buf, smbx_smb2_encode_query_info_req(&h, &q, buf, sizeof buf,
                                                   NULL));
  uint8_t out[512], nm[64];
  smbx_smb2_file_all_info a;
  memset(&a, 0, sizeof a);
  a.basic.file_attributes = 0x20;
  a.standard.allocation_size = 8192;
  a.standard.end_of_file = 5000;
  a.standard.number_of_links = 1;
  a.index_number = 0x1234;
  a.access_flags = 0x12019F;
  a.file_name = u16name("dir\\file.txt", nm);
  smbx_ssize an = smbx_smb2_file_all_info_encode(&a, out, sizeof out, NULL);
  if (an <= 0)
    die("all info");
  smbx_smb2_output_resp r;
  r.output_buffer_offset = 0;
  r.output.p = out;
  r.output.len = (size_t)an;
  h = hdr(SMBX_SMB2_QUERY_INFO, 70, 1);
  begin_frame(SMBX_SMB2_QUERY_INFO, 70, 1);
  want(", \"smb2.eof\": [5000], \"smb2.allocation_size\": [8192], "
       "\"smb2.filename\": [\"dir\\\\file.txt\"]");
  end_frame();
  send_pdu(1, buf, smbx_smb2_encode_query_info_resp(&h, &r, buf, sizeof buf,
                                                    NULL));

  /* QUERY_INFO FileNetworkOpenInformation (case 16) */
  q.file_info_class = SMBX_SMB2_FILE_NETWORK_OPEN_INFORMATION;
  q.output_buffer_length = 56;
  h = hdr(SMBX_SMB2_QUERY_INFO, 71, 0);
  begin_frame(SMBX_SMB2_QUERY_INFO, 71, 0);
  want(", \"smb2.class\": [\"0x01\"], \"smb2.file_info.infolevel\": "
       "[\"0x22\"]");
  end_frame();
  send_pdu(0, buf, smbx_smb2_encode_query_info_req(&h, &q, buf, sizeof buf,
                                                   NULL));
  smbx_smb2_file_network_open_info no;
  memset(&no, 0, sizeof no);
  no.allocation_size = 8192;
  no.end_of_file = 5000;
  no.file_attributes = 0x20;
  if (smbx_smb2_file_network_open_info_encode(&no, out, sizeof out, NULL) != 56)
    die("netopen");
  r.output.len = 56;
  h = hdr(SMBX_SMB2_QUERY_INFO, 71, 1);
  begin_frame(SMBX_SMB2_QUERY_INFO, 71, 1);
  /* tshark 4.0 leaves FileNetworkOpenInformation as a blob */
  want(", \"smb2.olb.length\": [56]");
  end_frame();
  send_pdu(1, buf, smbx_smb2_encode_query_info_resp(&h, &r, buf, sizeof buf,
                                                    NULL));

  /* SET_INFO FileBasicInformation and FileRenameInformation (case 16) */
  smbx_smb2_file_basic_info bi;
  memset(&bi, 0, sizeof bi);
  bi.last_write_time = 0x01D9000000000009ull;
  bi.file_attributes = 0x80;
  uint8_t sb[128];
  smbx_smb2_set_info_req s;
  memset(&s, 0, sizeof s);
  s.info_type = SMBX_SMB2_0_INFO_FILE;
  s.file_info_class = SMBX_SMB2_FILE_BASIC_INFORMATION;
  s.file_id = FID;
  s.buffer.p = sb;
  s.buffer.len = (size_t)smbx_smb2_file_basic_info_encode(&bi, sb, sizeof sb,
                                                          NULL);
  h = hdr(SMBX_SMB2_SET_INFO, 72, 0);
  begin_frame(SMBX_SMB2_SET_INFO, 72, 0);
  want(", \"smb2.class\": [\"0x01\"], \"smb2.file_info.infolevel\": "
       "[\"0x04\"], \"smb2.setinfo_size\": [40], "
       "\"smb2.setinfo_offset\": [\"0x0060\"]");
  end_frame();
  send_pdu(0, buf, smbx_smb2_encode_set_info_req(&h, &s, buf, sizeof buf,
                                                 NULL));
  smbx_smb2_set_info_resp sr = {0};
  h = hdr(SMBX_SMB2_SET_INFO, 72, 1);
  begin_frame(SMBX_SMB2_SET_INFO, 72, 1);
  end_frame();
  send_pdu(1, buf, smbx_smb2_encode_set_info_resp(&h, &sr, buf, sizeof buf,
                                                  NULL));

  smbx_smb2_file_rename_info rn;
  memset(&rn, 0, sizeof rn);
  rn.replace_if_exists = 1;
  rn.file_name = u16name("newname.txt", nm);
  s.file_info_class = SMBX_SMB2_FILE_RENAME_INFORMATION;
  s.buffer.len = (size_t)smbx_smb2_file_rename_info_encode(&rn, sb, sizeof sb,
                                                           NULL);
  h = hdr(SMBX_SMB2_SET_INFO, 73, 0);
  begin_frame(SMBX_SMB2_SET_INFO, 73, 0);
  want(", \"smb2.class\": [\"0x01\"], \"smb2.file_info.infolevel\": "
       "[\"0x0a\"], \"smb2.filename\": [\"newname.txt\"]");
  end_frame();
  send_pdu(0, buf, smbx_smb2_encode_set_info_req(&h, &s, buf, sizeof buf,
                                                 NULL));
  h = hdr(SMBX_SMB2_SET_INFO, 73, 1);
  begin_frame(SMBX_SMB2_SET_INFO, 73, 1);
  end_frame();
  send_pdu(1, buf, smbx_smb2_encode_set_info_resp(&h, &sr, buf, sizeof buf,
                                                  NULL));
}

int main(int argc, char **argv)
{
  if (argc != 2 && !(argc == 3 && strcmp(argv[2], "roce") == 0))
    die("usage: smb2_io_pcap OUT.pcap [roce]");
  roce = argc == 3;
  W = pcapw_open(argv[1], NULL);
  if (!W)
    die("cannot open the capture");
  printf("{\"frames\": [\n");
  if (roce) {
    roce_negotiate();
    roce_read_write();
    goto done;
  }
  read_write_lock();
  ioctl();
  /* tshark 4.0 shows the names of every class but 60 */
  query_directory(SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION, 50, 1);
  query_directory(SMBX_SMB2_FILE_DIRECTORY_INFORMATION, 51, 1);
  query_directory(SMBX_SMB2_FILE_FULL_DIRECTORY_INFORMATION, 52, 1);
  query_directory(SMBX_SMB2_FILE_BOTH_DIRECTORY_INFORMATION, 53, 1);
  query_directory(SMBX_SMB2_FILE_NAMES_INFORMATION, 54, 1);
  query_directory(SMBX_SMB2_FILE_ID_FULL_DIRECTORY_INFORMATION, 55, 1);
  query_directory(SMBX_SMB2_FILE_ID_EXTD_DIRECTORY_INFORMATION, 56, 0);
  change_notify();
  query_set_info();
done:
  if (pcapw_close(W) != 0)
    die("pcapw_close failed");
  static const char *const names[0x13] = {
    "NEGOTIATE", "SESSION_SETUP", "LOGOFF", "TREE_CONNECT",
    "TREE_DISCONNECT", "CREATE", "CLOSE", "FLUSH", "READ", "WRITE", "LOCK",
    "IOCTL", "CANCEL", "ECHO", "QUERY_DIRECTORY", "CHANGE_NOTIFY",
    "QUERY_INFO", "SET_INFO", "OPLOCK_BREAK"};
  printf("\n], \"smb2_pdus\": %u, \"smb2\": {", n_pdus);
  int first = 1;
  for (int c = 0; c < 0x13; c++)
    for (int d = 0; d < 2; d++)
      if (counts[c][d]) {
        printf("%s\"%s.%s\": %u", first ? "" : ", ", names[c],
               d ? "resp" : "req", counts[c][d]);
        first = 0;
      }
  printf("}");
  if (roce) {
    /* 4096-byte path MTU: 0xFFC0 bytes = FIRST + 14 MIDDLE + LAST, 0x40 =
     * ONLY; the 32 KiB read = REQUEST + FIRST + 6 MIDDLE + LAST */
    printf(", \"smbd\": {\"negotiate_request\": 1, \"negotiate_response\": 1, "
           "\"data\": 4}, \"rdma\": {\"SEND_ONLY\": 5, \"SEND_ONLY_INV\": 1, "
           "\"RDMA_WRITE_FIRST\": 1, \"RDMA_WRITE_MIDDLE\": 14, "
           "\"RDMA_WRITE_LAST\": 1, \"RDMA_WRITE_ONLY\": 1, "
           "\"RDMA_READ_REQUEST\": 1, \"RDMA_READ_RESPONSE_FIRST\": 1, "
           "\"RDMA_READ_RESPONSE_MIDDLE\": 6, \"RDMA_READ_RESPONSE_LAST\": 1}");
  }
  printf("}\n");
  return 0;
}
