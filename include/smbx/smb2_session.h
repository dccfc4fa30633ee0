/* SPDX-License-Identifier: MIT */
/** @file smbx/smb2_session.h
 *  @brief SMB2 codec, connection and session commands: NEGOTIATE (with the
 *         3.1.1 negotiate contexts), SESSION_SETUP, LOGOFF, TREE_CONNECT,
 *         TREE_DISCONNECT, ECHO, CANCEL.
 *  Decoder/encoder conventions (arguments, views, errors): smbx/smb2_base.h.
 */
#ifndef SMBX_SMB2_SESSION_H
#define SMBX_SMB2_SESSION_H

#include <smbx/smb2_base.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @name NEGOTIATE constants (smb2.md 4.1) @{ */
#define SMBX_SMB2_NEGOTIATE_SIGNING_ENABLED 0x0001u
#define SMBX_SMB2_NEGOTIATE_SIGNING_REQUIRED 0x0002u
#define SMBX_SMB2_NEG_CTX_PREAUTH 0x0001u
#define SMBX_SMB2_NEG_CTX_ENCRYPTION 0x0002u
#define SMBX_SMB2_NEG_CTX_COMPRESSION 0x0003u
#define SMBX_SMB2_NEG_CTX_NETNAME 0x0005u
#define SMBX_SMB2_NEG_CTX_TRANSPORT 0x0006u
#define SMBX_SMB2_NEG_CTX_RDMA_TRANSFORM 0x0007u
#define SMBX_SMB2_NEG_CTX_SIGNING 0x0008u
#define SMBX_SMB2_NEG_CTX_POSIX 0x0100u
#define SMBX_SMB2_HASH_SHA512 0x0001u
#define SMBX_SMB2_CIPHER_AES128_CCM 0x0001u
#define SMBX_SMB2_CIPHER_AES128_GCM 0x0002u
#define SMBX_SMB2_CIPHER_AES256_CCM 0x0003u
#define SMBX_SMB2_CIPHER_AES256_GCM 0x0004u
#define SMBX_SMB2_SIGNING_HMAC_SHA256 0x0000u
#define SMBX_SMB2_SIGNING_AES_CMAC 0x0001u
#define SMBX_SMB2_SIGNING_AES_GMAC 0x0002u
#define SMBX_SMB2_RDMA_TRANSFORM_NONE 0x0000u
#define SMBX_SMB2_RDMA_TRANSFORM_ENCRYPTION 0x0001u
#define SMBX_SMB2_RDMA_TRANSFORM_SIGNING 0x0002u
#define SMBX_SMB2_TRANSPORT_ACCEPT_TLS 0x00000001u
#define SMBX_SMB2_NEG_CTX_MAX 64u /**< contexts per NEGOTIATE decoded */
/** @} */

/** @brief NEGOTIATE request (MS-SMB2 2.2.3).
 *  @@92 holds NegotiateContextOffset/Count/Reserved2 when 0x0311 is among
 *  the dialects, else ClientStartTime. @since 0.1.0 */
typedef struct smbx_smb2_negotiate_req {
  uint16_t dialect_count; /**< decode only (encoder: dialects.len / 2) */
  uint16_t security_mode;
  uint16_t reserved;
  uint32_t capabilities;
  uint8_t client_guid[16];
  uint64_t client_start_time; /**< without 0x0311 only */
  uint32_t neg_ctx_offset;    /**< decode only */
  uint16_t neg_ctx_count;     /**< encode: must match `neg_ctx` */
  uint16_t reserved2;
  smbx_smb2_bytes dialects;   /**< u16 LE array (smbx_smb2_bytes_u16()) */
  smbx_smb2_bytes neg_ctx;    /**< first context .. end of the last */
} smbx_smb2_negotiate_req;

/** @brief NEGOTIATE response (MS-SMB2 2.2.4). @since 0.1.0 */
typedef struct smbx_smb2_negotiate_resp {
  uint16_t security_mode;
  uint16_t dialect_revision;
  uint16_t neg_ctx_count; /**< 3.1.1; else Reserved (kept verbatim) */
  uint8_t server_guid[16];
  uint32_t capabilities;
  uint32_t max_transact_size;
  uint32_t max_read_size;
  uint32_t max_write_size;
  uint64_t system_time;
  uint64_t server_start_time;
  uint32_t neg_ctx_offset; /**< decode only; 3.1.1, else Reserved2 */
  smbx_smb2_bytes security_buffer;
  smbx_smb2_bytes neg_ctx; /**< 3.1.1: first context .. end of the last */
} smbx_smb2_negotiate_resp;

/** @brief Decode a NEGOTIATE request. Besides the common checks: SIGNED
 *  flag set, DialectCount 0 or past the end; with 0x0311 offered: context
 *  offset 8-aligned and after the dialects, every context in bounds (walk
 *  of NegotiateContextCount, capped at SMBX_SMB2_NEG_CTX_MAX), each known
 *  context well-formed (smbx_smb2_neg_ctx_parse()), PREAUTH present
 *  exactly once. @since 0.1.0 */
SMBX_API int smbx_smb2_decode_negotiate_req(const uint8_t *pdu, size_t len,
                                            smbx_smb2_negotiate_req *out,
                                            smbx_error_detail *err);
/** @brief Encode a NEGOTIATE request (dialects @@100, contexts 8-aligned
 *  after them). @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_negotiate_req(
    const smbx_smb2_hdr *h, const smbx_smb2_negotiate_req *in, uint8_t *buf,
    size_t cap, size_t *needed);
/** @brief Decode a NEGOTIATE response (contexts when DialectRevision is
 *  0x0311, checked as in the request except PREAUTH presence).
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_decode_negotiate_resp(const uint8_t *pdu, size_t len,
                                             smbx_smb2_negotiate_resp *out,
                                             smbx_error_detail *err);
/** @brief Encode a NEGOTIATE response (blob @@128, contexts 8-aligned
 *  after it when DialectRevision is 0x0311). @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_negotiate_resp(
    const smbx_smb2_hdr *h, const smbx_smb2_negotiate_resp *in, uint8_t *buf,
    size_t cap, size_t *needed);

/** @brief One negotiate context (also the TREE_CONNECT context layout,
 *  MS-SMB2 2.2.9.2). @since 0.1.0 */
typedef struct smbx_smb2_neg_ctx {
  uint16_t type;
  uint32_t reserved;
  smbx_smb2_bytes data; /**< DataLength bytes */
} smbx_smb2_neg_ctx;

/** @brief Iterator over a negotiate-context list; fields are private.
 *  @since 0.1.0 */
typedef struct smbx_smb2_neg_ctx_iter {
  const uint8_t *p;
  size_t len;
  size_t off;
  size_t base;
  uint32_t left;
} smbx_smb2_neg_ctx_iter;

/** @brief Start walking `count` contexts of `list` (a decoded `neg_ctx`).
 *  @param base header-relative offset of `list` (for error offsets)
 *  @return 0; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_smb2_neg_ctx_iter_init(smbx_smb2_neg_ctx_iter *it,
                                         smbx_smb2_bytes list, uint16_t count,
                                         size_t base);
/** @brief Next context, unknown types included, in wire order. Each starts
 *  8-aligned (relative to the list, which starts 8-aligned in the PDU);
 *  its 8-byte header and DataLength bytes must fit.
 *  @return 1 with a context; 0 after `count`; SMBX_ERR_DECODE (err offset
 *  header-relative). @since 0.1.0 */
SMBX_API int smbx_smb2_neg_ctx_next(smbx_smb2_neg_ctx_iter *it,
                                    smbx_smb2_neg_ctx *out,
                                    smbx_error_detail *err);

/** @brief The fields of a known negotiate context (smb2.md 4.1 table).
 *  Unused fields are 0 / empty. @since 0.1.0 */
typedef struct smbx_smb2_neg_ctx_info {
  uint16_t type;
  /** HashAlgorithmCount / CipherCount / AlgorithmCount / TransformCount /
   *  SigningAlgorithmCount */
  uint16_t count;
  uint16_t reserved16;   /**< COMPRESSION Padding, RDMA Reserved1 */
  uint32_t flags;        /**< COMPRESSION Flags, TRANSPORT Flags */
  uint32_t reserved32;   /**< RDMA_TRANSFORM Reserved2 */
  smbx_smb2_bytes ids;   /**< the u16 array (count elements) */
  smbx_smb2_bytes salt;  /**< PREAUTH salt */
  smbx_smb2_bytes value; /**< NETNAME UTF-16LE name, POSIX 16-byte GUID,
                              other types: the raw data */
} smbx_smb2_neg_ctx_info;

/** @brief Parse a context's data by its type. PREAUTH: count > 0, ids
 *  and salt inside DataLength; ENCRYPTION, RDMA_TRANSFORM, SIGNING:
 *  count > 0, ids inside; COMPRESSION: ids inside; NETNAME: even length;
 *  TRANSPORT: 4 bytes; POSIX: 16 bytes; unknown: `value` = data.
 *  @return 0; SMBX_ERR_DECODE (offset relative to the data);
 *  SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_smb2_neg_ctx_parse(const smbx_smb2_neg_ctx *c,
                                     smbx_smb2_neg_ctx_info *out,
                                     smbx_error_detail *err);
/** @brief Build a context's data from `in` (by `in->type`; unknown types
 *  write `value`). The ids view must hold `count` elements.
 *  @return bytes written; SMBX_ERR_NOBUF; SMBX_ERR_INVAL; SMBX_ERR_RANGE.
 *  @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_neg_ctx_build(const smbx_smb2_neg_ctx_info *in,
                                            uint8_t *buf, size_t cap,
                                            size_t *needed);
/** @brief Encode a context list: 8-byte headers, data, zero padding to 8
 *  between contexts (none after the last).
 *  @return bytes written; SMBX_ERR_NOBUF; SMBX_ERR_INVAL; SMBX_ERR_RANGE
 *  (data > 65535 bytes). @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_neg_ctx_list_encode(const smbx_smb2_neg_ctx *c,
                                                  size_t n, uint8_t *buf,
                                                  size_t cap, size_t *needed);

/** @name SESSION_SETUP constants @{ */
#define SMBX_SMB2_SESSION_FLAG_BINDING 0x01u
#define SMBX_SMB2_SESSION_FLAG_IS_GUEST 0x0001u
#define SMBX_SMB2_SESSION_FLAG_IS_NULL 0x0002u
#define SMBX_SMB2_SESSION_FLAG_ENCRYPT_DATA 0x0004u
/** @} */

/** @brief SESSION_SETUP request (2.2.5). @since 0.1.0 */
typedef struct smbx_smb2_session_setup_req {
  uint8_t flags;
  uint8_t security_mode;
  uint32_t capabilities;
  uint32_t channel;
  uint64_t previous_session_id;
  smbx_smb2_bytes security_buffer; /**< GSS token (opaque) */
} smbx_smb2_session_setup_req;

/** @brief SESSION_SETUP response (2.2.6). @since 0.1.0 */
typedef struct smbx_smb2_session_setup_resp {
  uint16_t session_flags;
  smbx_smb2_bytes security_buffer;
} smbx_smb2_session_setup_resp;

/** @brief Decode / encode SESSION_SETUP (token @@88 / @@72).
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_decode_session_setup_req(
    const uint8_t *pdu, size_t len, smbx_smb2_session_setup_req *out,
    smbx_error_detail *err);
/** @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_session_setup_req(
    const smbx_smb2_hdr *h, const smbx_smb2_session_setup_req *in,
    uint8_t *buf, size_t cap, size_t *needed);
/** @since 0.1.0 */
SMBX_API int smbx_smb2_decode_session_setup_resp(
    const uint8_t *pdu, size_t len, smbx_smb2_session_setup_resp *out,
    smbx_error_detail *err);
/** @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_session_setup_resp(
    const smbx_smb2_hdr *h, const smbx_smb2_session_setup_resp *in,
    uint8_t *buf, size_t cap, size_t *needed);

/** @brief The 4-byte bodies (StructureSize 4 + Reserved): LOGOFF,
 *  TREE_DISCONNECT, ECHO (both ways), CANCEL request, FLUSH and LOCK
 *  responses. @since 0.1.0 */
typedef struct smbx_smb2_simple {
  uint16_t reserved;
} smbx_smb2_simple;

/** @brief Decode a 4-byte body of `command` (LOGOFF, TREE_DISCONNECT,
 *  ECHO, CANCEL, FLUSH or LOCK; `response` picks the direction, CANCEL has
 *  no response). CANCEL: the body must be exactly 4 bytes (plus at most 7
 *  bytes of compound padding when NextCommand is set).
 *  @return 0; SMBX_ERR_DECODE; SMBX_ERR_INVAL (also for a command without
 *  a 4-byte body in that direction). @since 0.1.0 */
SMBX_API int smbx_smb2_decode_simple(const uint8_t *pdu, size_t len,
                                     uint16_t command, int response,
                                     smbx_smb2_simple *out,
                                     smbx_error_detail *err);
/** @brief Encode a 4-byte body; Command is taken from `h->command` (one of
 *  the commands above). @return 68; see the conventions. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_simple(const smbx_smb2_hdr *h,
                                            const smbx_smb2_simple *in,
                                            uint8_t *buf, size_t cap,
                                            size_t *needed);

/** @name TREE_CONNECT constants (smb2.md 4.3) @{ */
#define SMBX_SMB2_TREE_CONNECT_FLAG_CLUSTER_RECONNECT 0x0001u
#define SMBX_SMB2_TREE_CONNECT_FLAG_REDIRECT_TO_OWNER 0x0002u
#define SMBX_SMB2_TREE_CONNECT_FLAG_EXTENSION_PRESENT 0x0004u
#define SMBX_SMB2_SHARE_TYPE_DISK 0x01u
#define SMBX_SMB2_SHARE_TYPE_PIPE 0x02u
#define SMBX_SMB2_SHARE_TYPE_PRINT 0x03u
/** ShareFlags: the share requires encrypted messages (3.x) */
#define SMBX_SMB2_SHAREFLAG_ENCRYPT_DATA 0x00008000u
/** @} */

/** @brief TREE_CONNECT request (2.2.9). With EXTENSION_PRESENT the buffer
 *  @@72 starts with the extension {TreeConnectContextOffset u32
 *  (header-relative), ContextCount u16, Reserved[10]} and PathOffset points
 *  after it (@@88). @since 0.1.0 */
typedef struct smbx_smb2_tree_connect_req {
  uint16_t flags;
  smbx_smb2_bytes path; /**< UTF-16LE `\\server\share` */
  /* EXTENSION_PRESENT only: */
  uint32_t ctx_offset; /**< decode only */
  uint16_t ctx_count;
  uint8_t ext_reserved[10];
  smbx_smb2_bytes contexts; /**< walk with smbx_smb2_neg_ctx_iter */
} smbx_smb2_tree_connect_req;

/** @brief TREE_CONNECT response (2.2.10). @since 0.1.0 */
typedef struct smbx_smb2_tree_connect_resp {
  uint8_t share_type;
  uint8_t reserved;
  uint32_t share_flags;
  uint32_t capabilities;
  uint32_t maximal_access;
} smbx_smb2_tree_connect_resp;

/** @brief Decode / encode TREE_CONNECT. The request path must be of even
 *  length; extension contexts are checked like negotiate contexts.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_decode_tree_connect_req(
    const uint8_t *pdu, size_t len, smbx_smb2_tree_connect_req *out,
    smbx_error_detail *err);
/** @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_tree_connect_req(
    const smbx_smb2_hdr *h, const smbx_smb2_tree_connect_req *in,
    uint8_t *buf, size_t cap, size_t *needed);
/** @since 0.1.0 */
SMBX_API int smbx_smb2_decode_tree_connect_resp(
    const uint8_t *pdu, size_t len, smbx_smb2_tree_connect_resp *out,
    smbx_error_detail *err);
/** @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_tree_connect_resp(
    const smbx_smb2_hdr *h, const smbx_smb2_tree_connect_resp *in,
    uint8_t *buf, size_t cap, size_t *needed);

#ifdef __cplusplus
}
#endif

#endif /* SMBX_SMB2_SESSION_H */
