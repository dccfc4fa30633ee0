/* SPDX-License-Identifier: MIT */
/* OpenSSL 3 adapter for smbx's crypto hooks (example/host code, not part
 * of libsmbx). Every hook of smbx_crypto is implemented with EVP APIs in a
 * private OSSL_LIB_CTX that has the "default" and, when installed, the
 * "legacy" provider (MD4 and RC4, which NTLM needs). */
#ifndef SMBX_EXAMPLES_OPENSSL_H
#define SMBX_EXAMPLES_OPENSSL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include <smbx/crypto.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct smbx_openssl smbx_openssl;

/* smbx_openssl_new() flag: fail when the legacy provider cannot load. */
#define SMBX_OPENSSL_REQUIRE_LEGACY 0x1u

/* Creates the adapter: a private library context with the default and
 * legacy providers, and every algorithm the hooks use fetched once.
 * On failure, or on success without the legacy provider, `err` (if not
 * NULL) receives a NUL-terminated explanation; otherwise err[0] = 0.
 * Returns 0, SMBX_ERR_NOMEM, SMBX_ERR_UNSUPPORTED (an algorithm or, with
 * SMBX_OPENSSL_REQUIRE_LEGACY, the legacy provider is missing) or
 * SMBX_ERR_INVAL. */
int smbx_openssl_new(smbx_openssl **out, uint32_t flags, char *err,
                     size_t err_len);

/* Unloads the providers and frees everything (NULL is a no-op). */
void smbx_openssl_free(smbx_openssl *o);

/* Fills a complete smbx_crypto table whose user_data is `o`. The table is
 * valid while `o` lives; the hooks are safe to call from several threads. */
void smbx_openssl_crypto(smbx_openssl *o, smbx_crypto *out);

/* The AEAD primitive behind the hooks, with any tag length (4..16) and
 * nonce length (CCM 7..13 bytes), for vectors that are not SMB-shaped.
 * In place; SMBX_ERR_AUTH when decryption does not authenticate. */
int smbx_openssl_aead_encrypt(smbx_openssl *o, uint32_t cipher,
                              const uint8_t *key, size_t key_len,
                              const uint8_t *nonce, size_t nonce_len,
                              const uint8_t *aad, size_t aad_len,
                              uint8_t *buf, size_t len, uint8_t *tag,
                              size_t tag_len);
int smbx_openssl_aead_decrypt(smbx_openssl *o, uint32_t cipher,
                              const uint8_t *key, size_t key_len,
                              const uint8_t *nonce, size_t nonce_len,
                              const uint8_t *aad, size_t aad_len,
                              uint8_t *buf, size_t len, const uint8_t *tag,
                              size_t tag_len);

/* 1 when the legacy provider (MD4, RC4) is loaded, else 0. */
int smbx_openssl_has_legacy(const smbx_openssl *o);

/* The adapter's library context, for host code (NTLM) that fetches more
 * algorithms, e.g. EVP_MD_fetch(ctx, "MD4", NULL). */
OSSL_LIB_CTX *smbx_openssl_libctx(const smbx_openssl *o);

#ifdef __cplusplus
}
#endif

#endif
