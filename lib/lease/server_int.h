/* SPDX-License-Identifier: MIT */
/* Lease manager internals shared with the node (rank 6) and tests. */
#ifndef SMBX_LEASE_SERVER_INT_H
#define SMBX_LEASE_SERVER_INT_H

#include <stdint.h>

#include <smbx/lease.h>

/* A connection of one of the lease's opens (newest first) for delivering
 * its break when the event's connection is gone. 0; SMBX_ERR_NOTFOUND. */
int smbx__lease_conn_for(const smbx_lease_mgr *m, const uint8_t guid[16],
                         const uint8_t key[16], uint64_t *conn);

/* Structural invariants (see server_mgr.c); 0, or -1 with a reason. */
int smbx__lease_check(const smbx_lease_mgr *m, const char **why);

/* Bytes of the lease-side tables (leases, files, their hash tables) and
 * of the open pool, for smbx-bench. */
void smbx__lease_bytes(const smbx_lease_mgr *m, uint64_t *lease_bytes,
                       uint64_t *open_bytes);

#endif
