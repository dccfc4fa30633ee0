/* SPDX-License-Identifier: MIT */
/* lib/conn (rank 4): one SMB2 connection, client or server role, over
 * Direct TCP (an smbx_tcp_framer it owns) or SMB Direct (an smbx_smbd
 * engine it is given and then owns). Internal API for the node layer
 * (lib/server, lib/client); see docs/conn.md and smb2.md sec. 6.
 *
 * What the connection does
 * ------------------------
 * - MessageId window and credits (smb2.md 6.1). Server: every request's ids
 *   [MessageId, MessageId + max(1, CreditCharge)) must lie in [low, high)
 *   and be unseen (a bitmap), else the connection is dropped without a
 *   response; CreditCharge is checked against the payload (LARGE_MTU) and
 *   credits are granted in every response (policy below). Client: ids are
 *   taken lowest first, a request never spends more credits than it holds
 *   (SMBX_ERR_AGAIN), CreditCharge is computed from the PDU, every
 *   response is matched to its request and checked.
 * - Compounds (6.2). Server: unrelated members are delivered at once;
 *   members of a related chain are delivered one at a time, the next one
 *   after the owner answered the previous (so it can resolve "inherit"
 *   ids): SessionId / TreeId all-ones are replaced in the delivered header
 *   and the FileId to use is given in smbx__conn_pdu.fileid. Chain errors
 *   (RELATED on the first member, mixed styles, missing ids, a failed
 *   CREATE) are answered by the connection itself with the spec's status.
 *   Responses are sent one transport message per PDU, or, with
 *   SMBX__CONN_F_COMPOUND_RESPONSES, a compound request's responses as
 *   one compounded message (see docs/conn.md).
 * - Async (6.3): smbx__conn_go_async() sends the interim STATUS_PENDING
 *   with an AsyncId; the final response goes out ASYNC with CreditResponse
 *   0. CANCEL is handled here (server: upcall cancel(); client:
 *   smbx__conn_cancel()).
 * - ECHO (6.4): the server connection answers ECHO itself unless
 *   SMBX__CONN_F_DELIVER_ECHO is set.
 * - Signing / encryption (6.5) through the keys() upcall and the
 *   smbx_smb2_sign/verify/encrypt/decrypt helpers; the connection-level
 *   3.1.1 preauth hash over NEGOTIATE request + response.
 * - Timeouts (client): each request has a deadline from now_ns;
 *   smbx__conn_expiry() / smbx__conn_handle_expiry().
 * - Teardown: every outstanding client request is completed exactly once
 *   (complete() with an error), every outstanding server request is
 *   aborted exactly once (abort()), then down() is called once.
 * - Memory: everything is allocated in smbx__conn_new_*() from the
 *   settings (request slab, window bitmap, MessageId hash, hold table,
 *   event ring); the steady state allocates nothing. The only later
 *   allocation is the framer's reassembly buffer (grows to the largest
 *   split message, then kept; reserve it with settings.tcp_reserve).
 *
 * Buffers
 * -------
 * Outgoing: the owner encodes a message (one PDU, or a compound already
 * linked with smbx_smb2_chain_link()) into its own writable buffer at
 * `buf + SMBX__CONN_HEADROOM`; the connection patches header fields in
 * place, signs in place, writes the Direct TCP prefix and/or the 52-byte
 * TRANSFORM header into the headroom (encrypting in place) and hands the
 * result to the transport before returning (TCP: the send() upcall, which
 * must copy or write it before returning; SMB Direct: smbx_smbd_send(),
 * which copies it). The buffer is the owner's again when the call returns.
 *
 * Incoming: PDUs are delivered as views, never copied by the connection.
 * Each delivered view carries a `hold`; the owner passes it to
 * smbx__conn_release() when done (every delivered PDU exactly once; hold 0
 * means nothing to release). A transport message is kept until every hold
 * on it is released and the connection is done with it (a related chain
 * in progress keeps its message):
 *   - SMB Direct: the receive (or reassembly) buffer goes back to the
 *     engine when the message's last hold is released;
 *   - Direct TCP, message complete inside the fed buffer: the view points
 *     into the caller's buffer given to smbx__conn_tcp_feed(), which the
 *     caller must keep until the holds of messages in it are released
 *     (the node's contract with its host);
 *   - Direct TCP, message split across feeds: the view points into the
 *     framer's reassembly buffer; smbx__conn_tcp_feed() returns right after
 *     such a message and refuses more input (SMBX_ERR_AGAIN, nothing
 *     consumed) until its holds are released.
 * Decryption happens in place in the received bytes (TCP feed buffers are
 * therefore writable).
 *
 * Upcalls and re-entrancy
 * -----------------------
 * Upcalls run synchronously inside a smbx__conn_* call. From inside an
 * upcall the owner may call smbx__conn_respond*, smbx__conn_go_async,
 * smbx__conn_send, smbx__conn_cancel and smbx__conn_release on the same
 * connection (never smbx__conn_free). SMB Direct engine events are taken
 * through smbx__smbd_set_upcall, queued, and processed after the engine
 * call returns (the engine must not be re-entered), except a message
 * delivered in place by smbx_smbd_recv with nothing queued: the engine's
 * last step, processed at once (docs/conn.md).
 *
 * Errors
 * ------
 * Calls return 0 / a count, or SMBX_ERR_*. A fatal error (<= SMBX_ERR_FATAL)
 * is sticky: the connection is down and every later call returns it
 * (teardown upcalls have already run). smbx__conn_error_detail() gives the
 * reason and byte offset.
 *
 * Server credit policy (like Windows; settings credits_min/credits_max)
 * ---------------------------------------------------------------------
 * "Held" = ids granted and not yet consumed, plus requests received and
 * not yet answered with credits. A response grants what its request asked
 * (CreditRequest, at least 1), limited so that held stays <= credits_max
 * (credits_min while the owner signals backpressure) and so that the
 * window [low, high) never spans more than the bitmap; it always leaves
 * the client at least 1 credit. NEGOTIATE responses grant >= 1. Interim
 * responses grant; the final response of an async request grants 0.
 */
#ifndef SMBX_CONN_CONN_H
#define SMBX_CONN_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbx/crypto.h>
#include <smbx/event.h>
#include <smbx/smb2.h>
#include <smbx/smbd.h>
#include <smbx/smbx.h>
#include <smbx/transport.h>

typedef struct smbx__conn smbx__conn;

/* Bytes the owner leaves free in front of an outgoing message (Direct TCP
 * prefix 4 + TRANSFORM header 52, rounded up). */
#define SMBX__CONN_HEADROOM 64u

/* Roles */
#define SMBX__CONN_CLIENT 0u
#define SMBX__CONN_SERVER 1u

/* Transports (smbx__conn_info.transport) */
#define SMBX__CONN_TCP 1u
#define SMBX__CONN_SMBD 2u

/* settings.flags */
#define SMBX__CONN_F_DELIVER_ECHO 0x1u /* server: deliver ECHO requests to
                                          the owner instead of answering */
#define SMBX__CONN_F_TIMEOUT_FATAL 0x2u /* client: a request timeout tears
                                           the connection down */
#define SMBX__CONN_F_NO_PREAUTH 0x4u /* do not hash NEGOTIATE */
#define SMBX__CONN_F_COMPOUND_RESPONSES 0x8u /* server: send the responses of
                                          a compound request (related or
                                          not) as one compounded message
                                          (as Windows and Samba do; up to
                                          settings.compound_buf bytes; an
                                          interim response or a response
                                          that does not fit sends what was
                                          gathered first) */
#define SMBX__CONN_F_MIXED_COMPOUNDS 0x10u /* server: run a chain that mixes
                                          RELATED and unrelated members
                                          member by member (Windows,
                                          Samba) instead of failing each
                                          with INVALID_PARAMETER */

typedef struct smbx__conn_settings {
  uint32_t role;          /* SMBX__CONN_CLIENT / SMBX__CONN_SERVER */
  uint32_t flags;         /* SMBX__CONN_F_* */
  uint32_t max_requests;  /* request slots (server: received, not answered;
                             client: sent, not completed): 8192 */
  uint32_t credits_max;   /* server: most credits a client holds: 8192 */
  uint32_t credits_min;   /* server: cap while the owner signals
                             backpressure: 512 */
  uint32_t credit_target; /* client: CreditRequest aims to hold this: 512 */
  uint32_t max_msg;       /* largest transport message accepted:
                             8 MiB + 64 KiB (framer max_frame) */
  uint32_t max_chain;     /* PDUs per compound: SMBX_SMB2_CHAIN_MAX_DEFAULT */
  uint32_t max_holds;     /* transport messages delivered and not yet
                             released: 1024 */
  uint32_t tcp_reserve;   /* framer reassembly buffer allocated at setup:
                             0 (grows on demand) */
  uint64_t request_timeout_ns; /* client: per request, 0 = none: 60 s */
  uint64_t async_timeout_ns;   /* client: after an interim, 0 = none: 0 */
  uint64_t hash_seed;     /* seeds the MessageId hash (take it from the
                             host's random source); 0 is allowed */
  uint32_t compound_buf;  /* with SMBX__CONN_F_COMPOUND_RESPONSES: 64 KiB */
} smbx__conn_settings;

/* Fills the defaults for a role. */
void smbx__conn_settings_default(smbx__conn_settings *s, uint32_t role);

/* ---- delivered PDUs ----------------------------------------------------- */

/* smbx__conn_pdu.flags */
#define SMBX__CONN_PDU_RELATED 0x001u   /* member of a related chain */
#define SMBX__CONN_PDU_ENCRYPTED 0x002u /* arrived inside a TRANSFORM */
#define SMBX__CONN_PDU_SIGNED 0x004u    /* SIGNED flag set in the header */
#define SMBX__CONN_PDU_VERIFIED 0x008u  /* signature checked and good */
#define SMBX__CONN_PDU_SIG_UNCHECKED 0x010u /* signed, no key known (e.g. a
                                          binding SESSION_SETUP): the owner
                                          verifies if it must */
#define SMBX__CONN_PDU_SIG_BAD 0x020u   /* server, SESSION_SETUP only: the
                                          signature did not verify (other
                                          commands are failed with
                                          ACCESS_DENIED by the connection) */
#define SMBX__CONN_PDU_FILEID 0x040u    /* fileid holds the FileId to use
                                          (inherited in a related chain) */
#define SMBX__CONN_PDU_SMB1 0x080u      /* server: an SMB1 multi-protocol
                                          NEGOTIATE (data is the SMB1
                                          message; hdr synthesised:
                                          NEGOTIATE, MessageId 0). Answer
                                          with an SMB2 NEGOTIATE response. */
#define SMBX__CONN_PDU_INTERIM 0x100u   /* client: STATUS_PENDING interim */
#define SMBX__CONN_PDU_LAST 0x200u      /* last PDU of its transport message */
#define SMBX__CONN_PDU_INVALIDATED 0x400u /* client, SMB Direct: the message
                                          came WITH_INVALIDATE of
                                          invalidated_rkey */

typedef struct smbx__conn_pdu {
  const uint8_t *data;  /* the PDU from its header, `len` bytes (a compound
                           member includes its padding up to NextCommand) */
  size_t len;
  smbx_smb2_hdr hdr;    /* decoded header; in related chains SessionId and
                           TreeId "inherit" values are replaced by the
                           inherited ones */
  smbx_smb2_fileid fileid; /* with SMBX__CONN_PDU_FILEID */
  uint64_t req;         /* request handle (server: answer with it; client:
                           the handle smbx__conn_send returned) */
  uint64_t user;        /* client: the cookie given to smbx__conn_send */
  uint64_t hold;        /* pass to smbx__conn_release(); 0 = nothing */
  uint32_t flags;       /* SMBX__CONN_PDU_* */
  uint16_t chain_index; /* 0-based position in its compound */
  uint16_t chain_count; /* server: members in the compound; client: 0 */
  uint32_t invalidated_rkey; /* with SMBX__CONN_PDU_INVALIDATED */
} smbx__conn_pdu;

/* ---- keys --------------------------------------------------------------- */

/* smbx__conn_keys.flags */
#define SMBX__CONN_KEYS_SIGNING 0x1u /* keys.signing is valid */
#define SMBX__CONN_KEYS_CIPHER 0x2u  /* keys.encryption/decryption valid */
#define SMBX__CONN_KEYS_SIGN_ALL 0x4u /* the session requires signing */
#define SMBX__CONN_KEYS_ENCRYPT_ALL 0x8u /* the session encrypts everything
                                            (server: also the responses to
                                            unencrypted requests) */

typedef struct smbx__conn_keys {
  uint32_t flags;      /* SMBX__CONN_KEYS_* */
  smbx_smb2_keys keys; /* from smbx_smb2_derive_keys() for this role; for a
                          bound channel: that channel's signing key */
} smbx__conn_keys;

/* ---- upcalls (implemented by the owner) --------------------------------- */

typedef struct smbx__conn_upcalls {
  void *ctx; /* first argument of every upcall */

  /* TCP: write `len` bytes (prefix included) to the stream, now (copy
   * them: the buffer is reused). Return 0, or a negative code: the
   * connection then dies with SMBX_ERR_TRANSPORT. SMBX_ERR_AGAIN is not
   * allowed (the host buffers). Must not call back into the connection.
   * Required for TCP. */
  int (*send)(void *ctx, const uint8_t *p, size_t len);

  /* Server: a request to answer with smbx__conn_respond*() or
   * smbx__conn_go_async() (pdu->req). Required for the server role. */
  void (*request)(void *ctx, const smbx__conn_pdu *pdu);

  /* Server: the client cancelled request `req` (CANCEL matched it). The
   * owner answers it soon, with STATUS_CANCELLED or normally. Optional. */
  void (*cancel)(void *ctx, uint64_t req);

  /* Server: the connection died with request `req` unanswered; its handle
   * is invalid from now on (respond would return the sticky error).
   * Called once per outstanding request, before down(). Optional. */
  void (*abort)(void *ctx, uint64_t req, int err);

  /* Client: request `req` (cookie `user`) is complete. err 0: `resp` is
   * its final response (status inside hdr.status). err < 0: completed
   * locally, resp NULL: SMBX_ERR_TIMEOUT (deadline passed),
   * SMBX_ERR_AUTH (response signature bad or missing), or the sticky
   * error at teardown (SMBX_ERR_CLOSED after a clean close). Called
   * exactly once per request. Required for the client role. */
  void (*complete)(void *ctx, uint64_t req, uint64_t user, int err,
                   const smbx__conn_pdu *resp);

  /* Client: an interim STATUS_PENDING arrived for `req` (resp->hdr.async_id
   * is its AsyncId; resp->hold must be released). Optional (if NULL the
   * hold is released by the connection). */
  void (*interim)(void *ctx, uint64_t req, uint64_t user,
                  const smbx__conn_pdu *resp);

  /* Client: an unsolicited OPLOCK_BREAK (MessageId all-ones: oplock or
   * lease break notification). Release pdu->hold. Optional (dropped). */
  void (*notify)(void *ctx, const smbx__conn_pdu *pdu);

  /* Credits or transport send space became available after a call
   * returned SMBX_ERR_AGAIN. Optional. */
  void (*writable)(void *ctx);

  /* Key lookup for SessionId (signing, verification, TRANSFORM). Return
   * 0 with *out filled, or SMBX_ERR_NOTFOUND. Optional: without it
   * nothing is signed or verified and TRANSFORM messages are fatal. */
  int (*keys)(void *ctx, uint64_t session_id, smbx__conn_keys *out);

  /* SMB Direct engine events other than MESSAGE and SEND_DONE
   * (NEGOTIATED, DISCONNECTED: the host must disconnect/flush the QP,
   * RECV_BUFFER: a lent buffer is the host's again, CLOSED), after the
   * connection has acted on them. A SEND_DONE is the connection's alone
   * (it frees send space the connection retries with, then writable()):
   * it is not reported. Optional. */
  void (*smbd_event)(void *ctx, const smbx_smbd_event *ev);

  /* The connection went down (once): err 0 after smbx__conn_close() with
   * nothing outstanding; otherwise the sticky code (SMBX_ERR_PROTO for a
   * peer violation: over TCP the host closes the socket now). `ntstatus`
   * is a status that explains it, or 0. Optional. */
  void (*down)(void *ctx, int err, uint32_t ntstatus, const char *reason);
} smbx__conn_upcalls;

/* ---- life cycle ---------------------------------------------------------- */

/* Creates a connection over Direct TCP (owns a framer of max_frame
 * s->max_msg). `cr` (copied; may be NULL: no signing, no preauth) supplies
 * the crypto hooks. s, up and a are copied. Returns 0; SMBX_ERR_INVAL
 * (NULL out/s/up, missing required upcall, bad settings); SMBX_ERR_NOMEM. */
int smbx__conn_new_tcp(smbx__conn **out, const smbx__conn_settings *s,
                       const smbx__conn_upcalls *up, const smbx_crypto *cr,
                       const smbx_allocator *a, uint64_t now_ns);

/* Creates a connection over an SMB Direct engine `d` (created by the owner
 * with smbx_smbd_new, before its CM ESTABLISHED). On success the
 * connection owns `d` (smbx__conn_free frees it) and installs its upcall;
 * on failure the caller still owns it. Report the engine's completions
 * and CM events through smbx__conn_smbd_*() below, never directly. */
int smbx__conn_new_smbd(smbx__conn **out, const smbx__conn_settings *s,
                        const smbx__conn_upcalls *up, const smbx_crypto *cr,
                        smbx_smbd *d, const smbx_allocator *a,
                        uint64_t now_ns);

/* What both nodes do to add an SMB Direct connection once their own
 * record exists: creates the engine from st (already copied, role set)
 * over t and bufs, then the connection over it. On failure the engine is
 * freed again. Returns smbx_smbd_new's or smbx__conn_new_smbd's error. */
int smbx__conn_new_smbd_engine(smbx__conn **out, const smbx__conn_settings *s,
                               const smbx__conn_upcalls *up,
                               const smbx_crypto *cr,
                               const smbx_smbd_settings *st,
                               const smbx_transport *t,
                               const smbx_smbd_recv_buf *bufs, size_t n,
                               const smbx_allocator *a, uint64_t now_ns);

/* The caller's versioned TCP hooks into dst (fields past src->struct_size
 * stay zero). SMBX_ERR_INVAL if struct_size is too small for a size_t or
 * send is missing. */
int smbx__conn_tcp_hooks_copy(smbx_tcp_hooks *dst, const smbx_tcp_hooks *src);

/* The caller's versioned SMB Direct settings (src may be NULL: defaults)
 * into dst with struct_size set and role forced. SMBX_ERR_INVAL if
 * src->struct_size is too small for a size_t. */
int smbx__conn_smbd_settings_copy(smbx_smbd_settings *dst,
                                  const smbx_smbd_settings *src,
                                  uint32_t role);

/* Frees everything without upcalls (NULL is a no-op). Outstanding holds
 * become invalid; over SMB Direct the engine is freed (its receive buffers
 * are the host's again). Call smbx__conn_close() or
 * smbx__conn_abort() first if requests must be completed. */
void smbx__conn_free(smbx__conn *c);

/* Graceful close: completes/aborts every outstanding request with
 * SMBX_ERR_CLOSED, calls down(0), over SMB Direct asks the engine to
 * close. Later calls return SMBX_ERR_CLOSED. Returns 0 or the sticky code. */
int smbx__conn_close(smbx__conn *c, uint64_t now_ns);

/* Tears the connection down with `err` (a fatal code, e.g.
 * SMBX_ERR_TRANSPORT when the host's socket failed). Returns the sticky
 * code. */
int smbx__conn_abort(smbx__conn *c, int err, const char *reason,
                     uint64_t now_ns);

/* Tears the connection down with `err` kept as given (any negative code,
 * e.g. SMBX_ERR_NOMEM when the owner could not queue an event). Unlike
 * smbx__conn_abort it may be called from inside an upcall: the teardown
 * upcalls (complete/abort, down) then run nested in that call and the
 * connection stops processing the message it was delivering. Returns the
 * sticky code. */
int smbx__conn_fail(smbx__conn *c, int err, const char *reason,
                    uint64_t now_ns);

/* ---- transport input ----------------------------------------------------- */

/* TCP: feed stream bytes (writable: decryption is in place). Processes
 * every complete message, calling upcalls. *consumed gets the bytes used.
 * Returns 0 when all of `len` was used; SMBX_ERR_AGAIN when it stopped
 * early (a split message's holds are outstanding: release them and feed
 * the rest, data + *consumed, again); the sticky fatal code when the
 * stream or a message killed the connection (SMBX_ERR_PROTO). */
int smbx__conn_tcp_feed(smbx__conn *c, uint8_t *data, size_t len,
                        size_t *consumed, uint64_t now_ns);

/* SMB Direct: the engine calls, wrapped (same arguments and returns as
 * smbx_smbd_recv / send_done / cm_event); queued engine events are
 * processed before these return. */
int smbx__conn_smbd_recv(smbx__conn *c, const smbx_wc *wc, uint64_t now_ns);
int smbx__conn_smbd_send_done(smbx__conn *c, const smbx_wc *wc,
                              uint64_t now_ns);
int smbx__conn_smbd_cm_event(smbx__conn *c, uint32_t event, uint32_t ird,
                             uint32_t ord, uint64_t now_ns);
/* The engine, for read-only queries (smbx_smbd_get_params); NULL on TCP. */
smbx_smbd *smbx__conn_smbd(const smbx__conn *c);
/* The SMB Direct peers' negotiated MaxReadWriteSize (0 on TCP or before
 * negotiation) and, if ord is not NULL, the ORD the connection manager
 * reported: what an RDMA I/O needs, without building the whole
 * smbx_smbd_params snapshot per request. */
uint32_t smbx__conn_smbd_max_rw(const smbx__conn *c, uint32_t *ord);

/* Hand back a delivered PDU's hold. Returns 0 (hold 0 is a no-op);
 * SMBX_ERR_NOTFOUND for an unknown or already released hold. Valid after
 * the connection died (until free). */
int smbx__conn_release(smbx__conn *c, uint64_t hold, uint64_t now_ns);

/* ---- negotiated state ---------------------------------------------------- */

/* Dialect and capabilities after NEGOTIATE (the owner decodes it): enables
 * CreditCharge (2.1+ with SMBX_SMB2_CAP_LARGE_MTU) and 3.x request header
 * rules. Before this call the connection behaves as 2.0.2 (charge 0, one
 * id per request). Returns 0; SMBX_ERR_INVAL for an unknown dialect. */
int smbx__conn_set_dialect(smbx__conn *c, uint16_t dialect,
                           uint32_t capabilities);

/* Server: while on, grants keep clients at most credits_min (never 0). */
void smbx__conn_set_backpressure(smbx__conn *c, bool on);

/* Connection preauth integrity hash (3.1.1): SHA-512 chain over the
 * NEGOTIATE request then response (smb2.md 6.5), maintained by the
 * connection through the crypto hooks when a sha512 hook exists. A session
 * starts from this value; hash its SESSION_SETUP legs with
 * smbx__conn_preauth_update() (requests the client sends: pass the hash
 * in smbx__conn_send_opts.preauth so it covers the bytes as sent).
 * Returns 0 with out filled; SMBX_ERR_STATE before the NEGOTIATE response
 * was sent/received; SMBX_ERR_UNSUPPORTED without a sha512 hook. */
int smbx__conn_preauth(const smbx__conn *c, uint8_t out[64]);
/* hash = SHA-512(hash || pdu) with the connection's crypto hooks. */
int smbx__conn_preauth_update(const smbx__conn *c, uint8_t hash[64],
                              const uint8_t *pdu, size_t len);

/* ---- sending ------------------------------------------------------------- */

/* smbx__conn_send_opts.flags */
#define SMBX__CONN_SEND_SIGN 0x1u    /* sign even if the rules say not */
#define SMBX__CONN_SEND_NO_SIGN 0x2u /* never sign */
#define SMBX__CONN_SEND_ENCRYPT 0x4u /* encrypt (needs keys with a cipher) */
#define SMBX__CONN_SEND_NO_ENCRYPT 0x8u /* never encrypt (NEGOTIATE,
                                           binding SESSION_SETUP) */

typedef struct smbx__conn_send_opts {
  uint32_t flags;         /* SMBX__CONN_SEND_* */
  uint16_t credit_request; /* client: CreditRequest per PDU; 0 = automatic
                              (aim at settings.credit_target) */
  uint16_t reserved;
  uint64_t timeout_ns;    /* client: 0 = settings.request_timeout_ns,
                             UINT64_MAX = none */
  uint8_t *preauth;       /* optional 64-byte hash updated with each PDU as
                             sent (after signing, before encryption) */
} smbx__conn_send_opts;

/* Client: send a request message: one PDU or a compound chain (members
 * linked by the owner with smbx_smb2_chain_link) at buf + HEADROOM, `len`
 * bytes; cap = bytes available from buf. The owner fills each header's
 * Command, Flags (RELATED_OPERATIONS etc.), SessionId, TreeId, NextCommand
 * and (3.x) ChannelSequence; the connection sets MessageId, CreditCharge
 * (computed from the PDU: READ Length, WRITE Length/RemainingBytes,
 * IOCTL max(InputCount, MaxOutputResponse), QUERY_DIRECTORY /
 * CHANGE_NOTIFY OutputBufferLength, QUERY_INFO max(Output, Input)),
 * CreditRequest, Status (2.x: 0), clears SERVER_TO_REDIR/ASYNC, signs
 * (session keys SIGN_ALL or opts SIGN; never NEGOTIATE), encrypts (keys
 * ENCRYPT_ALL or opts ENCRYPT), frames and sends. Each PDU becomes one
 * request: reqs[i] (optional, n_reqs >= PDUs) gets its handle; all carry
 * `user`. Returns the number of PDUs; SMBX_ERR_AGAIN (not enough credits
 * or request slots, or SMB Direct send buffers full: nothing was sent;
 * writable() tells when to retry); SMBX_ERR_RANGE (a charge can never be
 * met: above 65535 or above the credits the server will hold, or a payload
 * > 64 KiB without LARGE_MTU); SMBX_ERR_NOMEM (no memory for the
 * MessageId table or a send buffer: nothing was sent); SMBX_ERR_INVAL (bad
 * chain, NULL, cap); the sticky code. */
int smbx__conn_send(smbx__conn *c, uint8_t *buf, size_t cap, size_t len,
                    const smbx__conn_send_opts *o, uint64_t user,
                    uint64_t *reqs, size_t n_reqs, uint64_t now_ns);

/* Client: send a CANCEL for request `req` (its MessageId; after an interim
 * ASYNC with its AsyncId; its SessionId; signed/encrypted like it). No
 * credit is used. The request still completes through complete().
 * Returns 0; SMBX_ERR_NOTFOUND (unknown or completed); the sticky code. */
int smbx__conn_cancel(smbx__conn *c, uint64_t req, uint64_t now_ns);

/* Server: the header a response to `req` starts from: Command, MessageId,
 * SessionId/TreeId as delivered, Flags SERVER_TO_REDIR (+ ASYNC/AsyncId if
 * async), Status = status, CreditCharge = the request's. Returns 0;
 * SMBX_ERR_NOTFOUND. */
int smbx__conn_resp_hdr(const smbx__conn *c, uint64_t req, uint32_t status,
                        smbx_smb2_hdr *h);

/* Server: send the response to `req`: one PDU at buf + HEADROOM, `len`
 * bytes (cap from buf). The connection sets Command, MessageId,
 * CreditCharge, CreditResponse (policy above), SERVER_TO_REDIR, the
 * ASYNC form when async, NextCommand 0, then signs (request signed or
 * keys SIGN_ALL, not for interim/PENDING; opts override), encrypts
 * (request encrypted or keys ENCRYPT_ALL; opts override), frames, sends.
 * Status, SessionId, TreeId and the body are the owner's. The request
 * handle is then invalid; a related chain continues with its next member.
 * Returns 0; SMBX_ERR_NOTFOUND (stale req); SMBX_ERR_AGAIN (SMB Direct
 * send buffers full: nothing sent, retry after writable()); SMBX_ERR_INVAL;
 * the sticky code (the handle is released). */
int smbx__conn_respond(smbx__conn *c, uint64_t req, uint8_t *buf, size_t cap,
                       size_t len, const smbx__conn_send_opts *o,
                       uint64_t now_ns);

/* Server: answer `req` with an ERROR response body (smb2.md 4.14) built by
 * the connection: ByteCount = data_len (data may be NULL when 0), 3.1.1
 * ErrorContextCount = ctx_count. Same rules and returns as respond. */
int smbx__conn_respond_error(smbx__conn *c, uint64_t req, uint32_t status,
                             uint8_t ctx_count, const uint8_t *data,
                             size_t data_len, uint64_t now_ns);

/* SMB Direct: the next message this connection sends (a response, an
 * error response) goes as SEND_WITH_INVALIDATE of rkey (smbd.md sec. 4:
 * the response to an RDMA_V1_INVALIDATE request); on = false disarms.
 * The owner arms it right before a respond call and disarms right after,
 * whatever the outcome. No effect over TCP. */
void smbx__conn_invalidate_next(smbx__conn *c, bool on, uint32_t rkey);

/* Server: send the interim STATUS_PENDING for `req` (6.3); *async_id gets
 * its AsyncId (non-zero, unique on the connection). Credits are granted
 * here. Returns 0; SMBX_ERR_STATE (already async); SMBX_ERR_NOTFOUND;
 * SMBX_ERR_AGAIN; the sticky code. */
int smbx__conn_go_async(smbx__conn *c, uint64_t req, uint64_t *async_id,
                        uint64_t now_ns);

/* Server: send an unsolicited OPLOCK_BREAK notification (oplock break,
 * 24-byte body, or lease break, 44-byte body) at buf + HEADROOM, `len`
 * bytes = 64 + body (cap from buf). The connection writes the whole
 * header (OPLOCK_BREAK, SERVER_TO_REDIR, MessageId all-ones, CreditCharge
 * and CreditResponse 0, SessionId and TreeId 0: smb2.md 4.13), never signs
 * it, and encrypts it in a TRANSFORM with the keys of `session_id` (the
 * session of the open being broken; 0: none) when that session encrypts
 * everything (keys ENCRYPT_ALL with a cipher, 3.x), then sends it.
 * Returns 0; SMBX_ERR_INVAL (NULL, cap, len not 88 or 108); SMBX_ERR_STATE
 * (client role, or before smbx__conn_set_dialect); SMBX_ERR_AGAIN (SMB
 * Direct send buffers full: nothing sent, retry after writable()); the
 * sticky code. */
int smbx__conn_notify(smbx__conn *c, uint8_t *buf, size_t cap, size_t len,
                      uint64_t session_id, uint64_t now_ns);

/* ---- time ---------------------------------------------------------------- */

/* Next deadline (request timeouts, SMB Direct timers); UINT64_MAX: none. */
uint64_t smbx__conn_expiry(const smbx__conn *c);
/* Fires what is due: timed-out requests complete with SMBX_ERR_TIMEOUT
 * (their MessageIds stay reserved: a late response is dropped silently);
 * with SMBX__CONN_F_TIMEOUT_FATAL the connection dies instead. Returns 0
 * or the sticky code. */
int smbx__conn_handle_expiry(smbx__conn *c, uint64_t now_ns);

/* Client: the completion upcalls this connection still owes its owner:
 * requests sent and not completed (timed-out ones already completed
 * excluded), plus 1 for down() until it was called. The count drops
 * before each complete() / down() upcall runs, so an owner that always
 * keeps room for the sum over its connections (and what its own down()
 * handler adds) never has to allocate inside those upcalls. 0 for the
 * server role. */
uint32_t smbx__conn_owed(const smbx__conn *c);

/* ---- inspection ---------------------------------------------------------- */

typedef struct smbx__conn_info {
  uint32_t role, transport;
  uint16_t dialect;
  uint16_t reserved;
  uint32_t capabilities;
  uint64_t win_low;     /* server: lowest id not yet seen; client: next id */
  uint64_t win_high;    /* first id not granted */
  uint32_t credits;     /* client: ids it may still use (high - next);
                           server: credits the client holds */
  uint32_t outstanding; /* live request slots */
  uint32_t holds;       /* unreleased message holds */
  uint32_t async;       /* server: requests gone async */
  int err;              /* sticky error or 0 */
  uint32_t reserved2;
  uint64_t requests, responses; /* counters: PDUs in, PDUs out (server) or
                                   out, in (client) */
} smbx__conn_info;

void smbx__conn_get_info(const smbx__conn *c, smbx__conn_info *out);

/* The sticky error (0 while healthy) with its reason and byte offset. */
int smbx__conn_error_detail(const smbx__conn *c, smbx_error_detail *d);

#endif
