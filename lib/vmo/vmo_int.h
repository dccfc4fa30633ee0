/* SPDX-License-Identifier: MIT */
/* Memory-object table internals the server node's glue uses
 * (lib/server/vmo_glue.c): which connection and request a pin belongs to,
 * so an RDMA_DONE or a teardown finds its pin. */
#ifndef SMBX_VMO_VMO_INT_H
#define SMBX_VMO_VMO_INT_H

#include <smbx/vmo.h>

/* Records the (connection, request) whose transfer holds `pin`. */
void smbx__vmo_pin_owner(smbx_vmo_table *tbl, uint64_t pin, uint64_t conn,
                         uint64_t req);
/* The pin of (conn, req), or 0. */
uint64_t smbx__vmo_pin_of(const smbx_vmo_table *tbl, uint64_t conn,
                          uint64_t req);
/* Unpins every pin owned by a connection (it is gone); returns how many. */
uint32_t smbx__vmo_unpin_conn(smbx_vmo_table *tbl, uint64_t conn);
#endif
