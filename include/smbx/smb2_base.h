/* SPDX-License-Identifier: MIT */
/** @file smbx/smb2_base.h
 *  @brief SMB2/3 codec: constants, the 64-byte header, compound chains,
 *         TRANSFORM / COMPRESSION / SMB1 recognition, shared conventions.
 *
 *  The codec is stateless and zero-copy. Conventions used by every command
 *  in smbx/smb2_session.h, smbx/smb2_file.h and smbx/smb2_io.h:
 *
 *  **Decoders**
 *  @code
 *  int smbx_smb2_decode_<cmd>_req (const uint8_t *pdu, size_t len,
 *                                  smbx_smb2_<cmd>_req *out,
 *                                  smbx_error_detail *err);
 *  int smbx_smb2_decode_<cmd>_resp(... smbx_smb2_<cmd>_resp *out ...);
 *  @endcode
 *  - `pdu` starts at the SMB2 header (ProtocolId FE 'SMB'); `len` is this
 *    PDU's length: for a compound member the bytes up to the next header
 *    (NextCommand, padding included), else the rest of the message. Use
 *    smbx_smb2_chain_next() to split a compound.
 *  - The header is checked (ProtocolId, StructureSize 64, Command equal to
 *    the decoder's command, AsyncId != 0 when ASYNC); the body StructureSize
 *    must equal the command's value and the body must hold at least
 *    StructureSize & ~1 bytes (smb2.md sec. 0). The header itself is not
 *    copied into `out`: decode it with smbx_smb2_hdr_decode().
 *  - Every `...Offset` field is header-relative; a data area must start at
 *    or after the end of the fixed body (64 + StructureSize & ~1), end
 *    inside `len` (64-bit sums), and offset 0 with a non-zero length is
 *    rejected. A zero length yields an empty view whatever the offset.
 *  - `out` receives views (smbx_smb2_bytes) into `pdu`: they live as long
 *    as the caller's buffer. Names stay UTF-16LE (convert with
 *    smbx_utf16le_to_utf8()); their byte length must be even.
 *  - Returns 0, or SMBX_ERR_DECODE with `err` (optional) set to a static
 *    reason and the byte offset (from `pdu`) of the failing field;
 *    SMBX_ERR_INVAL for NULL `pdu` (with len > 0) or NULL `out`. On failure
 *    `out` is unspecified.
 *
 *  **Encoders**
 *  @code
 *  smbx_ssize smbx_smb2_encode_<cmd>_req(const smbx_smb2_hdr *h,
 *                                        const smbx_smb2_<cmd>_req *in,
 *                                        uint8_t *buf, size_t cap,
 *                                        size_t *needed);
 *  @endcode
 *  - Write the 64-byte header from `h` (StructureSize forced to 64,
 *    Command forced to the encoder's command, every other field verbatim,
 *    including Flags: set SMBX_SMB2_FLAGS_SERVER_TO_REDIR yourself in
 *    responses) followed by the body. Offsets and lengths are computed by
 *    the encoder from the views in `in` (its offset/length fields are
 *    ignored) and data areas are placed at the canonical positions (first
 *    byte after the fixed body, contexts 8-aligned after it). Where the
 *    StructureSize counts a byte and the variable part is empty, one zero
 *    pad byte is written.
 *  - The size is computed first: if `cap` is too small nothing is written
 *    and SMBX_ERR_NOBUF is returned. `needed` (optional) always receives the
 *    full size. Returns the bytes written (> 0), SMBX_ERR_NOBUF,
 *    SMBX_ERR_INVAL (NULL `h`/`in`, NULL `buf` with cap > 0) or
 *    SMBX_ERR_RANGE (a view too long for its length field, an odd UTF-16
 *    length).
 *  - Compounds: encode each PDU, then call smbx_smb2_chain_link() on every
 *    member but the last to pad it to 8 bytes and set its NextCommand.
 *
 *  Decoded codec structs are plain data (no struct_size); they may gain
 *  fields before 1.0.
 */
#ifndef SMBX_SMB2_BASE_H
#define SMBX_SMB2_BASE_H

#include <stddef.h>
#include <stdint.h>

#include <smbx/smbx.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @name Commands (MS-SMB2 2.2.1, smb2.md sec. 3) @{ */
#define SMBX_SMB2_NEGOTIATE 0x0000u
#define SMBX_SMB2_SESSION_SETUP 0x0001u
#define SMBX_SMB2_LOGOFF 0x0002u
#define SMBX_SMB2_TREE_CONNECT 0x0003u
#define SMBX_SMB2_TREE_DISCONNECT 0x0004u
#define SMBX_SMB2_CREATE 0x0005u
#define SMBX_SMB2_CLOSE 0x0006u
#define SMBX_SMB2_FLUSH 0x0007u
#define SMBX_SMB2_READ 0x0008u
#define SMBX_SMB2_WRITE 0x0009u
#define SMBX_SMB2_LOCK 0x000Au
#define SMBX_SMB2_IOCTL 0x000Bu
#define SMBX_SMB2_CANCEL 0x000Cu
#define SMBX_SMB2_ECHO 0x000Du
#define SMBX_SMB2_QUERY_DIRECTORY 0x000Eu
#define SMBX_SMB2_CHANGE_NOTIFY 0x000Fu
#define SMBX_SMB2_QUERY_INFO 0x0010u
#define SMBX_SMB2_SET_INFO 0x0011u
#define SMBX_SMB2_OPLOCK_BREAK 0x0012u
#define SMBX_SMB2_COMMAND_COUNT 0x0013u /**< codes 0 .. COUNT-1 are known */
/** @} */

/** @name Header constants @{ */
#define SMBX_SMB2_HDR_SIZE 64u
#define SMBX_SMB2_PROTOCOL_ID 0x424D53FEu   /**< FE 'S' 'M' 'B' as LE u32 */
#define SMBX_SMB2_TRANSFORM_ID 0x424D53FDu  /**< FD 'S' 'M' 'B' */
#define SMBX_SMB2_COMPRESSION_ID 0x424D53FCu /**< FC 'S' 'M' 'B' */
#define SMBX_SMB1_PROTOCOL_ID 0x424D53FFu   /**< FF 'S' 'M' 'B' */
#define SMBX_SMB2_TRANSFORM_HDR_SIZE 52u
#define SMBX_SMB2_COMPRESSION_HDR_SIZE 16u
#define SMBX_SMB2_MSGID_UNSOLICITED UINT64_MAX /**< oplock/lease breaks */
#define SMBX_SMB2_SESSION_ID_INHERIT UINT64_MAX /**< related compounds */
#define SMBX_SMB2_TREE_ID_INHERIT 0xFFFFFFFFu
#define SMBX_SMB2_CHAIN_MAX_DEFAULT 64u /**< PDUs per compound by default */
/** @} */

/** @name Header flags (smb2.md 2.2); unknown bits are preserved @{ */
#define SMBX_SMB2_FLAGS_SERVER_TO_REDIR 0x00000001u
#define SMBX_SMB2_FLAGS_ASYNC_COMMAND 0x00000002u
#define SMBX_SMB2_FLAGS_RELATED_OPERATIONS 0x00000004u
#define SMBX_SMB2_FLAGS_SIGNED 0x00000008u
#define SMBX_SMB2_FLAGS_PRIORITY_MASK 0x00000070u
#define SMBX_SMB2_FLAGS_DFS_OPERATIONS 0x10000000u
#define SMBX_SMB2_FLAGS_REPLAY_OPERATION 0x20000000u
/** @} */

/** @name Dialects @{ */
#define SMBX_SMB2_DIALECT_202 0x0202u
#define SMBX_SMB2_DIALECT_210 0x0210u
#define SMBX_SMB2_DIALECT_300 0x0300u
#define SMBX_SMB2_DIALECT_302 0x0302u
#define SMBX_SMB2_DIALECT_311 0x0311u
#define SMBX_SMB2_DIALECT_WILDCARD 0x02FFu /**< reply to an SMB1 negotiate */
/** @} */

/** @name Global capabilities (NEGOTIATE) @{ */
#define SMBX_SMB2_CAP_DFS 0x01u
#define SMBX_SMB2_CAP_LEASING 0x02u
#define SMBX_SMB2_CAP_LARGE_MTU 0x04u
#define SMBX_SMB2_CAP_MULTI_CHANNEL 0x08u
#define SMBX_SMB2_CAP_PERSISTENT_HANDLES 0x10u
#define SMBX_SMB2_CAP_DIRECTORY_LEASING 0x20u
#define SMBX_SMB2_CAP_ENCRYPTION 0x40u
#define SMBX_SMB2_CAP_NOTIFICATIONS 0x80u
/** @} */

/** @name Common NTSTATUS values (smb2.md sec. 5); data, not error codes @{ */
#define SMBX_STATUS_SUCCESS 0x00000000u
#define SMBX_STATUS_PENDING 0x00000103u
#define SMBX_STATUS_NOTIFY_CLEANUP 0x0000010Bu
#define SMBX_STATUS_NOTIFY_ENUM_DIR 0x0000010Cu
#define SMBX_STATUS_BUFFER_OVERFLOW 0x80000005u
#define SMBX_STATUS_NO_MORE_FILES 0x80000006u
#define SMBX_STATUS_STOPPED_ON_SYMLINK 0x8000002Du
#define SMBX_STATUS_UNSUCCESSFUL 0xC0000001u
#define SMBX_STATUS_NOT_IMPLEMENTED 0xC0000002u
#define SMBX_STATUS_INVALID_INFO_CLASS 0xC0000003u
#define SMBX_STATUS_INFO_LENGTH_MISMATCH 0xC0000004u
#define SMBX_STATUS_INVALID_HANDLE 0xC0000008u
#define SMBX_STATUS_INVALID_PARAMETER 0xC000000Du
#define SMBX_STATUS_NO_SUCH_FILE 0xC000000Fu
#define SMBX_STATUS_INVALID_DEVICE_REQUEST 0xC0000010u
#define SMBX_STATUS_END_OF_FILE 0xC0000011u
#define SMBX_STATUS_MORE_PROCESSING_REQUIRED 0xC0000016u
#define SMBX_STATUS_ACCESS_DENIED 0xC0000022u
#define SMBX_STATUS_BUFFER_TOO_SMALL 0xC0000023u
#define SMBX_STATUS_OBJECT_NAME_INVALID 0xC0000033u
#define SMBX_STATUS_OBJECT_NAME_NOT_FOUND 0xC0000034u
#define SMBX_STATUS_OBJECT_NAME_COLLISION 0xC0000035u
#define SMBX_STATUS_OBJECT_PATH_NOT_FOUND 0xC000003Au
#define SMBX_STATUS_SHARING_VIOLATION 0xC0000043u
#define SMBX_STATUS_FILE_LOCK_CONFLICT 0xC0000054u
#define SMBX_STATUS_LOCK_NOT_GRANTED 0xC0000055u
#define SMBX_STATUS_DELETE_PENDING 0xC0000056u
#define SMBX_STATUS_LOGON_FAILURE 0xC000006Du
#define SMBX_STATUS_RANGE_NOT_LOCKED 0xC000007Eu
#define SMBX_STATUS_DISK_FULL 0xC000007Fu
#define SMBX_STATUS_INSUFFICIENT_RESOURCES 0xC000009Au
#define SMBX_STATUS_IO_TIMEOUT 0xC00000B5u
#define SMBX_STATUS_FILE_IS_A_DIRECTORY 0xC00000BAu
#define SMBX_STATUS_NOT_SUPPORTED 0xC00000BBu
#define SMBX_STATUS_INVALID_NETWORK_RESPONSE 0xC00000C3u
#define SMBX_STATUS_NETWORK_NAME_DELETED 0xC00000C9u
#define SMBX_STATUS_NETWORK_ACCESS_DENIED 0xC00000CAu
#define SMBX_STATUS_BAD_NETWORK_NAME 0xC00000CCu
#define SMBX_STATUS_REQUEST_NOT_ACCEPTED 0xC00000D0u
#define SMBX_STATUS_INVALID_OPLOCK_PROTOCOL 0xC00000E3u
#define SMBX_STATUS_DIRECTORY_NOT_EMPTY 0xC0000101u
#define SMBX_STATUS_NOT_A_DIRECTORY 0xC0000103u
#define SMBX_STATUS_CANCELLED 0xC0000120u
#define SMBX_STATUS_FILE_CLOSED 0xC0000128u
#define SMBX_STATUS_INVALID_DEVICE_STATE 0xC0000184u
#define SMBX_STATUS_USER_SESSION_DELETED 0xC0000203u
#define SMBX_STATUS_NOT_FOUND 0xC0000225u
#define SMBX_STATUS_PATH_NOT_COVERED 0xC0000257u
#define SMBX_STATUS_NETWORK_SESSION_EXPIRED 0xC000035Cu
#define SMBX_STATUS_SERVER_UNAVAILABLE 0xC0000466u
#define SMBX_STATUS_FILE_NOT_AVAILABLE 0xC0000467u
#define SMBX_STATUS_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP 0xC05D0000u
#define SMBX_STATUS_SMB_BAD_CLUSTER_DIALECT 0xC05D0001u
/** @} */

/** @brief A read-only view into a caller's buffer (never owned).
 *  `p` may be NULL only when `len` is 0. @since 0.1.0 */
typedef struct smbx_smb2_bytes {
  const uint8_t *p;
  size_t len;
} smbx_smb2_bytes;

/** @brief SMB2 FileId (opaque; all-ones = "inherit" in related compounds).
 *  @since 0.1.0 */
typedef struct smbx_smb2_fileid {
  uint64_t persistent_id;
  uint64_t volatile_id;
} smbx_smb2_fileid;

/** @brief The decoded 64-byte SMB2 header (MS-SMB2 2.2.1).
 *  In the ASYNC form (flags & ASYNC_COMMAND) bytes 32..39 are `async_id`
 *  and `reserved`/`tree_id` are 0; in the SYNC form `async_id` is 0.
 *  For 3.x requests `status` holds ChannelSequence (low 16 bits) and
 *  Reserved (high 16 bits). @since 0.1.0 */
typedef struct smbx_smb2_hdr {
  uint16_t structure_size; /**< 64 when decoded; ignored by the encoder */
  uint16_t credit_charge;
  uint32_t status;
  uint16_t command;
  uint16_t credits; /**< CreditRequest (req) / CreditResponse (resp) */
  uint32_t flags;
  uint32_t next_command;
  uint64_t message_id;
  uint64_t async_id; /**< ASYNC form only */
  uint32_t reserved; /**< SYNC form: ex-ProcessId */
  uint32_t tree_id;  /**< SYNC form only */
  uint64_t session_id;
  uint8_t signature[16];
} smbx_smb2_hdr;

/** @brief Decode and check a 64-byte SMB2 header.
 *  Checks: len >= 64, ProtocolId FE 'SMB', StructureSize 64, AsyncId != 0
 *  in the ASYNC form. The Command is not checked (see
 *  smbx_smb2_pdu_validate()).
 *  @param p start of the header; @param len bytes available
 *  @param h out: decoded fields
 *  @param err optional: static reason and byte offset on failure
 *  @return 0; SMBX_ERR_DECODE; SMBX_ERR_INVAL on NULL h.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_hdr_decode(const uint8_t *p, size_t len,
                                  smbx_smb2_hdr *h, smbx_error_detail *err);

/** @brief Encode a 64-byte SMB2 header (StructureSize written as 64).
 *  @return 64; SMBX_ERR_NOBUF when cap < 64 (nothing written);
 *          SMBX_ERR_INVAL on NULL h. `needed` (optional) gets 64.
 *  @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_hdr_encode(const smbx_smb2_hdr *h, uint8_t *buf,
                                         size_t cap, size_t *needed);

/** @brief Body StructureSize of a command.
 *  @param command 0x00-0x12; @param response 0 request, else response
 *  @return the listed StructureSize; 0 for an unknown command or for the
 *  CANCEL response (none exists). OPLOCK_BREAK returns 24 (its oplock
 *  form); its lease forms (36/44) are accepted by the validators too.
 *  @since 0.1.0 */
SMBX_API uint16_t smbx_smb2_structure_size(uint16_t command, int response);

/** @brief The fixed-part check every command shares ("table pass",
 *  STYLE.md sec. 4.3): header valid, Command known, body StructureSize
 *  equal to the table value for the direction (SERVER_TO_REDIR), or 9 for
 *  an ERROR response (a response whose Status is not SUCCESS), body >=
 *  StructureSize & ~1, NextCommand (when non-zero) 8-aligned, >= 64 + 2
 *  and <= len.
 *  @param h optional out: the decoded header
 *  @return 0; SMBX_ERR_DECODE; SMBX_ERR_INVAL on NULL p with len > 0.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_pdu_validate(const uint8_t *p, size_t len,
                                    smbx_smb2_hdr *h, smbx_error_detail *err);

/** @brief Iterator over a compound chain (one transport message).
 *  Initialise with smbx_smb2_chain_init(); fields are private.
 *  @since 0.1.0 */
typedef struct smbx_smb2_chain {
  const uint8_t *buf;
  size_t len;
  size_t off;
  uint32_t count;
  uint32_t max;
  int done;
} smbx_smb2_chain;

/** @brief Start iterating the SMB2 PDUs of one transport message.
 *  @param max cap on the PDU count (0 = SMBX_SMB2_CHAIN_MAX_DEFAULT)
 *  @return 0; SMBX_ERR_INVAL on NULL c.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_chain_init(smbx_smb2_chain *c, const uint8_t *buf,
                                  size_t len, uint32_t max);

/** @brief Next PDU of the chain.
 *  Each PDU's header is decoded (smbx_smb2_hdr_decode()); NextCommand must
 *  be a multiple of 8, >= 64 + 2, beyond the fixed body of its command
 *  (when the command is known) and leave room for a 64-byte header; the
 *  chain may hold at most `max` PDUs. The body is not validated.
 *  @param pdu out: this PDU (up to NextCommand, or to the end)
 *  @param h optional out: its header
 *  @return 1 with a PDU, 0 at the end, SMBX_ERR_DECODE (err offsets are
 *  from the start of the message; the iterator then stays at its end),
 *  SMBX_ERR_INVAL on NULL c / pdu.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_chain_next(smbx_smb2_chain *c, smbx_smb2_bytes *pdu,
                                  smbx_smb2_hdr *h, smbx_error_detail *err);

/** @brief Make an encoded PDU a non-last compound member: zero-pad it to
 *  a multiple of 8 and set its NextCommand to the padded length.
 *  @param pdu the encoded PDU (starts at its header), `len` bytes long,
 *  inside a buffer with room for `cap` bytes from `pdu`
 *  @return the padded length; SMBX_ERR_NOBUF when the padding does not
 *  fit; SMBX_ERR_INVAL when len < 64 or pdu is NULL.
 *  @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_chain_link(uint8_t *pdu, size_t len,
                                         size_t cap);

/** @name Message kinds (first four bytes of a transport message) @{ */
#define SMBX_SMB2_MSG_SMB2 1
#define SMBX_SMB2_MSG_TRANSFORM 2
#define SMBX_SMB2_MSG_COMPRESSION 3
#define SMBX_SMB2_MSG_SMB1 4
/** @} */

/** @brief Classify a transport message by its ProtocolId.
 *  @return SMBX_SMB2_MSG_*; SMBX_ERR_DECODE for anything else or fewer
 *  than 4 bytes. @since 0.1.0 */
SMBX_API int smbx_smb2_msg_kind(const uint8_t *msg, size_t len);

/** @brief TRANSFORM_HEADER (MS-SMB2 2.2.41), recognised, not decrypted.
 *  @since 0.1.0 */
typedef struct smbx_smb2_transform_hdr {
  uint8_t signature[16]; /**< AEAD tag */
  uint8_t nonce[16];
  uint32_t original_message_size;
  uint16_t reserved;
  uint16_t flags; /**< 3.1.1: 1 = encrypted; 3.0.x: EncryptionAlgorithm */
  uint64_t session_id;
  smbx_smb2_bytes aad;        /**< decode: bytes 20..51 (AEAD AAD) */
  smbx_smb2_bytes ciphertext; /**< OriginalMessageSize bytes after the header */
} smbx_smb2_transform_hdr;

/** @brief Decode a TRANSFORM message header.
 *  Checks ProtocolId FD 'SMB', len >= 52 and 52 + OriginalMessageSize <=
 *  len (64-bit), OriginalMessageSize >= 64 (smb2.md 2.3).
 *  @return 0; SMBX_ERR_DECODE; SMBX_ERR_INVAL on NULL out.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_transform_decode(const uint8_t *msg, size_t len,
                                        smbx_smb2_transform_hdr *out,
                                        smbx_error_detail *err);

/** @brief Encode a 52-byte TRANSFORM header (the views in `in` are
 *  ignored; the caller appends the ciphertext).
 *  @return 52; SMBX_ERR_NOBUF; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_transform_encode(
    const smbx_smb2_transform_hdr *in, uint8_t *buf, size_t cap,
    size_t *needed);

/** @brief Check a decrypted TRANSFORM plaintext: it must be an SMB2
 *  message or a COMPRESSION message, never another TRANSFORM or SMB1.
 *  @return 0; SMBX_ERR_DECODE. @since 0.1.0 */
SMBX_API int smbx_smb2_plaintext_check(const uint8_t *msg, size_t len,
                                       smbx_error_detail *err);

/** @name Compression algorithms (smb2.md 2.4) @{ */
#define SMBX_SMB2_COMP_NONE 0u
#define SMBX_SMB2_COMP_LZNT1 1u
#define SMBX_SMB2_COMP_LZ77 2u
#define SMBX_SMB2_COMP_LZ77_HUFFMAN 3u
#define SMBX_SMB2_COMP_PATTERN_V1 4u
#define SMBX_SMB2_COMP_LZ4 5u
#define SMBX_SMB2_COMP_FLAG_CHAINED 1u
/** @} */

/** @brief COMPRESSION_TRANSFORM_HEADER (MS-SMB2 2.2.42), recognised only.
 *  Unchained: `algorithm`, `offset`, `prefix` (the `offset` uncompressed
 *  bytes after the header) and `payload` (the compressed rest). Chained:
 *  `payload` is everything after byte 8 (walk it with
 *  smbx_smb2_comp_payload_next()); `algorithm`/`offset`/`prefix` are 0.
 *  @since 0.1.0 */
typedef struct smbx_smb2_compression_hdr {
  uint32_t original_size;
  uint16_t algorithm;
  uint16_t flags;
  uint32_t offset;
  smbx_smb2_bytes prefix;
  smbx_smb2_bytes payload;
} smbx_smb2_compression_hdr;

/** @brief Decode a COMPRESSION message header.
 *  Unchained: len >= 16, Offset <= len - 16. Chained: len >= 8 + 8.
 *  @return 0; SMBX_ERR_DECODE; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_smb2_compression_decode(const uint8_t *msg, size_t len,
                                          smbx_smb2_compression_hdr *out,
                                          smbx_error_detail *err);

/** @brief One chained compression payload header and its data.
 *  @since 0.1.0 */
typedef struct smbx_smb2_comp_payload {
  uint16_t algorithm;
  uint16_t flags;
  uint32_t length;        /**< bytes after this 8-byte header */
  uint32_t original_size; /**< LZNT1/LZ77/LZ77+Huffman/LZ4 only, else 0 */
  smbx_smb2_bytes data;   /**< after OriginalPayloadSize when present */
} smbx_smb2_comp_payload;

/** @brief Walk the chained payloads of smbx_smb2_compression_hdr.payload.
 *  @param off in/out: byte position in `payload` (start with 0)
 *  @return 1 with a payload; 0 at the end; SMBX_ERR_DECODE when a Length
 *  runs past the end (or is shorter than OriginalPayloadSize needs).
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_comp_payload_next(smbx_smb2_bytes payload, size_t *off,
                                         smbx_smb2_comp_payload *out,
                                         smbx_error_detail *err);

/** @brief Encode an unchained 16-byte COMPRESSION header (views ignored).
 *  @return 16; SMBX_ERR_NOBUF; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_compression_encode(
    const smbx_smb2_compression_hdr *in, uint8_t *buf, size_t cap,
    size_t *needed);

/** @brief What an SMB1 multi-protocol NEGOTIATE offers (smb2.md sec. 1).
 *  @since 0.1.0 */
typedef struct smbx_smb1_negotiate {
  uint32_t dialect_count;
  int has_smb2_002; /**< "SMB 2.002" offered */
  int has_smb2_wildcard; /**< "SMB 2.???" offered */
} smbx_smb1_negotiate;

/** @brief Recognise an SMB1 NEGOTIATE (FF 'SMB', command 0x72) and list
 *  the SMB2 dialect strings it offers. Anything else under FF 'SMB' is
 *  SMBX_ERR_DECODE (the connection must be torn down).
 *  @return 0; SMBX_ERR_DECODE; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_smb1_negotiate_decode(const uint8_t *msg, size_t len,
                                        smbx_smb1_negotiate *out,
                                        smbx_error_detail *err);

/** @brief CreditCharge for a request (smb2.md 6.1):
 *  (max(send, expected) - 1) / 65536 + 1, at least 1, capped at 65535;
 *  0 on 2.0.2 or without SMBX_SMB2_CAP_LARGE_MTU.
 *  @param dialect negotiated dialect; @param capabilities negotiated caps
 *  @param send_len payload sent; @param expect_len payload expected back
 *  @since 0.1.0 */
SMBX_API uint16_t smbx_smb2_credit_charge(uint16_t dialect,
                                          uint32_t capabilities,
                                          uint64_t send_len,
                                          uint64_t expect_len);

/** @brief Element `i` of a little-endian u16 array view (dialects,
 *  ciphers, ...). @return the value; 0 when out of range. @since 0.1.0 */
SMBX_API uint16_t smbx_smb2_bytes_u16(smbx_smb2_bytes b, size_t i);

/** @brief The ERROR response body (MS-SMB2 2.2.2, smb2.md 4.14), any
 *  command. Decoders accept a body of 8 bytes (ByteCount 0, the counted
 *  byte missing) or more; the encoder writes one zero byte when ByteCount
 *  is 0 (73-byte PDU). @since 0.1.0 */
typedef struct smbx_smb2_error_resp {
  uint8_t context_count; /**< 3.1.1 ErrorContextCount */
  uint8_t reserved;
  smbx_smb2_bytes data;  /**< ErrorData, ByteCount bytes */
} smbx_smb2_error_resp;

/** @brief Decode an ERROR response body for any command (StructureSize 9;
 *  ByteCount <= bytes present after @72). With context_count > 0 exactly
 *  that many contexts must be present and well-formed (see
 *  smbx_smb2_error_ctx_next()); bytes after the last are ignored.
 *  Convention as the command decoders, except Command is not checked.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_decode_error_resp(const uint8_t *pdu, size_t len,
                                         smbx_smb2_error_resp *out,
                                         smbx_error_detail *err);

/** @brief Encode an ERROR response: header `h` (Command kept as given)
 *  + body. Convention as the command encoders. @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encode_error_resp(const smbx_smb2_hdr *h,
                                                const smbx_smb2_error_resp *in,
                                                uint8_t *buf, size_t cap,
                                                size_t *needed);

/** @name Error context ids @{ */
#define SMBX_SMB2_ERROR_ID_DEFAULT 0x00000000u
#define SMBX_SMB2_ERROR_ID_SHARE_REDIRECT 0x72645253u
/** @} */

/** @brief One 3.1.1 error context. @since 0.1.0 */
typedef struct smbx_smb2_error_ctx {
  uint32_t error_id;
  smbx_smb2_bytes data; /**< ErrorDataLength bytes */
} smbx_smb2_error_ctx;

/** @brief Walk the error contexts in smbx_smb2_error_resp.data.
 *  Each starts 8-aligned from the start of ErrorData; ErrorDataLength must
 *  fit in the rest (64-bit sum).
 *  @param off in/out: position in `data` (start with 0)
 *  @return 1 with a context; 0 at the end; SMBX_ERR_DECODE.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_error_ctx_next(smbx_smb2_bytes data, size_t *off,
                                      smbx_smb2_error_ctx *out,
                                      smbx_error_detail *err);

/** @brief Encode a list of error contexts into ErrorData (8-byte
 *  aligned, padding between, none after the last).
 *  @return bytes written; SMBX_ERR_NOBUF; SMBX_ERR_INVAL; SMBX_ERR_RANGE.
 *  @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_error_ctx_encode(const smbx_smb2_error_ctx *c,
                                               size_t n, uint8_t *buf,
                                               size_t cap, size_t *needed);

#ifdef __cplusplus
}
#endif

#endif /* SMBX_SMB2_BASE_H */
