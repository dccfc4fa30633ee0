/* SPDX-License-Identifier: MIT */
/* RDMA direct placement: spec/smbd.md cases 51-57 (rdma_case_<N>_...,
 * check_case_ids.sh keeps the list complete) and conformance over the
 * simulated NIC (tests/sim): descriptor counts and sizes, invalidation,
 * descriptor violations, RDMA errors mid-I/O, zero copy by identity, zero
 * allocations per I/O, allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/rdma_io.h"
#include "rdma/rdma.h"
#include "rh.h"

#define ST_INVALID_PARAMETER 0xC000000Du
#define ST_END_OF_FILE 0xC0000011u

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    p[i] = (uint8_t)(seed >> 16);
  }
}

static uint32_t status_of(const rh_ev *e)
{
  assert_int_equal(e->ev.u.pdu.err, 0);
  return e->ev.u.pdu.status;
}

/* A READ body (after the header) with a hand-made channel info. */
static size_t read_body(rh *x, uint8_t *out, size_t cap, uint32_t len,
                        uint32_t channel, const uint8_t *ci, size_t ci_len)
{
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_read_req r;
  memset(&r, 0, sizeof r);
  r.padding = 0x50;
  r.length = len;
  r.file_id = x->fid;
  r.channel = channel;
  r.channel_info.p = ci;
  r.channel_info.len = ci_len;
  static uint8_t pdu[70000];
  smbx_ssize n = smbx_smb2_encode_read_req(&h, &r, pdu, sizeof pdu, NULL);
  assert_true(n > 64 && (size_t)n - 64 <= cap);
  memcpy(out, pdu + 64, (size_t)n - 64);
  return (size_t)n - 64;
}

static size_t descs(uint8_t *out, const smbx_smb2_buffer_desc *d, size_t n)
{
  smbx_ssize k = smbx_smb2_desc_list_encode(d, n, out, n * 16, NULL);
  assert_int_equal(k, (smbx_ssize)(n * 16));
  return (size_t)k;
}

/* ---- spec cases 51-57 ------------------------------------------------------ */

static void rdma_case_51_write_rdma_length_or_offset_not_zero(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  rh_start(&x);
  static uint8_t buf[8192];
  smbx_mr mr = rh_client_mr(&x, buf, sizeof buf, SMBX_MR_REMOTE_READ);
  smbx_smb2_buffer_desc d = {mr.address, mr.key, 4096};
  uint8_t ci[16];
  descs(ci, &d, 1);
  /* inline data AND an RDMA channel: Length != 0 */
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  smbx_smb2_write_req w;
  memset(&w, 0, sizeof w);
  w.file_id = x.fid;
  w.channel = SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE;
  w.remaining_bytes = 4096;
  w.data.p = buf;
  w.data.len = 8;
  w.channel_info.p = ci;
  w.channel_info.len = 16;
  uint8_t pdu[256];
  smbx_ssize n = smbx_smb2_encode_write_req(&h, &w, pdu, sizeof pdu, NULL);
  assert_true(n > 64);
  assert_int_equal(status_of(rh_raw(&x, SMBX_SMB2_WRITE, pdu + 64,
                                    (size_t)n - 64)),
                   ST_INVALID_PARAMETER);
  /* Length 0 but DataOffset 0x70 (the RDMA form wants 0); the key was
   * invalidated by that answer: advertise a fresh one (MSTS: a token is
   * never reused after V1_INVALIDATE) */
  x.t[0].deregister_mr(x.t[0].user_data, &mr);
  mr = rh_client_mr(&x, buf, sizeof buf, SMBX_MR_REMOTE_READ);
  d.offset = mr.address;
  d.token = mr.key;
  descs(ci, &d, 1);
  w.data.p = NULL;
  w.data.len = 0;
  n = smbx_smb2_encode_write_req(&h, &w, pdu, sizeof pdu, NULL);
  pdu[64 + 2] = 0x70; /* DataOffset @66 */
  assert_int_equal(status_of(rh_raw(&x, SMBX_SMB2_WRITE, pdu + 64,
                                    (size_t)n - 64)),
                   ST_INVALID_PARAMETER);
  /* the host never saw them, nothing moved */
  assert_int_equal(x.n_rdma_requests, 0);
  assert_int_equal(x.w->ep[1].rdma_reads + x.w->ep[1].rdma_writes, 0);
  /* both error answers invalidated the key they named (case 55) */
  assert_int_equal(x.w->invalidations, 2);
  x.t[0].deregister_mr(x.t[0].user_data, &mr);
  rh_fini(&x);
}

static void rdma_case_52_invalidate_on_smb300(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  x.cs.dialects = SMBX_DIALECT_MASK_300;
  rh_start(&x);
  static uint8_t buf[16384];
  smbx_mr mr = rh_client_mr(&x, buf, sizeof buf, SMBX_MR_REMOTE_WRITE);
  smbx_smb2_buffer_desc d = {mr.address, mr.key, sizeof buf};
  uint8_t ci[16], body[128];
  descs(ci, &d, 1);
  size_t n = read_body(&x, body, sizeof body, 8192,
                       SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE, ci, 16);
  assert_int_equal(status_of(rh_raw(&x, SMBX_SMB2_READ, body, n)),
                   ST_INVALID_PARAMETER);
  x.t[0].deregister_mr(x.t[0].user_data, &mr);
  /* the node itself asks for RDMA_V1 on 3.0 and it works */
  fill(x.file, 8192, 52);
  const rh_ev *e = rh_read(&x, 0, buf, 8192);
  assert_int_equal(status_of(e), 0);
  assert_true(e->ev.flags & SMBX_EVF_RDMA);
  assert_int_equal(e->ev.u.pdu.rdma_channel, SMBX_SMB2_CHANNEL_RDMA_V1);
  assert_int_equal(e->ev.u.pdu.rdma_length, 8192);
  assert_memory_equal(buf, x.file, 8192);
  rh_fini(&x);
}

static void rdma_case_53_bad_channel_info(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  rh_start(&x);
  static uint8_t buf[8192];
  smbx_mr mr = rh_client_mr(&x, buf, sizeof buf, SMBX_MR_REMOTE_WRITE);
  smbx_smb2_buffer_desc d[2] = {{mr.address, mr.key, 4096},
                                {mr.address + 4096, mr.key, 0}};
  uint8_t ci[32], body[256];
  descs(ci, d, 2);
  /* out of bounds: ReadChannelInfoLength (@110 -> body 46) past the end */
  size_t n = read_body(&x, body, sizeof body, 4096,
                       SMBX_SMB2_CHANNEL_RDMA_V1, ci, 16);
  body[46] = 0xF0;
  assert_int_equal(status_of(rh_raw(&x, SMBX_SMB2_READ, body, n)),
                   ST_INVALID_PARAMETER);
  /* offset into the fixed part (@108 -> body 44) */
  n = read_body(&x, body, sizeof body, 4096, SMBX_SMB2_CHANNEL_RDMA_V1, ci, 16);
  body[44] = 0x60;
  assert_int_equal(status_of(rh_raw(&x, SMBX_SMB2_READ, body, n)),
                   ST_INVALID_PARAMETER);
  /* length 0 */
  n = read_body(&x, body, sizeof body, 4096, SMBX_SMB2_CHANNEL_RDMA_V1, ci, 16);
  body[46] = 0;
  body[47] = 0;
  assert_int_equal(status_of(rh_raw(&x, SMBX_SMB2_READ, body, n)),
                   ST_INVALID_PARAMETER);
  /* not a multiple of 16 */
  n = read_body(&x, body, sizeof body, 4096, SMBX_SMB2_CHANNEL_RDMA_V1, ci, 16);
  body[46] = 15;
  assert_int_equal(status_of(rh_raw(&x, SMBX_SMB2_READ, body, n)),
                   ST_INVALID_PARAMETER);
  /* a descriptor of Length 0 */
  n = read_body(&x, body, sizeof body, 4096, SMBX_SMB2_CHANNEL_RDMA_V1, ci, 32);
  assert_int_equal(status_of(rh_raw(&x, SMBX_SMB2_READ, body, n)),
                   ST_INVALID_PARAMETER);
  assert_int_equal(x.n_rdma_requests, 0);
  assert_false(x.cdown);
  x.t[0].deregister_mr(x.t[0].user_data, &mr);
  rh_fini(&x);
}

static void rdma_case_54_4095_descriptors(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  rh_start(&x);
  enum { N = 4095 };
  static uint8_t buf[N + 64];
  memset(buf, 0xEE, sizeof buf);
  smbx_mr mr = rh_client_mr(&x, buf, N, SMBX_MR_REMOTE_WRITE);
  static smbx_smb2_buffer_desc d[N];
  for (uint32_t i = 0; i < N; i++)
    d[i] = (smbx_smb2_buffer_desc){mr.address + i, mr.key, 1};
  static uint8_t ci[N * 16], body[N * 16 + 64];
  descs(ci, d, N);
  size_t n = read_body(&x, body, sizeof body, N, SMBX_SMB2_CHANNEL_RDMA_V1, ci,
                       sizeof ci);
  fill(x.file, N, 54);
  const rh_ev *e = rh_raw(&x, SMBX_SMB2_READ, body, n);
  assert_int_equal(status_of(e), 0);
  assert_int_equal(x.n_rdma_requests, 1);
  /* one RDMA WRITE per 1-byte descriptor, every byte in place */
  assert_int_equal(x.w->ep[1].rdma_writes, N);
  assert_memory_equal(buf, x.file, N);
  assert_int_equal(buf[N], 0xEE);
  smbx_smb2_read_resp rr;
  assert_int_equal(smbx_smb2_decode_read_resp(e->hdr, e->len, &rr, NULL), 0);
  assert_int_equal(rr.data.len, 0);
  assert_int_equal(rr.data_remaining, N);
  x.t[0].deregister_mr(x.t[0].user_data, &mr);
  rh_fini(&x);
}

/* An RDMA READ response is the header and the 16-byte fixed part, nothing
 * more: with DataLength 0 there is no Buffer byte. Linux cifs (6.1, seen
 * over soft-RoCE) takes any byte after the fixed part as inline read data,
 * fails the read ("buf can not contain only a part of read data") and then
 * reads DataRemaining bytes that never come: a kernel oops. */
static void rdma_read_response_is_the_fixed_part_only(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  rh_start(&x);
  static uint8_t buf[4000];
  smbx_mr mr = rh_client_mr(&x, buf, sizeof buf, SMBX_MR_REMOTE_WRITE);
  smbx_smb2_buffer_desc d = {mr.address, mr.key, sizeof buf};
  uint8_t ci[16], body[128];
  descs(ci, &d, 1);
  size_t n = read_body(&x, body, sizeof body, sizeof buf,
                       SMBX_SMB2_CHANNEL_RDMA_V1, ci, sizeof ci);
  fill(x.file, sizeof buf, 7);
  const rh_ev *e = rh_raw(&x, SMBX_SMB2_READ, body, n);
  assert_int_equal(status_of(e), 0);
  assert_int_equal(e->len, SMBX_SMB2_HDR_SIZE + 16);
  smbx_smb2_read_resp rr;
  assert_int_equal(smbx_smb2_decode_read_resp(e->hdr, e->len, &rr, NULL), 0);
  assert_int_equal(rr.data.len, 0);
  assert_int_equal(rr.data_remaining, sizeof buf);
  assert_memory_equal(buf, x.file, sizeof buf);
  x.t[0].deregister_mr(x.t[0].user_data, &mr);
  rh_fini(&x);
}

/* How many SENDs from the server carried SEND_WITH_INVALIDATE of key. */
static size_t inv_sends(const rh *x, uint32_t key)
{
  size_t n = 0, k = sim_sent_count(x->w, 1);
  for (size_t i = 0; i < k; i++) {
    const sim_msg *m = sim_sent(x->w, 1, i);
    n += (m->flags & SMBX_SEND_INVALIDATE) && m->rkey == key;
  }
  return n;
}

static void rdma_case_55_invalidate_exactly_once(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  rh_start(&x);
  static uint8_t buf[65536];
  fill(x.file, sizeof buf, 55);
  const rh_ev *e = rh_read(&x, 0, buf, sizeof buf);
  assert_int_equal(status_of(e), 0);
  assert_int_equal(e->ev.u.pdu.rdma_channel,
                   SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE);
  assert_memory_equal(buf, x.file, sizeof buf);
  /* the key the client advertised: the last registration of ep 0 */
  const sim_rop *op = &x.w->rlog[x.w->rlog_n - 1];
  assert_int_equal(inv_sends(&x, op->rkey), 1);
  assert_int_equal(x.w->invalidations, 1);
  /* an error answer invalidates too, once */
  x.eof_at = 4096;
  e = rh_read(&x, 8192, buf, 8192);
  assert_int_equal(status_of(e), ST_END_OF_FILE);
  assert_false(e->ev.flags & SMBX_EVF_RDMA && e->ev.u.pdu.rdma_length);
  assert_int_equal(x.w->invalidations, 2);
  /* and a WRITE's answer, after the pull */
  fill(buf, sizeof buf, 56);
  e = rh_write(&x, 65536, buf, sizeof buf);
  assert_int_equal(status_of(e), 0);
  assert_int_equal(x.w->invalidations, 3);
  assert_memory_equal(x.file + 65536, buf, sizeof buf);
  /* every advertised key was invalidated remotely and deregistered with
   * the flag (the sim counts a false claim as a violation) */
  rh_fini(&x);
}

static void rdma_case_56_no_offload_when_protected(void **st)
{
  (void)st;
  /* the decision itself: a signed or encrypted request stays inline */
  test_alloc ta;
  test_alloc_init(&ta);
  sim *w = sim_new(0);
  smbx_transport t = sim_transport(w, 0);
  smbx_client_settings s;
  smbx_client_settings_default(&s, sizeof s);
  smbx__cli_rdma *r = NULL;
  assert_int_equal(smbx__cli_rdma_new(&r, &t, &s, &ta.a), 0);
  assert_non_null(r);
  static uint8_t buf[65536], d[1024];
  uint32_t chain, ch;
  assert_int_equal(smbx__cli_rdma_prepare(r, SMBX_SMB2_DIALECT_311, true,
                                          1u << 20, buf, sizeof buf, true, d,
                                          sizeof d, &chain, &ch),
                   0);
  assert_int_equal(ch, SMBX_SMB2_CHANNEL_NONE);
  assert_int_equal(w->ep[0].mr_total, 0);
  /* below the threshold, or 2.x: inline too */
  assert_int_equal(smbx__cli_rdma_prepare(r, SMBX_SMB2_DIALECT_302, false,
                                          1u << 20, buf, 4095, true, d,
                                          sizeof d, &chain, &ch),
                   0);
  assert_int_equal(smbx__cli_rdma_prepare(r, SMBX_SMB2_DIALECT_210, false,
                                          1u << 20, buf, 65536, true, d,
                                          sizeof d, &chain, &ch),
                   0);
  /* unprotected 3.1.1: RDMA */
  assert_int_equal(smbx__cli_rdma_prepare(r, SMBX_SMB2_DIALECT_311, false,
                                          1u << 20, buf, 65536, true, d,
                                          sizeof d, &chain, &ch),
                   16);
  assert_int_equal(ch, SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE);
  smbx__cli_rdma_unprepare(r, &chain);
  smbx__cli_rdma_free(r);
  assert_int_equal(w->ep[0].mr_live, 0);
  assert_int_equal(w->violations, 0);
  sim_free(w);
  assert_int_equal(ta.live, 0);
}

static void rdma_case_57_transform_count_zero(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  rh_start(&x);
  /* SMB2_RDMA_TRANSFORM: DescOffset 16, DescLength 16, Channel V1,
   * TransformCount 0 */
  uint8_t ci[32];
  memset(ci, 0, sizeof ci);
  ci[0] = 16;
  ci[2] = 16;
  ci[4] = 1;
  ci[16 + 12] = 16; /* a descriptor of 16 bytes */
  uint8_t body[128];
  size_t n = read_body(&x, body, sizeof body, 16,
                       SMBX_SMB2_CHANNEL_RDMA_TRANSFORM, ci, sizeof ci);
  assert_int_equal(status_of(rh_raw(&x, SMBX_SMB2_READ, body, n)),
                   ST_INVALID_PARAMETER);
  /* a well-formed transform is refused as well: never negotiated */
  ci[8] = 1; /* TransformCount 1 ... */
  assert_int_equal(status_of(rh_raw(&x, SMBX_SMB2_READ, body, n)),
                   ST_INVALID_PARAMETER);
  assert_int_equal(x.n_rdma_requests, 0);
  rh_fini(&x);
}

/* ---- conformance over the simulated NIC ---------------------------------------- */

static void rdma_one_descriptor_zero_copy(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  rh_start(&x);
  static uint8_t buf[65536];
  fill(x.file + 4096, sizeof buf, 1);
  size_t ops0 = x.w->rlog_n;
  const rh_ev *e = rh_read(&x, 4096, buf, sizeof buf);
  assert_int_equal(status_of(e), 0);
  assert_memory_equal(buf, x.file + 4096, sizeof buf);
  /* one descriptor, one RDMA WRITE naming the host's file memory and the
   * caller's buffer: nothing was copied by smbx */
  assert_int_equal(x.w->rlog_n - ops0, 1);
  const sim_rop *op = &x.w->rlog[ops0];
  assert_false(op->is_read);
  assert_int_equal(op->n_sg, 1);
  assert_ptr_equal(op->sg[0].addr, x.file + 4096);
  assert_int_equal(op->raddr, (uint64_t)(uintptr_t)buf);
  assert_int_equal(op->bytes, sizeof buf);
  /* WRITE: one RDMA READ from the caller's buffer into the file */
  fill(buf, sizeof buf, 2);
  ops0 = x.w->rlog_n;
  e = rh_write(&x, 1u << 20, buf, sizeof buf);
  assert_int_equal(status_of(e), 0);
  assert_true(e->ev.flags & SMBX_EVF_RDMA);
  assert_int_equal(e->ev.u.pdu.rdma_length, sizeof buf);
  assert_int_equal(x.w->rlog_n - ops0, 1);
  op = &x.w->rlog[ops0];
  assert_true(op->is_read);
  assert_ptr_equal(op->sg[0].addr, x.file + (1u << 20));
  assert_int_equal(op->raddr, (uint64_t)(uintptr_t)buf);
  assert_memory_equal(x.file + (1u << 20), buf, sizeof buf);
  rh_fini(&x);
}

static void rdma_many_descriptors_and_host_elements(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  x.cs.rdma_chunk_max = 4096;
  x.ss.rdma_max_op_size = 3000; /* pieces smaller than a descriptor */
  rh_start(&x);
  x.host_sge = 7;
  uint8_t *buf = malloc(1u << 20);
  fill(x.file, 1u << 20, 3);
  uint64_t regs0 = x.w->ep[0].mr_total;
  const rh_ev *e = rh_read(&x, 0, buf, 1u << 20);
  assert_int_equal(status_of(e), 0);
  assert_memory_equal(buf, x.file, 1u << 20);
  /* 256 registrations, one descriptor each */
  assert_int_equal(x.w->ep[0].mr_total - regs0, 256);
  fill(buf, 1u << 20, 4);
  e = rh_write(&x, 2u << 20, buf, 1u << 20);
  assert_int_equal(status_of(e), 0);
  assert_memory_equal(x.file + (2u << 20), buf, 1u << 20);
  /* every operation stays inside one descriptor and under the op size */
  for (size_t i = 0; i < x.w->rlog_n; i++)
    assert_true(x.w->rlog[i].bytes <= 3000);
  smbx_conn_info ci;
  ci.struct_size = sizeof ci;
  assert_int_equal(smbx_server_conn_info(x.srv, x.sconn, &ci), 0);
  assert_int_equal(ci.rdma_ios, 2);
  assert_int_equal(ci.rdma_bytes, 2u << 20);
  free(buf);
  rh_fini(&x);
}

static void rdma_max_size_and_above(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  rh_start(&x);
  uint8_t *buf = malloc((1u << 20) + 4096);
  fill(x.file, 1u << 20, 5);
  /* MaxReadWriteSize (1 MiB) is one descriptor, one I/O */
  const rh_ev *e = rh_read(&x, 0, buf, 1u << 20);
  assert_int_equal(status_of(e), 0);
  assert_memory_equal(buf, x.file, 1u << 20);
  e = rh_write(&x, 3u << 20, buf, 1u << 20);
  assert_int_equal(status_of(e), 0);
  /* above it the client refuses before registering anything */
  uint64_t req;
  assert_int_equal(smbx_client_read_into(x.cli, x.cconn, x.sess, x.tree,
                                         x.fid, 0, buf, (1u << 20) + 1, x.now,
                                         &req),
                   SMBX_ERR_RANGE);
  free(buf);
  rh_fini(&x);
}

/* The server rejects descriptor lists that do not cover the I/O, that
 * are longer than MaxReadWriteSize, or hold a zero length. */
static void rdma_descriptors_short_long_zero_rejected(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  rh_start(&x);
  static uint8_t buf[8192];
  smbx_mr mr = rh_client_mr(&x, buf, sizeof buf, SMBX_MR_REMOTE_WRITE);
  uint8_t ci[48], body[256];
  smbx_smb2_buffer_desc shortd[2] = {{mr.address, mr.key, 4096},
                                     {mr.address + 4096, mr.key, 4095}};
  descs(ci, shortd, 2);
  size_t n = read_body(&x, body, sizeof body, 8192, SMBX_SMB2_CHANNEL_RDMA_V1,
                       ci, 32);
  assert_int_equal(status_of(rh_raw(&x, SMBX_SMB2_READ, body, n)),
                   ST_INVALID_PARAMETER);
  smbx_smb2_buffer_desc longd[2] = {{mr.address, mr.key, 8192},
                                    {mr.address, mr.key, 1u << 20}};
  descs(ci, longd, 2);
  n = read_body(&x, body, sizeof body, 8192, SMBX_SMB2_CHANNEL_RDMA_V1, ci, 32);
  assert_int_equal(status_of(rh_raw(&x, SMBX_SMB2_READ, body, n)),
                   ST_INVALID_PARAMETER);
  smbx_smb2_buffer_desc zero[3] = {{mr.address, mr.key, 4096},
                                   {mr.address + 4096, mr.key, 0},
                                   {mr.address + 4096, mr.key, 4096}};
  descs(ci, zero, 3);
  n = read_body(&x, body, sizeof body, 8192, SMBX_SMB2_CHANNEL_RDMA_V1, ci, 48);
  assert_int_equal(status_of(rh_raw(&x, SMBX_SMB2_READ, body, n)),
                   ST_INVALID_PARAMETER);
  /* a Channel on a 2.x dialect or an unknown Channel value */
  smbx_smb2_buffer_desc ok = {mr.address, mr.key, 8192};
  descs(ci, &ok, 1);
  n = read_body(&x, body, sizeof body, 8192, 7, ci, 16);
  assert_int_equal(status_of(rh_raw(&x, SMBX_SMB2_READ, body, n)),
                   ST_INVALID_PARAMETER);
  assert_int_equal(x.n_rdma_requests, 0);
  assert_int_equal(x.w->rdma_faults, 0);
  assert_false(x.cdown);
  x.t[0].deregister_mr(x.t[0].user_data, &mr);
  rh_fini(&x);
}

/* A descriptor outside the client's registration: the NIC refuses the
 * access (error completion), nothing outside is written, the connection
 * goes down cleanly and the READ is reported failed. */
static void rdma_descriptor_outside_registration(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  rh_start(&x);
  static uint8_t buf[16384];
  memset(buf, 0x5A, sizeof buf);
  smbx_mr mr = rh_client_mr(&x, buf, 8192, SMBX_MR_REMOTE_WRITE);
  uint8_t ci[16], body[128];
  smbx_smb2_buffer_desc d = {mr.address + 4096, mr.key, 8192};
  descs(ci, &d, 1);
  size_t n = read_body(&x, body, sizeof body, 8192, SMBX_SMB2_CHANNEL_RDMA_V1,
                       ci, 16);
  fill(x.file, 8192, 6);
  uint64_t req = 0;
  assert_int_equal(smbx_client_request(x.cli, x.cconn, x.sess, x.tree,
                                       SMBX_SMB2_READ, body, n, 0, x.now,
                                       &req),
                   0);
  rh_pump(&x);
  assert_true(x.w->rdma_faults >= 1);
  for (size_t i = 0; i < sizeof buf; i++)
    assert_int_equal(buf[i], 0x5A);
  assert_int_equal(x.n_rdma_done_err, 1);
  assert_int_equal(x.n_sdown, 1);
  smbx_error_detail det;
  /* torn down: by the error completion, or by the flushes it causes,
   * whichever the host reports first */
  assert_true(smbx_server_conn_error(x.srv, x.sconn, &det) <= SMBX_ERR_FATAL);
  /* the READ completes with an error on the client, never a success */
  rh_ev const *e = NULL;
  for (size_t i = 0; i < x.n_log; i++)
    if (x.log[i].ev.type == SMBX_EV_RESPONSE && x.log[i].ev.u.pdu.req == req)
      e = &x.log[i];
  if (e)
    assert_true(e->ev.u.pdu.err < 0);
  x.t[0].deregister_mr(x.t[0].user_data, &mr);
  smbx_client_abort_conn(x.cli, x.cconn, SMBX_ERR_TRANSPORT, x.now);
  rh_pump(&x);
  rh_fini(&x);
}

/* An RDMA error in the middle of a WRITE: the acknowledged WRITE before
 * it is in the file, the failed one is reported failed, every client
 * registration is gone. */
static void rdma_error_mid_write(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  x.cs.rdma_chunk_max = 65536;
  rh_start(&x);
  uint8_t *buf = malloc(1u << 20);
  fill(buf, 1u << 20, 7);
  const rh_ev *e = rh_write(&x, 0, buf, 1u << 20);
  assert_int_equal(status_of(e), 0);
  /* the 5th RDMA READ of the next WRITE fails */
  x.w->ep[1].fail_rdma_completion = 5;
  uint8_t *buf2 = malloc(1u << 20);
  fill(buf2, 1u << 20, 8);
  uint64_t req = 0;
  assert_int_equal(smbx_client_write_from(x.cli, x.cconn, x.sess, x.tree,
                                          x.fid, 1u << 20, buf2, 1u << 20,
                                          x.now, &req),
                   0);
  rh_pump(&x);
  assert_int_equal(x.n_rdma_done_err, 1);
  assert_int_equal(x.n_sdown, 1);
  /* the client learns through the teardown */
  if (!x.cdown)
    smbx_client_abort_conn(x.cli, x.cconn, SMBX_ERR_TRANSPORT, x.now);
  rh_pump(&x);
  e = rh_response(&x, req);
  assert_true(e->ev.u.pdu.err < 0);
  /* the acknowledged WRITE is readable */
  assert_memory_equal(x.file, buf, 1u << 20);
  assert_int_equal(sim_mr_live(x.w, 0) > 0, 1); /* the engine's own */
  free(buf);
  free(buf2);
  rh_fini(&x);
}

/* The connection dies with an RDMA READ in flight: its registrations go
 * exactly once, before its RESPONSE (err) event. */
static void rdma_conn_dies_deregisters_once(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  rh_start(&x);
  x.hold_rdma = true;
  static uint8_t buf[65536];
  uint64_t req = 0, regs0 = x.w->ep[0].mr_live;
  assert_int_equal(smbx_client_read_into(x.cli, x.cconn, x.sess, x.tree,
                                         x.fid, 0, buf, sizeof buf, x.now,
                                         &req),
                   0);
  assert_int_equal(x.w->ep[0].mr_live, regs0 + 1);
  rh_pump(&x);
  assert_true(x.held_req != 0);
  sim_disconnect(x.w);
  smbx_client_abort_conn(x.cli, x.cconn, SMBX_ERR_TRANSPORT, x.now);
  rh_pump(&x);
  const rh_ev *e = rh_response(&x, req);
  assert_true(e->ev.u.pdu.err < 0);
  assert_int_equal(x.w->ep[0].mr_live, regs0);
  /* a late push on the dead connection fails and names nothing */
  smbx_sge sg = {x.file, 4096, 0, x.file_mr.handle};
  assert_true(smbx_server_rdma_push(x.srv, x.sconn, x.held_req, &sg, 1,
                                    x.now) < 0);
  rh_fini(&x);
}

/* Host answers that break the rules are refused without harm. */
static void rdma_host_misuse(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  rh_start(&x);
  x.hold_rdma = true;
  static uint8_t buf[8192];
  uint64_t req = 0;
  assert_int_equal(smbx_client_write_from(x.cli, x.cconn, x.sess, x.tree,
                                          x.fid, 0, buf, sizeof buf, x.now,
                                          &req),
                   0);
  rh_pump(&x);
  uint64_t r = x.held_req;
  smbx_sge sg = {x.file, 4096, 0, x.file_mr.handle};
  /* a WRITE is pulled, not pushed; the total must be RemainingBytes */
  assert_int_equal(smbx_server_rdma_push(x.srv, x.sconn, r, &sg, 1, x.now),
                   SMBX_ERR_STATE);
  assert_int_equal(smbx_server_rdma_pull(x.srv, x.sconn, r, &sg, 1, x.now),
                   SMBX_ERR_INVAL);
  assert_int_equal(smbx_server_rdma_pull(x.srv, x.sconn, r, &sg, 0, x.now),
                   SMBX_ERR_INVAL);
  sg.length = 8192;
  x.w->ep[1].rdma_delay_ns = 1000000;
  assert_int_equal(smbx_server_rdma_pull(x.srv, x.sconn, r, &sg, 1, x.now), 0);
  /* no answer and no second transfer while the data moves */
  assert_int_equal(smbx_server_rdma_pull(x.srv, x.sconn, r, &sg, 1, x.now),
                   SMBX_ERR_STATE);
  assert_int_equal(smbx_server_respond_error(x.srv, x.sconn, r,
                                             SMBX_STATUS_DISK_FULL, NULL, 0,
                                             x.now),
                   SMBX_ERR_STATE);
  x.hold_rdma = false;
  const rh_ev *e = rh_response(&x, req);
  assert_int_equal(status_of(e), 0);
  /* unknown wr_ids are not the node's */
  smbx_wc wc;
  memset(&wc, 0, sizeof wc);
  wc.wr_id = 0x5244ull << 32 | 77;
  assert_int_equal(smbx_server_rdma_done(x.srv, x.sconn, &wc, x.now), 0);
  assert_int_equal(smbx_wr_id_kind(1), SMBX_WR_KIND_UNKNOWN);
  rh_fini(&x);
}

/* Steady state: RDMA I/O allocates nothing. */
static void rdma_zero_allocations_per_io(void **st)
{
  (void)st;
  rh x;
  rh_init(&x);
  rh_start(&x);
  static uint8_t buf[65536];
  for (int i = 0; i < 4; i++) {
    assert_int_equal(status_of(rh_read(&x, 0, buf, sizeof buf)), 0);
    assert_int_equal(status_of(rh_write(&x, 0, buf, sizeof buf)), 0);
  }
  uint64_t a0 = x.ta.total;
  for (int i = 0; i < 100; i++) {
    assert_int_equal(status_of(rh_read(&x, (uint64_t)i * 4096, buf,
                                       sizeof buf)),
                     0);
    assert_int_equal(status_of(rh_write(&x, (uint64_t)i * 4096, buf,
                                        sizeof buf)),
                     0);
  }
  assert_int_equal(x.ta.total - a0, 0);
  rh_fini(&x);
}

/* Adding SMB Direct connections (their RDMA state included) fails
 * cleanly at every allocation. */
static int add_scenario(test_alloc *ta, void *arg)
{
  (void)arg;
  sim *w = sim_new(0);
  smbx_transport t[2] = {sim_transport(w, 0), sim_transport(w, 1)};
  static uint8_t mem[2][8][8192];
  smbx_smbd_recv_buf rb[2][8];
  for (int k = 0; k < 2; k++)
    for (int b = 0; b < 8; b++)
      rb[k][b] = (smbx_smbd_recv_buf){mem[k][b], 8192, 0, (uint64_t)b};
  smbx_server *srv = NULL;
  smbx_client *cli = NULL;
  int rc = smbx_server_new(&srv, NULL, NULL, &ta->a, 0);
  uint64_t c;
  if (!rc)
    rc = smbx_client_new(&cli, NULL, NULL, &ta->a, 0);
  if (!rc)
    rc = smbx_server_add_smbd(srv, NULL, &t[1], rb[1], 8, 0, &c);
  if (!rc)
    rc = smbx_client_add_smbd(cli, NULL, &t[0], rb[0], 8, 0, &c);
  smbx_client_free(cli);
  smbx_server_free(srv);
  assert_int_equal(w->violations, 0);
  assert_int_equal(w->ep[0].mr_live + w->ep[1].mr_live, 0);
  sim_free(w);
  return rc;
}

static void rdma_allocation_failures(void **st)
{
  (void)st;
  assert_true(test_alloc_each_failure(add_scenario, NULL) > 4);
}

/* lib/rdma alone: the tracker honours ORD and the op budget. */
static int trk_posts, trk_inflight, trk_max_inflight;
static int t_rdma(void *ud, uint64_t wr_id, const smbx_sge *sg, size_t n,
                  uint64_t ra, uint32_t rkey)
{
  (void)ud;
  (void)wr_id;
  (void)sg;
  (void)n;
  (void)ra;
  (void)rkey;
  trk_posts++;
  trk_inflight++;
  if (trk_inflight > trk_max_inflight)
    trk_max_inflight = trk_inflight;
  return 0;
}
static uint64_t trk_done_user;
static int trk_done_err = 1;
static void t_done(void *ctx, uint64_t user, int err, uint64_t bytes)
{
  (void)ctx;
  (void)bytes;
  trk_done_user = user;
  trk_done_err = err;
}

static void rdma_tracker_ord_and_budget(void **st)
{
  (void)st;
  test_alloc ta;
  test_alloc_init(&ta);
  smbx_transport t;
  memset(&t, 0, sizeof t);
  t.struct_size = sizeof t;
  t.rdma_read = t_rdma;
  t.rdma_write = t_rdma;
  smbx__rdma_settings s = {8, 4, 4, 1000, 0};
  smbx__rdma_upcalls up = {NULL, t_done};
  smbx__rdma *r = NULL;
  assert_int_equal(smbx__rdma_new(&r, &s, &t, &up, &ta.a), 0);
  smbx__rdma_set_ord(r, 2);
  uint8_t wire[32];
  smbx_smb2_buffer_desc d[2] = {{0x10000, 5, 4000}, {0x20000, 6, 6000}};
  descs(wire, d, 2);
  smbx_smb2_desc_list dl;
  assert_int_equal(smbx_smb2_desc_list_decode(wire, 32, &dl, NULL), 0);
  static uint8_t mem[10000];
  smbx_sge sg = {mem, 10000, 0, 1};
  assert_int_equal(smbx__rdma_start(r, 42, SMBX__RDMA_PULL, &sg, 1, &dl, 10000),
                   0);
  /* reads: at most ORD in flight */
  assert_int_equal(trk_posts, 2);
  smbx__rdma_stats stt;
  smbx__rdma_get_stats(r, &stt);
  assert_int_equal(stt.reads_inflight, 2);
  /* complete them one by one (any order) */
  uint64_t tag = SMBX__RDMA_WR_TAG << 32;
  smbx_wc wc;
  memset(&wc, 0, sizeof wc);
  int completed = 0;
  for (uint32_t gen = 1; gen < 8 && trk_done_err != 0; gen++)
    for (uint32_t k = 0; k < 8; k++) {
      wc.wr_id = tag | (uint64_t)gen << 16 | k;
      trk_inflight--; /* the NIC is done with it before it reports */
      if (smbx__rdma_complete(r, &wc) == SMBX_ERR_NOTFOUND) {
        trk_inflight++;
        continue;
      }
      completed++;
    }
  /* 10000 bytes: 1000-byte pieces inside 4000 + 6000 byte descriptors */
  assert_int_equal(completed, 10);
  assert_int_equal(trk_max_inflight, 2);
  assert_int_equal(trk_done_user, 42);
  assert_int_equal(trk_done_err, 0);
  /* a stale completion is not ours */
  assert_int_equal(smbx__rdma_complete(r, &wc), SMBX_ERR_NOTFOUND);
  smbx__rdma_free(r);
  assert_int_equal(ta.live, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rdma_case_51_write_rdma_length_or_offset_not_zero),
      cmocka_unit_test(rdma_case_52_invalidate_on_smb300),
      cmocka_unit_test(rdma_case_53_bad_channel_info),
      cmocka_unit_test(rdma_case_54_4095_descriptors),
      cmocka_unit_test(rdma_read_response_is_the_fixed_part_only),
      cmocka_unit_test(rdma_case_55_invalidate_exactly_once),
      cmocka_unit_test(rdma_case_56_no_offload_when_protected),
      cmocka_unit_test(rdma_case_57_transform_count_zero),
      cmocka_unit_test(rdma_one_descriptor_zero_copy),
      cmocka_unit_test(rdma_many_descriptors_and_host_elements),
      cmocka_unit_test(rdma_max_size_and_above),
      cmocka_unit_test(rdma_descriptors_short_long_zero_rejected),
      cmocka_unit_test(rdma_descriptor_outside_registration),
      cmocka_unit_test(rdma_error_mid_write),
      cmocka_unit_test(rdma_conn_dies_deregisters_once),
      cmocka_unit_test(rdma_host_misuse),
      cmocka_unit_test(rdma_zero_allocations_per_io),
      cmocka_unit_test(rdma_allocation_failures),
      cmocka_unit_test(rdma_tracker_ord_and_budget),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
