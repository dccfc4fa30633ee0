/* SPDX-License-Identifier: MIT */
/* SMB2 codec metrics (issue: SMB2/3 PDU codec); the Direct TCP framing
 * metrics are in bench_tcp.c.
 *
 * smb2.read_req_codec   encode a READ request (header + body), then decode
 *                       its header and body; ratio to anchor.naive_parse
 *                       (goal <= 1.25).
 * smb2.create_rqls_v2   encode a CREATE with a name and an RqLs v2 context,
 *                       decode it, walk its contexts, parse the lease
 *                       (reported as a ratio).
 * smb2.compound3        encode and link CREATE + READ + CLOSE, walk the
 *                       chain and decode every member (reported).
 * smb2.write_64k        encode the header of a 64 KiB WRITE (payload sent
 *                       by scatter-gather) and decode the whole request,
 *                       payload as a view (reported). */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include <smbx/smb2.h>

#include "bench.h"

static smbx_smb2_hdr req_hdr(uint16_t command, uint64_t mid)
{
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = command;
  h.credit_charge = 1;
  h.credits = 1;
  h.message_id = mid;
  h.tree_id = 5;
  h.session_id = 0x1122334455667788ull;
  return h;
}

/* ---- smb2.read_req_codec -------------------------------------------------- */

static double read_codec_run(void *state, uint64_t iters)
{
  (void)state;
  uint8_t buf[256];
  /* the request template is built once, as a client reusing its request
   * structs would; only the per-request fields change in the loop */
  smbx_smb2_hdr h = req_hdr(SMBX_SMB2_READ, 0);
  smbx_smb2_read_req in;
  memset(&in, 0, sizeof in);
  in.padding = 0x50;
  in.length = 65536;
  uint64_t acc = 0, t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++) {
    h.message_id = i;
    in.offset = i * 65536;
    in.file_id.persistent_id = i;
    in.file_id.volatile_id = ~i;
    smbx_ssize n = smbx_smb2_encode_read_req(&h, &in, buf, sizeof buf, NULL);
    smbx_smb2_hdr out_h;
    smbx_smb2_read_req out;
    if (n < 0 || smbx_smb2_hdr_decode(buf, (size_t)n, &out_h, NULL) != 0 ||
        smbx_smb2_decode_read_req(buf, (size_t)n, &out, NULL) != 0)
      return 1e12;
    acc += out.offset + out_h.message_id + out.length;
  }
  uint64_t t1 = bench_now_ns();
  bench_consume(acc);
  return (double)(t1 - t0) / (double)iters;
}

/* ---- smb2.create_rqls_v2 ------------------------------------------------- */

static const uint8_t create_name[] = {'d', 0, 'i', 0, 'r', 0, '\\', 0,
                                      'f', 0, 'i', 0, 'l', 0, 'e', 0,
                                      '.', 0, 't', 0, 'x', 0, 't', 0};

static smbx_ssize encode_create(uint8_t *buf, size_t cap, uint64_t mid)
{
  smbx_smb2_lease l;
  memset(&l, 0, sizeof l);
  l.version = 2;
  memset(l.key, (int)(mid & 0xFF), sizeof l.key);
  l.state = 7;
  l.epoch = (uint16_t)mid;
  uint8_t lease[64], ctxs[128];
  smbx_ssize ln = smbx_smb2_lease_encode(&l, lease, sizeof lease, NULL);
  if (ln < 0)
    return ln;
  smbx_smb2_create_ctx c = {{(const uint8_t *)"RqLs", 4},
                            {lease, (size_t)ln}, 0};
  smbx_ssize cn = smbx_smb2_create_ctx_list_encode(&c, 1, ctxs, sizeof ctxs,
                                                   NULL);
  if (cn < 0)
    return cn;
  smbx_smb2_hdr h = req_hdr(SMBX_SMB2_CREATE, mid);
  smbx_smb2_create_req in;
  memset(&in, 0, sizeof in);
  in.requested_oplock_level = 0xFF;
  in.impersonation_level = 2;
  in.desired_access = 0x12019F;
  in.share_access = 7;
  in.create_disposition = 1;
  in.name.p = create_name;
  in.name.len = sizeof create_name;
  in.contexts.p = ctxs;
  in.contexts.len = (size_t)cn;
  return smbx_smb2_encode_create_req(&h, &in, buf, cap, NULL);
}

static uint64_t decode_create(const uint8_t *buf, size_t n)
{
  smbx_smb2_create_req out;
  if (smbx_smb2_decode_create_req(buf, n, &out, NULL) != 0)
    return 0;
  smbx_smb2_create_ctx_iter it;
  smbx_smb2_create_ctx c;
  uint64_t acc = 0;
  smbx_smb2_create_ctx_iter_init(&it, out.contexts, out.contexts_offset);
  while (smbx_smb2_create_ctx_next(&it, &c, NULL) == 1) {
    smbx_smb2_lease l;
    if (smbx_smb2_create_ctx_tag(&c) == SMBX_SMB2_CTX_TAG_RQLS &&
        smbx_smb2_lease_decode(c.data, &l, NULL) == 0)
      acc += l.state + l.epoch + l.key[0];
  }
  return acc + out.name.len;
}

static double create_run(void *state, uint64_t iters)
{
  (void)state;
  uint8_t buf[512];
  uint64_t acc = 0, t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++) {
    smbx_ssize n = encode_create(buf, sizeof buf, i);
    uint64_t v = n > 0 ? decode_create(buf, (size_t)n) : 0;
    if (v == 0)
      return 1e12;
    acc += v;
  }
  uint64_t t1 = bench_now_ns();
  bench_consume(acc);
  return (double)(t1 - t0) / (double)iters;
}

/* ---- smb2.compound3 ------------------------------------------------------- */

static double compound_run(void *state, uint64_t iters)
{
  (void)state;
  uint8_t buf[1024];
  uint64_t acc = 0, t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++) {
    smbx_ssize n = encode_create(buf, sizeof buf, i);
    smbx_ssize lk = n > 0 ? smbx_smb2_chain_link(buf, (size_t)n, sizeof buf) : -1;
    if (lk < 0)
      return 1e12;
    size_t off = (size_t)lk;
    /* related READ and CLOSE inherit the CREATE's FileId (all-ones) */
    smbx_smb2_hdr h = req_hdr(SMBX_SMB2_READ, i + 1);
    h.flags = SMBX_SMB2_FLAGS_RELATED_OPERATIONS;
    smbx_smb2_read_req rd;
    memset(&rd, 0, sizeof rd);
    rd.padding = 0x50;
    rd.length = 4096;
    rd.file_id.persistent_id = rd.file_id.volatile_id = UINT64_MAX;
    n = smbx_smb2_encode_read_req(&h, &rd, buf + off, sizeof buf - off, NULL);
    lk = n > 0 ? smbx_smb2_chain_link(buf + off, (size_t)n, sizeof buf - off)
               : -1;
    if (lk < 0)
      return 1e12;
    off += (size_t)lk;
    h = req_hdr(SMBX_SMB2_CLOSE, i + 2);
    h.flags = SMBX_SMB2_FLAGS_RELATED_OPERATIONS;
    smbx_smb2_close_req cl;
    memset(&cl, 0, sizeof cl);
    cl.file_id = rd.file_id;
    n = smbx_smb2_encode_close_req(&h, &cl, buf + off, sizeof buf - off, NULL);
    if (n < 0)
      return 1e12;
    off += (size_t)n;

    smbx_smb2_chain ch;
    smbx_smb2_bytes pdu;
    smbx_smb2_hdr ph;
    smbx_smb2_chain_init(&ch, buf, off, 0);
    int members = 0;
    while (smbx_smb2_chain_next(&ch, &pdu, &ph, NULL) == 1) {
      members++;
      if (ph.command == SMBX_SMB2_CREATE) {
        acc += decode_create(pdu.p, pdu.len);
      } else if (ph.command == SMBX_SMB2_READ) {
        smbx_smb2_read_req r;
        if (smbx_smb2_decode_read_req(pdu.p, pdu.len, &r, NULL) == 0)
          acc += r.length;
      } else {
        smbx_smb2_close_req c;
        if (smbx_smb2_decode_close_req(pdu.p, pdu.len, &c, NULL) == 0)
          acc += c.flags + 1;
      }
    }
    if (members != 3)
      return 1e12;
  }
  uint64_t t1 = bench_now_ns();
  bench_consume(acc);
  return (double)(t1 - t0) / (double)iters;
}

/* ---- smb2.write_64k ------------------------------------------------------ */

typedef struct write_state {
  uint8_t *msg; /* header + fixed part + 64 KiB payload */
  size_t len;
} write_state;

#define WRITE_LEN 65536u

static int write_setup(void **state, void *arg)
{
  (void)arg;
  write_state *s = calloc(1, sizeof *s);
  if (!s)
    return -1;
  s->msg = malloc(0x70 + WRITE_LEN);
  if (!s->msg) {
    free(s);
    return -1;
  }
  memset(s->msg + 0x70, 0xA5, WRITE_LEN);
  s->len = 0x70 + WRITE_LEN;
  *state = s;
  return 0;
}

static void write_teardown(void *state)
{
  write_state *s = state;
  free(s->msg);
  free(s);
}

static double write_run(void *state, uint64_t iters)
{
  write_state *s = state;
  uint64_t acc = 0, t0 = bench_now_ns();
  for (uint64_t i = 0; i < iters; i++) {
    smbx_smb2_hdr h = req_hdr(SMBX_SMB2_WRITE, i);
    smbx_smb2_write_req in;
    memset(&in, 0, sizeof in);
    in.offset = i * WRITE_LEN;
    in.data.p = NULL; /* scatter-gather: only the header part is written */
    in.data.len = WRITE_LEN;
    smbx_ssize n = smbx_smb2_encode_write_req(&h, &in, s->msg, 0x70, NULL);
    smbx_smb2_write_req out;
    if (n != 0x70 ||
        smbx_smb2_decode_write_req(s->msg, s->len, &out, NULL) != 0 ||
        out.data.p != s->msg + 0x70 || out.data.len != WRITE_LEN)
      return 1e12;
    acc += out.offset + out.data.len;
  }
  uint64_t t1 = bench_now_ns();
  bench_consume(acc);
  return (double)(t1 - t0) / (double)iters;
}

static const bench_metric smb2_metrics[] = {
  {.name = "smb2.read_req_codec", .unit = "ns/msg", .run = read_codec_run,
   .anchor = "anchor.naive_parse", .goal = BENCH_LE(1.25)},
  {.name = "smb2.create_rqls_v2", .unit = "ns/msg", .run = create_run,
   .anchor = "anchor.naive_parse"},
  {.name = "smb2.compound3", .unit = "ns/msg", .run = compound_run,
   .anchor = "anchor.naive_parse"},
  {.name = "smb2.write_64k", .unit = "ns/msg", .run = write_run,
   .setup = write_setup, .teardown = write_teardown,
   .anchor = "anchor.naive_parse"},
};

BENCH_SUITE_DEFINE(smb2, smb2_metrics);
