/* SPDX-License-Identifier: MIT */
/** @file smbx/smbd.h
 *  @brief SMB Direct ([MS-SMBD]): stateless wire codec and the sans-I/O
 *  connection engine `smbx_smbd` (both roles).
 *
 *  The engine never owns a queue pair, socket or clock. The host lends it
 *  registered receive buffers, implements smbx_transport, and reports work
 *  completions, connection-manager events and time. The engine reports
 *  everything through events (smbx_smbd_next_event). See docs/smbd.md for
 *  states, credits, buffers and the teardown rule.
 */
#ifndef SMBX_SMBD_H
#define SMBX_SMBD_H

#include <stddef.h>
#include <stdint.h>

#include <smbx/smbx.h>
#include <smbx/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @name Wire constants ([MS-SMBD] 2.2, 3.1.5)
 *  @{ */
#define SMBX_SMBD_VERSION 0x0100u
#define SMBX_SMBD_NEGOTIATE_REQ_SIZE 20u
#define SMBX_SMBD_NEGOTIATE_RESP_SIZE 32u
#define SMBX_SMBD_DATA_HDR_EMPTY 20u  /**< an empty data message */
#define SMBX_SMBD_DATA_HDR_SIZE 24u   /**< header with Padding; payload offset */
#define SMBX_SMBD_BUFFER_DESC_SIZE 16u
#define SMBX_SMBD_MIN_RECEIVE_SIZE 128u
#define SMBX_SMBD_MIN_FRAGMENTED_SIZE 131072u
#define SMBX_SMBD_FLAG_RESPONSE_REQUESTED 0x0001u
#define SMBX_SMBD_STATUS_NOT_SUPPORTED 0xC00000BBu
#define SMBX_SMBD_STATUS_INSUFFICIENT_RESOURCES 0xC000009Au
/** @} */

/** @brief Negotiate Request ([MS-SMBD] 2.2.1). @since 0.1.0 */
typedef struct smbx_smbd_negotiate_req {
  uint16_t min_version, max_version, reserved, credits_requested;
  uint32_t preferred_send_size, max_receive_size, max_fragmented_size;
} smbx_smbd_negotiate_req;

/** @brief Negotiate Response ([MS-SMBD] 2.2.2). @since 0.1.0 */
typedef struct smbx_smbd_negotiate_resp {
  uint16_t min_version, max_version, negotiated_version, reserved;
  uint16_t credits_requested, credits_granted;
  uint32_t status; /**< NTSTATUS */
  uint32_t max_read_write_size, preferred_send_size, max_receive_size;
  uint32_t max_fragmented_size;
} smbx_smbd_negotiate_resp;

/** @brief Data Transfer message header ([MS-SMBD] 2.2.3) plus a view of
 *  its payload. @since 0.1.0 */
typedef struct smbx_smbd_data {
  uint16_t credits_requested, credits_granted, flags, reserved;
  uint32_t remaining_data_length, data_offset, data_length, padding;
  const uint8_t *payload; /**< decode: view into the input (NULL if empty) */
} smbx_smbd_data;

/** @brief SMB_DIRECT_BUFFER_DESCRIPTOR_V1 ([MS-SMBD] 2.2.3.1).
 *  @since 0.1.0 */
typedef struct smbx_smbd_buffer_desc {
  uint64_t offset; /**< RDMA address (IOVA) */
  uint32_t token;  /**< rkey / STag */
  uint32_t length;
} smbx_smbd_buffer_desc;

/** @brief Decode flag: reject DataLength > 0 with DataOffset < 24 (the spec
 *  allows it; Linux calls it "strange but valid"). @since 0.1.0 */
#define SMBX_SMBD_DECODE_STRICT 0x1u

/** @brief Decode a Negotiate Request.
 *  Checks the layout only (>= 20 bytes; trailing bytes are allowed, MSTS
 *  sends 512); version and value checks are the receiver's
 *  ([MS-SMBD] 3.1.5.6, done by the engine).
 *  @param p,len input bytes (not retained)
 *  @param out decoded fields
 *  @param detail optional; on failure the reason and byte offset
 *  @return 0; SMBX_ERR_DECODE if shorter than 20 bytes; SMBX_ERR_INVAL on
 *          NULL out.
 *  @since 0.1.0 */
SMBX_API int smbx_smbd_decode_negotiate_req(const uint8_t *p, size_t len,
                                            smbx_smbd_negotiate_req *out,
                                            smbx_error_detail *detail);

/** @brief Decode a Negotiate Response (layout only, >= 32 bytes).
 *  @return 0; SMBX_ERR_DECODE if shorter than 32 bytes; SMBX_ERR_INVAL on
 *          NULL out. Other parameters as the request decoder.
 *  @since 0.1.0 */
SMBX_API int smbx_smbd_decode_negotiate_resp(const uint8_t *p, size_t len,
                                             smbx_smbd_negotiate_resp *out,
                                             smbx_error_detail *detail);

/** @brief Decode and validate a Data Transfer message with every receiver
 *  rule of [MS-SMBD] 3.1.5.8: length >= 20, CreditsRequested >= 1,
 *  DataOffset 8-aligned, DataOffset + DataLength within len,
 *  DataLength + RemainingDataLength <= max_fragmented_size (64-bit sums).
 *  Unknown Flags bits and Reserved are ignored; trailing bytes too.
 *  @param p,len the received message (payload view points into it)
 *  @param max_fragmented_size the receiver's MaxFragmentedRecvSize;
 *         0 = no limit
 *  @param flags SMBX_SMBD_DECODE_STRICT or 0
 *  @param out decoded header; out->payload views p
 *  @param detail optional reason and offset on failure
 *  @return 0; SMBX_ERR_DECODE on any violation; SMBX_ERR_INVAL on NULL out.
 *  @since 0.1.0 */
SMBX_API int smbx_smbd_decode_data(const uint8_t *p, size_t len,
                                   uint32_t max_fragmented_size,
                                   uint32_t flags, smbx_smbd_data *out,
                                   smbx_error_detail *detail);

/** @brief Encode a Negotiate Request (20 bytes).
 *  @return bytes written (20); SMBX_ERR_NOBUF if cap < 20; SMBX_ERR_INVAL
 *          on NULL arguments.
 *  @since 0.1.0 */
SMBX_API int smbx_smbd_encode_negotiate_req(const smbx_smbd_negotiate_req *m,
                                            uint8_t *out, size_t cap);

/** @brief Encode a Negotiate Response (32 bytes).
 *  @return bytes written (32); SMBX_ERR_NOBUF; SMBX_ERR_INVAL.
 *  @since 0.1.0 */
SMBX_API int smbx_smbd_encode_negotiate_resp(const smbx_smbd_negotiate_resp *m,
                                             uint8_t *out, size_t cap);

/** @brief Encode a Data Transfer message: 20 bytes when m->data_length is
 *  0 (DataOffset, Padding and RemainingDataLength written as given),
 *  else the 24-byte header then m->data_length bytes of m->payload placed
 *  at m->data_offset (must be >= 24 and 8-aligned; the gap is zeroed).
 *  @return bytes written; SMBX_ERR_NOBUF if cap is too small;
 *          SMBX_ERR_INVAL on NULL arguments or a bad data_offset.
 *  @since 0.1.0 */
SMBX_API int smbx_smbd_encode_data(const smbx_smbd_data *m, uint8_t *out,
                                   size_t cap);

/** @brief Decode a list of SMB_DIRECT_BUFFER_DESCRIPTOR_V1.
 *  @param p,len channel info bytes; len must be a non-zero multiple of 16
 *         and at most 4095 entries (u16 channel-info length)
 *  @param out,cap output array (may be NULL to count)
 *  @param n set to the number of descriptors in p
 *  @param detail optional
 *  @return 0; SMBX_ERR_DECODE on a bad length or a descriptor of Length 0;
 *          SMBX_ERR_NOBUF if cap < *n; SMBX_ERR_INVAL on NULL n.
 *  @since 0.1.0 */
SMBX_API int smbx_smbd_decode_buffer_descs(const uint8_t *p, size_t len,
                                           smbx_smbd_buffer_desc *out,
                                           size_t cap, size_t *n,
                                           smbx_error_detail *detail);

/** @brief Encode n buffer descriptors (16 bytes each).
 *  @return bytes written; SMBX_ERR_NOBUF; SMBX_ERR_INVAL (NULL, n = 0 or
 *          n > 4095).
 *  @since 0.1.0 */
SMBX_API int smbx_smbd_encode_buffer_descs(const smbx_smbd_buffer_desc *d,
                                           size_t n, uint8_t *out, size_t cap);

/* ------------------------------------------------------------------ */
/* Engine                                                               */

/** Opaque SMB Direct connection. @since 0.1.0 */
typedef struct smbx_smbd smbx_smbd;

/** @name Roles
 *  @{ */
#define SMBX_SMBD_ROLE_ACTIVE 0u  /**< connects, sends the Negotiate Request */
#define SMBX_SMBD_ROLE_PASSIVE 1u /**< accepts, answers it */
/** @} */

/** @name Settings flags
 *  @{ */
#define SMBX_SMBD_STRICT 0x1u /**< reject DataLength > 0 with DataOffset < 24 */
/** @} */

/** @brief Engine settings; fill with smbx_smbd_settings_default() first.
 *  Defaults are Windows' ([MS-SMBD] 3.1.1.1 / digest sec. 2). The Linux
 *  peer profile is max_send_size 1364, max_recv_size 1364,
 *  max_fragmented_recv_size 173910.
 *  @since 0.1.0 */
typedef struct smbx_smbd_settings {
  size_t struct_size;
  uint32_t role;                     /**< SMBX_SMBD_ROLE_*; default ACTIVE */
  uint32_t flags;                    /**< SMBX_SMBD_STRICT; default 0 */
  uint32_t recv_credit_max;          /**< ReceiveCreditMax: 255 */
  uint32_t send_credit_target;       /**< SendCreditTarget: 255 */
  uint32_t max_send_size;            /**< MaxSendSize: 1364 */
  uint32_t max_recv_size;            /**< MaxReceiveSize: 8192 */
  uint32_t max_fragmented_recv_size; /**< MaxFragmentedRecvSize: 1 MiB */
  uint32_t max_read_write_size;      /**< MaxReadWriteSize: 1 MiB */
  uint32_t min_read_write_size;      /**< active: fail below this: 4096 */
  uint32_t send_queue_depth;         /**< max posted sends: 255 */
  uint32_t send_buffers;             /**< send slots of max_send_size, at
                                          most (made 32 at a time on need): 800 */
  uint32_t reassembly_buffers;       /**< of up to max_fragmented_recv_size,
                                          allocated on first need: 2 */
  uint64_t keepalive_interval_ns;    /**< idle time before a keepalive: 120 s;
                                          0 = no keepalive */
  uint64_t keepalive_timeout_ns;     /**< wait for its answer: 5 s */
  uint64_t negotiate_timeout_ns;     /**< 0 = role default: active 120 s,
                                          passive 5 s */
  uint64_t zero_credit_timeout_ns;   /**< Windows: 5 s on zero send credits
                                          with data queued; 0 = off (default) */
} smbx_smbd_settings;

/** @brief Fill s with the defaults and store struct_size.
 *  @return 0; SMBX_ERR_INVAL on NULL s or a size smaller than the
 *          struct_size field. @since 0.1.0 */
SMBX_API int smbx_smbd_settings_default(smbx_smbd_settings *s,
                                        size_t struct_size);

/** @brief A receive buffer the host lends: registered memory of at least
 *  max_recv_size bytes. @since 0.1.0 */
typedef struct smbx_smbd_recv_buf {
  void *addr;
  uint32_t length;
  uint32_t reserved;
  uint64_t handle; /**< host registration handle, used in smbx_sge */
} smbx_smbd_recv_buf;

/** @name Connection-manager events (smbx_smbd_cm_event)
 *  @{ */
#define SMBX_SMBD_CM_ESTABLISHED 1u
#define SMBX_SMBD_CM_DISCONNECTED 2u
#define SMBX_SMBD_CM_REJECTED 3u
#define SMBX_SMBD_CM_UNREACHABLE 4u
#define SMBX_SMBD_CM_DEVICE_REMOVAL 5u
#define SMBX_SMBD_CM_CONNECT_ERROR 6u
#define SMBX_SMBD_CM_FATAL 7u /**< QP/CQ fatal async event */
/** @} */

/** @name Event types
 *  @{ */
#define SMBX_SMBD_EV_NEGOTIATED 1u   /**< u.params: final parameters */
#define SMBX_SMBD_EV_MESSAGE 2u      /**< u.message: an upper-layer message */
#define SMBX_SMBD_EV_SEND_DONE 3u    /**< u.send_done: a message fully sent */
#define SMBX_SMBD_EV_DISCONNECTED 4u /**< u.disconnected: host must now
                                          disconnect the QP and flush it */
#define SMBX_SMBD_EV_RECV_BUFFER 5u  /**< u.recv_buf: a lent receive buffer
                                          is the host's again (teardown) */
#define SMBX_SMBD_EV_CLOSED 6u       /**< nothing outstanding; free the engine */
/** @} */

/** @brief Negotiated parameters and live credit counters.
 *  @since 0.1.0 */
typedef struct smbx_smbd_params {
  size_t struct_size;
  uint32_t role, state;
  uint32_t max_send_size, max_recv_size;
  uint32_t max_fragmented_send_size, max_fragmented_recv_size;
  uint32_t max_read_write_size;
  uint32_t send_credits;         /**< SendCredits */
  uint32_t send_credit_target;   /**< SendCreditTarget */
  uint32_t recv_credits;         /**< ReceiveCredits: granted, not yet used */
  uint32_t recv_credit_target;   /**< ReceiveCreditTarget (peer's ask) */
  uint32_t recv_posted;          /**< receives posted now */
  uint32_t sends_in_flight;      /**< posted, not completed */
  uint32_t sends_queued;         /**< fragments waiting for credits */
  uint32_t ird, ord;             /**< from SMBX_SMBD_CM_ESTABLISHED */
  uint64_t state_bytes;          /**< the connection's own state: fixed,
                                      whatever the buffer counts */
  uint64_t buffer_bytes;         /**< send + reassembly buffers */
  uint64_t table_bytes;          /**< per-buffer bookkeeping: receive
                                      buffer and send slot descriptors and
                                      the event queue sized to them */
} smbx_smbd_params;

/** @name Engine states (smbx_smbd_params.state)
 *  @{ */
#define SMBX_SMBD_STATE_CREATED 0u
#define SMBX_SMBD_STATE_NEGOTIATE_SENT 1u
#define SMBX_SMBD_STATE_AWAIT_NEGOTIATE_REQ 2u
#define SMBX_SMBD_STATE_CONNECTED 3u
#define SMBX_SMBD_STATE_NEGOTIATE_FAILED 4u
#define SMBX_SMBD_STATE_DISCONNECTING 5u
#define SMBX_SMBD_STATE_DISCONNECTED 6u
#define SMBX_SMBD_STATE_CLOSED 7u
/** @} */

/** @brief Message flag: the receive was completed WITH_INVALIDATE. */
#define SMBX_SMBD_MSG_INVALIDATED 0x1u

/** @brief One event, copied into caller memory by smbx_smbd_next_event.
 *  Pointers inside stay valid until the next call on the engine, except
 *  u.message.data, valid until smbx_smbd_release(token).
 *  @since 0.1.0 */
typedef struct smbx_smbd_event {
  size_t struct_size; /**< set by the caller: sizeof(smbx_smbd_event) */
  uint32_t type;      /**< SMBX_SMBD_EV_* */
  uint32_t flags;
  union {
    smbx_smbd_params params;
    struct {
      const uint8_t *data; /**< in place in a receive buffer, or a
                                reassembly buffer */
      size_t len;
      uint64_t token;      /**< pass to smbx_smbd_release */
      uint32_t flags;      /**< SMBX_SMBD_MSG_INVALIDATED */
      uint32_t invalidated_rkey;
      uint32_t fragments;
      uint32_t reserved;
    } message;
    struct {
      uint64_t msg_id; /**< from smbx_smbd_send */
    } send_done;
    struct {
      int error;         /**< 0 after a graceful close, else SMBX_ERR_* */
      uint32_t ntstatus; /**< status sent or received, 0 if none */
      const char *reason; /**< static text */
    } disconnected;
    struct {
      void *addr;
      uint32_t length;
      uint32_t index; /**< position in the array given to smbx_smbd_new */
      uint64_t handle;
    } recv_buf;
    uint8_t reserved[160];
  } u;
} smbx_smbd_event;

/** @brief Create an engine.
 *
 *  Copies s, t and a. Registers its send buffers once through
 *  t->register_mr and posts the first receive through t->post_recv (the
 *  negotiate message may arrive before the CM reports ESTABLISHED).
 *  @param out the new engine
 *  @param s settings (NULL = defaults)
 *  @param t transport hooks (post_send, post_recv, register_mr and
 *         deregister_mr required)
 *  @param bufs,n_bufs receive buffers lent to the engine until each comes
 *         back in an SMBX_SMBD_EV_RECV_BUFFER event or smbx_smbd_free
 *         returns; each at least s->max_recv_size bytes; n_bufs >= 2
 *  @param a allocator (NULL = default)
 *  @param now_ns monotonic time; starts the negotiate timer
 *  @return 0; SMBX_ERR_INVAL (bad arguments or settings); SMBX_ERR_NOMEM;
 *          SMBX_ERR_TRANSPORT (register_mr or post_recv failed).
 *  @since 0.1.0 */
SMBX_API int smbx_smbd_new(smbx_smbd **out, const smbx_smbd_settings *s,
                           const smbx_transport *t,
                           const smbx_smbd_recv_buf *bufs, size_t n_bufs,
                           const smbx_allocator *a, uint64_t now_ns);

/** @brief Free the engine: deregisters its send buffers. Every receive
 *  buffer not yet returned by an event is the host's again. NULL is a
 *  no-op. @since 0.1.0 */
SMBX_API void smbx_smbd_free(smbx_smbd *d);

/** @brief Report a connection-manager event (SMBX_SMBD_CM_*).
 *  ESTABLISHED starts negotiation (active: sends the request; passive:
 *  processes a request that already arrived); any other event tears the
 *  connection down.
 *  @param ird,ord the negotiated IRD/ORD with ESTABLISHED, else 0
 *  @return 0; SMBX_ERR_INVAL (unknown event); SMBX_ERR_STATE (ESTABLISHED
 *          twice); the sticky fatal code the event caused.
 *  @since 0.1.0 */
SMBX_API int smbx_smbd_cm_event(smbx_smbd *d, uint32_t event, uint32_t ird,
                                uint32_t ord, uint64_t now_ns);

/** @brief Report a receive completion (wr_id from post_recv).
 *  @return 0; SMBX_ERR_INVAL (unknown or not-posted wr_id); a fatal code
 *          (PROTO, NEGOTIATE, TRANSPORT) when this receive killed the
 *          connection. After the connection died it only recycles the
 *          buffer and returns 0.
 *  @since 0.1.0 */
SMBX_API int smbx_smbd_recv(smbx_smbd *d, const smbx_wc *wc, uint64_t now_ns);

/** @brief Report a send completion (wr_id from post_send).
 *  @return as smbx_smbd_recv.
 *  @since 0.1.0 */
SMBX_API int smbx_smbd_send_done(smbx_smbd *d, const smbx_wc *wc,
                                 uint64_t now_ns);

/** @brief Send one upper-layer message (e.g. an SMB2 PDU, without the
 *  Direct TCP header): copied once into registered send buffers,
 *  fragmented to MaxSendSize and queued in order; it goes out as credits
 *  allow. Fragments of one message are never interleaved with others.
 *  @param iov,n_iov the message, gathered (copied before return)
 *  @param invalidate_rkey sent as SEND_WITH_INVALIDATE with the first
 *         fragment when flags has SMBX_SEND_INVALIDATE
 *  @param flags SMBX_SEND_INVALIDATE or 0
 *  @param msg_id optional: the id its SMBX_SMBD_EV_SEND_DONE carries
 *  @return 0; SMBX_ERR_RANGE (empty, or larger than the peer's
 *          MaxFragmentedSize); SMBX_ERR_LIMIT (needs more send buffers
 *          than exist); SMBX_ERR_AGAIN (not enough free send buffers now,
 *          or too many SEND_DONE events not yet taken from the queue:
 *          drain events, retry after a SEND_DONE); SMBX_ERR_NOMEM (more
 *          send buffers were needed and could not be allocated or
 *          registered; the connection is unchanged); SMBX_ERR_STATE (not negotiated yet);
 *          SMBX_ERR_INVAL; the sticky code once the connection is dead
 *          (SMBX_ERR_CLOSED after a graceful close).
 *  @since 0.1.0 */
SMBX_API int smbx_smbd_send(smbx_smbd *d, const smbx_sge *iov, size_t n_iov,
                            uint32_t flags, uint32_t invalidate_rkey,
                            uint64_t *msg_id, uint64_t now_ns);

/** @brief Hand a delivered message's buffer back (token from
 *  SMBX_SMBD_EV_MESSAGE); the receive buffer is reposted or, during
 *  teardown, returned. Also valid after disconnect. If what the release
 *  unblocks fails (a repost or a send), the connection is torn down and
 *  that shows as SMBX_SMBD_EV_DISCONNECTED; the release itself succeeded.
 *  @return 0; SMBX_ERR_INVAL for an unknown or already released token.
 *  @since 0.1.0 */
SMBX_API int smbx_smbd_release(smbx_smbd *d, uint64_t token, uint64_t now_ns);

/** @brief Upper-layer backpressure: while on, grant peers only the
 *  spec's minimum (keep one credit grantable; never zero). A post failure
 *  it causes shows as SMBX_SMBD_EV_DISCONNECTED.
 *  @return 0; SMBX_ERR_INVAL on NULL. @since 0.1.0 */
SMBX_API int smbx_smbd_set_backpressure(smbx_smbd *d, int on, uint64_t now_ns);

/** @brief Next event. The caller sets ev->struct_size; at most that many
 *  bytes are written.
 *  @return 1 with an event, 0 when the queue is empty; SMBX_ERR_INVAL.
 *  @since 0.1.0 */
SMBX_API int smbx_smbd_next_event(smbx_smbd *d, smbx_smbd_event *ev);

/** @brief Next timer deadline (absolute ns), UINT64_MAX for none.
 *  @since 0.1.0 */
SMBX_API uint64_t smbx_smbd_expiry(const smbx_smbd *d);

/** @brief Fire the timers due at now_ns (negotiate, keepalive, idle,
 *  zero-credit).
 *  @return 0; the fatal code when a timer killed the connection
 *          (SMBX_ERR_TIMEOUT).
 *  @since 0.1.0 */
SMBX_API int smbx_smbd_handle_expiry(smbx_smbd *d, uint64_t now_ns);

/** @brief Graceful close: queued messages are sent first, then
 *  SMBX_SMBD_EV_DISCONNECTED (error 0) asks the host to disconnect.
 *  @return 0; the sticky code if already dead. @since 0.1.0 */
SMBX_API int smbx_smbd_close(smbx_smbd *d, uint64_t now_ns);

/** @brief The latched error: code returned, reason and byte offset in
 *  detail (may be NULL).
 *  @return 0 while healthy, else the sticky code. @since 0.1.0 */
SMBX_API int smbx_smbd_error_detail(const smbx_smbd *d,
                                    smbx_error_detail *detail);

/** @brief Negotiated parameters and credit counters (for tests, benches,
 *  diagnostics). The caller sets p->struct_size.
 *  @return 0; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_smbd_get_params(const smbx_smbd *d, smbx_smbd_params *p);

#ifdef __cplusplus
}
#endif

#endif /* SMBX_SMBD_H */
