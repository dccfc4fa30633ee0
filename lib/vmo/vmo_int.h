/* SPDX-License-Identifier: MIT */
/* Memory-object table internals the server node's glue uses
 * (lib/server/vmo_glue.c): which connection and request a pin belongs to,
 * so an RDMA_DONE or a teardown finds its pin; the table's per-request
 * scratch; what QUERY_INFO reports about an open. */
#ifndef SMBX_VMO_VMO_INT_H
#define SMBX_VMO_VMO_INT_H

#include <smbx/vmo.h>

/* Records the (connection, request) whose transfer holds `pin` in the
 * owner index. 0; SMBX_ERR_INVAL (stale pin, already owned, conn 0);
 * SMBX_ERR_EXISTS (that request already holds a pin). */
int smbx__vmo_pin_owner(smbx_vmo_table *tbl, uint64_t pin, uint64_t conn,
                        uint64_t req);
/* The pin of (conn, req), or 0: one hash lookup. */
uint64_t smbx__vmo_pin_of(const smbx_vmo_table *tbl, uint64_t conn,
                          uint64_t req);
/* Unpins every pin owned by a connection (it is gone); returns how many. */
uint32_t smbx__vmo_unpin_conn(smbx_vmo_table *tbl, uint64_t conn);
/* The table's scratch for one request: *cap (= max_sge) elements in *sg
 * and *cap + 1 in *iov (an inline READ's header and pieces). Valid until
 * the next request the glue answers. */
void smbx__vmo_scratch(smbx_vmo_table *tbl, smbx_sge **sg, smbx_iov **iov,
                       size_t *cap);
/* What QUERY_INFO reports about an open (lib/server/vmo_glue.c). */
typedef struct smbx__vmo_facts {
  uint64_t id;         /* the object */
  uint64_t size;       /* its bytes */
  uint64_t dirty_size; /* its dirty record's bytes */
  uint32_t granted;    /* SMBX_VMO_READ / WRITE the open was granted */
  uint32_t kind;       /* SMBX_VMO_OPEN_* */
  uint32_t page_size;  /* the table's dirty-tracking page */
} smbx__vmo_facts;

/* Facts of a live open: an NTSTATUS, SUCCESS or FILE_CLOSED (unknown,
 * or its object revoked). */
uint32_t smbx__vmo_facts_get(const smbx_vmo_table *tbl, uint64_t open,
                             smbx__vmo_facts *f);

#endif
