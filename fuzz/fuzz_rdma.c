/* SPDX-License-Identifier: MIT */
/* fuzz_rdma: the server's RDMA placement path on hostile READ/WRITE PDUs.
 * Input: byte 0 picks the command, dialect and transport; the rest is the
 * PDU (header included). The channel rules (lib/rdma/bdesc.c) check it;
 * an accepted transfer then runs through the operation tracker against a
 * fake NIC that completes operations in input-chosen order and aborts when
 * an operation leaves the client's descriptors or the host's buffer (the
 * simulated-NIC invariant: no access outside a registered region). */
#include <stdlib.h>
#include <string.h>

#include "rdma/rdma.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t host[1u << 16];
static smbx_smb2_desc_list g_descs;
static uint64_t g_wr[64];
static size_t g_n;

/* every operation must lie inside one descriptor and inside `host` */
static int nic(void *ud, uint64_t wr_id, const smbx_sge *sg, size_t n,
               uint64_t ra, uint32_t rkey)
{
  (void)ud;
  uint64_t len = 0;
  for (size_t i = 0; i < n; i++) {
    const uint8_t *p = sg[i].addr;
    if (p < host || (size_t)(p - host) > sizeof host ||
        sg[i].length > sizeof host - (size_t)(p - host))
      abort();
    len += sg[i].length;
  }
  int inside = 0;
  for (uint32_t i = 0; i < g_descs.count && !inside; i++) {
    smbx_smb2_buffer_desc d;
    if (smbx_smb2_desc_list_get(&g_descs, i, &d) != 0)
      abort();
    inside = d.token == rkey && ra >= d.offset && ra - d.offset <= d.length &&
             len <= d.length - (ra - d.offset);
  }
  if (!inside || g_n == 64)
    abort();
  g_wr[g_n++] = wr_id;
  return 0;
}

static int g_done;
static void done(void *ctx, uint64_t user, int err, uint64_t bytes)
{
  (void)ctx;
  (void)user;
  (void)err;
  (void)bytes;
  g_done++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  uint8_t sel = data[0];
  const uint8_t *pdu = data + 1;
  size_t len = size - 1;
  static const uint16_t dialects[4] = {0x0210, 0x0300, 0x0302, 0x0311};
  smbx__rdma_limits l = {dialects[sel & 3], (sel & 4) != 0, (sel & 8) != 0,
                         (sel & 16) ? 4096u : 1u << 20, 1u << 20};
  smbx__rdma_xfer x;
  const char *why = NULL;
  uint16_t cmd = (sel & 32) ? SMBX_SMB2_WRITE : SMBX_SMB2_READ;
  (void)smbx__rdma_channel_of(pdu, len, cmd);
  uint32_t st = cmd == SMBX_SMB2_READ
                    ? smbx__rdma_check_read(pdu, len, &l, &x, &why)
                    : smbx__rdma_check_write(pdu, len, &l, &x, &why);
  if (st != 0) {
    if (!why)
      abort(); /* every refusal names its reason */
    return 0;
  }
  /* accepted: the limits hold */
  uint64_t total = 0;
  if (smbx_smb2_desc_list_check(&x.descs, x.length, &total) != 0 ||
      x.length == 0 || x.length > l.max_rw || total > l.max_rw)
    abort();
  if (x.length > sizeof host)
    return 0;
  smbx_transport t;
  memset(&t, 0, sizeof t);
  t.struct_size = sizeof t;
  t.rdma_read = nic;
  t.rdma_write = nic;
  smbx__rdma_settings s = {8, 2, 4, 1u + (sel >> 6) * 1000u, 0};
  smbx__rdma_upcalls up = {NULL, done};
  smbx__rdma *r = NULL;
  if (smbx__rdma_new(&r, &s, &t, &up, smbx_allocator_default()) != 0)
    abort();
  smbx__rdma_set_ord(r, 2);
  g_descs = x.descs;
  g_n = 0;
  g_done = 0;
  smbx_sge sg[2] = {{host, x.length / 2, 0, 1},
                    {host + x.length / 2, x.length - x.length / 2, 0, 1}};
  if (smbx__rdma_start(r, 1, cmd == SMBX_SMB2_READ ? SMBX__RDMA_PUSH
                                                   : SMBX__RDMA_PULL,
                       sg, 2, &x.descs, x.length) != 0)
    abort();
  /* complete in an order taken from the input, the last one maybe failed */
  size_t k = 0;
  while (g_n && g_done == 0) {
    size_t pick = (k < len ? pdu[k] : 0) % g_n;
    smbx_wc wc;
    memset(&wc, 0, sizeof wc);
    wc.wr_id = g_wr[pick];
    wc.status = (k < len && pdu[k] == 0xEE) ? SMBX_WC_ERROR : SMBX_WC_SUCCESS;
    g_wr[pick] = g_wr[--g_n];
    (void)smbx__rdma_complete(r, &wc);
    k++;
  }
  smbx__rdma_cancel_all(r, SMBX_ERR_CLOSED);
  if (g_done != 1)
    abort(); /* exactly one end per transfer */
  smbx__rdma_free(r);
  return 0;
}
