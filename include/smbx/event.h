/* SPDX-License-Identifier: MIT */
/** @file smbx/event.h
 *  @brief The event struct both nodes (smbx_server, smbx_client) report
 *         through, and the Direct TCP output hook they share.
 *
 *  A node reports everything through ONE ordered queue:
 *  smbx_server_next_event() / smbx_client_next_event() copy the next
 *  event into a caller-owned ::smbx_event (drain until they return 0).
 *
 *  **Lifetimes.** Pointers in an event (PDU bytes, security blobs, paths)
 *  point into received transport messages. They stay valid until the
 *  event's `hold` is released: when `ev.hold` is non-zero, call
 *  smbx_server_release() / smbx_client_release() once you are done with
 *  the views (a server also releases it for you when you answer the
 *  request the event names). Events with `hold` 0 carry no such views
 *  (static strings such as `u.down.reason` live forever). Release soon: a
 *  held message is a receive credit over SMB Direct, and over Direct TCP
 *  it keeps the caller's fed buffer in use.
 */
#ifndef SMBX_EVENT_H
#define SMBX_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include <smbx/smb2_base.h>
#include <smbx/smbx.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @name Event types (smbx_event.type)
 *  @{ */
#define SMBX_EV_NONE 0u
/** A connection is dead (u.down); its handle stays valid until
 *  smbx_*_close_conn(). Every request of a client connection was
 *  completed before it (RESPONSE events with u.pdu.err). */
#define SMBX_EV_CONN_DOWN 1u
/** NEGOTIATE finished (u.negotiated). Server: the response went out.
 *  Client: the response arrived (u.negotiated.blob is the server's
 *  security blob; release ev.hold), or failed (u.negotiated.err). */
#define SMBX_EV_NEGOTIATED 2u
/** One SESSION_SETUP leg (u.session). Server: a request carrying the
 *  client's blob; answer with smbx_server_session_respond(). Client: a
 *  response carrying the server's blob and status. */
#define SMBX_EV_SESSION_SETUP 3u
/** Client: a session is established (u.session); its keys are derived
 *  and requests on it are signed/encrypted as negotiated. */
#define SMBX_EV_SESSION_UP 4u
/** A session ended (u.session): server: LOGOFF received (answered by the
 *  node) or connection loss; client: LOGOFF answered. */
#define SMBX_EV_SESSION_DOWN 5u
/** TREE_CONNECT (u.tree). Server: a request; answer with
 *  smbx_server_tree_respond(). Client: its response. */
#define SMBX_EV_TREE_CONNECT 6u
/** Server: TREE_DISCONNECT received and answered by the node (u.tree). */
#define SMBX_EV_TREE_DISCONNECT 7u
/** Server: a request for the host (u.pdu); answer with
 *  smbx_server_respond*() using u.pdu.req. */
#define SMBX_EV_REQUEST 8u
/** Client: a request completed (u.pdu: req, status, the response PDU; or
 *  u.pdu.err < 0 when it completed locally: SMBX_ERR_TIMEOUT,
 *  SMBX_ERR_AUTH, SMBX_ERR_CLOSED, the connection's sticky error). */
#define SMBX_EV_RESPONSE 9u
/** Client: an interim STATUS_PENDING for u.pdu.req (u.pdu.async_id). */
#define SMBX_EV_INTERIM 10u
/** Server: the client cancelled u.pdu.req; answer it soon (with
 *  SMBX_STATUS_CANCELLED or normally). */
#define SMBX_EV_CANCEL 11u
/** Client: an oplock or lease break notification (u.pdu; decode with
 *  smbx_smb2_oplock_break_classify()). */
#define SMBX_EV_BREAK 12u
/** Client: credits (or send space) are back after SMBX_ERR_AGAIN. */
#define SMBX_EV_WRITABLE 13u
/** SMB Direct engine event the host must act on (u.smbd). */
#define SMBX_EV_SMBD 14u
/** SMB Direct: the transport negotiated; the connection is usable (a
 *  client may call smbx_client_negotiate()). TCP connections are usable
 *  at once and get no CONN_UP. */
#define SMBX_EV_CONN_UP 15u
/** Server: an RDMA transfer of u.pdu.req finished (docs/rdma.md).
 *  u.pdu.err 0: READ (smbx_server_rdma_push): the data was placed and the
 *  response sent, the host's buffers are free; WRITE
 *  (smbx_server_rdma_pull): the data is in the host's buffers, now answer
 *  the WRITE with smbx_server_respond(). u.pdu.err < 0: the transfer
 *  failed (an RDMA error completion: the connection is going down and the
 *  request is never answered); u.pdu.rdma_length bytes were moved. Either
 *  way it comes once, after every RDMA operation the transfer posted has
 *  completed or was flushed (reported with smbx_server_rdma_done()): no
 *  operation names the buffers any more. CONN_DOWN follows the
 *  connection's last RDMA_DONE.
 *  @since 0.1.0 */
#define SMBX_EV_RDMA_DONE 16u
/** Client: a lease break the node's lease table processed (u.lease;
 *  smbx/lease_client.h). Without SMBX_LEASE_CEVF_SETTLED, do the actions
 *  and call smbx_client_lease_break_done(); the node acks. */
#define SMBX_EV_LEASE_BREAK 17u
/** Client: a cached directory listing was dropped (u.lease: key, scope,
 *  reason SMBX_LEASE_INVAL_*). */
#define SMBX_EV_DIR_INVALIDATE 18u
/** Client: a transfer (smbx_client_xfer_start()) ended (u.xfer); its
 *  handle is gone. @since 0.1.0 */
#define SMBX_EV_XFER_DONE 19u
/** @} */

/** @brief smbx_event.flags
 *  @{ */
#define SMBX_EVF_SIGNED 0x1u    /**< the PDU carried a signature */
#define SMBX_EVF_VERIFIED 0x2u  /**< ... and it verified */
#define SMBX_EVF_ENCRYPTED 0x4u /**< the PDU arrived in a TRANSFORM */
#define SMBX_EVF_RELATED 0x8u   /**< member of a related compound */
#define SMBX_EVF_FILEID 0x10u   /**< u.pdu.file_id is the FileId to use
                                     (inherited in a related compound) */
#define SMBX_EVF_LAST 0x20u     /**< last PDU of its transport message */
#define SMBX_EVF_RDMA 0x40u     /**< server REQUEST: a READ/WRITE whose data
                                     moves by RDMA (u.pdu.rdma_*; answer with
                                     smbx_server_rdma_push / _pull); client
                                     RESPONSE: a READ whose data was placed
                                     in the caller's buffer by RDMA */
#define SMBX_EVF_REPLAYED 0x80u /**< client RESPONSE: the request's channel
                                     died and it was resent on ev.conn with
                                     REPLAY_OPERATION (u.pdu.first_conn is
                                     where it was first sent) */
/** @} */

/** @brief One node event, copied into caller memory. Set struct_size
 *  before calling next_event; at most that many bytes are written.
 *  @since 0.1.0 */
typedef struct smbx_event {
  size_t struct_size; /**< sizeof(smbx_event) as compiled by the caller */
  uint32_t type;      /**< SMBX_EV_* */
  uint32_t flags;     /**< SMBX_EVF_* */
  uint64_t conn;      /**< connection handle */
  uint64_t hold;      /**< non-zero: release with smbx_*_release() */
  union {
    /** REQUEST, RESPONSE, INTERIM, CANCEL, BREAK */
    struct {
      const uint8_t *data; /**< the PDU from its header (len bytes) */
      size_t len;
      uint64_t req;        /**< request handle (server: answer with it;
                                client: from the request call) */
      uint64_t session;    /**< client: local session handle, else 0 */
      uint64_t user;       /**< client: the caller's cookie */
      uint64_t async_id;   /**< INTERIM: AsyncId */
      smbx_smb2_hdr hdr;   /**< decoded header (server: inherited
                                SessionId/TreeId resolved) */
      smbx_smb2_fileid file_id; /**< with SMBX_EVF_FILEID */
      uint32_t status;     /**< RESPONSE: hdr.status */
      int err;             /**< RESPONSE: 0, or a local completion code */
      uint16_t chain_index, chain_count;
      uint32_t reserved;
      /** With SMBX_EVF_RDMA (server REQUEST, RDMA_DONE; client RESPONSE):
       *  SMBX_SMB2_CHANNEL_RDMA_V1 or _RDMA_V1_INVALIDATE */
      uint32_t rdma_channel;
      /** bytes to move (READ Length / WRITE RemainingBytes); RDMA_DONE
       *  and client RESPONSE: bytes moved */
      uint32_t rdma_length;
      /** server REQUEST: the client's descriptors, rdma_desc_count x 16
       *  bytes SMB_DIRECT_BUFFER_DESCRIPTOR_V1 (validated; a view into the
       *  PDU, valid while the request is held; read them with
       *  smbx_smb2_desc_list_get()) */
      const uint8_t *rdma_descs;
      uint32_t rdma_desc_count;
      uint32_t reserved2;
      /** client RESPONSE: the connection the request was sent on by the
       *  request call (u.pdu.req is its handle there); differs from conn
       *  after a failover replay (SMBX_EVF_REPLAYED) */
      uint64_t first_conn;
      /** server REQUEST with SMBX_EVF_RDMA: the READ/WRITE Offset, so the
       *  host places the data without decoding the PDU (the file is
       *  u.pdu.file_id, SMBX_EVF_FILEID; the bytes u.pdu.rdma_length).
       *  @since 0.1.0 */
      uint64_t rdma_offset;
    } pdu;
    /** NEGOTIATED */
    struct {
      int err;             /**< client: 0 or SMBX_ERR_NEGOTIATE/PROTO */
      uint32_t status;     /**< client: the response's NTSTATUS */
      uint16_t dialect;    /**< SMBX_SMB2_DIALECT_* */
      uint16_t cipher;     /**< SMBX_CRYPTO_CIPHER_* (0: none) */
      uint16_t signing_alg; /**< SMBX_CRYPTO_SIGN_* in use */
      uint16_t security_mode; /**< the peer's SecurityMode */
      uint32_t capabilities;  /**< in effect (both sides') */
      uint32_t max_transact_size, max_read_size, max_write_size;
      uint32_t reserved;
      const uint8_t *blob; /**< client: server's security buffer */
      size_t blob_len;
      uint8_t guid[16];    /**< the peer's Client/ServerGuid */
      /** this node's own Capabilities and SecurityMode as it sent them
       *  (server: in the NEGOTIATE response, what an
       *  FSCTL_VALIDATE_NEGOTIATE_INFO answer must repeat; client: in the
       *  NEGOTIATE request) */
      uint32_t own_capabilities;
      uint16_t own_security_mode;
      uint16_t reserved2;
    } negotiated;
    /** SESSION_SETUP, SESSION_UP, SESSION_DOWN */
    struct {
      uint64_t req;        /**< server: answer with it */
      uint64_t session_id; /**< wire SessionId (0 before assigned) */
      uint64_t session;    /**< client: local session handle */
      uint64_t previous_session_id; /**< server: from the request */
      const uint8_t *blob; /**< the peer's security blob */
      size_t blob_len;
      uint32_t status;     /**< client: response NTSTATUS; server
                                SESSION_DOWN: why: 0 (LOGOFF, connection
                                gone) or STATUS_USER_SESSION_DELETED (a
                                reconnect's PreviousSessionId expired it,
                                see smbx_server_session_user) */
      int err;             /**< client: 0, SMBX_ERR_AUTH (final response
                                signature bad), or a completion code */
      uint16_t session_flags; /**< SMBX_SMB2_SESSION_FLAG_* */
      uint8_t req_flags;   /**< server: request Flags (BINDING) */
      uint8_t security_mode; /**< server: request SecurityMode */
      uint32_t capabilities; /**< server: request Capabilities */
      uint16_t dialect;
      uint16_t reserved;
    } session;
    /** TREE_CONNECT, TREE_DISCONNECT */
    struct {
      uint64_t req;        /**< server: answer with it */
      uint64_t session_id;
      uint64_t session;    /**< client: local session handle */
      const uint8_t *path; /**< server: UTF-16LE `\\server\share` */
      size_t path_len;
      uint32_t tree_id;    /**< TreeId (client: assigned by the server) */
      uint32_t status;     /**< client: response NTSTATUS */
      int err;             /**< client: local completion code or 0 */
      uint16_t flags;      /**< server: request Flags */
      uint8_t share_type;  /**< client: from the response */
      uint8_t reserved;
      uint32_t share_flags, capabilities, maximal_access;
    } tree;
    /** CONN_DOWN */
    struct {
      int err;           /**< 0 after a graceful close, else SMBX_ERR_* */
      uint32_t ntstatus; /**< a status that explains it, or 0 */
      const char *reason; /**< static text */
    } down;
    /** SMBD: the engine event the host must act on */
    struct {
      uint32_t type;     /**< SMBX_SMBD_EV_DISCONNECTED (disconnect the
                              QP and flush it), _RECV_BUFFER (a lent
                              buffer is the host's again), _CLOSED */
      int error;
      void *addr;        /**< RECV_BUFFER */
      uint32_t length;
      uint32_t index;
      uint64_t handle;
    } smbd;
    /** LEASE_BREAK, DIR_INVALIDATE (client; smbx/lease_client.h) */
    struct {
      uint8_t key[16];     /**< lease key */
      uint32_t scope;      /**< smbx_client_lease_scope() */
      uint32_t flags;      /**< SMBX_LEASE_CEVF_* */
      uint32_t from, to;   /**< lease states */
      uint32_t actions;    /**< SMBX_LEASE_ACT_* */
      uint32_t ack_state;  /**< state acked (settled breaks) */
      uint32_t reason;     /**< DIR_INVALIDATE: SMBX_LEASE_INVAL_* */
      uint16_t epoch;      /**< NewEpoch */
      uint16_t reserved;
    } lease;
    /** XFER_DONE (client; smbx_client_xfer_start()) */
    struct {
      uint64_t xfer;       /**< the transfer's handle */
      uint64_t user;       /**< smbx_client_xfer.user */
      uint64_t bytes;      /**< bytes moved (a read: up to EOF) */
      uint64_t requests;   /**< READ/WRITE requests it sent */
      int err;             /**< 0, or the first local error of a piece
                                (SMBX_ERR_CLOSED, _TIMEOUT, _PROTO: a
                                malformed or short response, ...) */
      uint32_t status;     /**< 0, or the first failing NTSTATUS (a READ
                                answered END_OF_FILE is the end, not a
                                failure) */
      uint32_t flags;      /**< SMBX_XFER_DONE_* */
      uint32_t max_inflight; /**< most requests it had in flight at once */
    } xfer;
    uint8_t reserved[256]; /**< room for new kinds */
  } u;
} smbx_event;

/** @brief Direct TCP output: the node never does I/O; it hands every
 *  framed message (4-byte prefix included) to this hook, which must write
 *  or copy the bytes before returning (the host buffers what the socket
 *  does not take). Return 0, or a negative code: the connection then dies
 *  with SMBX_ERR_TRANSPORT. Runs inside an smbx_* call on the node; must
 *  not call into the node. Copied when the connection is added.
 *  @since 0.1.0 */
typedef struct smbx_tcp_hooks {
  size_t struct_size; /**< sizeof(smbx_tcp_hooks) as compiled by the caller */
  void *user_data;    /**< passed to send */
  int (*send)(void *user_data, uint64_t conn, const uint8_t *bytes,
              size_t len);
} smbx_tcp_hooks;

/** @brief Live state of one connection (tests, diagnostics).
 *  @since 0.1.0 */
typedef struct smbx_conn_info {
  size_t struct_size;
  uint16_t dialect;     /**< 0 before NEGOTIATE */
  uint16_t transport;   /**< 1 TCP, 2 SMB Direct */
  uint32_t capabilities;
  uint32_t credits;     /**< server: credits the client holds; client:
                             credits it may spend */
  uint32_t outstanding; /**< requests in flight */
  uint32_t holds;       /**< unreleased received messages */
  int err;              /**< sticky error or 0 */
  uint64_t requests, responses; /**< PDU counters */
  uint64_t rdma_ios;    /**< READ/WRITE moved by RDMA (server: transfers
                             done; client: requests with registrations) */
  uint64_t rdma_ops;    /**< server: RDMA READ/WRITE operations posted;
                             client: memory registrations made */
  uint64_t rdma_bytes;  /**< payload bytes moved by RDMA */
} smbx_conn_info;

/** @name Dialect masks (server/client settings `dialects`)
 *  @{ */
#define SMBX_DIALECT_MASK_202 0x01u
#define SMBX_DIALECT_MASK_210 0x02u
#define SMBX_DIALECT_MASK_300 0x04u
#define SMBX_DIALECT_MASK_302 0x08u
#define SMBX_DIALECT_MASK_311 0x10u
#define SMBX_DIALECT_MASK_ALL 0x1Fu
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* SMBX_EVENT_H */
