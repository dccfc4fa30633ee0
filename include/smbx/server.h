/* SPDX-License-Identifier: MIT */
/** @file smbx/server.h
 *  @brief The server node: SMB2/3 connections over Direct TCP or SMB
 *         Direct, sessions and trees, one ordered event queue.
 *
 *  The node never does I/O and never reads a clock. Connections are added
 *  with their transport and named by a handle. The node answers NEGOTIATE,
 *  ECHO, LOGOFF, TREE_DISCONNECT, CANCEL and malformed requests by itself;
 *  everything else becomes an event (smbx/event.h) that the host answers
 *  with a call:
 *   - SMBX_EV_SESSION_SETUP: the client's security blob; the host runs its
 *     authenticator (NTLMSSP/SPNEGO/Kerberos) and answers with
 *     smbx_server_session_respond() (any number of
 *     MORE_PROCESSING_REQUIRED rounds; the session key of the last round
 *     derives the signing/encryption keys through the crypto hooks; a leg
 *     with u.session.req_flags BINDING binds the session to this
 *     connection as another channel, see docs/nodes.md);
 *   - SMBX_EV_TREE_CONNECT: the share path; smbx_server_tree_respond();
 *   - SMBX_EV_REQUEST: any other command, as the raw PDU plus its decoded
 *     header; decode the body with the codec (smbx_smb2_decode_<cmd>_req)
 *     and answer with smbx_server_respond() (body bytes; the node writes
 *     the header, credits, signature, encryption and framing). Over SMB
 *     Direct, a READ/WRITE with an RDMA channel comes with SMBX_EVF_RDMA
 *     and the client's validated descriptors (u.pdu.rdma_*): answer a READ
 *     with smbx_server_rdma_push(), pull a WRITE's data with
 *     smbx_server_rdma_pull() (docs/rdma.md). Channel violations never
 *     reach the host (INVALID_PARAMETER, smbd.md sec. 4).
 *  Requests on unknown sessions or trees never reach the host (they fail
 *  with USER_SESSION_DELETED / NETWORK_NAME_DELETED).
 *
 *  Threads: one thread at a time per node; hooks run inside node calls.
 */
#ifndef SMBX_SERVER_H
#define SMBX_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <smbx/crypto.h>
#include <smbx/event.h>
#include <smbx/smb2.h>
#include <smbx/smbd.h>
#include <smbx/smbx.h>
#include <smbx/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque server node. @since 0.1.0 */
typedef struct smbx_server smbx_server;

/** @name Server settings flags
 *  @{ */
#define SMBX_SERVER_SIGNING_REQUIRED 0x1u /**< SecurityMode REQUIRED: every
                                               authenticated session signs */
#define SMBX_SERVER_ENCRYPT 0x2u /**< every session encrypts when a cipher
                                      was agreed (3.x) */
#define SMBX_SERVER_DELIVER_ECHO 0x4u /**< ECHO becomes a REQUEST event */
#define SMBX_SERVER_MIXED_COMPOUNDS 0x8u /**< run a compound that mixes
    RELATED and unrelated members member by member, as Windows and Samba
    do (MS-SMB2 <264>; smbtorture smb2.compound.invalid1-3) instead of
    failing every member with INVALID_PARAMETER (3.3.5.2.7 SHOULD) */
/** @} */

/** @brief Server node settings; fill with smbx_server_settings_default().
 *  @since 0.1.0 */
typedef struct smbx_server_settings {
  size_t struct_size;
  uint32_t dialects;      /**< SMBX_DIALECT_MASK_*: ALL */
  uint32_t capabilities;  /**< SMBX_SMB2_CAP_* offered (LEASING,
                               DIRECTORY_LEASING, MULTI_CHANNEL, ... as
                               the host supports them): LARGE_MTU */
  uint32_t flags;         /**< SMBX_SERVER_*: 0 */
  uint32_t ciphers;       /**< mask of 1 << SMBX_CRYPTO_CIPHER_*: all four */
  uint32_t signing_algs;  /**< mask of 1 << SMBX_CRYPTO_SIGN_*: all three */
  uint32_t max_transact_size; /**< 1 MiB (2.0.2: 64 KiB) */
  uint32_t max_read_size;     /**< 1 MiB (2.0.2: 64 KiB) */
  uint32_t max_write_size;    /**< 1 MiB (2.0.2: 64 KiB) */
  uint32_t credits_max;   /**< most credits a client holds: 512 */
  uint32_t credits_min;   /**< first grants / backpressure: 64 */
  uint32_t max_requests;  /**< per connection, unanswered: 1024 */
  uint32_t max_connections; /**< 64 */
  uint32_t max_sessions;  /**< 256 */
  uint32_t max_trees;     /**< 1024 */
  uint8_t server_guid[16]; /**< ServerGuid: zero */
  const uint8_t *security_blob; /**< NEGOTIATE security buffer (e.g. a
                                     SPNEGO negTokenInit); copied by new */
  size_t security_blob_len;     /**< <= 65535: 0 */
  /* appended in 0.1.0 (RDMA direct placement, docs/rdma.md) */
  uint32_t rdma_max_ops;  /**< RDMA READ/WRITE operations one SMB Direct
                               connection keeps posted (its share of the
                               send queue): 64; 0 = RDMA channels refused */
  uint32_t rdma_max_sge;  /**< host elements one RDMA operation carries
                               (the NIC's max SGE per work request): 16 */
  uint32_t rdma_max_op_size; /**< largest single RDMA operation; a
                               descriptor is split into pieces of at most
                               this: 1 MiB */
  /* appended in 0.1.0 (multichannel, docs/multichannel.md) */
  uint32_t max_channel_opens; /**< with MULTI_CHANNEL: opens whose
                               ChannelSequence the node keeps (3.3.5.2.10:
                               a WRITE, SET_INFO or IOCTL with an older
                               one fails with FILE_NOT_AVAILABLE); opens
                               beyond it are not guarded: 4096 */
  /* appended in 0.1.0 (memory objects, docs/vmo.md) */
  uint32_t rdma_max_xfer_sge; /**< host elements one transfer may name
                               (smbx_server_rdma_push/_pull n; at most
                               65536, below rdma_max_sge counts as
                               rdma_max_sge): its operations each carry at
                               most rdma_max_sge of them: 64 */
} smbx_server_settings;

/** @brief Fill s with the defaults and store struct_size.
 *  @return 0; SMBX_ERR_INVAL (NULL s or struct_size too small).
 *  @since 0.1.0 */
SMBX_API int smbx_server_settings_default(smbx_server_settings *s,
                                          size_t struct_size);

/** @brief Create a server node. Copies s (and its security blob), cr and
 *  a. Everything a connection needs is allocated when it is added.
 *  @param cr crypto hooks (NULL: no signing, encryption or preauth; 3.1.1
 *         is then not offered)
 *  @param a allocator (NULL = default)
 *  @return 0; SMBX_ERR_INVAL (NULL out, bad settings); SMBX_ERR_NOMEM.
 *  @since 0.1.0 */
SMBX_API int smbx_server_new(smbx_server **out, const smbx_server_settings *s,
                             const smbx_crypto *cr, const smbx_allocator *a,
                             uint64_t now_ns);

/** @brief Free the node and every connection (no events). Views handed
 *  out become invalid; SMB Direct receive buffers are the host's again.
 *  NULL is a no-op. @since 0.1.0 */
SMBX_API void smbx_server_free(smbx_server *srv);

/** @brief Add a Direct TCP connection (an accepted socket).
 *  @param h output hook (copied)
 *  @param conn receives the handle
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_LIMIT (max_connections);
 *          SMBX_ERR_NOMEM. @since 0.1.0 */
SMBX_API int smbx_server_add_tcp(smbx_server *srv, const smbx_tcp_hooks *h,
                                 uint64_t now_ns, uint64_t *conn);

/** @brief Feed received stream bytes. Complete messages are processed at
 *  once (events queued). The bytes must be writable (decryption is in
 *  place) and stay valid until every event holding them is released (see
 *  smbx/event.h); only a message split across feeds is copied.
 *  @return bytes consumed (== len, or less when a split message's events
 *          are still held: release them and feed the rest again);
 *          SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND (stale conn); the
 *          connection's sticky code when it died (SMBX_ERR_PROTO: close
 *          the socket; a CONN_DOWN event is queued).
 *  @since 0.1.0 */
SMBX_API smbx_ssize smbx_server_tcp_feed(smbx_server *srv, uint64_t conn,
                                         uint8_t *bytes, size_t len,
                                         uint64_t now_ns);

/** @brief Add an SMB Direct connection (passive role): creates and owns
 *  an smbx_smbd engine (settings ss, role forced PASSIVE) over transport
 *  t with the lent receive buffers (see smbx_smbd_new()). Report its
 *  completions and CM events with smbx_server_recv(), _send_done(),
 *  _cm_event(). SMBX_EV_CONN_UP tells when SMB2 traffic may start.
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_LIMIT; SMBX_ERR_NOMEM;
 *          SMBX_ERR_TRANSPORT (a hook failed). @since 0.1.0 */
SMBX_API int smbx_server_add_smbd(smbx_server *srv,
                                  const smbx_smbd_settings *ss,
                                  const smbx_transport *t,
                                  const smbx_smbd_recv_buf *bufs, size_t n,
                                  uint64_t now_ns, uint64_t *conn);

/** @brief SMB Direct receive completion (as smbx_smbd_recv()).
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND; a fatal code.
 *  @since 0.1.0 */
SMBX_API int smbx_server_recv(smbx_server *srv, uint64_t conn,
                              const smbx_wc *wc, uint64_t now_ns);
/** @brief SMB Direct send completion (as smbx_smbd_send_done()).
 *  @since 0.1.0 */
SMBX_API int smbx_server_send_done(smbx_server *srv, uint64_t conn,
                                   const smbx_wc *wc, uint64_t now_ns);
/** @brief SMB Direct connection-manager event (as smbx_smbd_cm_event()).
 *  @since 0.1.0 */
SMBX_API int smbx_server_cm_event(smbx_server *srv, uint64_t conn,
                                  uint32_t event, uint32_t ird, uint32_t ord,
                                  uint64_t now_ns);

/** @brief Next event (smbx/event.h). ev->struct_size must be set.
 *  @return 1 with an event; 0 when the queue is empty; SMBX_ERR_INVAL.
 *  @since 0.1.0 */
SMBX_API int smbx_server_next_event(smbx_server *srv, smbx_event *ev);

/** @brief Hand back an event's hold (ev.hold).
 *  @return 0 (hold 0 is a no-op); SMBX_ERR_NOTFOUND (unknown conn or
 *          hold, or already released). @since 0.1.0 */
SMBX_API int smbx_server_release(smbx_server *srv, uint64_t conn,
                                 uint64_t hold, uint64_t now_ns);

/** @brief Answer a SESSION_SETUP event.
 *  @param req u.session.req
 *  @param status SMBX_STATUS_MORE_PROCESSING_REQUIRED (another round:
 *         blob goes back, the session stays in progress), SUCCESS (the
 *         session is established; with a session key it signs, and it
 *         encrypts with SMBX_SMB2_SESSION_FLAG_ENCRYPT_DATA or
 *         SMBX_SERVER_ENCRYPT), or an error status (e.g.
 *         SMBX_STATUS_LOGON_FAILURE: the session is deleted)
 *  @param blob,blob_len security blob for the client (copied)
 *  @param key,key_len the authenticator's session key (SUCCESS only;
 *         NULL/0 for guest or anonymous: no signing)
 *  @param session_flags SMBX_SMB2_SESSION_FLAG_IS_GUEST / _IS_NULL /
 *         _ENCRYPT_DATA
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND (stale conn/req);
 *          SMBX_ERR_RANGE (blob too large); SMBX_ERR_AGAIN (SMB Direct
 *          send space: retry); any key-derivation error (the session is
 *          failed with ACCESS_DENIED); the connection's sticky code.
 *  @since 0.1.0 */
SMBX_API int smbx_server_session_respond(smbx_server *srv, uint64_t conn,
                                         uint64_t req, uint32_t status,
                                         const uint8_t *blob, size_t blob_len,
                                         const uint8_t *key, size_t key_len,
                                         uint16_t session_flags,
                                         uint64_t now_ns);

/** @brief Answer a TREE_CONNECT event. SUCCESS creates the tree and
 *  returns its TreeId; any other status fails the request. A share that
 *  requires encryption (resp->share_flags SMBX_SMB2_SHAREFLAG_ENCRYPT_DATA)
 *  is refused ACCESS_DENIED to a session that cannot encrypt (2.x, no
 *  cipher agreed, guest or anonymous; MS-SMB2 3.3.5.7); on its tree every
 *  request that did not arrive encrypted is failed ACCESS_DENIED by the
 *  node (3.3.5.2.11), so the host sees only encrypted ones (and their
 *  responses go encrypted).
 *  @param resp response fields (share type, flags, capabilities, access);
 *         ignored unless SUCCESS
 *  @param tree_id optional: the new TreeId
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND; SMBX_ERR_LIMIT (no tree
 *          slot: the request was failed with INSUFFICIENT_RESOURCES);
 *          SMBX_ERR_AUTH (ENCRYPT_DATA for a session that cannot encrypt:
 *          failed with ACCESS_DENIED); SMBX_ERR_AGAIN; the sticky code.
 *          @since 0.1.0 */
SMBX_API int smbx_server_tree_respond(smbx_server *srv, uint64_t conn,
                                      uint64_t req, uint32_t status,
                                      const smbx_smb2_tree_connect_resp *resp,
                                      uint64_t now_ns, uint32_t *tree_id);

/** @brief Answer a REQUEST event with a response body (everything after
 *  the 64-byte header, e.g. from a codec encoder's output + 64). The node
 *  writes the header (Command, MessageId, Status, SessionId, TreeId,
 *  credits), copies the body once into its send buffer, signs/encrypts
 *  as the session requires and sends. Error statuses with an empty body
 *  get the ERROR body. The request's hold is released.
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND (stale conn or req);
 *          SMBX_ERR_RANGE (body larger than the send buffer);
 *          SMBX_ERR_AGAIN (SMB Direct send space: nothing sent, retry);
 *          the connection's sticky code. @since 0.1.0 */
SMBX_API int smbx_server_respond(smbx_server *srv, uint64_t conn, uint64_t req,
                                 uint32_t status, const uint8_t *body,
                                 size_t len, uint64_t now_ns);

/** @brief smbx_server_respond() with the body gathered from n pieces
 *  (e.g. a READ response's fixed part and the file data).
 *  @since 0.1.0 */
SMBX_API int smbx_server_respond_iov(smbx_server *srv, uint64_t conn,
                                     uint64_t req, uint32_t status,
                                     const smbx_iov *iov, size_t n,
                                     uint64_t now_ns);

/** @brief Answer with an ERROR body (smb2.md 4.14): ByteCount = len.
 *  @return as smbx_server_respond(). @since 0.1.0 */
SMBX_API int smbx_server_respond_error(smbx_server *srv, uint64_t conn,
                                       uint64_t req, uint32_t status,
                                       const uint8_t *data, size_t len,
                                       uint64_t now_ns);

/** @brief Send the interim STATUS_PENDING for a request and make it async
 *  (its final response follows with smbx_server_respond()). The request
 *  stays held until then.
 *  @param async_id optional: the AsyncId
 *  @return 0; SMBX_ERR_NOTFOUND; SMBX_ERR_STATE (already async);
 *          SMBX_ERR_AGAIN; the sticky code. @since 0.1.0 */
SMBX_API int smbx_server_go_async(smbx_server *srv, uint64_t conn,
                                  uint64_t req, uint64_t now_ns,
                                  uint64_t *async_id);

/** @brief Send an unsolicited OPLOCK_BREAK notification (smb2.md 4.13):
 *  an oplock break (24-byte body) or a lease break (44-byte body, e.g.
 *  from smbx_smb2_encode_lease_break_notify() output + 64). This is the
 *  node's one entry point for breaks (the lease manager uses it too).
 *
 *  The connection layer writes the header: OPLOCK_BREAK, SERVER_TO_REDIR,
 *  MessageId 0xFFFFFFFFFFFFFFFF, CreditCharge/CreditResponse 0, SessionId
 *  and TreeId 0; the notification is never signed ([MS-SMB2] 3.3.4.6,
 *  3.3.4.7). When `session_id` names a session set up on this connection
 *  (or bound to it) that encrypts its traffic (ENCRYPT_DATA, or
 *  SMBX_SERVER_ENCRYPT), the message goes in a TRANSFORM with that
 *  session's keys and SessionId (3.3.4.1.4); otherwise (0, unknown, or a
 *  session that does not encrypt) it goes in the clear. It is sent at
 *  once, after everything sent before on this connection.
 *  @param session_id the session of the open (or of an open of the lease)
 *         being broken, or 0
 *  @param body the body after the 64-byte header; copied
 *  @return 0; SMBX_ERR_INVAL (NULL body, len not 24 or 44);
 *          SMBX_ERR_NOTFOUND (conn); SMBX_ERR_STATE (not negotiated);
 *          SMBX_ERR_AGAIN (SMB Direct send buffers full: retry); the
 *          sticky code. @since 0.1.0 */
SMBX_API int smbx_server_send_break(smbx_server *srv, uint64_t conn,
                                    uint64_t session_id, const uint8_t *body,
                                    size_t len, uint64_t now_ns);

/** @brief Answer an RDMA READ (a REQUEST with SMBX_EVF_RDMA and Command
 *  READ): the node RDMA-writes the host's data straight into the client's
 *  descriptors (pieces of at most rdma_max_op_size, at most rdma_max_ops
 *  posted), and when every write completed sends the READ response
 *  (DataLength 0, DataRemaining = bytes; as SEND_WITH_INVALIDATE of the
 *  first descriptor's token for RDMA_V1_INVALIDATE), then queues
 *  SMBX_EV_RDMA_DONE. smbx never copies the data.
 *  @param data,n where the data is: registered host memory (address,
 *         length, registration handle), in file order; the array is
 *         copied, the memory must stay untouched until SMBX_EV_RDMA_DONE.
 *         Total 1..u.pdu.rdma_length bytes (less = short read; for 0
 *         bytes answer with smbx_server_respond_error(), e.g. END_OF_FILE)
 *  @return 0; SMBX_ERR_INVAL (NULL, n 0 or > rdma_max_xfer_sge, a total of 0
 *          or above rdma_length); SMBX_ERR_NOTFOUND (stale conn or req);
 *          SMBX_ERR_STATE (not an RDMA READ, or a transfer already
 *          started); SMBX_ERR_TRANSPORT (rdma_write hook failed: the
 *          connection is torn down and the transfer still ends with
 *          SMBX_EV_RDMA_DONE, err < 0, once the operations posted before
 *          the failure are back); the connection's sticky code.
 *  @since 0.1.0 */
SMBX_API int smbx_server_rdma_push(smbx_server *srv, uint64_t conn,
                                   uint64_t req, const smbx_sge *data,
                                   size_t n, uint64_t now_ns);

/** @brief Start an RDMA WRITE (a REQUEST with SMBX_EVF_RDMA and Command
 *  WRITE): the node RDMA-reads the client's data straight into the host's
 *  buffers (at most the connection's ORD reads in flight) and queues
 *  SMBX_EV_RDMA_DONE when it is there; the host then writes it to its
 *  file and answers the WRITE with smbx_server_respond() (as
 *  SEND_WITH_INVALIDATE for RDMA_V1_INVALIDATE). The host may also answer
 *  at once with an error instead of pulling.
 *  @param dst,n where the data goes (registered host memory with local
 *         write access); exactly u.pdu.rdma_length bytes; the array is
 *         copied, the memory is the engine's until SMBX_EV_RDMA_DONE
 *  @return as smbx_server_rdma_push() (SMBX_ERR_INVAL when the total is
 *          not rdma_length). @since 0.1.0 */
SMBX_API int smbx_server_rdma_pull(smbx_server *srv, uint64_t conn,
                                   uint64_t req, const smbx_sge *dst,
                                   size_t n, uint64_t now_ns);

/** @brief Completion of an rdma_read / rdma_write the node posted
 *  (smbx_wr_id_kind(wc->wr_id) == SMBX_WR_KIND_RDMA). An error completion
 *  (any status but success; FLUSH once the QP is in error) tears the
 *  connection down cleanly: the transfer is reported failed with
 *  SMBX_EV_RDMA_DONE (err SMBX_ERR_TRANSPORT) once its other posted
 *  operations are back too (completed or flushed), its request is never
 *  answered, CONN_DOWN follows the last RDMA_DONE: keep reporting
 *  completions of a connection until its CONN_DOWN.
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND (stale conn); the sticky
 *          code (SMBX_ERR_TRANSPORT after an error completion). A
 *          completion for an operation the node no longer tracks (after
 *          teardown) is ignored. @since 0.1.0 */
SMBX_API int smbx_server_rdma_done(smbx_server *srv, uint64_t conn,
                                   const smbx_wc *wc, uint64_t now_ns);

/** Longest user identity smbx_server_session_user() takes. @since 0.1.0 */
#define SMBX_SERVER_USER_MAX 64u

/** @brief Name the user a SESSION_SETUP event's authentication proved
 *  (an opaque identity: a SID, "DOMAIN\\user", ...; copied), before
 *  answering it with SUCCESS. The node keeps it with a new session; for a
 *  binding leg (u.session.req_flags BINDING) it must equal the bound
 *  session's, else smbx_server_session_respond(SUCCESS) fails the binding
 *  with STATUS_NOT_SUPPORTED (as Samba does) and returns SMBX_ERR_AUTH.
 *  Without this call no comparison is made for that session.
 *  Reconnect (MS-SMB2 3.3.5.5.3): when a new session is answered SUCCESS
 *  and its last leg's PreviousSessionId names another established session
 *  (on any connection) with the same user, that session ends: its trees
 *  go, SMBX_EV_SESSION_DOWN (u.session.status USER_SESSION_DELETED, conn
 *  its own) tells the host to close its opens, and its later requests
 *  fail STATUS_USER_SESSION_DELETED. Another user's session, an unknown
 *  id, the new session's own id, or a session without a named user is
 *  left alone.
 *  @param req u.session.req
 *  @return 0; SMBX_ERR_INVAL (NULL id, len 0 or above
 *          SMBX_SERVER_USER_MAX); SMBX_ERR_NOTFOUND (stale conn or req).
 *  @since 0.1.0 */
SMBX_API int smbx_server_session_user(smbx_server *srv, uint64_t conn,
                                      uint64_t req, const uint8_t *id,
                                      size_t len);

/** Most interfaces smbx_server_set_interfaces() takes. @since 0.1.0 */
#define SMBX_SERVER_MAX_INTERFACES 64u

/** @brief The node's network interfaces (multichannel, smb2.md 6.6):
 *  with SMBX_SMB2_CAP_MULTI_CHANNEL in settings.capabilities the node
 *  answers FSCTL_QUERY_NETWORK_INTERFACE_INFO itself from this list (one
 *  NETWORK_INTERFACE_INFO per entry, in order; 3.x only; without
 *  MULTI_CHANNEL or a list: STATUS_NOT_SUPPORTED; a MaxOutputResponse
 *  below the list: STATUS_BUFFER_TOO_SMALL). Entries sharing a NIC share
 *  its if_index; `port` is normally 0. Replaces the previous list (copied,
 *  allocated here); n 0 clears it.
 *  @return 0; SMBX_ERR_INVAL (NULL, n > SMBX_SERVER_MAX_INTERFACES,
 *          IfIndex 0, a family other than IPv4/IPv6); SMBX_ERR_NOMEM (the
 *          previous list stays). @since 0.1.0 */
SMBX_API int smbx_server_set_interfaces(smbx_server *srv,
                                        const smbx_smb2_netif *ifs, size_t n);

/** @brief Next deadline over all connections (UINT64_MAX: none).
 *  @since 0.1.0 */
SMBX_API uint64_t smbx_server_expiry(const smbx_server *srv);

/** @brief Fire due timers. @return 0; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_server_handle_expiry(smbx_server *srv, uint64_t now_ns);

/** @brief Close and free a connection: a live one is torn down first
 *  (sessions it set up keep living for other channels only when bound;
 *  otherwise they end), queued events naming it are dropped, its handle
 *  becomes invalid. Over SMB Direct the engine is freed (its receive
 *  buffers are the host's again); RDMA transfers not yet ended are dropped
 *  without SMBX_EV_RDMA_DONE: their buffers are the host's again once it
 *  destroyed the queue pair.
 *  @return 0; SMBX_ERR_NOTFOUND. @since 0.1.0 */
SMBX_API int smbx_server_close_conn(smbx_server *srv, uint64_t conn,
                                    uint64_t now_ns);

/** @brief Live state of a connection (info->struct_size set by caller).
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND. @since 0.1.0 */
SMBX_API int smbx_server_conn_info(const smbx_server *srv, uint64_t conn,
                                   smbx_conn_info *info);

/** @brief The connection's sticky error with reason and byte offset.
 *  @return 0 while healthy, the sticky code, SMBX_ERR_NOTFOUND.
 *  @since 0.1.0 */
SMBX_API int smbx_server_conn_error(const smbx_server *srv, uint64_t conn,
                                    smbx_error_detail *detail);

#ifdef __cplusplus
}
#endif

#endif /* SMBX_SERVER_H */
