/* SPDX-License-Identifier: MIT */
/* Client node, RDMA direct placement (smbd.md sec. 4): a READ/WRITE at
 * or above rdma_threshold over SMB Direct registers the caller's buffer
 * through register_mr in chunks (one SMB_DIRECT_BUFFER_DESCRIPTOR_V1
 * each, at most the peer's MaxReadWriteSize), asks for RDMA_V1_INVALIDATE
 * on 3.0.2+ and RDMA_V1 on 3.0, and deregisters exactly once when the
 * request completes, fails or the connection dies. Remote invalidation is
 * trusted only for a receive completed WITH_INVALIDATE of a key of this
 * request; the other chunks are invalidated by the host in
 * deregister_mr. Never with signing or encryption: the data would cross
 * unprotected (case 56). The data-path steps (prepare, bind, complete)
 * are inline in rdma_io.h; this file sets up and tears down. */
#include "client/rdma_io.h"
#include "core/alloc.h"

int smbx__cli_rdma_new(smbx__cli_rdma **out, const smbx_transport *t,
                       const smbx_client_settings *s,
                       const smbx_allocator *a)
{
  *out = NULL;
  if (!t->register_mr || !t->deregister_mr || s->rdma_threshold == 0 ||
      s->rdma_max_regs == 0)
    return 0;
  smbx__cli_rdma *r = SMBX__NEW(a, smbx__cli_rdma);
  if (!r)
    return SMBX_ERR_NOMEM;
  r->a = *a;
  r->t = *t;
  r->threshold = s->rdma_threshold;
  r->chunk_max = s->rdma_chunk_max;
  int rc = smbx__rdma_regs_init(&r->regs, a, s->rdma_max_regs);
  if (rc) {
    smbx__cli_rdma_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

void smbx__cli_rdma_free(smbx__cli_rdma *r)
{
  if (!r)
    return;
  /* the records of requests never completed: their registrations go
   * with the pool */
  smbx__rdma_regs_fini(&r->regs, &r->t, &r->a);
  smbx_allocator a = r->a;
  SMBX__DELETE(&a, r, smbx__cli_rdma);
}

void smbx__cli_rdma_unprepare(smbx__cli_rdma *r, uint32_t *chain)
{
  if (r)
    (void)smbx__rdma_deregister(&r->regs, &r->t, chain, false, 0);
}

void smbx__cli_rdma_info(const smbx__cli_rdma *r, smbx_conn_info *o)
{
  if (!r)
    return;
  o->rdma_ios = r->ios;
  o->rdma_ops = r->regs.total;
  o->rdma_bytes = r->bytes;
}
