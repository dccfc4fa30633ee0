/* SPDX-License-Identifier: MIT */
/* The server node's side of the lease manager (include/smbx/lease.h,
 * "through the server node"): deliver break events on a connection of the
 * lease's client, answer OPLOCK_BREAK acks. Kept apart from server.c: it
 * uses only the node's public calls. */
#include <string.h>

#include <smbx/event.h>
#include <smbx/lease.h>
#include <smbx/server.h>

#include "lease/server_int.h"

/* Connections tried for one break before giving up (each failed one is
 * reported to the manager, so the next lookup skips it). */
#define DELIVER_TRIES 8

int smbx_server_lease_deliver(smbx_server *srv, smbx_lease_mgr *m,
                              const smbx_lease_event *ev,
                              const smbx_smb2_fileid *file_id,
                              uint64_t session_id, uint64_t now_ns)
{
  if (!srv || !m || !ev || ev->struct_size < sizeof(smbx_lease_event))
    return SMBX_ERR_INVAL;
  uint8_t body[48];
  size_t len = ev->body_len;
  if (len > sizeof body)
    return SMBX_ERR_INVAL;
  memcpy(body, ev->body, len);
  uint64_t sid = 0;
  if (ev->type == SMBX_LEASE_EV_OPLOCK_BREAK) {
    if (!file_id || len != 24)
      return SMBX_ERR_INVAL;
    /* 2.2.23.1: FileId at 8 (persistent) and 16 (volatile) */
    for (int i = 0; i < 8; i++) {
      body[8 + i] = (uint8_t)(file_id->persistent_id >> (8 * i));
      body[16 + i] = (uint8_t)(file_id->volatile_id >> (8 * i));
    }
    sid = session_id;
  } else if (ev->type != SMBX_LEASE_EV_BREAK || len != 44) {
    return SMBX_ERR_INVAL;
  }
  uint64_t conn = ev->conn;
  for (int i = 0; i < DELIVER_TRIES; i++) {
    int rc = smbx_server_send_break(srv, conn, sid, body, len, now_ns);
    if (rc == 0 || rc == SMBX_ERR_AGAIN)
      return rc;
    /* this connection is gone or dead (3.8: try another channel) */
    (void)smbx_lease_conn_down(m, conn);
    if (ev->type != SMBX_LEASE_EV_BREAK ||
        smbx__lease_conn_for(m, ev->client_guid, ev->lease_key, &conn) != 0)
      return SMBX_ERR_NOTFOUND;
  }
  return SMBX_ERR_NOTFOUND;
}

int smbx_server_lease_ack(smbx_server *srv, smbx_lease_mgr *m,
                          const struct smbx_event *ev,
                          const uint8_t client_guid[16], uint64_t now_ns,
                          smbx_lease_ack_result *res)
{
  if (!srv || !m || !ev || !client_guid || !res ||
      ev->type != SMBX_EV_REQUEST)
    return SMBX_ERR_INVAL;
  smbx_conn_info ci;
  memset(&ci, 0, sizeof ci);
  ci.struct_size = sizeof ci;
  int rc = smbx_server_conn_info(srv, ev->conn, &ci);
  if (rc != 0)
    return rc;
  rc = smbx_lease_ack_pdu(m, client_guid, ci.dialect, ev->u.pdu.data,
                          ev->u.pdu.len, now_ns, res);
  if (rc != 0)
    return rc;
  if (res->kind == SMBX_SMB2_BREAK_OPLOCK)
    return 0;
  if (res->status == SMBX_STATUS_SUCCESS && res->body_len)
    return smbx_server_respond(srv, ev->conn, ev->u.pdu.req, 0, res->body,
                               res->body_len, now_ns);
  return smbx_server_respond(srv, ev->conn, ev->u.pdu.req, res->status, NULL,
                             0, now_ns);
}
