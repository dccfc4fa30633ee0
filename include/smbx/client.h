/* SPDX-License-Identifier: MIT */
/** @file smbx/client.h
 *  @brief The client node: SMB2/3 connections over Direct TCP or SMB
 *         Direct, sessions, requests and their responses as events.
 *
 *  The node never does I/O and never reads a clock. The host drives:
 *   1. add a connection (smbx_client_add_tcp / _add_smbd);
 *   2. smbx_client_negotiate() -> SMBX_EV_NEGOTIATED (dialect, the
 *      server's security blob);
 *   3. session setup: the host's authenticator produces each blob;
 *      smbx_client_session_setup() sends it, SMBX_EV_SESSION_SETUP brings
 *      the server's answer (MORE_PROCESSING_REQUIRED: another round).
 *      Give the session key with smbx_client_session_key() as soon as the
 *      authenticator knows it (before the last response arrives, so its
 *      signature is verified); SMBX_EV_SESSION_UP follows;
 *   4. smbx_client_tree_connect() -> SMBX_EV_TREE_CONNECT (TreeId);
 *   5. requests: smbx_client_request() (any command, body bytes) or the
 *      wrappers; each completes exactly once with SMBX_EV_RESPONSE (the
 *      response PDU, or a local error: timeout, bad signature, teardown).
 *  A request never spends more credits than the server granted: calls
 *  return SMBX_ERR_AGAIN and SMBX_EV_WRITABLE tells when to retry.
 *  Unsolicited responses other than oplock/lease breaks kill the
 *  connection; breaks arrive as SMBX_EV_BREAK.
 */
#ifndef SMBX_CLIENT_H
#define SMBX_CLIENT_H

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

/** Opaque client node. @since 0.1.0 */
typedef struct smbx_client smbx_client;

/** @name Client settings flags
 *  @{ */
#define SMBX_CLIENT_SIGNING_REQUIRED 0x1u /**< SecurityMode REQUIRED: every
                                               authenticated session signs */
#define SMBX_CLIENT_ENCRYPT 0x2u /**< ask for encryption: every request of
                                      an established session is encrypted
                                      when a cipher was agreed */
#define SMBX_CLIENT_TIMEOUT_FATAL 0x4u /**< a request timeout kills the
                                            connection */
#define SMBX_CLIENT_ALLOW_GUEST 0x8u /**< accept a session the server set
    up as guest (SessionFlags IS_GUEST: the credentials were not checked,
    nothing can be signed or encrypted). Without it (the default, as
    Windows with insecure guest logons disabled) a final SESSION_SETUP
    response flagged IS_GUEST fails: the SESSION_SETUP event has err
    SMBX_ERR_AUTH and session_flags IS_GUEST, no SESSION_UP follows
    (log the session off). IS_NULL (an anonymous logon the host chose)
    is not affected. With SIGNING_REQUIRED or ENCRYPT a guest or anonymous
    session fails either way (MS-SMB2 3.2.5.3.1) */
/** @} */

/** @brief Client node settings; fill with smbx_client_settings_default().
 *  @since 0.1.0 */
typedef struct smbx_client_settings {
  size_t struct_size;
  uint32_t dialects;      /**< SMBX_DIALECT_MASK_*: ALL (3.1.1 needs a
                               sha512 hook) */
  uint32_t capabilities;  /**< SMBX_SMB2_CAP_* offered: LARGE_MTU |
                               LEASING | DIRECTORY_LEASING |
                               MULTI_CHANNEL | ENCRYPTION */
  uint32_t flags;         /**< SMBX_CLIENT_*: 0 */
  uint32_t ciphers;       /**< mask of 1 << SMBX_CRYPTO_CIPHER_*: all four,
                               offered GCM first */
  uint32_t signing_algs;  /**< mask of 1 << SMBX_CRYPTO_SIGN_*: all three,
                               offered GMAC first */
  uint32_t max_io;        /**< largest READ/WRITE/transact payload the
                               node's send buffer holds: 1 MiB */
  uint32_t credit_target; /**< credits the node asks to hold: 512 */
  uint32_t max_requests;  /**< per connection in flight: 1024 */
  uint32_t max_connections; /**< 16 */
  uint32_t max_sessions;  /**< 64 */
  uint64_t request_timeout_ns; /**< per request, 0 = none: 60 s */
  uint8_t client_guid[16]; /**< ClientGuid: zero */
  /* appended in 0.1.0 (RDMA direct placement, docs/rdma.md) */
  uint32_t rdma_threshold; /**< smbx_client_read_into / _write_from of at
                                least this many bytes go by RDMA over SMB
                                Direct (3.x, unsigned, unencrypted):
                                4096; 0 = never */
  uint32_t rdma_chunk_max; /**< largest single registration (one buffer
                                descriptor); 0 = the peer's
                                MaxReadWriteSize: 0 */
  uint32_t rdma_max_regs;  /**< registrations live at once per SMB Direct
                                connection: 256 */
  /* appended in 0.1.0 (multichannel, docs/multichannel.md) */
  uint32_t replay_buffer_size; /**< bytes the node keeps of requests in
                                    flight on sessions with several
                                    channels, to resend them on a
                                    surviving channel when theirs dies
                                    (allocated at the first bind): 4 MiB;
                                    0 = no failover replay */
} smbx_client_settings;

/** @brief Fill s with the defaults and store struct_size.
 *  @return 0; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_client_settings_default(smbx_client_settings *s,
                                          size_t struct_size);

/** @brief Create a client node. Copies s, cr and a.
 *  @param cr crypto hooks (NULL: no signing/encryption; 3.1.1 is then
 *         not offered)
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOMEM. @since 0.1.0 */
SMBX_API int smbx_client_new(smbx_client **out, const smbx_client_settings *s,
                             const smbx_crypto *cr, const smbx_allocator *a,
                             uint64_t now_ns);

/** @brief Free the node and every connection (no events). NULL is a
 *  no-op. @since 0.1.0 */
SMBX_API void smbx_client_free(smbx_client *cli);

/** @brief Add a Direct TCP connection (a connected socket).
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_LIMIT; SMBX_ERR_NOMEM.
 *  @since 0.1.0 */
SMBX_API int smbx_client_add_tcp(smbx_client *cli, const smbx_tcp_hooks *h,
                                 uint64_t now_ns, uint64_t *conn);

/** @brief Feed received stream bytes (writable; kept until the events
 *  holding them are released). Returns as smbx_server_tcp_feed().
 *  @since 0.1.0 */
SMBX_API smbx_ssize smbx_client_tcp_feed(smbx_client *cli, uint64_t conn,
                                         uint8_t *bytes, size_t len,
                                         uint64_t now_ns);

/** @brief Add an SMB Direct connection (active role; the engine is
 *  created and owned, see smbx_server_add_smbd()). Negotiate after
 *  SMBX_EV_CONN_UP. @since 0.1.0 */
SMBX_API int smbx_client_add_smbd(smbx_client *cli,
                                  const smbx_smbd_settings *ss,
                                  const smbx_transport *t,
                                  const smbx_smbd_recv_buf *bufs, size_t n,
                                  uint64_t now_ns, uint64_t *conn);
/** @brief SMB Direct receive completion. @since 0.1.0 */
SMBX_API int smbx_client_recv(smbx_client *cli, uint64_t conn,
                              const smbx_wc *wc, uint64_t now_ns);
/** @brief SMB Direct send completion. @since 0.1.0 */
SMBX_API int smbx_client_send_done(smbx_client *cli, uint64_t conn,
                                   const smbx_wc *wc, uint64_t now_ns);
/** @brief SMB Direct connection-manager event. @since 0.1.0 */
SMBX_API int smbx_client_cm_event(smbx_client *cli, uint64_t conn,
                                  uint32_t event, uint32_t ird, uint32_t ord,
                                  uint64_t now_ns);

/** @brief Send NEGOTIATE with the settings' dialects (3.1.1: preauth
 *  SHA-512 with a random salt, ENCRYPTION and SIGNING contexts).
 *  SMBX_EV_NEGOTIATED reports the outcome.
 *  @return 0; SMBX_ERR_NOTFOUND; SMBX_ERR_STATE (already negotiated or
 *          in progress); SMBX_ERR_UNSUPPORTED (no dialect possible);
 *          SMBX_ERR_AGAIN; the sticky code. @since 0.1.0 */
SMBX_API int smbx_client_negotiate(smbx_client *cli, uint64_t conn,
                                   uint64_t now_ns);

/** @brief Send one SESSION_SETUP leg with the host's security blob.
 *  @param session in/out: 0 starts a new session (its local handle is
 *         written back); else the session to continue
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND; SMBX_ERR_STATE (not
 *          negotiated, or a leg is already in flight); SMBX_ERR_LIMIT
 *          (max_sessions); SMBX_ERR_RANGE (blob > 64 KiB);
 *          SMBX_ERR_AGAIN; the sticky code. @since 0.1.0 */
SMBX_API int smbx_client_session_setup(smbx_client *cli, uint64_t conn,
                                       uint64_t *session, const uint8_t *blob,
                                       size_t len, uint64_t now_ns);

/** @brief Bind an established session to another connection
 *  (multichannel, smb2.md 6.6; 3.x, same dialect): one SESSION_SETUP leg
 *  with Flags BINDING, signed with the session's key. The host runs its
 *  authenticator again: SMBX_EV_SESSION_SETUP events on `conn` carry the
 *  server's blobs (MORE_PROCESSING: call bind again with the next blob);
 *  on SUCCESS the channel's keys are derived (3.1.1: from this
 *  connection's preauth hash and the session key given earlier), the
 *  response's signature is verified and SMBX_EV_SESSION_UP follows with
 *  ev.conn = `conn`. Requests for the session may then go on either
 *  connection. A response flagged IS_GUEST ends the binding with
 *  SMBX_ERR_PROTO in the event (MS-SMB2 3.2.5.3.3).
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND; SMBX_ERR_STATE (session
 *          not established with keys, conn not negotiated, a different
 *          dialect, 2.x, already bound, or a leg in flight);
 *          SMBX_ERR_LIMIT; SMBX_ERR_AGAIN; the sticky code.
 *  @since 0.1.0 */
SMBX_API int smbx_client_session_bind(smbx_client *cli, uint64_t conn,
                                      uint64_t session, const uint8_t *blob,
                                      size_t len, uint64_t now_ns);

/** @brief Give the session key the authenticator produced in a binding
 *  exchange (1..64 bytes, copied), before the final binding response
 *  arrives: the channel's signing key is derived from it (3.0.x:
 *  SMB2AESCMAC/SmbSign; 3.1.1: with the channel's preauth hash). Without
 *  it the session's key is used.
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND (no binding of session
 *          on conn); SMBX_ERR_STATE (the channel is already up).
 *  @since 0.1.0 */
SMBX_API int smbx_client_session_bind_key(smbx_client *cli, uint64_t conn,
                                          uint64_t session,
                                          const uint8_t *key, size_t len,
                                          uint64_t now_ns);

/** @brief The channel the next request of `session` should use: of the
 *  session's live channels (its first connection and every bound one),
 *  the one with the fewest requests in flight, then the most credits.
 *  Every request call also picks this way when given conn 0 and a
 *  session (ev.conn of its events names the channel used).
 *  @return 0 with *conn set; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND (unknown
 *          session); SMBX_ERR_STATE (not established, or no live
 *          channel). @since 0.1.0 */
SMBX_API int smbx_client_session_channel(const smbx_client *cli,
                                         uint64_t session, uint64_t *conn);

/** @brief Send FSCTL_QUERY_NETWORK_INTERFACE_INFO (an IOCTL on tree_id,
 *  FileId all-ones, MaxOutputResponse 64 KiB); read its RESPONSE with
 *  smbx_client_interfaces(). @return as smbx_client_request().
 *  @since 0.1.0 */
SMBX_API int smbx_client_query_interfaces(smbx_client *cli, uint64_t conn,
                                          uint64_t session, uint32_t tree_id,
                                          uint64_t now_ns, uint64_t *req);

/** @brief Decode the server's interfaces from the RESPONSE event of
 *  smbx_client_query_interfaces() (the IOCTL response and every
 *  NETWORK_INTERFACE_INFO entry are checked, smb2.md case 35).
 *  @param out,cap where to put up to cap entries
 *  @param n receives the number of entries in the response (may exceed
 *         cap: only cap are written)
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_STATE (not a successful IOCTL
 *          RESPONSE of this FSCTL); SMBX_ERR_DECODE (malformed).
 *  @since 0.1.0 */
SMBX_API int smbx_client_interfaces(const smbx_event *ev, smbx_smb2_netif *out,
                                    size_t cap, size_t *n);

/** @brief Give the authenticator's session key (1..64 bytes, copied), or
 *  say the session has none (`key` NULL, `len` 0: an anonymous or guest
 *  logon whose server does not flag it IS_NULL / IS_GUEST).
 *  Before the final response: its signature is verified with the keys.
 *  After it: the keys are derived now and SESSION_UP is queued.
 *  A session without a key never signs or encrypts: when the client
 *  requires signing or encryption (SMBX_CLIENT_SIGNING_REQUIRED,
 *  SMBX_CLIENT_ENCRYPT) or the server asks for encryption (ENCRYPT_DATA)
 *  it is refused (SMBX_ERR_AUTH here, or in the SESSION_SETUP event when
 *  said before the final response) instead of running in the clear.
 *  @return 0; SMBX_ERR_INVAL (key NULL with len > 0, len > 64);
 *          SMBX_ERR_NOTFOUND; SMBX_ERR_STATE (already established with a
 *          key); SMBX_ERR_AUTH (no key where signing or encryption is
 *          required); a key-derivation error.
 *  @since 0.1.0 */
SMBX_API int smbx_client_session_key(smbx_client *cli, uint64_t session,
                                     const uint8_t *key, size_t len,
                                     uint64_t now_ns);

/** @brief Send LOGOFF; SMBX_EV_SESSION_DOWN follows its response and the
 *  local session is freed. @return as smbx_client_request().
 *  @since 0.1.0 */
SMBX_API int smbx_client_logoff(smbx_client *cli, uint64_t conn,
                                uint64_t session, uint64_t now_ns,
                                uint64_t *req);

/** @brief Send TREE_CONNECT for a UTF-8 path `\\server\share`;
 *  SMBX_EV_TREE_CONNECT carries the TreeId.
 *  @return as smbx_client_request(); SMBX_ERR_ENCODING (bad UTF-8).
 *  @since 0.1.0 */
SMBX_API int smbx_client_tree_connect(smbx_client *cli, uint64_t conn,
                                      uint64_t session, const char *path,
                                      uint64_t now_ns, uint64_t *req);

/** @brief Send any request: the node writes the 64-byte header (Command,
 *  MessageId, CreditCharge, CreditRequest, SessionId, TreeId), copies the
 *  body once into its send buffer, signs/encrypts and sends.
 *  @param session local session handle (0: none)
 *  @param tree_id TreeId (0: none)
 *  @param command SMBX_SMB2_* (not NEGOTIATE, SESSION_SETUP or CANCEL:
 *         use their calls)
 *  @param body,len the body (after the header)
 *  @param user cookie returned in the RESPONSE event
 *  @param req optional: the request handle (u.pdu.req of its events)
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND (conn, session);
 *          SMBX_ERR_STATE (not negotiated / session not established);
 *          SMBX_ERR_AGAIN (not enough credits or slots now: wait for
 *          SMBX_EV_WRITABLE); SMBX_ERR_RANGE (larger than max_io or than
 *          credits can ever allow); the sticky code. @since 0.1.0 */
SMBX_API int smbx_client_request(smbx_client *cli, uint64_t conn,
                                 uint64_t session, uint32_t tree_id,
                                 uint16_t command, const uint8_t *body,
                                 size_t len, uint64_t user, uint64_t now_ns,
                                 uint64_t *req);

/** @brief smbx_client_request() with the body gathered from n pieces.
 *  @since 0.1.0 */
SMBX_API int smbx_client_request_iov(smbx_client *cli, uint64_t conn,
                                     uint64_t session, uint32_t tree_id,
                                     uint16_t command, const smbx_iov *iov,
                                     size_t n, uint64_t user,
                                     uint64_t now_ns, uint64_t *req);

/** @brief One member of a compound (smbx_client_compound()).
 *  @since 0.1.0 */
typedef struct smbx_client_op {
  uint16_t command;
  uint16_t reserved;
  uint32_t reserved2;
  const uint8_t *body; /**< body after the header */
  size_t len;
} smbx_client_op;

/** @brief Send a compound in one transport message. related != 0: every
 *  member after the first carries RELATED_OPERATIONS with SessionId and
 *  TreeId "inherit" (give FileId all-ones in the bodies to inherit the
 *  first CREATE's). Each member completes with its own RESPONSE event.
 *  @param reqs optional: n request handles
 *  @return as smbx_client_request(). @since 0.1.0 */
SMBX_API int smbx_client_compound(smbx_client *cli, uint64_t conn,
                                  uint64_t session, uint32_t tree_id,
                                  const smbx_client_op *ops, size_t n,
                                  int related, uint64_t user, uint64_t now_ns,
                                  uint64_t *reqs);

/** @brief CREATE from a codec request struct (name UTF-16LE, contexts).
 *  @return as smbx_client_request(). @since 0.1.0 */
SMBX_API int smbx_client_create(smbx_client *cli, uint64_t conn,
                                uint64_t session, uint32_t tree_id,
                                const smbx_smb2_create_req *in,
                                uint64_t now_ns, uint64_t *req);
/** @brief CLOSE. @since 0.1.0 */
SMBX_API int smbx_client_close(smbx_client *cli, uint64_t conn,
                               uint64_t session, uint32_t tree_id,
                               smbx_smb2_fileid file_id, uint16_t flags,
                               uint64_t now_ns, uint64_t *req);
/** @brief READ `length` bytes at `offset` (inline). @since 0.1.0 */
SMBX_API int smbx_client_read(smbx_client *cli, uint64_t conn,
                              uint64_t session, uint32_t tree_id,
                              smbx_smb2_fileid file_id, uint64_t offset,
                              uint32_t length, uint64_t now_ns,
                              uint64_t *req);
/** @brief WRITE `len` bytes at `offset` (inline; data copied once).
 *  @since 0.1.0 */
SMBX_API int smbx_client_write(smbx_client *cli, uint64_t conn,
                               uint64_t session, uint32_t tree_id,
                               smbx_smb2_fileid file_id, uint64_t offset,
                               const uint8_t *data, size_t len,
                               uint64_t now_ns, uint64_t *req);
/** @brief READ `length` bytes at `offset` into the caller's buffer.
 *  By RDMA when the connection is SMB Direct, the dialect 3.x, length >=
 *  rdma_threshold and the request is neither signed nor encrypted
 *  (smbd.md sec. 4: data would cross unprotected): `buf` is registered
 *  through register_mr (REMOTE_WRITE) in chunks of at most
 *  min(rdma_chunk_max, the peer's MaxReadWriteSize), one buffer
 *  descriptor each, Channel RDMA_V1_INVALIDATE on 3.0.2+ and RDMA_V1 on
 *  3.0; the server writes the data straight into `buf`. Every
 *  registration is deregistered exactly once before the request's
 *  RESPONSE event (also on error, timeout or teardown); a key the server
 *  invalidated remotely is given to deregister_mr with
 *  SMBX_MR_F_INVALIDATED. The RESPONSE has SMBX_EVF_RDMA and
 *  u.pdu.rdma_length = bytes placed. Otherwise the READ goes inline and
 *  the data is in the RESPONSE PDU, as with smbx_client_read().
 *  @param buf the caller's memory; untouched by smbx, written by the
 *         server until the RESPONSE event
 *  @return as smbx_client_read(); SMBX_ERR_AGAIN also when rdma_max_regs
 *          registrations are live (retry after a RESPONSE);
 *          SMBX_ERR_RANGE (length above the peer's MaxReadWriteSize);
 *          SMBX_ERR_TRANSPORT (register_mr failed; nothing sent).
 *  @since 0.1.0 */
SMBX_API int smbx_client_read_into(smbx_client *cli, uint64_t conn,
                                   uint64_t session, uint32_t tree_id,
                                   smbx_smb2_fileid file_id, uint64_t offset,
                                   void *buf, uint32_t length,
                                   uint64_t now_ns, uint64_t *req);

/** @brief WRITE `length` bytes at `offset` from the caller's buffer. By
 *  RDMA under the rules of smbx_client_read_into() (REMOTE_READ
 *  registrations, Length 0, DataOffset 0, RemainingBytes = length: the
 *  server reads `buf` itself); otherwise inline (copied once, as
 *  smbx_client_write()).
 *  @param buf must stay unchanged until the RESPONSE event
 *  @return as smbx_client_read_into(). @since 0.1.0 */
SMBX_API int smbx_client_write_from(smbx_client *cli, uint64_t conn,
                                    uint64_t session, uint32_t tree_id,
                                    smbx_smb2_fileid file_id, uint64_t offset,
                                    const void *buf, uint32_t length,
                                    uint64_t now_ns, uint64_t *req);

/** @name Transfer flags (smbx_client_xfer.flags) @{ */
#define SMBX_XFER_WRITE 0x1u /**< write buf to the file (else read) */
/** @} */
/** @name XFER_DONE flags (u.xfer.flags) @{ */
#define SMBX_XFER_DONE_EOF 0x1u       /**< a read reached end of file */
#define SMBX_XFER_DONE_CANCELLED 0x2u /**< smbx_client_xfer_cancel() */
/** @} */

/** @brief A pipelined transfer of one range between an open file and
 *  local memory (see smbx_client_xfer_start()). @since 0.1.0 */
typedef struct smbx_client_xfer {
  size_t struct_size;
  uint64_t conn;     /**< channel the requests go on; 0: the session's
                          least loaded each time. When it dies the
                          session's other channels carry the rest */
  uint64_t session;  /**< local session handle */
  uint32_t tree_id;
  uint32_t flags;    /**< SMBX_XFER_* */
  smbx_smb2_fileid file_id;
  uint64_t offset;   /**< file offset of the range */
  void *buf;         /**< local memory of `length` bytes: written (read)
                          or read (write) until XFER_DONE */
  uint64_t length;   /**< > 0 */
  uint32_t chunk;    /**< bytes per request; 0: the negotiated
                          MaxReadSize / MaxWriteSize, at most max_io
                          (inline) or the peer's SMB Direct
                          MaxReadWriteSize (RDMA) */
  uint32_t depth;    /**< most requests in flight: 1..65535; 0: 64 */
  uint64_t user;     /**< the caller's cookie, in XFER_DONE */
} smbx_client_xfer;

/** @brief Move a range with a pipeline of READ or WRITE requests, each
 *  through smbx_client_read_into() / _write_from() (by RDMA straight
 *  from/into `buf` over SMB Direct, else inline), chunked by `chunk`,
 *  up to `depth` in flight and as many as the credits allow: the node
 *  sends more whenever a piece completes or credits come back, so all
 *  granted credits stay busy while the host drives the node. The pieces'
 *  RESPONSEs are the transfer's (no RESPONSE events); one
 *  SMBX_EV_XFER_DONE reports bytes moved and the first error once no
 *  piece is in flight. A short read or END_OF_FILE ends a read
 *  (SMBX_XFER_DONE_EOF); a failed piece stops new ones. A piece whose
 *  channel dies is replayed on another (multichannel failover) and the
 *  transfer goes on there; one waiting for credits (nothing in flight)
 *  when its channel dies goes on over another channel of the session, or
 *  ends with the connection's error. Everything is allocated here,
 *  including room in the event queue for the XFER_DONE: nothing per
 *  request, and ending never needs memory.
 *  @param xfer receives the transfer's handle
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND (conn, session);
 *          SMBX_ERR_STATE; SMBX_ERR_RANGE (chunk above the limits);
 *          SMBX_ERR_NOMEM; the first request's error (nothing in
 *          flight: no XFER_DONE). @since 0.1.0 */
SMBX_API int smbx_client_xfer_start(smbx_client *cli,
                                    const smbx_client_xfer *x,
                                    uint64_t now_ns, uint64_t *xfer);

/** @brief Stop a transfer: no new pieces; those in flight are cancelled
 *  (CANCEL) and XFER_DONE follows with SMBX_XFER_DONE_CANCELLED once they
 *  completed (at once when none is in flight, in room held since start:
 *  never lost to an allocation failure).
 *  @return 0; SMBX_ERR_NOTFOUND (unknown or done). @since 0.1.0 */
SMBX_API int smbx_client_xfer_cancel(smbx_client *cli, uint64_t xfer,
                                     uint64_t now_ns);

/** @brief Progress of a live transfer. @since 0.1.0 */
typedef struct smbx_client_xfer_info {
  size_t struct_size;
  uint64_t bytes;        /**< moved so far */
  uint64_t issued;       /**< bytes asked for by pieces sent */
  uint64_t requests;     /**< pieces sent */
  uint32_t inflight;     /**< pieces in flight now */
  uint32_t max_inflight; /**< most at once */
} smbx_client_xfer_info;

/** @brief Fill `out` for a live transfer.
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND. @since 0.1.0 */
SMBX_API int smbx_client_xfer_get_info(const smbx_client *cli, uint64_t xfer,
                                       smbx_client_xfer_info *out);

/** @brief QUERY_DIRECTORY with a UTF-16LE pattern.
 *  @since 0.1.0 */
SMBX_API int smbx_client_query_directory(
    smbx_client *cli, uint64_t conn, uint64_t session, uint32_t tree_id,
    const smbx_smb2_query_directory_req *in, uint64_t now_ns, uint64_t *req);
/** @brief ECHO (no session). @since 0.1.0 */
SMBX_API int smbx_client_echo(smbx_client *cli, uint64_t conn,
                              uint64_t now_ns, uint64_t *req);

/** @brief Cancel a request in flight (CANCEL with its MessageId or, after
 *  an interim, its AsyncId). It still completes with its RESPONSE.
 *  @return 0; SMBX_ERR_NOTFOUND (unknown or completed); the sticky code.
 *  @since 0.1.0 */
SMBX_API int smbx_client_cancel(smbx_client *cli, uint64_t conn, uint64_t req,
                                uint64_t now_ns);

/** @brief Next event. @return 1, 0, SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_client_next_event(smbx_client *cli, smbx_event *ev);

/** @brief Hand back an event's hold. @return 0; SMBX_ERR_NOTFOUND.
 *  @since 0.1.0 */
SMBX_API int smbx_client_release(smbx_client *cli, uint64_t conn,
                                 uint64_t hold, uint64_t now_ns);

/** @brief Next deadline (request timeouts, SMB Direct timers).
 *  @since 0.1.0 */
SMBX_API uint64_t smbx_client_expiry(const smbx_client *cli);

/** @brief Fire due timers: timed-out requests complete with
 *  SMBX_ERR_TIMEOUT. @return 0; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_client_handle_expiry(smbx_client *cli, uint64_t now_ns);

/** @brief Close and free a connection; a live one is torn down first
 *  (its requests complete with SMBX_ERR_CLOSED, delivered as events that
 *  are then dropped with the rest of the connection's queued events).
 *  Sessions set up on it end. @return 0; SMBX_ERR_NOTFOUND.
 *  @since 0.1.0 */
SMBX_API int smbx_client_close_conn(smbx_client *cli, uint64_t conn,
                                    uint64_t now_ns);

/** @brief Tear a connection down now (e.g. the socket failed): every
 *  request completes with `err` (a fatal code; SMBX_ERR_TRANSPORT if
 *  not) as RESPONSE events, then CONN_DOWN. The handle stays valid until
 *  smbx_client_close_conn(). @return 0; SMBX_ERR_NOTFOUND.
 *  @since 0.1.0 */
SMBX_API int smbx_client_abort_conn(smbx_client *cli, uint64_t conn, int err,
                                    uint64_t now_ns);

/** @brief Live state of a connection. @since 0.1.0 */
SMBX_API int smbx_client_conn_info(const smbx_client *cli, uint64_t conn,
                                   smbx_conn_info *info);

/** @brief The connection's sticky error with reason and offset.
 *  @since 0.1.0 */
SMBX_API int smbx_client_conn_error(const smbx_client *cli, uint64_t conn,
                                    smbx_error_detail *detail);

#ifdef __cplusplus
}
#endif

#endif /* SMBX_CLIENT_H */
