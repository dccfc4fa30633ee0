/* SPDX-License-Identifier: MIT */
/* Client registrations: the caller's buffer is registered through the
 * host's register_mr in chunks, one SMB_DIRECT_BUFFER_DESCRIPTOR_V1 each
 * (smbd.md 1.4: offset = the registration's address, token = its key,
 * length = its bytes), and deregistered exactly once. The records come
 * from a pool sized at setup. */
#include <string.h>

#include "core/alloc.h"
#include "rdma/rdma.h"
#include "smb2/hot.h"

int smbx__rdma_regs_init(smbx__rdma_regs *g, const smbx_allocator *a,
                         uint32_t n)
{
  memset(g, 0, sizeof *g);
  g->free_head = SMBX__RDMA_NIL;
  if (n == 0 || n >= SMBX__RDMA_NIL)
    return SMBX_ERR_INVAL;
  g->r = smbx__calloc(a, n, sizeof *g->r, _Alignof(smbx__rdma_reg));
  if (!g->r)
    return SMBX_ERR_NOMEM;
  g->n = n;
  for (uint32_t i = n; i-- > 0;) {
    g->r[i].next = g->free_head;
    g->free_head = i;
  }
  return 0;
}

void smbx__rdma_regs_fini(smbx__rdma_regs *g, const smbx_transport *t,
                          const smbx_allocator *a)
{
  if (!g->r)
    return;
  for (uint32_t i = 0; i < g->n; i++)
    if (g->r[i].busy) {
      uint32_t h = i;
      g->r[i].next = SMBX__RDMA_NIL; /* one record at a time */
      (void)smbx__rdma_deregister(g, t, &h, false, 0);
    }
  smbx__free(a, g->r, (size_t)g->n * sizeof *g->r, _Alignof(smbx__rdma_reg));
  memset(g, 0, sizeof *g);
}

uint32_t smbx__rdma_chunks(size_t len, uint32_t chunk)
{
  if (chunk == 0)
    return UINT32_MAX;
  if (len <= chunk) /* the common single chunk: no divide */
    return (uint32_t)(len != 0);
  uint64_t n = ((uint64_t)len + chunk - 1) / chunk;
  return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

smbx_ssize smbx__rdma_register(smbx__rdma_regs *g, const smbx_transport *t,
                               void *buf, size_t len, uint32_t chunk,
                               uint32_t access, uint8_t *desc_out,
                               size_t cap, uint32_t *head)
{
  *head = SMBX__RDMA_NIL;
  if (!buf || len == 0 || !t->register_mr || !t->deregister_mr)
    return SMBX_ERR_INVAL;
  uint32_t n = smbx__rdma_chunks(len, chunk);
  if (n > SMBX_SMB2_BUFFER_DESC_MAX ||
      cap / SMBX_SMB2_BUFFER_DESC_SIZE < n)
    return SMBX_ERR_RANGE;
  if (n > g->n - g->live)
    return SMBX_ERR_AGAIN;
  /* link: where the next record's index goes (*head, then the last
   * record's next), so the chain is well formed at every step */
  uint32_t *link = head;
  uint8_t *p = buf, *q = desc_out;
  size_t left = len;
  for (uint32_t k = 0; k < n; k++) {
    uint32_t piece = left < chunk ? (uint32_t)left : chunk;
    uint32_t i = g->free_head;
    smbx__rdma_reg *rg = &g->r[i];
    memset(&rg->mr, 0, sizeof rg->mr);
    if (t->register_mr(t->user_data, p, piece, access, &rg->mr) != 0) {
      (void)smbx__rdma_deregister(g, t, head, false, 0);
      return SMBX_ERR_TRANSPORT;
    }
    g->free_head = rg->next;
    rg->next = SMBX__RDMA_NIL;
    rg->len = piece;
    rg->busy = true;
    *link = i;
    link = &rg->next;
    g->live++;
    g->total++;
    /* the room for n descriptors was checked above */
    smbx__smb2_desc_store(q, rg->mr.address, rg->mr.key, piece);
    q += SMBX_SMB2_BUFFER_DESC_SIZE;
    p += piece;
    left -= piece;
  }
  return (smbx_ssize)((size_t)n * SMBX_SMB2_BUFFER_DESC_SIZE);
}

bool smbx__rdma_deregister(smbx__rdma_regs *g, const smbx_transport *t,
                           uint32_t *head, bool inv, uint32_t inv_rkey)
{
  bool matched = false;
  uint32_t i = *head;
  *head = SMBX__RDMA_NIL;
  while (i != SMBX__RDMA_NIL && i < g->n && g->r[i].busy) {
    smbx__rdma_reg *rg = &g->r[i];
    uint32_t next = rg->next;
    /* smbd.md 4: trust a remote invalidation only for a matching key;
     * the other chunks are invalidated locally by the host */
    rg->mr.flags = 0;
    if (inv && !matched && rg->mr.key == inv_rkey) {
      rg->mr.flags = SMBX_MR_F_INVALIDATED;
      matched = true;
    }
    t->deregister_mr(t->user_data, &rg->mr);
    /* free: register sets every field again */
    rg->busy = false;
    rg->next = g->free_head;
    g->free_head = i;
    g->live--;
    i = next;
  }
  return matched;
}

uint64_t smbx__rdma_chain_bytes(const smbx__rdma_regs *g, uint32_t head)
{
  uint64_t n = 0;
  for (uint32_t i = head; i != SMBX__RDMA_NIL && i < g->n; i = g->r[i].next)
    n += g->r[i].len;
  return n;
}
