/* SPDX-License-Identifier: MIT */
/** @file smbx/smb2_io.h
 *  @brief SMB2 codec, I/O commands: READ/WRITE (with RDMA channel info),
 *         LOCK, IOCTL, QUERY_DIRECTORY, CHANGE_NOTIFY, QUERY_INFO/SET_INFO,
 *         and their payloads (buffer descriptors, SMB2_RDMA_TRANSFORM,
 *         directory entries, FILE_NOTIFY_INFORMATION, network interfaces,
 *         VALIDATE_NEGOTIATE_INFO, file information classes).
 *
 *  Command codecs follow the conventions of smbx/smb2_base.h. Payload
 *  codecs work on a byte range (usually a view taken from a decoded
 *  command): decoders take `(p, len, out, err)` with error offsets
 *  relative to `p`; encoders take `(in, buf, cap, needed)` and return the
 *  bytes written, SMBX_ERR_NOBUF (nothing written, `needed` set),
 *  SMBX_ERR_INVAL (NULL arguments, a view with a NULL pointer and a
 *  non-zero length) or SMBX_ERR_RANGE (a value too large for its field, an
 *  odd UTF-16 length) as the command encoders do.
 *
 *  The codec checks layout only. Rules that depend on the connection
 *  (dialect, transport, negotiated transforms: e.g. INVALID_PARAMETER for
 *  RDMA_V1_INVALIDATE on 3.0, a non-zero Channel over TCP, WRITE over RDMA
 *  with Length != 0) belong to the caller; the decoded structs expose what
 *  they need (`channel`, `descs`, smbx_smb2_desc_list_check()).
 */
#ifndef SMBX_SMB2_IO_H
#define SMBX_SMB2_IO_H

#include <smbx/smb2_base.h>

#ifdef __cplusplus
extern "C" {
#endif

/* =====================================================================
 * SMB Direct buffer descriptors ([MS-SMBD] 2.2.3.1, smbd.md 1.4)
 * =================================================================== */

/** @name READ/WRITE Channel values (MS-SMB2 2.2.19, smb2.md 4.6) @{ */
#define SMBX_SMB2_CHANNEL_NONE 0x00000000u
#define SMBX_SMB2_CHANNEL_RDMA_V1 0x00000001u
#define SMBX_SMB2_CHANNEL_RDMA_V1_INVALIDATE 0x00000002u
#define SMBX_SMB2_CHANNEL_RDMA_TRANSFORM 0x00000003u
/** @} */

/** Most descriptors a u16 channel-info length holds (smbd.md 1.4). */
#define SMBX_SMB2_BUFFER_DESC_MAX 4095u
/** Wire size of one SMB_DIRECT_BUFFER_DESCRIPTOR_V1. */
#define SMBX_SMB2_BUFFER_DESC_SIZE 16u

/** @brief One SMB_DIRECT_BUFFER_DESCRIPTOR_V1 (host values).
 *  @since 0.1.0 */
typedef struct smbx_smb2_buffer_desc {
  uint64_t offset; /**< RDMA address (IOVA) */
  uint32_t token;  /**< rkey / STag */
  uint32_t length; /**< bytes */
} smbx_smb2_buffer_desc;

/** @brief A validated descriptor array: `count` x 16 bytes viewed in the
 *  decoded input (`bytes.p` NULL and count 0 when absent).
 *  @since 0.1.0 */
typedef struct smbx_smb2_desc_list {
  smbx_smb2_bytes bytes;
  uint32_t count;
} smbx_smb2_desc_list;

/** @brief Validate a descriptor array (the channel info of RDMA_V1 and
 *  RDMA_V1_INVALIDATE): length > 0, a multiple of 16, at most 4095
 *  entries (smbd.md 1.4/4).
 *  @param p array bytes (borrowed; `out` points into them)
 *  @param err optional failure detail (offset relative to p)
 *  @return 0; SMBX_ERR_DECODE; SMBX_ERR_INVAL on NULL out (or NULL p with
 *          len > 0).
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_desc_list_decode(const uint8_t *p, size_t len,
                                        smbx_smb2_desc_list *out,
                                        smbx_error_detail *err);

/** @brief Descriptor i of a decoded list.
 *  @return 0; SMBX_ERR_RANGE when i >= count; SMBX_ERR_INVAL on NULL.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_desc_list_get(const smbx_smb2_desc_list *l, uint32_t i,
                                     smbx_smb2_buffer_desc *out);

/** @brief The descriptor checks left to the server (smbd.md 4): at least
 *  one descriptor, every Length > 0 and the sum (64-bit) >= need.
 *  @param total optional out: the sum of all lengths
 *  @return 0; SMBX_ERR_RANGE when a length is 0 or the sum is short;
 *          SMBX_ERR_INVAL on NULL l.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_desc_list_check(const smbx_smb2_desc_list *l,
                                       uint64_t need, uint64_t *total);

/** @brief Encode n descriptors (16 bytes each).
 *  @return bytes written; SMBX_ERR_NOBUF; SMBX_ERR_INVAL on NULL or
 *          n == 0; SMBX_ERR_RANGE when n > 4095.
 *  @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_desc_list_encode(const smbx_smb2_buffer_desc *d,
                                               size_t n, uint8_t *buf,
                                               size_t cap, size_t *needed);

/* =====================================================================
 * SMB2_RDMA_TRANSFORM (MS-SMB2 2.2.43/2.2.43.1, smbd.md 4)
 * =================================================================== */

/** @name SMB2_RDMA_CRYPTO_TRANSFORM TransformType @{ */
#define SMBX_SMB2_RDMA_TRANSFORM_TYPE_ENCRYPTION 0x0001u
#define SMBX_SMB2_RDMA_TRANSFORM_TYPE_SIGNING 0x0002u
/** @} */

/** @brief One SMB2_RDMA_CRYPTO_TRANSFORM (signature <= 16 bytes).
 *  @since 0.1.0 */
typedef struct smbx_smb2_rdma_crypto_transform {
  uint16_t transform_type;
  uint16_t reserved;
  smbx_smb2_bytes signature; /**< SignatureLength bytes */
  smbx_smb2_bytes nonce;     /**< NonceLength bytes */
} smbx_smb2_rdma_crypto_transform;

/** @brief A decoded SMB2_RDMA_TRANSFORM (views into the input).
 *  @since 0.1.0 */
typedef struct smbx_smb2_rdma_transform {
  uint16_t desc_offset;      /**< RdmaDescriptorOffset, from this struct */
  uint16_t desc_length;      /**< RdmaDescriptorLength */
  uint32_t channel;          /**< inner: NONE, RDMA_V1, RDMA_V1_INVALIDATE */
  uint16_t transform_count;  /**< > 0 */
  smbx_smb2_bytes transforms; /**< the crypto-transform list (validated) */
  smbx_smb2_desc_list descs; /**< inner descriptors (empty for NONE) */
} smbx_smb2_rdma_transform;

/** @brief Decode an SMB2_RDMA_TRANSFORM: the channel info of Channel
 *  RDMA_TRANSFORM, or what a READ response with RESPONSE_RDMA_TRANSFORM
 *  carries at its DataOffset.
 *  Checks: 16-byte fixed part; TransformCount > 0; every crypto transform
 *  in bounds, SignatureLength <= 16, the next one 8-aligned (from the
 *  struct); inner Channel NONE, RDMA_V1 or RDMA_V1_INVALIDATE; for the
 *  RDMA ones the descriptors lie after the transforms, inside p[0..len)
 *  and pass smbx_smb2_desc_list_decode(); for NONE the descriptor fields
 *  are ignored (2.2.43).
 *  @return 0; SMBX_ERR_DECODE; SMBX_ERR_INVAL on NULL out.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_rdma_transform_decode(const uint8_t *p, size_t len,
                                             smbx_smb2_rdma_transform *out,
                                             smbx_error_detail *err);

/** @brief Walk the crypto transforms of a decoded transform.
 *  @param off in/out: position in `t->transforms` (start with 0)
 *  @return 1 with a transform; 0 at the end; SMBX_ERR_DECODE when `t` was
 *          not made by smbx_smb2_rdma_transform_decode() and does not hold;
 *          SMBX_ERR_INVAL on NULL.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_rdma_transform_next(
    const smbx_smb2_rdma_transform *t, size_t *off,
    smbx_smb2_rdma_crypto_transform *out);

/** @brief Encode an SMB2_RDMA_TRANSFORM: the 16-byte fixed part, the
 *  crypto transforms each zero-padded to 8, then the descriptors.
 *  @param channel inner channel: NONE (nd == 0) or RDMA_V1/_INVALIDATE
 *         (nd > 0)
 *  @param xf,nxf crypto transforms (nxf > 0)
 *  @param d,nd descriptors
 *  @return bytes written; SMBX_ERR_NOBUF; SMBX_ERR_INVAL on NULL or
 *          arguments breaking the rules above; SMBX_ERR_RANGE for a
 *          signature over 16 bytes, a nonce over 65535 or a total over
 *          65535 bytes (the u16 channel-info length).
 *  @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_rdma_transform_encode(
    uint32_t channel, const smbx_smb2_rdma_crypto_transform *xf, size_t nxf,
    const smbx_smb2_buffer_desc *d, size_t nd, uint8_t *buf, size_t cap,
    size_t *needed);

/* =====================================================================
 * READ (MS-SMB2 2.2.19/2.2.20, smb2.md 4.6)
 * =================================================================== */

/** @name READ flags @{ */
#define SMBX_SMB2_READFLAG_READ_UNBUFFERED 0x01u
#define SMBX_SMB2_READFLAG_REQUEST_COMPRESSED 0x02u
#define SMBX_SMB2_READFLAG_RESPONSE_RDMA_TRANSFORM 0x00000001u
/** @} */

/** @brief READ request.
 *  Decode: the channel info is validated as a data area (not into the
 *  fixed part, inside the PDU) whatever the Channel; then by Channel:
 *  RDMA_V1/_INVALIDATE -> `descs` (smbx_smb2_desc_list_decode() rules, an
 *  empty channel info is an error); RDMA_TRANSFORM -> `transform` and its
 *  inner list in `descs` (smbx_smb2_rdma_transform_decode()); NONE and
 *  unknown values -> nothing parsed (unknown values are the caller's
 *  INVALID_PARAMETER).
 *  Encode: `channel_info` is written at 0x70 (right after the fixed part);
 *  when empty, offset/length are 0 and one pad byte is written.
 *  @since 0.1.0 */
typedef struct smbx_smb2_read_req {
  uint8_t padding;       /**< requested response DataOffset (0x50) */
  uint8_t flags;         /**< SMBX_SMB2_READFLAG_READ_UNBUFFERED, ... */
  uint32_t length;
  uint64_t offset;
  smbx_smb2_fileid file_id;
  uint32_t minimum_count;
  uint32_t channel;      /**< SMBX_SMB2_CHANNEL_* */
  uint32_t remaining_bytes;
  uint16_t channel_info_offset; /**< decode only (encoder computes) */
  smbx_smb2_bytes channel_info; /**< raw ReadChannelInfo */
  smbx_smb2_desc_list descs;          /**< decode only */
  smbx_smb2_rdma_transform transform; /**< decode only (RDMA_TRANSFORM) */
} smbx_smb2_read_req;

/** @brief READ response.
 *  Decode: `data` = DataOffset/DataLength (DataOffset at or after 0x50).
 *  With flags & RESPONSE_RDMA_TRANSFORM the SMB2_RDMA_TRANSFORM at
 *  DataOffset (MS-SMB2 3.2.5.11) is decoded into `transform`: it spans
 *  DataLength bytes, or to the end of the PDU when DataLength is 0.
 *  Encode: DataOffset 0x50; `transform_info` (if any) then `data` are
 *  written there, DataLength = data.len (an RDMA read sends data.len 0
 *  and data_remaining = bytes placed). Scatter-gather: `data.p` NULL with
 *  data.len > 0 writes only the 80-byte header + fixed part with
 *  DataLength = data.len, and the caller sends the data right after it.
 *  @since 0.1.0 */
typedef struct smbx_smb2_read_resp {
  uint8_t data_offset;  /**< decode only (encoder writes 0x50) */
  uint8_t reserved;
  uint32_t data_remaining;
  uint32_t flags;       /**< 3.1.1: RESPONSE_RDMA_TRANSFORM */
  smbx_smb2_bytes data;
  smbx_smb2_bytes transform_info;     /**< encode only, see above */
  smbx_smb2_rdma_transform transform; /**< decode only */
} smbx_smb2_read_resp;

/** @brief Decode a READ request. Conventions: smbx/smb2_base.h.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_decode_read_req(const uint8_t *pdu, size_t len,
                                       smbx_smb2_read_req *out,
                                       smbx_error_detail *err);
/** @brief Encode a READ request. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_read_req(const smbx_smb2_hdr *h,
                                              const smbx_smb2_read_req *in,
                                              uint8_t *buf, size_t cap,
                                              size_t *needed);
/** @brief Decode a READ response. @since 0.1.0 */
SMBX_API int smbx_smb2_decode_read_resp(const uint8_t *pdu, size_t len,
                                        smbx_smb2_read_resp *out,
                                        smbx_error_detail *err);
/** @brief Encode a READ response (see smbx_smb2_read_resp).
 *  @return as every encoder; SMBX_ERR_INVAL also when both
 *          transform_info and data are non-empty. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_read_resp(const smbx_smb2_hdr *h,
                                               const smbx_smb2_read_resp *in,
                                               uint8_t *buf, size_t cap,
                                               size_t *needed);

/* =====================================================================
 * WRITE (MS-SMB2 2.2.21/2.2.22, smb2.md 4.7)
 * =================================================================== */

/** @name WRITE flags @{ */
#define SMBX_SMB2_WRITEFLAG_WRITE_THROUGH 0x00000001u
#define SMBX_SMB2_WRITEFLAG_WRITE_UNBUFFERED 0x00000002u
/** @} */

/** @brief WRITE request.
 *  Decode: `data` = DataOffset/Length (at or after 0x70, inside the PDU;
 *  any DataOffset when Length is 0, as the RDMA form's 0); channel info as
 *  smbx_smb2_read_req; data and channel info must not overlap.
 *  Encode: inline data at 0x70 (DataOffset 0x70); the RDMA form (data.len
 *  0 and a channel info) gets DataOffset 0 and the channel info at 0x70;
 *  with both, the channel info follows the data 8-aligned. With neither,
 *  DataOffset is 0x70 and one pad byte is written. Scatter-gather:
 *  `data.p` NULL with data.len > 0 (and no channel info) writes only the
 *  112-byte header + fixed part; the caller sends the data after it.
 *  @since 0.1.0 */
typedef struct smbx_smb2_write_req {
  uint16_t data_offset;  /**< decode only */
  uint64_t offset;
  smbx_smb2_fileid file_id;
  uint32_t channel;
  uint32_t remaining_bytes; /**< RDMA form: bytes to pull */
  uint16_t channel_info_offset; /**< decode only */
  uint32_t flags;        /**< SMBX_SMB2_WRITEFLAG_* */
  smbx_smb2_bytes data;  /**< Length = data.len */
  smbx_smb2_bytes channel_info;
  smbx_smb2_desc_list descs;          /**< decode only */
  smbx_smb2_rdma_transform transform; /**< decode only */
} smbx_smb2_write_req;

/** @brief WRITE response. Encode: channel info (normally empty: offset
 *  and length 0, one pad byte) at 0x50. @since 0.1.0 */
typedef struct smbx_smb2_write_resp {
  uint16_t reserved;
  uint32_t count;
  uint32_t remaining;
  uint16_t channel_info_offset; /**< decode only */
  smbx_smb2_bytes channel_info;
} smbx_smb2_write_resp;

/** @brief Decode a WRITE request. @since 0.1.0 */
SMBX_API int smbx_smb2_decode_write_req(const uint8_t *pdu, size_t len,
                                        smbx_smb2_write_req *out,
                                        smbx_error_detail *err);
/** @brief Encode a WRITE request (see smbx_smb2_write_req).
 *  @return as every encoder; SMBX_ERR_INVAL also for scatter-gather data
 *          with a channel info. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_write_req(const smbx_smb2_hdr *h,
                                               const smbx_smb2_write_req *in,
                                               uint8_t *buf, size_t cap,
                                               size_t *needed);
/** @brief Decode a WRITE response. @since 0.1.0 */
SMBX_API int smbx_smb2_decode_write_resp(const uint8_t *pdu, size_t len,
                                         smbx_smb2_write_resp *out,
                                         smbx_error_detail *err);
/** @brief Encode a WRITE response. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_write_resp(const smbx_smb2_hdr *h,
                                                const smbx_smb2_write_resp *in,
                                                uint8_t *buf, size_t cap,
                                                size_t *needed);

/* =====================================================================
 * LOCK (MS-SMB2 2.2.26/2.2.27, smb2.md 4.8)
 * =================================================================== */

/** @name LOCK element flags @{ */
#define SMBX_SMB2_LOCKFLAG_SHARED 0x00000001u
#define SMBX_SMB2_LOCKFLAG_EXCLUSIVE 0x00000002u
#define SMBX_SMB2_LOCKFLAG_UNLOCK 0x00000004u
#define SMBX_SMB2_LOCKFLAG_FAIL_IMMEDIATELY 0x00000010u
/** @} */
#define SMBX_SMB2_LOCK_ELEMENT_SIZE 24u

/** @brief One SMB2_LOCK_ELEMENT. @since 0.1.0 */
typedef struct smbx_smb2_lock_element {
  uint64_t offset;
  uint64_t length;
  uint32_t flags;
  uint32_t reserved;
} smbx_smb2_lock_element;

/** @brief LOCK request.
 *  Decode: LockCount >= 1 and LockCount x 24 bytes present from @88
 *  (64-bit product); `locks` views them (read with
 *  smbx_smb2_lock_req_get()); `elements` is NULL.
 *  Encode: `elements[0..lock_count)` when `elements` is non-NULL, else the
 *  raw `locks` view (a non-empty multiple of 24; lock_count ignored).
 *  @since 0.1.0 */
typedef struct smbx_smb2_lock_req {
  uint16_t lock_count;
  uint32_t lock_sequence; /**< 2.1+: low 4 bits number, upper 28 index */
  smbx_smb2_fileid file_id;
  smbx_smb2_bytes locks;  /**< lock_count x 24 raw bytes */
  const smbx_smb2_lock_element *elements; /**< encode only */
} smbx_smb2_lock_req;

/** @brief LOCK response (4-byte body). @since 0.1.0 */
typedef struct smbx_smb2_lock_resp {
  uint16_t reserved;
} smbx_smb2_lock_resp;

/** @brief Element i of a decoded LOCK request.
 *  @return 0; SMBX_ERR_RANGE when i is past `locks`; SMBX_ERR_INVAL.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_lock_req_get(const smbx_smb2_lock_req *r, size_t i,
                                    smbx_smb2_lock_element *out);
/** @brief Decode a LOCK request. @since 0.1.0 */
SMBX_API int smbx_smb2_decode_lock_req(const uint8_t *pdu, size_t len,
                                       smbx_smb2_lock_req *out,
                                       smbx_error_detail *err);
/** @brief Encode a LOCK request.
 *  @return as every encoder; SMBX_ERR_RANGE for 0 or more than 65535
 *          elements. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_lock_req(const smbx_smb2_hdr *h,
                                              const smbx_smb2_lock_req *in,
                                              uint8_t *buf, size_t cap,
                                              size_t *needed);
/** @brief Decode a LOCK response. @since 0.1.0 */
SMBX_API int smbx_smb2_decode_lock_resp(const uint8_t *pdu, size_t len,
                                        smbx_smb2_lock_resp *out,
                                        smbx_error_detail *err);
/** @brief Encode a LOCK response. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_lock_resp(const smbx_smb2_hdr *h,
                                               const smbx_smb2_lock_resp *in,
                                               uint8_t *buf, size_t cap,
                                               size_t *needed);

/* =====================================================================
 * IOCTL (MS-SMB2 2.2.31/2.2.32, smb2.md 4.9)
 * =================================================================== */

/** @name IOCTL CtlCode values and flags @{ */
#define SMBX_SMB2_FSCTL_DFS_GET_REFERRALS 0x00060194u
#define SMBX_SMB2_FSCTL_PIPE_TRANSCEIVE 0x0011C017u
#define SMBX_SMB2_FSCTL_VALIDATE_NEGOTIATE_INFO 0x00140204u
#define SMBX_SMB2_FSCTL_QUERY_NETWORK_INTERFACE_INFO 0x001401FCu
#define SMBX_SMB2_IOCTL_IS_FSCTL 0x00000001u
/** @} */

/** @brief IOCTL request.
 *  Decode: input and output are data areas (at or after 0x78, inside the
 *  PDU) that must not overlap (case 28).
 *  Encode: input at 0x78, output after it 8-aligned; both offsets always
 *  point there (also for empty buffers); with both empty one pad byte.
 *  @since 0.1.0 */
typedef struct smbx_smb2_ioctl_req {
  uint16_t reserved;
  uint32_t ctl_code;
  smbx_smb2_fileid file_id; /**< all-ones for connection-level FSCTLs */
  uint32_t input_offset;    /**< decode only */
  uint32_t max_input_response;
  uint32_t output_offset;   /**< decode only */
  uint32_t max_output_response;
  uint32_t flags;           /**< SMBX_SMB2_IOCTL_IS_FSCTL */
  uint32_t reserved2;
  smbx_smb2_bytes input;    /**< InputCount bytes */
  smbx_smb2_bytes output;   /**< OutputCount bytes (normally empty) */
} smbx_smb2_ioctl_req;

/** @brief IOCTL response; layout rules as the request with 0x70 as the
 *  first data byte. @since 0.1.0 */
typedef struct smbx_smb2_ioctl_resp {
  uint16_t reserved;
  uint32_t ctl_code;
  smbx_smb2_fileid file_id;
  uint32_t input_offset;    /**< decode only */
  uint32_t output_offset;   /**< decode only */
  uint32_t flags;
  uint32_t reserved2;
  smbx_smb2_bytes input;
  smbx_smb2_bytes output;
} smbx_smb2_ioctl_resp;

/** @brief Decode an IOCTL request. @since 0.1.0 */
SMBX_API int smbx_smb2_decode_ioctl_req(const uint8_t *pdu, size_t len,
                                        smbx_smb2_ioctl_req *out,
                                        smbx_error_detail *err);
/** @brief Encode an IOCTL request. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_ioctl_req(const smbx_smb2_hdr *h,
                                               const smbx_smb2_ioctl_req *in,
                                               uint8_t *buf, size_t cap,
                                               size_t *needed);
/** @brief Decode an IOCTL response. @since 0.1.0 */
SMBX_API int smbx_smb2_decode_ioctl_resp(const uint8_t *pdu, size_t len,
                                         smbx_smb2_ioctl_resp *out,
                                         smbx_error_detail *err);
/** @brief Encode an IOCTL response. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_ioctl_resp(
    const smbx_smb2_hdr *h, const smbx_smb2_ioctl_resp *in, uint8_t *buf,
    size_t cap, size_t *needed);

/** @name NETWORK_INTERFACE_INFO (MS-SMB2 2.2.32.5) @{ */
#define SMBX_SMB2_NETIF_RSS_CAPABLE 0x1u
#define SMBX_SMB2_NETIF_RDMA_CAPABLE 0x2u
#define SMBX_SMB2_NETIF_FAMILY_INET 0x0002u
#define SMBX_SMB2_NETIF_FAMILY_INET6 0x0017u
#define SMBX_SMB2_NETIF_SIZE 152u
/** @} */

/** @brief One NETWORK_INTERFACE_INFO entry (host values; `addr` in
 *  network order as on the wire). @since 0.1.0 */
typedef struct smbx_smb2_netif {
  uint32_t next;            /**< decode only: Next as on the wire */
  uint32_t if_index;
  uint32_t capability;      /**< RSS_CAPABLE | RDMA_CAPABLE */
  uint32_t rss_queue_count; /**< the Reserved field (Wireshark's name) */
  uint64_t link_speed;      /**< bits per second */
  uint16_t family;          /**< FAMILY_INET or FAMILY_INET6 */
  uint16_t port;            /**< host order (0 on the wire normally) */
  uint32_t flow_info;       /**< IPv6, host order (network on the wire) */
  uint32_t scope_id;        /**< IPv6, host order (network on the wire) */
  uint8_t addr[16];         /**< IPv4 in addr[0..3] */
} smbx_smb2_netif;

/** @brief Iterator over FSCTL_QUERY_NETWORK_INTERFACE_INFO output.
 *  Plain data; initialise with smbx_smb2_netif_iter_init().
 *  @since 0.1.0 */
typedef struct smbx_smb2_netif_iter {
  const uint8_t *buf;
  size_t len;
  size_t pos;
  uint32_t count;
  int done;
} smbx_smb2_netif_iter;

/** @brief Start iterating network interfaces (an IOCTL response output).
 *  @return 0; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_smb2_netif_iter_init(smbx_smb2_netif_iter *it,
                                       const uint8_t *buf, size_t len);

/** @brief Next interface. Checks: 152 bytes in bounds; Next 0 or >= 152,
 *  8-aligned, the next entry starting inside the buffer; Family IPv4 or
 *  IPv6 (case 35).
 *  @param err optional (offset relative to buf)
 *  @return 1; 0 at the end; SMBX_ERR_DECODE (later calls return 0);
 *          SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_smb2_netif_iter_next(smbx_smb2_netif_iter *it,
                                       smbx_smb2_netif *e,
                                       smbx_error_detail *err);

/** @brief Encode n interfaces (152 bytes each; Next 152, the last 0).
 *  @return bytes written; SMBX_ERR_NOBUF; SMBX_ERR_INVAL on NULL, n == 0
 *          or a family other than IPv4/IPv6. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_netif_encode(const smbx_smb2_netif *e, size_t n,
                                           uint8_t *buf, size_t cap,
                                           size_t *needed);

/** @brief VALIDATE_NEGOTIATE_INFO request payload (24 + 2n bytes).
 *  @since 0.1.0 */
typedef struct smbx_smb2_vni_req {
  uint32_t capabilities;
  uint8_t guid[16];
  uint16_t security_mode;
  smbx_smb2_bytes dialects; /**< DialectCount x u16 LE (read with
                                 smbx_smb2_bytes_u16()) */
} smbx_smb2_vni_req;

/** @brief VALIDATE_NEGOTIATE_INFO response payload (24 bytes).
 *  @since 0.1.0 */
typedef struct smbx_smb2_vni_resp {
  uint32_t capabilities;
  uint8_t guid[16];
  uint16_t security_mode;
  uint16_t dialect;
} smbx_smb2_vni_resp;

/** @brief Decode a VALIDATE_NEGOTIATE_INFO request (the IOCTL input).
 *  @return 0; SMBX_ERR_DECODE (short, DialectCount 0 or dialects past the
 *          end); SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_smb2_vni_req_decode(const uint8_t *p, size_t len,
                                      smbx_smb2_vni_req *out,
                                      smbx_error_detail *err);
/** @brief Encode a VALIDATE_NEGOTIATE_INFO request.
 *  @return bytes; SMBX_ERR_NOBUF; SMBX_ERR_INVAL; SMBX_ERR_RANGE when the
 *          dialect view is empty, odd or over 65535 entries.
 *  @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_vni_req_encode(const smbx_smb2_vni_req *in,
                                             uint8_t *buf, size_t cap,
                                             size_t *needed);
/** @brief Decode a VALIDATE_NEGOTIATE_INFO response (the IOCTL output).
 *  @return 0; SMBX_ERR_DECODE when shorter than 24; SMBX_ERR_INVAL.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_vni_resp_decode(const uint8_t *p, size_t len,
                                       smbx_smb2_vni_resp *out,
                                       smbx_error_detail *err);
/** @brief Encode a VALIDATE_NEGOTIATE_INFO response (24 bytes).
 *  @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_vni_resp_encode(const smbx_smb2_vni_resp *in,
                                              uint8_t *buf, size_t cap,
                                              size_t *needed);

/* =====================================================================
 * QUERY_DIRECTORY (MS-SMB2 2.2.33/2.2.34, MS-FSCC 2.4, smb2.md 4.10)
 * =================================================================== */

/** @name QUERY_DIRECTORY flags and classes with an iterator @{ */
#define SMBX_SMB2_RESTART_SCANS 0x01u
#define SMBX_SMB2_RETURN_SINGLE_ENTRY 0x02u
#define SMBX_SMB2_INDEX_SPECIFIED 0x04u
#define SMBX_SMB2_REOPEN 0x10u
#define SMBX_SMB2_FILE_DIRECTORY_INFORMATION 1u
#define SMBX_SMB2_FILE_FULL_DIRECTORY_INFORMATION 2u
#define SMBX_SMB2_FILE_BOTH_DIRECTORY_INFORMATION 3u
#define SMBX_SMB2_FILE_NAMES_INFORMATION 12u
#define SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION 37u
#define SMBX_SMB2_FILE_ID_FULL_DIRECTORY_INFORMATION 38u
#define SMBX_SMB2_FILE_ID_EXTD_DIRECTORY_INFORMATION 60u
/** @} */

/** @brief QUERY_DIRECTORY request. The search pattern is a data area
 *  (at or after 0x60, even length); the encoder puts it at 0x60 (an empty
 *  pattern: offset 0x60, length 0, one pad byte). @since 0.1.0 */
typedef struct smbx_smb2_query_directory_req {
  uint8_t info_class;  /**< FileInformationClass */
  uint8_t flags;       /**< SMBX_SMB2_RESTART_SCANS, ... */
  uint32_t file_index;
  smbx_smb2_fileid file_id;
  uint16_t file_name_offset; /**< decode only */
  smbx_smb2_bytes file_name; /**< pattern, UTF-16LE */
  uint32_t output_buffer_length;
} smbx_smb2_query_directory_req;

/** @brief Output-buffer response shared by QUERY_DIRECTORY,
 *  CHANGE_NOTIFY and QUERY_INFO (SS 9: OutputBufferOffset u16,
 *  OutputBufferLength u32). Decode: the buffer at or after 0x48; encode:
 *  at 0x48 (empty: offset 0x48, length 0, one pad byte).
 *  @since 0.1.0 */
typedef struct smbx_smb2_output_resp {
  uint16_t output_buffer_offset; /**< decode only */
  smbx_smb2_bytes output;
} smbx_smb2_output_resp;

/** @brief Decode a QUERY_DIRECTORY request. @since 0.1.0 */
SMBX_API int smbx_smb2_decode_query_directory_req(
    const uint8_t *pdu, size_t len, smbx_smb2_query_directory_req *out,
    smbx_error_detail *err);
/** @brief Encode a QUERY_DIRECTORY request. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_query_directory_req(
    const smbx_smb2_hdr *h, const smbx_smb2_query_directory_req *in,
    uint8_t *buf, size_t cap, size_t *needed);
/** @brief Decode a QUERY_DIRECTORY response. @since 0.1.0 */
SMBX_API int smbx_smb2_decode_query_directory_resp(
    const uint8_t *pdu, size_t len, smbx_smb2_output_resp *out,
    smbx_error_detail *err);
/** @brief Encode a QUERY_DIRECTORY response. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_query_directory_resp(
    const smbx_smb2_hdr *h, const smbx_smb2_output_resp *in,
    uint8_t *buf, size_t cap, size_t *needed);

/** @brief One directory entry of any of the seven classes; fields a class
 *  lacks are 0 on decode and ignored on encode. @since 0.1.0 */
typedef struct smbx_smb2_dir_entry {
  uint32_t next_entry_offset; /**< decode only */
  uint32_t file_index;
  uint64_t creation_time;     /**< FILETIME; not in class 12 */
  uint64_t last_access_time;
  uint64_t last_write_time;
  uint64_t change_time;
  uint64_t end_of_file;
  uint64_t allocation_size;
  uint32_t file_attributes;
  uint32_t ea_size;           /**< classes 2, 3, 37, 38, 60 */
  uint32_t reparse_tag;       /**< class 60 */
  smbx_smb2_bytes short_name; /**< classes 3, 37: <= 24 bytes */
  uint64_t file_id;           /**< classes 37, 38 */
  uint8_t file_id_128[16];    /**< class 60 */
  smbx_smb2_bytes file_name;  /**< UTF-16LE, even length */
} smbx_smb2_dir_entry;

/** @brief Iterator over a QUERY_DIRECTORY output buffer. Plain data;
 *  initialise with smbx_smb2_dir_iter_init(). @since 0.1.0 */
typedef struct smbx_smb2_dir_iter {
  const uint8_t *buf;
  size_t len;
  size_t pos;      /**< offset of the next entry */
  uint32_t count;  /**< entries returned so far */
  uint8_t info_class;
  int done;
} smbx_smb2_dir_iter;

/** @brief Fixed size (offset of FileName) of an entry of a class.
 *  @return 64, 68, 94, 12, 104, 80 or 88; 0 for a class without an
 *          iterator. @since 0.1.0 */
SMBX_API size_t smbx_smb2_dir_entry_fixed_size(uint8_t info_class);

/** @brief Start iterating a QUERY_DIRECTORY output buffer.
 *  @param buf the output view (borrowed; entries point into it)
 *  @return 0; SMBX_ERR_UNSUPPORTED for a class without an iterator;
 *          SMBX_ERR_INVAL on NULL it (or NULL buf with len > 0).
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_dir_iter_init(smbx_smb2_dir_iter *it, uint8_t info_class,
                                     const uint8_t *buf, size_t len);

/** @brief Next entry. Checks (smb2.md 4.10, case 34): entry 8-aligned
 *  with its fixed part in bounds; FileNameLength even and inside the
 *  entry; NextEntryOffset 8-aligned, >= the fixed size and the next entry
 *  starting inside the buffer; ShortNameLength <= 24.
 *  @param err optional (offset relative to buf)
 *  @return 1 and fills e; 0 at the end (an empty buffer has none);
 *          SMBX_ERR_DECODE (later calls return 0); SMBX_ERR_INVAL.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_dir_iter_next(smbx_smb2_dir_iter *it,
                                     smbx_smb2_dir_entry *e,
                                     smbx_error_detail *err);

/** @brief Packs entries for a server's QUERY_DIRECTORY response: each
 *  entry starts 8-aligned after zero padding, the previous entry's
 *  NextEntryOffset is patched, the last keeps 0 and is not padded.
 *  Plain data; initialise with smbx_smb2_dir_builder_init().
 *  @since 0.1.0 */
typedef struct smbx_smb2_dir_builder {
  uint8_t *buf;
  size_t cap;
  size_t len;      /**< bytes used: the OutputBufferLength */
  size_t last;     /**< offset of the last entry */
  uint32_t count;  /**< entries added */
  uint8_t info_class;
} smbx_smb2_dir_builder;

/** @brief Start packing entries of one class into buf[0..cap).
 *  @return 0; SMBX_ERR_UNSUPPORTED; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_smb2_dir_builder_init(smbx_smb2_dir_builder *b,
                                        uint8_t info_class, uint8_t *buf,
                                        size_t cap);

/** @brief Append one entry (names copied).
 *  @return 0; SMBX_ERR_NOBUF when it does not fit (builder unchanged: the
 *          response is full); SMBX_ERR_RANGE for an odd or oversized name
 *          or a short name over 24 bytes; SMBX_ERR_INVAL on NULL.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_dir_builder_add(smbx_smb2_dir_builder *b,
                                       const smbx_smb2_dir_entry *e);

/* =====================================================================
 * CHANGE_NOTIFY (MS-SMB2 2.2.35/2.2.36, MS-FSCC 2.7.1, smb2.md 4.11)
 * =================================================================== */

/** @name CHANGE_NOTIFY flags, filter and actions @{ */
#define SMBX_SMB2_WATCH_TREE 0x0001u
#define SMBX_SMB2_NOTIFY_FILE_NAME 0x001u
#define SMBX_SMB2_NOTIFY_DIR_NAME 0x002u
#define SMBX_SMB2_NOTIFY_ATTRIBUTES 0x004u
#define SMBX_SMB2_NOTIFY_SIZE 0x008u
#define SMBX_SMB2_NOTIFY_LAST_WRITE 0x010u
#define SMBX_SMB2_NOTIFY_LAST_ACCESS 0x020u
#define SMBX_SMB2_NOTIFY_CREATION 0x040u
#define SMBX_SMB2_NOTIFY_EA 0x080u
#define SMBX_SMB2_NOTIFY_SECURITY 0x100u
#define SMBX_SMB2_NOTIFY_STREAM_NAME 0x200u
#define SMBX_SMB2_NOTIFY_STREAM_SIZE 0x400u
#define SMBX_SMB2_NOTIFY_STREAM_WRITE 0x800u
#define SMBX_SMB2_ACTION_ADDED 1u
#define SMBX_SMB2_ACTION_REMOVED 2u
#define SMBX_SMB2_ACTION_MODIFIED 3u
#define SMBX_SMB2_ACTION_RENAMED_OLD_NAME 4u
#define SMBX_SMB2_ACTION_RENAMED_NEW_NAME 5u
#define SMBX_SMB2_ACTION_ADDED_STREAM 6u
#define SMBX_SMB2_ACTION_REMOVED_STREAM 7u
#define SMBX_SMB2_ACTION_MODIFIED_STREAM 8u
#define SMBX_SMB2_ACTION_REMOVED_BY_DELETE 9u
/** @} */

/** @brief CHANGE_NOTIFY request (32-byte body, no variable part).
 *  @since 0.1.0 */
typedef struct smbx_smb2_change_notify_req {
  uint16_t flags;  /**< SMBX_SMB2_WATCH_TREE */
  uint32_t output_buffer_length;
  smbx_smb2_fileid file_id;
  uint32_t completion_filter;
  uint32_t reserved;
} smbx_smb2_change_notify_req;

/** @brief Decode a CHANGE_NOTIFY request. @since 0.1.0 */
SMBX_API int smbx_smb2_decode_change_notify_req(
    const uint8_t *pdu, size_t len, smbx_smb2_change_notify_req *out,
    smbx_error_detail *err);
/** @brief Encode a CHANGE_NOTIFY request. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_change_notify_req(
    const smbx_smb2_hdr *h, const smbx_smb2_change_notify_req *in,
    uint8_t *buf, size_t cap, size_t *needed);
/** @brief Decode a CHANGE_NOTIFY response. @since 0.1.0 */
SMBX_API int smbx_smb2_decode_change_notify_resp(
    const uint8_t *pdu, size_t len, smbx_smb2_output_resp *out,
    smbx_error_detail *err);
/** @brief Encode a CHANGE_NOTIFY response. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_change_notify_resp(
    const smbx_smb2_hdr *h, const smbx_smb2_output_resp *in,
    uint8_t *buf, size_t cap, size_t *needed);

/** @brief One FILE_NOTIFY_INFORMATION entry. @since 0.1.0 */
typedef struct smbx_smb2_notify_entry {
  uint32_t next_entry_offset; /**< decode only */
  uint32_t action;            /**< SMBX_SMB2_ACTION_* */
  smbx_smb2_bytes file_name;  /**< UTF-16LE, even length */
} smbx_smb2_notify_entry;

/** @brief Iterator over FILE_NOTIFY_INFORMATION entries. @since 0.1.0 */
typedef struct smbx_smb2_notify_iter {
  const uint8_t *buf;
  size_t len;
  size_t pos;
  uint32_t count;
  int done;
} smbx_smb2_notify_iter;

/** @brief Start iterating a CHANGE_NOTIFY output buffer.
 *  @return 0; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_smb2_notify_iter_init(smbx_smb2_notify_iter *it,
                                        const uint8_t *buf, size_t len);

/** @brief Next entry. Checks (smb2.md 4.11, case 34): 12-byte fixed part
 *  in bounds; FileNameLength even and inside the entry; NextEntryOffset a
 *  multiple of 4, >= 12 and the next entry starting inside the buffer.
 *  @return 1; 0 at the end; SMBX_ERR_DECODE (later calls return 0);
 *          SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_smb2_notify_iter_next(smbx_smb2_notify_iter *it,
                                        smbx_smb2_notify_entry *e,
                                        smbx_error_detail *err);

/** @brief Packs FILE_NOTIFY_INFORMATION entries (4-byte aligned with zero
 *  padding, the last NextEntryOffset 0 and unpadded). @since 0.1.0 */
typedef struct smbx_smb2_notify_builder {
  uint8_t *buf;
  size_t cap;
  size_t len;
  size_t last;
  uint32_t count;
} smbx_smb2_notify_builder;

/** @brief Start packing into buf[0..cap). @return 0; SMBX_ERR_INVAL.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_notify_builder_init(smbx_smb2_notify_builder *b,
                                           uint8_t *buf, size_t cap);

/** @brief Append one entry (name copied).
 *  @return 0; SMBX_ERR_NOBUF (builder unchanged); SMBX_ERR_RANGE for an
 *          odd or oversized name; SMBX_ERR_INVAL on NULL. @since 0.1.0 */
SMBX_API int smbx_smb2_notify_builder_add(smbx_smb2_notify_builder *b,
                                          const smbx_smb2_notify_entry *e);

/* =====================================================================
 * QUERY_INFO / SET_INFO (MS-SMB2 2.2.37-2.2.40, smb2.md 4.12)
 * =================================================================== */

/** @name InfoType, AdditionalInformation and file information classes @{ */
#define SMBX_SMB2_0_INFO_FILE 0x01u
#define SMBX_SMB2_0_INFO_FILESYSTEM 0x02u
#define SMBX_SMB2_0_INFO_SECURITY 0x03u
#define SMBX_SMB2_0_INFO_QUOTA 0x04u
#define SMBX_SMB2_OWNER_SECURITY_INFORMATION 0x1u
#define SMBX_SMB2_GROUP_SECURITY_INFORMATION 0x2u
#define SMBX_SMB2_DACL_SECURITY_INFORMATION 0x4u
#define SMBX_SMB2_SACL_SECURITY_INFORMATION 0x8u
#define SMBX_SMB2_FILE_BASIC_INFORMATION 4u
#define SMBX_SMB2_FILE_STANDARD_INFORMATION 5u
#define SMBX_SMB2_FILE_INTERNAL_INFORMATION 6u
#define SMBX_SMB2_FILE_RENAME_INFORMATION 10u
#define SMBX_SMB2_FILE_DISPOSITION_INFORMATION 13u
#define SMBX_SMB2_FILE_ALL_INFORMATION 18u
#define SMBX_SMB2_FILE_END_OF_FILE_INFORMATION 20u
#define SMBX_SMB2_FILE_NETWORK_OPEN_INFORMATION 34u
#define SMBX_SMB2_FILE_EA_INFORMATION 7u
#define SMBX_SMB2_FILE_ACCESS_INFORMATION 8u
#define SMBX_SMB2_FILE_POSITION_INFORMATION 14u
#define SMBX_SMB2_FILE_MODE_INFORMATION 16u
#define SMBX_SMB2_FILE_ALIGNMENT_INFORMATION 17u
#define SMBX_SMB2_FILE_STREAM_INFORMATION 22u
#define SMBX_SMB2_FILE_COMPRESSION_INFORMATION 28u
#define SMBX_SMB2_FILE_ATTRIBUTE_TAG_INFORMATION 35u
/** @} */

/** @name File system information classes (InfoType FILESYSTEM) @{ */
#define SMBX_SMB2_FS_VOLUME_INFORMATION 1u
#define SMBX_SMB2_FS_SIZE_INFORMATION 3u
#define SMBX_SMB2_FS_DEVICE_INFORMATION 4u
#define SMBX_SMB2_FS_ATTRIBUTE_INFORMATION 5u
#define SMBX_SMB2_FS_FULL_SIZE_INFORMATION 7u
#define SMBX_SMB2_FS_SECTOR_SIZE_INFORMATION 11u
/** @} */

/** @brief QUERY_INFO request. The input buffer (quota / EA queries) is a
 *  data area at or after 0x68; the encoder puts it at 0x68 (empty: offset
 *  0x68, length 0, one pad byte). @since 0.1.0 */
typedef struct smbx_smb2_query_info_req {
  uint8_t info_type;       /**< SMBX_SMB2_0_INFO_* */
  uint8_t file_info_class;
  uint32_t output_buffer_length;
  uint16_t input_buffer_offset; /**< decode only */
  uint16_t reserved;
  uint32_t additional_information;
  uint32_t flags;
  smbx_smb2_fileid file_id;
  smbx_smb2_bytes input;
} smbx_smb2_query_info_req;

/** @brief SET_INFO request. The buffer is a data area at or after 0x60;
 *  the encoder puts it at 0x60 (empty: one pad byte). @since 0.1.0 */
typedef struct smbx_smb2_set_info_req {
  uint8_t info_type;
  uint8_t file_info_class;
  uint16_t buffer_offset; /**< decode only */
  uint16_t reserved;
  uint32_t additional_information;
  smbx_smb2_fileid file_id;
  smbx_smb2_bytes buffer;
} smbx_smb2_set_info_req;

/** @brief SET_INFO response (body is StructureSize 2 only).
 *  @since 0.1.0 */
typedef struct smbx_smb2_set_info_resp {
  uint16_t structure_size; /**< 2 on decode; ignored by the encoder */
} smbx_smb2_set_info_resp;

/** @brief Decode a QUERY_INFO request. @since 0.1.0 */
SMBX_API int smbx_smb2_decode_query_info_req(const uint8_t *pdu, size_t len,
                                             smbx_smb2_query_info_req *out,
                                             smbx_error_detail *err);
/** @brief Encode a QUERY_INFO request. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_query_info_req(
    const smbx_smb2_hdr *h, const smbx_smb2_query_info_req *in, uint8_t *buf,
    size_t cap, size_t *needed);
/** @brief Decode a QUERY_INFO response. @since 0.1.0 */
SMBX_API int smbx_smb2_decode_query_info_resp(const uint8_t *pdu, size_t len,
                                              smbx_smb2_output_resp *out,
                                              smbx_error_detail *err);
/** @brief Encode a QUERY_INFO response. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_query_info_resp(
    const smbx_smb2_hdr *h, const smbx_smb2_output_resp *in,
    uint8_t *buf, size_t cap, size_t *needed);
/** @brief Decode a SET_INFO request. @since 0.1.0 */
SMBX_API int smbx_smb2_decode_set_info_req(const uint8_t *pdu, size_t len,
                                           smbx_smb2_set_info_req *out,
                                           smbx_error_detail *err);
/** @brief Encode a SET_INFO request. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_set_info_req(
    const smbx_smb2_hdr *h, const smbx_smb2_set_info_req *in, uint8_t *buf,
    size_t cap, size_t *needed);
/** @brief Decode a SET_INFO response. @since 0.1.0 */
SMBX_API int smbx_smb2_decode_set_info_resp(const uint8_t *pdu, size_t len,
                                            smbx_smb2_set_info_resp *out,
                                            smbx_error_detail *err);
/** @brief Encode a SET_INFO response (66 bytes). @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_set_info_resp(
    const smbx_smb2_hdr *h, const smbx_smb2_set_info_resp *in, uint8_t *buf,
    size_t cap, size_t *needed);

/** @brief FileBasicInformation (class 4, 40 bytes; SET: time 0 = keep,
 *  -1 = stop updating). @since 0.1.0 */
typedef struct smbx_smb2_file_basic_info {
  uint64_t creation_time;
  uint64_t last_access_time;
  uint64_t last_write_time;
  uint64_t change_time;
  uint32_t file_attributes;
  uint32_t reserved;
} smbx_smb2_file_basic_info;

/** @brief FileStandardInformation (class 5, 24 bytes). @since 0.1.0 */
typedef struct smbx_smb2_file_standard_info {
  uint64_t allocation_size;
  uint64_t end_of_file;
  uint32_t number_of_links;
  uint8_t delete_pending;
  uint8_t directory;
  uint16_t reserved;
} smbx_smb2_file_standard_info;

/** @brief FileInternalInformation (class 6, 8 bytes). @since 0.1.0 */
typedef struct smbx_smb2_file_internal_info {
  uint64_t index_number;
} smbx_smb2_file_internal_info;

/** @brief FileAllInformation (class 18, 100 bytes + FileName).
 *  @since 0.1.0 */
typedef struct smbx_smb2_file_all_info {
  smbx_smb2_file_basic_info basic;
  smbx_smb2_file_standard_info standard;
  uint64_t index_number;
  uint32_t ea_size;
  uint32_t access_flags;
  uint64_t current_byte_offset;
  uint32_t mode;
  uint32_t alignment_requirement;
  smbx_smb2_bytes file_name; /**< UTF-16LE, even length */
} smbx_smb2_file_all_info;

/** @brief FileNetworkOpenInformation (class 34, 56 bytes). @since 0.1.0 */
typedef struct smbx_smb2_file_network_open_info {
  uint64_t creation_time;
  uint64_t last_access_time;
  uint64_t last_write_time;
  uint64_t change_time;
  uint64_t allocation_size;
  uint64_t end_of_file;
  uint32_t file_attributes;
  uint32_t reserved;
} smbx_smb2_file_network_open_info;

/** @brief FileRenameInformation for SMB2 (class 10, SET; 20 bytes +
 *  FileName). @since 0.1.0 */
typedef struct smbx_smb2_file_rename_info {
  uint8_t replace_if_exists;
  uint64_t root_directory;   /**< 0 for SMB2 */
  smbx_smb2_bytes file_name; /**< UTF-16LE, even length */
} smbx_smb2_file_rename_info;

/** @brief FileDispositionInformation (class 13, SET; 1 byte).
 *  @since 0.1.0 */
typedef struct smbx_smb2_file_disposition_info {
  uint8_t delete_pending;
} smbx_smb2_file_disposition_info;

/** @brief FileEndOfFileInformation (class 20, SET; 8 bytes).
 *  @since 0.1.0 */
typedef struct smbx_smb2_file_end_of_file_info {
  uint64_t end_of_file;
} smbx_smb2_file_end_of_file_info;

/** @brief FileEaInformation (class 7, 4 bytes). @since 0.1.0 */
typedef struct smbx_smb2_file_ea_info {
  uint32_t ea_size;
} smbx_smb2_file_ea_info;

/** @brief FileAccessInformation (class 8, 4 bytes). @since 0.1.0 */
typedef struct smbx_smb2_file_access_info {
  uint32_t access_flags;
} smbx_smb2_file_access_info;

/** @brief FilePositionInformation (class 14, 8 bytes). @since 0.1.0 */
typedef struct smbx_smb2_file_position_info {
  uint64_t current_byte_offset;
} smbx_smb2_file_position_info;

/** @brief FileModeInformation (class 16, 4 bytes). @since 0.1.0 */
typedef struct smbx_smb2_file_mode_info {
  uint32_t mode;
} smbx_smb2_file_mode_info;

/** @brief FileAlignmentInformation (class 17, 4 bytes). @since 0.1.0 */
typedef struct smbx_smb2_file_alignment_info {
  uint32_t alignment_requirement;
} smbx_smb2_file_alignment_info;

/** @brief FileAttributeTagInformation (class 35, 8 bytes). @since 0.1.0 */
typedef struct smbx_smb2_file_attribute_tag_info {
  uint32_t file_attributes;
  uint32_t reparse_tag;
} smbx_smb2_file_attribute_tag_info;

/** @brief FileCompressionInformation (class 28, 16 bytes). @since 0.1.0 */
typedef struct smbx_smb2_file_compression_info {
  uint64_t compressed_file_size;
  uint16_t compression_format; /**< 0 COMPRESSION_FORMAT_NONE */
  uint8_t compression_unit_shift;
  uint8_t chunk_shift;
  uint8_t cluster_shift;
} smbx_smb2_file_compression_info;

/** @brief One FileStreamInformation entry (class 22: 24 bytes +
 *  StreamName, entries 8-byte aligned). @since 0.1.0 */
typedef struct smbx_smb2_file_stream_entry {
  uint32_t next_entry_offset;  /**< decode only */
  smbx_smb2_bytes stream_name; /**< UTF-16LE, e.g. "::$DATA" */
  uint64_t stream_size;
  uint64_t stream_allocation_size;
} smbx_smb2_file_stream_entry;

/** @brief FileFsVolumeInformation (FS class 1, 18 bytes + VolumeLabel).
 *  @since 0.1.0 */
typedef struct smbx_smb2_fs_volume_info {
  uint64_t volume_creation_time;
  uint32_t volume_serial_number;
  uint8_t supports_objects;
  smbx_smb2_bytes volume_label; /**< UTF-16LE, even length */
} smbx_smb2_fs_volume_info;

/** @brief FileFsSizeInformation (FS class 3, 24 bytes). @since 0.1.0 */
typedef struct smbx_smb2_fs_size_info {
  uint64_t total_allocation_units;
  uint64_t available_allocation_units;
  uint32_t sectors_per_allocation_unit;
  uint32_t bytes_per_sector;
} smbx_smb2_fs_size_info;

/** @brief FileFsDeviceInformation (FS class 4, 8 bytes). @since 0.1.0 */
typedef struct smbx_smb2_fs_device_info {
  uint32_t device_type; /**< 0x7 FILE_DEVICE_DISK */
  uint32_t characteristics;
} smbx_smb2_fs_device_info;

/** @brief FileFsAttributeInformation (FS class 5, 12 bytes +
 *  FileSystemName). @since 0.1.0 */
typedef struct smbx_smb2_fs_attribute_info {
  uint32_t file_system_attributes;
  uint32_t maximum_component_name_length;
  smbx_smb2_bytes file_system_name; /**< UTF-16LE, even length */
} smbx_smb2_fs_attribute_info;

/** @brief FileFsFullSizeInformation (FS class 7, 32 bytes). @since 0.1.0 */
typedef struct smbx_smb2_fs_full_size_info {
  uint64_t total_allocation_units;
  uint64_t caller_available_allocation_units;
  uint64_t actual_available_allocation_units;
  uint32_t sectors_per_allocation_unit;
  uint32_t bytes_per_sector;
} smbx_smb2_fs_full_size_info;

/** @brief FileFsSectorSizeInformation (FS class 11, 28 bytes).
 *  @since 0.1.0 */
typedef struct smbx_smb2_fs_sector_size_info {
  uint32_t logical_bytes_per_sector;
  uint32_t physical_bytes_per_sector_for_atomicity;
  uint32_t physical_bytes_per_sector_for_performance;
  uint32_t effective_physical_bytes_per_sector_for_atomicity;
  uint32_t flags;
  uint32_t byte_offset_for_sector_alignment;
  uint32_t byte_offset_for_partition_alignment;
} smbx_smb2_fs_sector_size_info;

/** @name File information class codecs
 *  Decoders read the class's layout from p[0..len): the fixed size must be
 *  present (trailing bytes are ignored), a FileName must be even and
 *  inside len. Return 0, SMBX_ERR_DECODE (err offset relative to p) or
 *  SMBX_ERR_INVAL. Encoders write exactly the layout: bytes written,
 *  SMBX_ERR_NOBUF, SMBX_ERR_INVAL, SMBX_ERR_RANGE (odd/oversized name).
 *  @since 0.1.0
 *  @{ */
SMBX_API int smbx_smb2_file_basic_info_decode(const uint8_t *p, size_t len,
                                              smbx_smb2_file_basic_info *out,
                                              smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_file_basic_info_encode(
    const smbx_smb2_file_basic_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_file_standard_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_standard_info *out,
    smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_file_standard_info_encode(
    const smbx_smb2_file_standard_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_file_internal_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_internal_info *out,
    smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_file_internal_info_encode(
    const smbx_smb2_file_internal_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_file_all_info_decode(const uint8_t *p, size_t len,
                                            smbx_smb2_file_all_info *out,
                                            smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_file_all_info_encode(
    const smbx_smb2_file_all_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_file_network_open_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_network_open_info *out,
    smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_file_network_open_info_encode(
    const smbx_smb2_file_network_open_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_file_rename_info_decode(const uint8_t *p, size_t len,
                                               smbx_smb2_file_rename_info *out,
                                               smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_file_rename_info_encode(
    const smbx_smb2_file_rename_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_file_disposition_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_disposition_info *out,
    smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_file_disposition_info_encode(
    const smbx_smb2_file_disposition_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_file_end_of_file_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_end_of_file_info *out,
    smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_file_end_of_file_info_encode(
    const smbx_smb2_file_end_of_file_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_file_ea_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_ea_info *out,
    smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_file_ea_info_encode(
    const smbx_smb2_file_ea_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_file_access_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_access_info *out,
    smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_file_access_info_encode(
    const smbx_smb2_file_access_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_file_position_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_position_info *out,
    smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_file_position_info_encode(
    const smbx_smb2_file_position_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_file_mode_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_mode_info *out,
    smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_file_mode_info_encode(
    const smbx_smb2_file_mode_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_file_alignment_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_alignment_info *out,
    smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_file_alignment_info_encode(
    const smbx_smb2_file_alignment_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_file_attribute_tag_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_attribute_tag_info *out,
    smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_file_attribute_tag_info_encode(
    const smbx_smb2_file_attribute_tag_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_file_compression_info_decode(
    const uint8_t *p, size_t len, smbx_smb2_file_compression_info *out,
    smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_file_compression_info_encode(
    const smbx_smb2_file_compression_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_fs_volume_info_decode(const uint8_t *p, size_t len,
                                         smbx_smb2_fs_volume_info *out,
                                         smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_fs_volume_info_encode(
    const smbx_smb2_fs_volume_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_fs_size_info_decode(const uint8_t *p, size_t len,
                                         smbx_smb2_fs_size_info *out,
                                         smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_fs_size_info_encode(
    const smbx_smb2_fs_size_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_fs_device_info_decode(const uint8_t *p, size_t len,
                                         smbx_smb2_fs_device_info *out,
                                         smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_fs_device_info_encode(
    const smbx_smb2_fs_device_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_fs_attribute_info_decode(const uint8_t *p, size_t len,
                                         smbx_smb2_fs_attribute_info *out,
                                         smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_fs_attribute_info_encode(
    const smbx_smb2_fs_attribute_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_fs_full_size_info_decode(const uint8_t *p, size_t len,
                                         smbx_smb2_fs_full_size_info *out,
                                         smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_fs_full_size_info_encode(
    const smbx_smb2_fs_full_size_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
SMBX_API int smbx_smb2_fs_sector_size_info_decode(const uint8_t *p, size_t len,
                                         smbx_smb2_fs_sector_size_info *out,
                                         smbx_error_detail *err);
SMBX_API smbx_ssize smbx_smb2_fs_sector_size_info_encode(
    const smbx_smb2_fs_sector_size_info *in, uint8_t *buf, size_t cap,
    size_t *needed);
/** FileStreamInformation: the next entry at *pos (start with 0); checks
 *  the 24-byte fixed part, an even StreamNameLength inside the buffer and
 *  a NextEntryOffset that is a multiple of 8, holds the entry and starts
 *  inside the buffer. Returns 1 (entry filled, *pos moved on; past the
 *  last entry *pos = len), 0 at the end, SMBX_ERR_DECODE, SMBX_ERR_INVAL. */
SMBX_API int smbx_smb2_file_stream_info_next(const uint8_t *p, size_t len,
                                             size_t *pos,
                                             smbx_smb2_file_stream_entry *e,
                                             smbx_error_detail *err);
/** FileStreamInformation: n >= 1 entries, each but the last padded with
 *  zeros to 8 bytes; the last NextEntryOffset 0. */
SMBX_API smbx_ssize smbx_smb2_file_stream_info_encode(
    const smbx_smb2_file_stream_entry *e, size_t n, uint8_t *buf, size_t cap,
    size_t *needed);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* SMBX_SMB2_IO_H */
