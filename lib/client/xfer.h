/* SPDX-License-Identifier: MIT */
/* Client node, pipelined transfers (smbx_client_xfer_start, xfer.c): a
 * range of an open file moved to/from local memory by READ/WRITE pieces
 * that keep the granted credits busy. client.c hands it the pieces'
 * completions and the credits coming back; xfer.c sends through
 * smbx__cli_io. */
#ifndef SMBX_CLIENT_XFER_H
#define SMBX_CLIENT_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbx/client.h>

#include "conn/conn.h"

typedef struct smbx__cli_xfers smbx__cli_xfers;

/* ---- client.c services ---- */

/* One READ/WRITE of buf (by RDMA when allowed, else inline) whose
 * completion carries `user`; *req its handle on conn. Returns as
 * smbx_client_read_into(). */
int smbx__cli_io(smbx_client *cli, uint64_t conn, uint64_t session,
                 uint32_t tree_id, smbx_smb2_fileid file_id, uint64_t offset,
                 void *buf, uint32_t length, bool read, uint64_t user,
                 uint64_t *req);
/* Largest piece conn takes for the session now: the negotiated
 * MaxReadSize / MaxWriteSize within max_io (inline) or the peer's SMB
 * Direct MaxReadWriteSize (RDMA). 0: conn cannot carry the session. */
uint32_t smbx__cli_io_max(const smbx_client *cli, uint64_t conn,
                          uint64_t session, bool read);
smbx__cli_xfers **smbx__client_xfers(smbx_client *cli);
/* Room in the event queue for `more` events beyond those already owed
 * (completions, CONN_DOWNs, SESSION_DOWNs, live transfers' XFER_DONEs);
 * false when the queue cannot grow. */
bool smbx__client_room(smbx_client *cli, size_t more);

/* ---- xfer.c, called by client.c ---- */

/* Request (conn, req) completed (conn/req as first sent, after any
 * failover replay). True when it was a transfer's piece: consumed (the
 * caller releases r's hold). */
bool smbx__cli_xfer_complete(smbx_client *cli, uint64_t conn, uint64_t req,
                             uint64_t user, int err, const smbx__conn_pdu *r,
                             bool rdma, uint32_t placed);
/* Credits or send space came back: send more pieces. */
void smbx__cli_xfer_writable(smbx_client *cli);
/* A request completed: resume transfers that were refused with nothing
 * in flight (no completion of their own would). */
void smbx__cli_xfer_kick(smbx_client *cli);
/* A connection went down with err (its sessions already moved to other
 * channels or gone): transfers refused with nothing in flight go on over
 * a surviving channel of their session, or end with err. */
void smbx__cli_xfer_conn_down(smbx_client *cli, int err);
/* Live transfers: each owes one XFER_DONE, whose room the client keeps. */
uint32_t smbx__cli_xfers_live(const smbx__cli_xfers *t);
void smbx__cli_xfers_free(smbx_client *cli, smbx__cli_xfers *t);

#endif
