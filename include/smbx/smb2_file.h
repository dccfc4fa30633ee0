/* SPDX-License-Identifier: MIT */
/** @file smbx/smb2_file.h
 *  @brief SMB2 codec, open/close commands: CREATE (with the create-context
 *         iterator and the RqLs, DHnQ/DHnC, DH2Q/DH2C, MxAc, QFid, TWrp,
 *         AlSi context builders), CLOSE, FLUSH, OPLOCK_BREAK (oplock and
 *         lease forms).
 *  Decoder/encoder conventions (arguments, views, errors): smbx/smb2_base.h.
 */
#ifndef SMBX_SMB2_FILE_H
#define SMBX_SMB2_FILE_H

#include <smbx/smb2_base.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @name Oplock levels, lease states and flags (leases.md sec. 1) @{ */
#define SMBX_SMB2_OPLOCK_LEVEL_NONE 0x00u
#define SMBX_SMB2_OPLOCK_LEVEL_II 0x01u
#define SMBX_SMB2_OPLOCK_LEVEL_EXCLUSIVE 0x08u
#define SMBX_SMB2_OPLOCK_LEVEL_BATCH 0x09u
#define SMBX_SMB2_OPLOCK_LEVEL_LEASE 0xFFu
#define SMBX_SMB2_LEASE_READ 0x01u
#define SMBX_SMB2_LEASE_HANDLE 0x02u
#define SMBX_SMB2_LEASE_WRITE 0x04u
#define SMBX_SMB2_LEASE_FLAG_BREAK_IN_PROGRESS 0x02u
#define SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET 0x04u
#define SMBX_SMB2_LEASE_BREAK_ACK_REQUIRED 0x01u
/** @} */

/** @name CREATE constants (smb2.md 4.4) @{ */
#define SMBX_SMB2_CREATE_NAME_OFFSET 0x78u
#define SMBX_SMB2_CREATE_CTX_MAX 256u /**< contexts per CREATE */
#define SMBX_SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB 0x0001u
#define SMBX_SMB2_DH2_FLAG_PERSISTENT 0x00000002u
/** Create-context tags: the 4 ASCII name bytes as a big-endian u32. */
#define SMBX_SMB2_CTX_TAG_RQLS 0x52714C73u /**< "RqLs" */
#define SMBX_SMB2_CTX_TAG_DHNQ 0x44486E51u /**< "DHnQ" */
#define SMBX_SMB2_CTX_TAG_DHNC 0x44486E43u /**< "DHnC" */
#define SMBX_SMB2_CTX_TAG_DH2Q 0x44483251u /**< "DH2Q" */
#define SMBX_SMB2_CTX_TAG_DH2C 0x44483243u /**< "DH2C" */
#define SMBX_SMB2_CTX_TAG_MXAC 0x4D784163u /**< "MxAc" */
#define SMBX_SMB2_CTX_TAG_QFID 0x51466964u /**< "QFid" */
#define SMBX_SMB2_CTX_TAG_TWRP 0x54577270u /**< "TWrp" */
#define SMBX_SMB2_CTX_TAG_ALSI 0x416C5369u /**< "AlSi" */
#define SMBX_SMB2_CTX_TAG_EXTA 0x45787441u /**< "ExtA" */
#define SMBX_SMB2_CTX_TAG_SECD 0x53656344u /**< "SecD" */
#define SMBX_SMB2_CTX_TAG_AAPL 0x4141504Cu /**< "AAPL" */
/** @} */

/** @brief CREATE request (2.2.13). @since 0.1.0 */
typedef struct smbx_smb2_create_req {
  uint8_t security_flags;
  uint8_t requested_oplock_level;
  uint32_t impersonation_level;
  uint64_t smb_create_flags;
  uint64_t reserved;
  uint32_t desired_access;
  uint32_t file_attributes;
  uint32_t share_access;
  uint32_t create_disposition;
  uint32_t create_options;
  smbx_smb2_bytes name;     /**< UTF-16LE, share-relative; empty = root */
  smbx_smb2_bytes contexts; /**< the create-context chain area */
  uint32_t contexts_offset; /**< decode only: header-relative */
} smbx_smb2_create_req;

/** @brief CREATE response (2.2.14). @since 0.1.0 */
typedef struct smbx_smb2_create_resp {
  uint8_t oplock_level;
  uint8_t flags;
  uint32_t create_action;
  uint64_t creation_time;
  uint64_t last_access_time;
  uint64_t last_write_time;
  uint64_t change_time;
  uint64_t allocation_size;
  uint64_t end_of_file;
  uint32_t file_attributes;
  uint32_t reserved2;
  smbx_smb2_fileid file_id;
  smbx_smb2_bytes contexts;
  uint32_t contexts_offset; /**< decode only */
} smbx_smb2_create_resp;

/** @brief Decode a CREATE request. Besides the common checks: NameLength
 *  odd; name outside the PDU or inside the fixed part; contexts area
 *  offset not 8-aligned, outside the PDU, or overlapping the name; any
 *  context record malformed (the whole chain is walked once, see
 *  smbx_smb2_create_ctx_next()). @since 0.1.0 */
SMBX_API int smbx_smb2_decode_create_req(const uint8_t *pdu, size_t len,
                                         smbx_smb2_create_req *out,
                                         smbx_error_detail *err);
/** @brief Encode a CREATE request: name @@0x78 (one zero byte when
 *  empty), contexts 8-aligned after it (build them with
 *  smbx_smb2_create_ctx_list_encode()). @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_create_req(const smbx_smb2_hdr *h,
                                                const smbx_smb2_create_req *in,
                                                uint8_t *buf, size_t cap,
                                                size_t *needed);
/** @brief Decode a CREATE response (contexts checked as in the request).
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_decode_create_resp(const uint8_t *pdu, size_t len,
                                          smbx_smb2_create_resp *out,
                                          smbx_error_detail *err);
/** @brief Encode a CREATE response: contexts @@0x98 (one zero byte when
 *  there are none). @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_create_resp(
    const smbx_smb2_hdr *h, const smbx_smb2_create_resp *in, uint8_t *buf,
    size_t cap, size_t *needed);

/** @brief One create context (2.2.13.2): views of its name and data.
 *  @since 0.1.0 */
typedef struct smbx_smb2_create_ctx {
  smbx_smb2_bytes name; /**< 4 ASCII bytes or a 16-byte GUID */
  smbx_smb2_bytes data;
  uint16_t reserved;
} smbx_smb2_create_ctx;

/** @brief Iterator over a create-context chain; fields are private.
 *  @since 0.1.0 */
typedef struct smbx_smb2_create_ctx_iter {
  const uint8_t *p;
  size_t len;
  size_t off;
  size_t base;
  uint32_t count;
  int done;
} smbx_smb2_create_ctx_iter;

/** @brief Start walking a chain (a decoded `contexts` view).
 *  @param base header-relative offset of the area (for error offsets)
 *  @return 0; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_smb2_create_ctx_iter_init(smbx_smb2_create_ctx_iter *it,
                                            smbx_smb2_bytes area,
                                            size_t base);

/** @brief Next context in wire order, duplicates and unknown tags
 *  included (policy belongs above the codec). Rejected (leases.md 2.2,
 *  smb2.md case 30): fewer than 16 bytes left; Next not a multiple of 8,
 *  below 16, or leaving fewer than 16 bytes; NameOffset != 16 or
 *  NameLength < 4; DataOffset not a multiple of 8, inside the name, or 0
 *  with DataLength > 0; name or data past the record (Next, or the end of
 *  the area for the last); Next landing inside the name or data; more than
 *  SMBX_SMB2_CREATE_CTX_MAX records.
 *  @return 1 with a context; 0 at the end; SMBX_ERR_DECODE (the iterator
 *  then stays at its end). @since 0.1.0 */
SMBX_API int smbx_smb2_create_ctx_next(smbx_smb2_create_ctx_iter *it,
                                       smbx_smb2_create_ctx *out,
                                       smbx_error_detail *err);

/** @brief The tag of a context with a 4-byte name as a big-endian u32
 *  (SMBX_SMB2_CTX_TAG_*); 0 for other name lengths. @since 0.1.0 */
SMBX_API uint32_t smbx_smb2_create_ctx_tag(const smbx_smb2_create_ctx *c);

/** @brief Encode a chain: each record = 16-byte header, name @@16, data
 *  8-aligned after the name (DataOffset 0 when there is no data), the next
 *  record 8-aligned (Next 0 on the last; no padding after it).
 *  @return bytes written; SMBX_ERR_NOBUF; SMBX_ERR_INVAL; SMBX_ERR_RANGE
 *  (name > 65535 - 16 bytes, empty name, data > 4 GiB). @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_create_ctx_list_encode(
    const smbx_smb2_create_ctx *c, size_t n, uint8_t *buf, size_t cap,
    size_t *needed);

/** @brief RqLs lease context data (leases.md 2.3): v1 32 bytes, v2 52.
 *  @since 0.1.0 */
typedef struct smbx_smb2_lease {
  uint8_t version; /**< 1 or 2 (decode: from DataLength) */
  uint8_t key[16];
  uint32_t state;
  uint32_t flags;
  uint64_t duration;
  uint8_t parent_key[16]; /**< v2 */
  uint16_t epoch;         /**< v2 */
  uint16_t reserved;      /**< v2 */
} smbx_smb2_lease;

/** @brief Parse RqLs data: 32 bytes -> v1, 52 -> v2, anything else
 *  SMBX_ERR_DECODE (leases.md 2.3). @since 0.1.0 */
SMBX_API int smbx_smb2_lease_decode(smbx_smb2_bytes data, smbx_smb2_lease *out,
                                    smbx_error_detail *err);
/** @brief Build RqLs data (32 or 52 bytes by `version`).
 *  @return bytes written; SMBX_ERR_NOBUF; SMBX_ERR_INVAL (version not 1
 *  or 2). @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_lease_encode(const smbx_smb2_lease *in,
                                           uint8_t *buf, size_t cap,
                                           size_t *needed);

/** @name Kinds of fixed-layout create-context data (smb2.md 4.4 table) @{ */
#define SMBX_SMB2_CTXD_DHNQ_REQ 1  /**< 16 reserved bytes */
#define SMBX_SMB2_CTXD_DHNQ_RESP 2 /**< 8 reserved bytes (`value`) */
#define SMBX_SMB2_CTXD_DHNC_REQ 3  /**< 16: file_id */
#define SMBX_SMB2_CTXD_DH2Q_REQ 4  /**< 32: timeout, flags, value, guid */
#define SMBX_SMB2_CTXD_DH2Q_RESP 5 /**< 8: timeout, flags */
#define SMBX_SMB2_CTXD_DH2C_REQ 6  /**< 36: file_id, guid, flags */
#define SMBX_SMB2_CTXD_MXAC_REQ 7  /**< 0, or 8: value (timestamp) */
#define SMBX_SMB2_CTXD_MXAC_RESP 8 /**< 8: query_status, maximal_access */
#define SMBX_SMB2_CTXD_QFID_RESP 9 /**< 32: disk_file_id, volume_id, reserved */
#define SMBX_SMB2_CTXD_TWRP_REQ 10 /**< 8: value (FILETIME) */
#define SMBX_SMB2_CTXD_ALSI_REQ 11 /**< 8: value (allocation size) */
/** @} */

/** @brief Fields of the fixed-layout contexts; which are used depends on
 *  the kind (see SMBX_SMB2_CTXD_*). @since 0.1.0 */
typedef struct smbx_smb2_ctx_data {
  uint32_t timeout;
  uint32_t flags;
  uint64_t value;
  uint32_t query_status;
  uint32_t maximal_access;
  uint64_t disk_file_id;
  uint64_t volume_id;
  smbx_smb2_fileid file_id;
  uint8_t guid[16];      /**< CreateGuid */
  uint8_t reserved[16];  /**< DHnQ request, QFid response */
  uint8_t has_value;     /**< MxAc request: timestamp present */
} smbx_smb2_ctx_data;

/** @brief Parse fixed-layout context data of `kind`; the length must be
 *  exact (MxAc request: 0 or 8). @return 0; SMBX_ERR_DECODE;
 *  SMBX_ERR_INVAL (unknown kind). @since 0.1.0 */
SMBX_API int smbx_smb2_ctx_data_decode(int kind, smbx_smb2_bytes data,
                                       smbx_smb2_ctx_data *out,
                                       smbx_error_detail *err);
/** @brief Build fixed-layout context data of `kind`.
 *  @return bytes written (0 for an MxAc request without timestamp);
 *  SMBX_ERR_NOBUF; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_ctx_data_encode(int kind,
                                              const smbx_smb2_ctx_data *in,
                                              uint8_t *buf, size_t cap,
                                              size_t *needed);

/** @brief CLOSE request (2.2.15). @since 0.1.0 */
typedef struct smbx_smb2_close_req {
  uint16_t flags;
  uint32_t reserved;
  smbx_smb2_fileid file_id;
} smbx_smb2_close_req;

/** @brief CLOSE response (2.2.16); attributes are 0 unless
 *  POSTQUERY_ATTRIB. @since 0.1.0 */
typedef struct smbx_smb2_close_resp {
  uint16_t flags;
  uint32_t reserved;
  uint64_t creation_time;
  uint64_t last_access_time;
  uint64_t last_write_time;
  uint64_t change_time;
  uint64_t allocation_size;
  uint64_t end_of_file;
  uint32_t file_attributes;
} smbx_smb2_close_resp;

/** @since 0.1.0 */
SMBX_API int smbx_smb2_decode_close_req(const uint8_t *pdu, size_t len,
                                        smbx_smb2_close_req *out,
                                        smbx_error_detail *err);
/** @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_close_req(const smbx_smb2_hdr *h,
                                               const smbx_smb2_close_req *in,
                                               uint8_t *buf, size_t cap,
                                               size_t *needed);
/** @since 0.1.0 */
SMBX_API int smbx_smb2_decode_close_resp(const uint8_t *pdu, size_t len,
                                         smbx_smb2_close_resp *out,
                                         smbx_error_detail *err);
/** @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_close_resp(const smbx_smb2_hdr *h,
                                                const smbx_smb2_close_resp *in,
                                                uint8_t *buf, size_t cap,
                                                size_t *needed);

/** @brief FLUSH request (2.2.17); the response is a 4-byte body
 *  (smbx_smb2_decode_simple()). @since 0.1.0 */
typedef struct smbx_smb2_flush_req {
  uint16_t reserved1;
  uint32_t reserved2;
  smbx_smb2_fileid file_id;
} smbx_smb2_flush_req;

/** @since 0.1.0 */
SMBX_API int smbx_smb2_decode_flush_req(const uint8_t *pdu, size_t len,
                                        smbx_smb2_flush_req *out,
                                        smbx_error_detail *err);
/** @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_flush_req(const smbx_smb2_hdr *h,
                                               const smbx_smb2_flush_req *in,
                                               uint8_t *buf, size_t cap,
                                               size_t *needed);

/** @name OPLOCK_BREAK forms (leases.md 2.7) @{ */
#define SMBX_SMB2_BREAK_OPLOCK 1       /**< SS 24: notification/ack/response */
#define SMBX_SMB2_BREAK_LEASE_NOTIFY 2 /**< SS 44: server -> client */
#define SMBX_SMB2_BREAK_LEASE_ACK 3    /**< SS 36: ack (req) or response */
/** @} */

/** @brief Classify an OPLOCK_BREAK PDU by direction, MessageId and
 *  StructureSize (leases.md 2.7). Response with MessageId all-ones
 *  (notification): 24 oplock, 44 lease; other response: 24 or 36; request:
 *  24 oplock ack, 36 lease ack; anything else SMBX_ERR_DECODE.
 *  @return SMBX_SMB2_BREAK_*; SMBX_ERR_DECODE; SMBX_ERR_INVAL.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_oplock_break_classify(const uint8_t *pdu, size_t len,
                                             smbx_error_detail *err);

/** @brief Oplock break notification / ack / response (2.2.23.1,
 *  2.2.24.1, 2.2.25.1), SS 24. @since 0.1.0 */
typedef struct smbx_smb2_oplock_break {
  uint8_t oplock_level;
  uint8_t reserved;
  uint32_t reserved2;
  smbx_smb2_fileid file_id;
} smbx_smb2_oplock_break;

/** @brief Lease break notification (2.2.23.2), SS 44. @since 0.1.0 */
typedef struct smbx_smb2_lease_break_notify {
  uint16_t new_epoch;
  uint32_t flags; /**< ACK_REQUIRED */
  uint8_t lease_key[16];
  uint32_t current_state;
  uint32_t new_state;
  uint32_t break_reason;
  uint32_t access_mask_hint;
  uint32_t share_mask_hint;
} smbx_smb2_lease_break_notify;

/** @brief Lease break acknowledgment (2.2.24.2) and response (2.2.25.2),
 *  SS 36. @since 0.1.0 */
typedef struct smbx_smb2_lease_break_ack {
  uint16_t reserved;
  uint32_t flags;
  uint8_t lease_key[16];
  uint32_t lease_state;
  uint64_t lease_duration;
} smbx_smb2_lease_break_ack;

/** @brief Decode the SS 24 oplock form (any direction). @since 0.1.0 */
SMBX_API int smbx_smb2_decode_oplock_break(const uint8_t *pdu, size_t len,
                                           smbx_smb2_oplock_break *out,
                                           smbx_error_detail *err);
/** @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_oplock_break(
    const smbx_smb2_hdr *h, const smbx_smb2_oplock_break *in, uint8_t *buf,
    size_t cap, size_t *needed);
/** @brief Decode a lease break notification (SS 44; body >= 44).
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_decode_lease_break_notify(
    const uint8_t *pdu, size_t len, smbx_smb2_lease_break_notify *out,
    smbx_error_detail *err);
/** @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_lease_break_notify(
    const smbx_smb2_hdr *h, const smbx_smb2_lease_break_notify *in,
    uint8_t *buf, size_t cap, size_t *needed);
/** @brief Decode a lease break ack or response (SS 36). @since 0.1.0 */
SMBX_API int smbx_smb2_decode_lease_break_ack(const uint8_t *pdu, size_t len,
                                              smbx_smb2_lease_break_ack *out,
                                              smbx_error_detail *err);
/** @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_lease_break_ack(
    const smbx_smb2_hdr *h, const smbx_smb2_lease_break_ack *in, uint8_t *buf,
    size_t cap, size_t *needed);

#ifdef __cplusplus
}
#endif

#endif /* SMBX_SMB2_FILE_H */
