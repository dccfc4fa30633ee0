/* SPDX-License-Identifier: MIT */
/** @file smbx/tcp.h
 *  @brief Direct TCP framing ([MS-SMB2] 2.1): a sans-I/O framer that cuts a
 *  byte stream into transport messages (one SMB2 PDU, compound chain,
 *  TRANSFORM or COMPRESSION message each).
 *
 *  Each message is prefixed by 0x00 and a 24-bit big-endian length of what
 *  follows. The framer accepts any split of the stream (byte by byte, the
 *  prefix split 1+3, many messages in one buffer) and checks the prefix
 *  before buffering anything: first byte != 0, length 0 or length above the
 *  configured maximum is a protocol error (sticky).
 *
 *  Zero copy: a message whose bytes all arrive inside one fed buffer is
 *  delivered in place, as a view into the caller's buffer. Only a message
 *  split across feeds is copied, once, into the framer's reassembly buffer.
 *  That buffer is allocated when the first split message needs it (or at
 *  setup with smbx_tcp_framer_reserve()), grows only to the size of the
 *  largest split message seen (never above max_frame) and is kept, so a
 *  warmed-up framer never allocates. The framer never holds more than one
 *  message plus 3 prefix bytes.
 */
#ifndef SMBX_TCP_H
#define SMBX_TCP_H

#include <stddef.h>
#include <stdint.h>

#include <smbx/smbx.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest length the 24-bit Direct TCP prefix can carry. @since 0.1.0 */
#define SMBX_TCP_MAX_FRAME 0xFFFFFFu
/** Size of the Direct TCP prefix. @since 0.1.0 */
#define SMBX_TCP_PREFIX_LEN 4u

/** Opaque Direct TCP framer (one per stream direction). @since 0.1.0 */
typedef struct smbx_tcp_framer smbx_tcp_framer;

/** @brief One framed transport message (prefix stripped).
 *  @since 0.1.0 */
typedef struct smbx_tcp_pdu {
  /** First byte of the message. Points into the buffer passed to
   *  smbx_tcp_framer_feed() when `copied` is 0 (valid as long as that
   *  buffer is), else into the framer's reassembly buffer (valid until the
   *  next call on the framer). */
  const uint8_t *data;
  size_t len;      /**< message length (1..max_frame) */
  uint32_t copied; /**< 1 if the message was split across feeds and copied */
  uint32_t reserved;
  uint64_t stream_offset; /**< offset of the message's prefix in the stream */
} smbx_tcp_pdu;

/** @brief Create a framer.
 *  @param out receives the framer (unchanged on failure)
 *  @param max_frame largest accepted message, 1..SMBX_TCP_MAX_FRAME
 *         (typically Max{Transact,Read,Write}Size plus header slack)
 *  @param a allocator (copied); NULL = smbx_allocator_default()
 *  @return 0; SMBX_ERR_INVAL (NULL out, bad allocator, max_frame 0 or above
 *          SMBX_TCP_MAX_FRAME); SMBX_ERR_NOMEM.
 *  @since 0.1.0 */
SMBX_API int smbx_tcp_framer_new(smbx_tcp_framer **out, uint32_t max_frame,
                                 const smbx_allocator *a);

/** @brief Free a framer and its reassembly buffer. NULL is a no-op.
 *  Views previously returned from the reassembly buffer become invalid.
 *  @since 0.1.0 */
SMBX_API void smbx_tcp_framer_free(smbx_tcp_framer *f);

/** @brief Allocate the reassembly buffer now, so that feeding never
 *  allocates for messages up to `size` bytes.
 *  @param size bytes to reserve, at most max_frame (0 = max_frame)
 *  @return 0; SMBX_ERR_INVAL (NULL f or size > max_frame); SMBX_ERR_STATE
 *          (a split message is being copied and the buffer would have to
 *          grow); SMBX_ERR_NOMEM.
 *  @since 0.1.0 */
SMBX_API int smbx_tcp_framer_reserve(smbx_tcp_framer *f, uint32_t size);

/** @brief Feed stream bytes; stops after the first complete message.
 *
 *  Call in a loop, advancing by `*consumed`, until the input is used up:
 *  @code
 *  while (len > 0) {
 *    rc = smbx_tcp_framer_feed(f, p, len, &n, &pdu);
 *    p += n; len -= n;
 *    if (rc < 0) break;          // sticky for SMBX_ERR_PROTO
 *    if (rc == 1) handle(pdu.data, pdu.len);
 *  }
 *  @endcode
 *  @param f framer
 *  @param data stream bytes (may be NULL when len is 0); not retained
 *         beyond the call except through an in-place `pdu->data`
 *  @param len number of bytes
 *  @param consumed receives how many bytes of `data` were used (also on
 *         error: the bytes before the failing point)
 *  @param pdu filled when 1 is returned (see smbx_tcp_pdu for lifetime)
 *  @return 1 a message is in `*pdu`; 0 all of `data` was consumed and no
 *          message completed (partial bytes are kept); SMBX_ERR_INVAL
 *          (NULL f/consumed/pdu, or NULL data with len > 0);
 *          SMBX_ERR_NOMEM (the reassembly buffer could not grow; nothing
 *          is lost, feed the rest again); SMBX_ERR_PROTO (sticky: prefix
 *          byte 0 not 0x00, length 0, or length > max_frame; see
 *          smbx_tcp_framer_error_detail()).
 *  @since 0.1.0 */
SMBX_API int smbx_tcp_framer_feed(smbx_tcp_framer *f, const uint8_t *data,
                                  size_t len, size_t *consumed,
                                  smbx_tcp_pdu *pdu);

/** @brief Bytes currently held by the framer (prefix bytes plus the copied
 *  part of a split message); 0 at a message boundary. Never more than
 *  max_frame + 3.
 *  @since 0.1.0 */
SMBX_API size_t smbx_tcp_framer_pending(const smbx_tcp_framer *f);

/** @brief The framer's sticky error and where it happened.
 *  @param f framer
 *  @param detail optional; receives a static reason and the stream offset
 *         of the failing byte (reason NULL when there is no error)
 *  @return 0 when the framer is healthy, else the sticky error code.
 *  @since 0.1.0 */
SMBX_API int smbx_tcp_framer_error_detail(const smbx_tcp_framer *f,
                                          smbx_error_detail *detail);

/** @brief Write the 4-byte Direct TCP prefix for a message of `len` bytes.
 *  @param out destination, `cap` bytes
 *  @param cap capacity of out
 *  @param len message length, 1..SMBX_TCP_MAX_FRAME
 *  @return 4 (bytes written); SMBX_ERR_NOBUF when cap < 4;
 *          SMBX_ERR_RANGE when len is 0 or above SMBX_TCP_MAX_FRAME;
 *          SMBX_ERR_INVAL when out is NULL with cap > 0.
 *  @since 0.1.0 */
SMBX_API int smbx_tcp_encode_prefix(uint8_t *out, size_t cap, size_t len);

/** @brief Parse a 4-byte Direct TCP prefix (no max_frame check).
 *  @param p at least 4 bytes
 *  @param avail bytes available at p
 *  @param len receives the message length
 *  @return 0; SMBX_ERR_NOBUF when avail < 4; SMBX_ERR_DECODE when the
 *          first byte is not 0 or the length is 0; SMBX_ERR_INVAL on NULL.
 *  @since 0.1.0 */
SMBX_API int smbx_tcp_decode_prefix(const uint8_t *p, size_t avail,
                                    uint32_t *len);

#ifdef __cplusplus
}
#endif

#endif /* SMBX_TCP_H */
