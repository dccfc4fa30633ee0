/* SPDX-License-Identifier: MIT */
/** @file smbx/crypto.h
 *  @brief Host crypto hooks and the stateless SMB2/3 security helpers:
 *         key derivation, signing, TRANSFORM encryption and the 3.1.1
 *         preauth integrity hash.
 *
 *  smbx contains no cryptographic primitive and links no crypto library.
 *  The host plugs in a ::smbx_crypto table (examples/crypto has an OpenSSL 3
 *  adapter); the helpers below build the SMB-specific inputs (labels,
 *  nonces, additional data, zeroed signature fields) and call the hooks.
 *  Hooks run only inside an smbx_* call, on the caller's thread, and must
 *  not call back into smbx. See docs/crypto.md.
 */
#ifndef SMBX_CRYPTO_H
#define SMBX_CRYPTO_H

#include <smbx/smbx.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @name Signing algorithms (wire ids of [MS-SMB2] 2.2.3.1.7) @{ */
#define SMBX_CRYPTO_SIGN_HMAC_SHA256 0u /**< HMAC-SHA256, first 16 bytes */
#define SMBX_CRYPTO_SIGN_AES_CMAC 1u    /**< AES-128-CMAC */
#define SMBX_CRYPTO_SIGN_AES_GMAC 2u    /**< AES-128-GMAC, 12-byte nonce */
/** smbx_smb2_derive_keys() only: the dialect's default when no
 *  SIGNING_CAPABILITIES context was agreed (2.x HMAC-SHA256, 3.x CMAC) */
#define SMBX_CRYPTO_SIGN_DEFAULT 0xFFFFu
/** @} */

/** @name Ciphers (wire ids of [MS-SMB2] 2.2.3.1.2) @{ */
#define SMBX_CRYPTO_CIPHER_NONE 0u
#define SMBX_CRYPTO_CIPHER_AES128_CCM 1u /**< 16-byte key, 11-byte nonce */
#define SMBX_CRYPTO_CIPHER_AES128_GCM 2u /**< 16-byte key, 12-byte nonce */
#define SMBX_CRYPTO_CIPHER_AES256_CCM 3u /**< 32-byte key, 11-byte nonce */
#define SMBX_CRYPTO_CIPHER_AES256_GCM 4u /**< 32-byte key, 12-byte nonce */
/** @} */

/** @name Sizes @{ */
#define SMBX_CRYPTO_SIG_SIZE 16u    /**< SMB2 signature and AEAD tag */
#define SMBX_CRYPTO_SHA512_SIZE 64u /**< preauth integrity hash value */
#define SMBX_CRYPTO_KEY_MAX 32u     /**< largest cipher key */
/** @} */

/** @name Roles for smbx_smb2_derive_keys() @{ */
#define SMBX_CRYPTO_ROLE_CLIENT 0u
#define SMBX_CRYPTO_ROLE_SERVER 1u
/** @} */

/** @brief One read-only element of a scatter list given to a hook.
 *  `base` may be NULL only when `len` is 0. @since 0.1.0 */
typedef struct smbx_iov {
  const void *base;
  size_t len;
} smbx_iov;

/** @brief Cryptographic services supplied by the host.
 *
 *  Every hook returns 0 on success or a negative SMBX_ERR_* code, which the
 *  helper returns unchanged (a positive return is treated as
 *  SMBX_ERR_INVAL). Unknown algorithm ids or key lengths:
 *  SMBX_ERR_UNSUPPORTED. Outputs never alias inputs unless stated. A hook
 *  left NULL (or beyond `struct_size`) makes the helpers that need it
 *  return SMBX_ERR_UNSUPPORTED. Hooks are appended only.
 *  @since 0.1.0 */
typedef struct smbx_crypto {
  size_t struct_size; /**< sizeof(smbx_crypto) as compiled by the caller */
  void *user_data;    /**< passed to every hook */

  /** SHA-512 over the concatenation of `iov[0..n_iov)`; writes 64 bytes. */
  int (*sha512)(void *user_data, const smbx_iov *iov, size_t n_iov,
                uint8_t out[64]);

  /** MAC over the concatenation of `iov[0..n_iov)`, writing 16 bytes.
   *  `alg` SMBX_CRYPTO_SIGN_*: HMAC-SHA256 (any key length, output
   *  truncated to its first 16 bytes), AES-128-CMAC (16-byte key),
   *  AES-128-GMAC (16-byte key; `nonce` of `nonce_len` 12 bytes is the
   *  GCM IV, the data is authenticated only). `nonce` is NULL/0 for the
   *  others. */
  int (*mac)(void *user_data, uint32_t alg, const uint8_t *key,
             size_t key_len, const uint8_t *nonce, size_t nonce_len,
             const smbx_iov *iov, size_t n_iov, uint8_t out[16]);

  /** AEAD encryption in place: `buf[0..len)` plaintext becomes ciphertext
   *  and the 16-byte tag is written to `tag`. `cipher`
   *  SMBX_CRYPTO_CIPHER_*; key 16 or 32 bytes as the cipher says; nonce
   *  11 (CCM) or 12 (GCM) bytes; `aad` may be NULL when `aad_len` is 0. */
  int (*aead_encrypt)(void *user_data, uint32_t cipher, const uint8_t *key,
                      size_t key_len, const uint8_t *nonce, size_t nonce_len,
                      const uint8_t *aad, size_t aad_len, uint8_t *buf,
                      size_t len, uint8_t tag[16]);

  /** AEAD decryption in place, checking `tag`. Must return SMBX_ERR_AUTH
   *  (and nothing else) when the tag does not authenticate; `buf` is then
   *  unspecified. Other parameters as aead_encrypt. */
  int (*aead_decrypt)(void *user_data, uint32_t cipher, const uint8_t *key,
                      size_t key_len, const uint8_t *nonce, size_t nonce_len,
                      const uint8_t *aad, size_t aad_len, uint8_t *buf,
                      size_t len, const uint8_t tag[16]);

  /** SP800-108 KDF in counter mode with HMAC-SHA256 as PRF, r = 32:
   *  out = first out_len bytes of the concatenation of
   *  HMAC(key, [i]_4be || label || 0x00 || context || [L]_4be), i = 1, 2..
   *  with L = 8 * out_len (the helpers ask for 16 or 32 bytes). The label
   *  and context are passed as SMB defines them (their own trailing NUL
   *  included); the hook adds the 0x00 separator. */
  int (*kdf)(void *user_data, const uint8_t *key, size_t key_len,
             const uint8_t *label, size_t label_len, const uint8_t *context,
             size_t context_len, uint8_t *out, size_t out_len);

  /** Cryptographically secure random bytes (used for TRANSFORM nonces). */
  int (*random)(void *user_data, uint8_t *buf, size_t len);
} smbx_crypto;

/** @brief Keys of one session (or channel), from smbx_smb2_derive_keys().
 *  `encryption` is the key this role encrypts with, `decryption` the one
 *  it decrypts with; both are `cipher_key_len` bytes (0 without a cipher).
 *  @since 0.1.0 */
typedef struct smbx_smb2_keys {
  uint16_t dialect;        /**< SMBX_SMB2_DIALECT_* the keys are for */
  uint16_t signing_alg;    /**< SMBX_CRYPTO_SIGN_*, DEFAULT resolved */
  uint16_t cipher;         /**< SMBX_CRYPTO_CIPHER_* or NONE */
  uint16_t cipher_key_len; /**< 0, 16 or 32 */
  uint8_t signing[16];
  uint8_t encryption[32];
  uint8_t decryption[32];
  uint8_t application[16]; /**< 3.x only; zero for 2.x */
} smbx_smb2_keys;

/** @brief Derive the signing, encryption, decryption and application keys
 *  ([MS-SMB2] 3.2.5.3.1 / 3.3.5.5.3, 3.1.4.2).
 *
 *  SessionKey = the first 16 bytes of `session_key` (zero-padded when
 *  shorter). 2.0.2/2.1: signing = SessionKey, no KDF. 3.0/3.0.2: KDF with
 *  "SMB2AESCMAC"/"SmbSign", "SMB2AESCCM"/"ServerIn " (client to server)
 *  and "ServerOut", "SMB2APP"/"SmbRpc". 3.1.1: "SMBSigningKey",
 *  "SMBC2SCipherKey", "SMBS2CCipherKey", "SMBAppKey" with the preauth hash
 *  as context; AES-256 cipher keys are 32 bytes, derived from the whole
 *  `session_key` (FullSessionKey) with L = 256.
 *
 *  @param cr crypto hooks (kdf for 3.x)
 *  @param dialect SMBX_SMB2_DIALECT_202/210/300/302/311
 *  @param role SMBX_CRYPTO_ROLE_CLIENT or _SERVER (picks the directions)
 *  @param signing_alg SMBX_CRYPTO_SIGN_*: 2.x only HMAC-SHA256 (or DEFAULT)
 *  @param cipher SMBX_CRYPTO_CIPHER_*: NONE on 2.x; NONE or AES128_CCM on
 *         3.0/3.0.2; any on 3.1.1
 *  @param session_key the GSS/NTLM session key (1..64 bytes), not kept
 *  @param session_key_len its length
 *  @param preauth_hash 64 bytes, the session's preauth integrity hash
 *         (3.1.1 only; NULL otherwise; for a binding channel, the
 *         channel's hash)
 *  @param out filled on success, zeroed on failure
 *  @return 0; SMBX_ERR_INVAL on NULL arguments, a bad role, key length or
 *          algorithm not allowed for the dialect (or NULL preauth_hash on
 *          3.1.1); SMBX_ERR_UNSUPPORTED on an unknown dialect or a missing
 *          kdf hook; any error of the kdf hook.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_derive_keys(const smbx_crypto *cr, uint16_t dialect,
                                   uint32_t role, uint16_t signing_alg,
                                   uint16_t cipher, const uint8_t *session_key,
                                   size_t session_key_len,
                                   const uint8_t *preauth_hash,
                                   smbx_smb2_keys *out);

/** @brief smbx_smb2_sign() option: set SMB2_FLAGS_SIGNED before signing. */
#define SMBX_CRYPTO_SIGN_SET_FLAG 0x1u

/** @brief Sign one SMB2 message in place ([MS-SMB2] 3.1.4.1).
 *
 *  Zeroes the Signature field (@48), optionally sets the SIGNED flag,
 *  computes the MAC over all `len` bytes (the header and, in a compound,
 *  this PDU's padding up to NextCommand) and stores it at @48. AES-GMAC's
 *  nonce is MessageId (@24, LE) followed by a u32 with bit 0 set when
 *  SERVER_TO_REDIR is set and bit 1 set for a CANCEL.
 *
 *  @param cr crypto hooks (mac)
 *  @param signing_alg SMBX_CRYPTO_SIGN_HMAC_SHA256, _AES_CMAC or _AES_GMAC
 *  @param key the 16-byte signing key
 *  @param pdu one SMB2 message (not a whole compound), modified in place
 *  @param len its length, >= 64
 *  @param opts 0 or SMBX_CRYPTO_SIGN_SET_FLAG
 *  @return 0; SMBX_ERR_INVAL (NULL, len < 64, not an SMB2 header, bad
 *          algorithm, unknown opts); SMBX_ERR_UNSUPPORTED (no mac hook);
 *          any error of the mac hook (the signature field is then zero).
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_sign(const smbx_crypto *cr, uint16_t signing_alg,
                            const uint8_t key[16], uint8_t *pdu, size_t len,
                            uint32_t opts);

/** @brief Verify the signature of one SMB2 message ([MS-SMB2] 3.1.5.1).
 *  The message is not modified (the MAC runs over a scatter list with a
 *  zero signature); the comparison takes constant time. The SIGNED flag is
 *  not checked: that is the caller's policy.
 *  @param cr crypto hooks (mac)
 *  @param signing_alg, key, len as smbx_smb2_sign()
 *  @param pdu the received message
 *  @return 0 when the signature matches; SMBX_ERR_AUTH when not;
 *          SMBX_ERR_INVAL; SMBX_ERR_UNSUPPORTED; any error of the mac hook.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_verify(const smbx_crypto *cr, uint16_t signing_alg,
                              const uint8_t key[16], const uint8_t *pdu,
                              size_t len);

/** @brief Nonce length of a cipher: 11 (CCM), 12 (GCM), 0 if unknown.
 *  @since 0.1.0 */
SMBX_API size_t smbx_crypto_cipher_nonce_size(uint16_t cipher);

/** @brief Key length of a cipher: 16 or 32, 0 if unknown. @since 0.1.0 */
SMBX_API size_t smbx_crypto_cipher_key_size(uint16_t cipher);

/** @brief Encrypt a message into a TRANSFORM message, in place
 *  ([MS-SMB2] 3.1.4.3, 2.2.41).
 *
 *  The plaintext (an SMB2 message or compound, or a COMPRESSION message)
 *  lies at `buf + 52`, `msg_len` bytes. On success `buf[0..52 + msg_len)`
 *  is the TRANSFORM message: FD 'SMB', the tag, the nonce (11 or 12 bytes,
 *  rest zero), OriginalMessageSize, Flags/EncryptionAlgorithm 0x0001,
 *  SessionId, then the ciphertext. The AAD is bytes 20..51.
 *
 *  @param cr crypto hooks (aead_encrypt; random when `nonce` is NULL)
 *  @param cipher SMBX_CRYPTO_CIPHER_AES128_CCM .. _AES256_GCM
 *  @param key the sender's encryption key
 *  @param key_len smbx_crypto_cipher_key_size(cipher)
 *  @param session_id SessionId of the session whose key this is
 *  @param nonce NULL: random from the random hook; else
 *         smbx_crypto_cipher_nonce_size(cipher) bytes chosen by the caller
 *         (for example a per-key counter; never reuse one with a key)
 *  @param buf 52 bytes of room followed by the plaintext
 *  @param cap bytes available at buf (>= 52 + msg_len)
 *  @param msg_len plaintext length, 64 .. UINT32_MAX
 *  @return 52 + msg_len; SMBX_ERR_INVAL (NULL, bad cipher/key length,
 *          msg_len out of range); SMBX_ERR_NOBUF (cap too small);
 *          SMBX_ERR_UNSUPPORTED (hook missing); any hook error (buf is
 *          then unspecified).
 *  @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_encrypt(const smbx_crypto *cr, uint16_t cipher,
                                      const uint8_t *key, size_t key_len,
                                      uint64_t session_id,
                                      const uint8_t *nonce, uint8_t *buf,
                                      size_t cap, size_t msg_len);

/** @brief Decrypt a TRANSFORM message in place ([MS-SMB2] 3.2.5.1.1.1,
 *  3.3.5.2.1.1).
 *
 *  Checks the header (FD 'SMB', 52 + OriginalMessageSize <= len,
 *  OriginalMessageSize >= 64, Flags/EncryptionAlgorithm == 0x0001), then
 *  decrypts OriginalMessageSize bytes at `msg + 52` in place; bytes after
 *  them are ignored. The plaintext must be an SMB2 or COMPRESSION message.
 *  To find the keys first, read the SessionId with
 *  smbx_smb2_transform_decode().
 *
 *  @param cr crypto hooks (aead_decrypt)
 *  @param cipher, key, key_len the receiver's decryption key and cipher
 *  @param msg the TRANSFORM message; on success the plaintext is at
 *         msg + 52
 *  @param len frame length
 *  @param session_id optional; set to the header's SessionId once the
 *         header decoded (also when decryption then fails)
 *  @return the plaintext length (OriginalMessageSize); SMBX_ERR_DECODE
 *          (malformed header, bad Flags, plaintext not SMB2/COMPRESSION);
 *          SMBX_ERR_AUTH (tag mismatch: plaintext unspecified);
 *          SMBX_ERR_INVAL; SMBX_ERR_UNSUPPORTED; any other hook error.
 *  @since 0.1.0 */
SMBX_API smbx_ssize smbx_smb2_decrypt(const smbx_crypto *cr, uint16_t cipher,
                                      const uint8_t *key, size_t key_len,
                                      uint8_t *msg, size_t len,
                                      uint64_t *session_id);

/** @brief Start a preauth integrity hash value: 64 zero bytes
 *  ([MS-SMB2] 3.2.5.2 / 3.3.5.4). @since 0.1.0 */
SMBX_API void smbx_smb2_preauth_init(uint8_t hash[64]);

/** @brief Update a preauth integrity hash value with one message:
 *  hash = SHA-512(hash || msg), where msg runs from ProtocolId to the end
 *  of that SMB2 message (no transport prefix).
 *  @param cr crypto hooks (sha512)
 *  @param hash 64 bytes, updated in place (unchanged on failure)
 *  @param msg the message; NULL only when len is 0
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_UNSUPPORTED; any sha512 hook error.
 *  @since 0.1.0 */
SMBX_API int smbx_smb2_preauth_update(const smbx_crypto *cr, uint8_t hash[64],
                                      const uint8_t *msg, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* SMBX_CRYPTO_H */
