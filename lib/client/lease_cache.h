/* SPDX-License-Identifier: MIT */
/* The client node's lease table and directory cache (lease_cache.c): the
 * hooks client.c calls, and the few node services lease_cache.c uses
 * (implemented in client.c). Everything is a no-op until
 * smbx_client_leases_enable(). */
#ifndef SMBX_CLIENT_LEASE_CACHE_H
#define SMBX_CLIENT_LEASE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include <smbx/client.h>

#include "conn/conn.h"

typedef struct smbx__cli_leases smbx__cli_leases;

/* ---- lease_cache.c, called by client.c ---- */
void smbx__cli_leases_free(smbx_client *cli, smbx__cli_leases *cl);
/* An unsolicited OPLOCK_BREAK on conn: true when the lease table
 * consumed it (its hold is released), false for the host (oplocks). */
bool smbx__cli_lease_notify(smbx_client *cli, smbx__cli_leases *cl,
                            uint64_t conn, uint16_t dialect,
                            const smbx__conn_pdu *r);
/* Request `req` of conn completed: true when it was the node's own (ack,
 * deferred close; its hold is released), false to deliver it (CREATE and
 * QUERY_DIRECTORY responses of leased opens are recorded first; their
 * lease events wait for smbx__cli_lease_after_response). */
bool smbx__cli_lease_complete(smbx_client *cli, smbx__cli_leases *cl,
                              uint64_t conn, uint64_t req, int err,
                              const smbx__conn_pdu *r);
/* After the RESPONSE event of a recorded request: the lease events it
 * caused (a break that overtook the CREATE response) follow it. */
void smbx__cli_lease_after_response(smbx_client *cli, smbx__cli_leases *cl);
/* Connection conn is down: the leases obtained through it are gone. */
void smbx__cli_lease_conn_down(smbx_client *cli, smbx__cli_leases *cl,
                               uint64_t conn);
uint64_t smbx__cli_lease_expiry(const smbx__cli_leases *cl);
void smbx__cli_lease_handle_expiry(smbx_client *cli, smbx__cli_leases *cl,
                                   uint64_t now);

/* ---- client.c, used by lease_cache.c ---- */
smbx__cli_leases **smbx__client_leases(smbx_client *cli);
const smbx_allocator *smbx__client_allocator(const smbx_client *cli);
/* random bytes from the crypto hook (zeros without one) */
void smbx__client_random(smbx_client *cli, uint8_t *p, size_t n);
/* a zeroed event of `type` at the back of the node queue, or NULL */
smbx_event *smbx__client_push(smbx_client *cli, uint32_t type, uint64_t conn);
/* the negotiated dialect and capabilities; SMBX_ERR_NOTFOUND */
int smbx__client_conn_proto(const smbx_client *cli, uint64_t conn,
                            uint16_t *dialect, uint32_t *caps);

#endif
