/* SPDX-License-Identifier: MIT */
/* OpenSSL 3 implementation of the smbx crypto hooks (see smbx_openssl.h). */
#include "smbx_openssl.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

struct smbx_openssl {
  OSSL_LIB_CTX *ctx;
  OSSL_PROVIDER *prov_default;
  OSSL_PROVIDER *prov_legacy; /* NULL when not installed */
  EVP_MD *sha512;
  EVP_MAC *hmac, *cmac, *gmac;
  EVP_KDF *kbkdf;
  EVP_CIPHER *aead[5]; /* indexed by SMBX_CRYPTO_CIPHER_* (1..4) */
};

static const char *const aead_names[5] = {
    NULL, "AES-128-CCM", "AES-128-GCM", "AES-256-CCM", "AES-256-GCM"};

/* OSSL_PARAM takes non-const buffers for inputs it only reads. */
static void *unconst(const void *p)
{
  return (void *)(uintptr_t)p;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
  if (!err || !err_len)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
}

static int is_ccm(uint32_t cipher)
{
  return cipher == SMBX_CRYPTO_CIPHER_AES128_CCM ||
         cipher == SMBX_CRYPTO_CIPHER_AES256_CCM;
}

/* ---- hooks ---- */

static int hook_sha512(void *user_data, const smbx_iov *iov, size_t n_iov,
                       uint8_t out[64])
{
  smbx_openssl *o = user_data;
  if (!o || (!iov && n_iov) || !out)
    return SMBX_ERR_INVAL;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  if (!c)
    return SMBX_ERR_NOMEM;
  int ok = EVP_DigestInit_ex2(c, o->sha512, NULL);
  for (size_t i = 0; ok && i < n_iov; i++)
    if (iov[i].len)
      ok = EVP_DigestUpdate(c, iov[i].base, iov[i].len);
  unsigned int n = 0;
  if (ok)
    ok = EVP_DigestFinal_ex(c, out, &n) && n == 64;
  EVP_MD_CTX_free(c);
  return ok ? 0 : SMBX_ERR_INVAL;
}

static int hook_mac(void *user_data, uint32_t alg, const uint8_t *key,
                    size_t key_len, const uint8_t *nonce, size_t nonce_len,
                    const smbx_iov *iov, size_t n_iov, uint8_t out[16])
{
  smbx_openssl *o = user_data;
  if (!o || !key || (!iov && n_iov) || !out || (!nonce && nonce_len))
    return SMBX_ERR_INVAL;
  EVP_MAC *m;
  OSSL_PARAM params[3];
  size_t np = 0;
  switch (alg) {
  case SMBX_CRYPTO_SIGN_HMAC_SHA256:
    m = o->hmac;
    params[np++] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                    "SHA256", 0);
    break;
  case SMBX_CRYPTO_SIGN_AES_CMAC:
    if (key_len != 16)
      return SMBX_ERR_UNSUPPORTED;
    m = o->cmac;
    params[np++] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
                                                    "AES-128-CBC", 0);
    break;
  case SMBX_CRYPTO_SIGN_AES_GMAC:
    if (key_len != 16 || !nonce_len)
      return SMBX_ERR_UNSUPPORTED;
    m = o->gmac;
    params[np++] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
                                                    "AES-128-GCM", 0);
    params[np++] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_IV,
                                                     unconst(nonce), nonce_len);
    break;
  default:
    return SMBX_ERR_UNSUPPORTED;
  }
  params[np] = OSSL_PARAM_construct_end();
  EVP_MAC_CTX *c = EVP_MAC_CTX_new(m);
  if (!c)
    return SMBX_ERR_NOMEM;
  int ok = EVP_MAC_init(c, key, key_len, params);
  for (size_t i = 0; ok && i < n_iov; i++)
    if (iov[i].len)
      ok = EVP_MAC_update(c, iov[i].base, iov[i].len);
  uint8_t full[EVP_MAX_MD_SIZE];
  size_t n = 0;
  if (ok)
    ok = EVP_MAC_final(c, full, &n, sizeof full) && n >= 16;
  EVP_MAC_CTX_free(c);
  if (!ok)
    return SMBX_ERR_INVAL;
  memcpy(out, full, 16); /* HMAC-SHA256: the first 16 of 32 bytes */
  return 0;
}

/* Common AEAD setup: cipher, nonce length, (CCM) tag length, key and
 * nonce, (CCM) total length, AAD. `dec_tag` is the expected tag when
 * decrypting CCM (it must be known before the data). */
static int aead_begin(smbx_openssl *o, EVP_CIPHER_CTX *c, int enc,
                      uint32_t cipher, const uint8_t *key, size_t key_len,
                      const uint8_t *nonce, size_t nonce_len,
                      const uint8_t *aad, size_t aad_len, size_t len,
                      const uint8_t *dec_tag, size_t tag_len)
{
  if (cipher < 1 || cipher > 4 || !o->aead[cipher])
    return SMBX_ERR_UNSUPPORTED;
  const EVP_CIPHER *ci = o->aead[cipher];
  int ccm = is_ccm(cipher);
  /* CCM: nonce 7..13 bytes, even tag 4..16 (RFC 3610); GCM: any nonce,
   * tag 4..16 (SP800-38D allows 4, 8, 12..16) */
  if ((size_t)EVP_CIPHER_get_key_length(ci) != key_len ||
      (ccm ? nonce_len < 7 || nonce_len > 13 || tag_len % 2
           : nonce_len < 1 || nonce_len > 64) ||
      tag_len < 4 || tag_len > 16)
    return SMBX_ERR_UNSUPPORTED;
  /* CCM processes the data in one update call, whose length is an int */
  if (len > INT_MAX || aad_len > INT_MAX)
    return SMBX_ERR_UNSUPPORTED;
  uint8_t tag[16] = {0};
  if (dec_tag)
    memcpy(tag, dec_tag, tag_len);
  int outl;
  if (!EVP_CipherInit_ex2(c, ci, NULL, NULL, enc, NULL) ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, (int)nonce_len,
                          NULL) <= 0)
    return SMBX_ERR_INVAL;
  if (ccm && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, (int)tag_len,
                                 dec_tag ? tag : NULL) <= 0)
    return SMBX_ERR_INVAL;
  if (!EVP_CipherInit_ex2(c, NULL, key, nonce, enc, NULL))
    return SMBX_ERR_INVAL;
  if (ccm && !EVP_CipherUpdate(c, NULL, &outl, NULL, (int)len))
    return SMBX_ERR_INVAL;
  if (aad_len && !EVP_CipherUpdate(c, NULL, &outl, aad, (int)aad_len))
    return SMBX_ERR_INVAL;
  return 0;
}

int smbx_openssl_aead_encrypt(smbx_openssl *o, uint32_t cipher,
                              const uint8_t *key, size_t key_len,
                              const uint8_t *nonce, size_t nonce_len,
                              const uint8_t *aad, size_t aad_len,
                              uint8_t *buf, size_t len, uint8_t *tag,
                              size_t tag_len)
{
  if (!o || !key || !nonce || (!aad && aad_len) || (!buf && len) || !tag)
    return SMBX_ERR_INVAL;
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  if (!c)
    return SMBX_ERR_NOMEM;
  int rc = aead_begin(o, c, 1, cipher, key, key_len, nonce, nonce_len, aad,
                      aad_len, len, NULL, tag_len);
  int outl = 0, fin = 0;
  if (!rc && len && !EVP_EncryptUpdate(c, buf, &outl, buf, (int)len))
    rc = SMBX_ERR_INVAL;
  if (!rc && !EVP_EncryptFinal_ex(c, buf + outl, &fin))
    rc = SMBX_ERR_INVAL;
  if (!rc &&
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, (int)tag_len, tag) <= 0)
    rc = SMBX_ERR_INVAL;
  EVP_CIPHER_CTX_free(c);
  return rc;
}

int smbx_openssl_aead_decrypt(smbx_openssl *o, uint32_t cipher,
                              const uint8_t *key, size_t key_len,
                              const uint8_t *nonce, size_t nonce_len,
                              const uint8_t *aad, size_t aad_len,
                              uint8_t *buf, size_t len, const uint8_t *tag,
                              size_t tag_len)
{
  if (!o || !key || !nonce || (!aad && aad_len) || (!buf && len) || !tag)
    return SMBX_ERR_INVAL;
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  if (!c)
    return SMBX_ERR_NOMEM;
  int rc = aead_begin(o, c, 0, cipher, key, key_len, nonce, nonce_len, aad,
                      aad_len, len, tag, tag_len);
  int outl = 0, fin = 0;
  if (!rc && is_ccm(cipher)) {
    /* CCM checks the tag inside this update: failure = not authentic */
    if (EVP_DecryptUpdate(c, buf, &outl, buf, (int)len) <= 0)
      rc = SMBX_ERR_AUTH;
  } else if (!rc) {
    uint8_t t[16];
    memcpy(t, tag, tag_len);
    if (len && !EVP_DecryptUpdate(c, buf, &outl, buf, (int)len))
      rc = SMBX_ERR_INVAL;
    else if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, (int)tag_len,
                                 t) <= 0)
      rc = SMBX_ERR_INVAL;
    else if (EVP_DecryptFinal_ex(c, buf + outl, &fin) <= 0)
      rc = SMBX_ERR_AUTH; /* GCM: the tag is checked at final */
  }
  EVP_CIPHER_CTX_free(c);
  ERR_clear_error();
  return rc;
}

/* The hooks: SMB uses 16-byte tags (2.2.41 Signature). */
static int hook_aead_encrypt(void *user_data, uint32_t cipher,
                             const uint8_t *key, size_t key_len,
                             const uint8_t *nonce, size_t nonce_len,
                             const uint8_t *aad, size_t aad_len, uint8_t *buf,
                             size_t len, uint8_t tag[16])
{
  return smbx_openssl_aead_encrypt(user_data, cipher, key, key_len, nonce,
                                   nonce_len, aad, aad_len, buf, len, tag, 16);
}

static int hook_aead_decrypt(void *user_data, uint32_t cipher,
                             const uint8_t *key, size_t key_len,
                             const uint8_t *nonce, size_t nonce_len,
                             const uint8_t *aad, size_t aad_len, uint8_t *buf,
                             size_t len, const uint8_t tag[16])
{
  return smbx_openssl_aead_decrypt(user_data, cipher, key, key_len, nonce,
                                   nonce_len, aad, aad_len, buf, len, tag, 16);
}

static int hook_kdf(void *user_data, const uint8_t *key, size_t key_len,
                    const uint8_t *label, size_t label_len,
                    const uint8_t *context, size_t context_len, uint8_t *out,
                    size_t out_len)
{
  smbx_openssl *o = user_data;
  if (!o || !key || !key_len || (!label && label_len) ||
      (!context && context_len) || !out || !out_len)
    return SMBX_ERR_INVAL;
  /* KBKDF counter mode: PRF(K, [i]_4 || Label || 0x00 || Context || [L]_4)
   * with "salt" = Label and "info" = Context; r = 32, the separator and L
   * are on by default. */
  OSSL_PARAM params[7];
  size_t np = 0;
  params[np++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE,
                                                  "counter", 0);
  params[np++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC,
                                                  "HMAC", 0);
  params[np++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                                  "SHA256", 0);
  params[np++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                   unconst(key), key_len);
  if (label_len)
    params[np++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_SALT, unconst(label), label_len);
  if (context_len)
    params[np++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_INFO, unconst(context), context_len);
  params[np] = OSSL_PARAM_construct_end();
  EVP_KDF_CTX *c = EVP_KDF_CTX_new(o->kbkdf);
  if (!c)
    return SMBX_ERR_NOMEM;
  int ok = EVP_KDF_derive(c, out, out_len, params) > 0;
  EVP_KDF_CTX_free(c);
  return ok ? 0 : SMBX_ERR_INVAL;
}

static int hook_random(void *user_data, uint8_t *buf, size_t len)
{
  smbx_openssl *o = user_data;
  if (!o || (!buf && len))
    return SMBX_ERR_INVAL;
  if (!len)
    return 0;
  return RAND_bytes_ex(o->ctx, buf, len, 0) == 1 ? 0 : SMBX_ERR_INVAL;
}

/* ---- setup ---- */

void smbx_openssl_free(smbx_openssl *o)
{
  if (!o)
    return;
  EVP_MD_free(o->sha512);
  EVP_MAC_free(o->hmac);
  EVP_MAC_free(o->cmac);
  EVP_MAC_free(o->gmac);
  EVP_KDF_free(o->kbkdf);
  for (size_t i = 0; i < 5; i++)
    EVP_CIPHER_free(o->aead[i]);
  if (o->prov_legacy)
    OSSL_PROVIDER_unload(o->prov_legacy);
  if (o->prov_default)
    OSSL_PROVIDER_unload(o->prov_default);
  OSSL_LIB_CTX_free(o->ctx);
  free(o);
}

int smbx_openssl_new(smbx_openssl **out, uint32_t flags, char *err,
                     size_t err_len)
{
  if (err && err_len)
    err[0] = 0;
  if (!out || (flags & ~SMBX_OPENSSL_REQUIRE_LEGACY))
    return SMBX_ERR_INVAL;
  *out = NULL;
  smbx_openssl *o = calloc(1, sizeof *o);
  if (!o || !(o->ctx = OSSL_LIB_CTX_new())) {
    free(o);
    set_err(err, err_len, "out of memory creating an OpenSSL library context");
    return SMBX_ERR_NOMEM;
  }
  /* loading any provider explicitly turns off the implicit default one */
  o->prov_default = OSSL_PROVIDER_load(o->ctx, "default");
  if (!o->prov_default) {
    set_err(err, err_len, "OpenSSL default provider failed to load");
    smbx_openssl_free(o);
    return SMBX_ERR_UNSUPPORTED;
  }
  o->prov_legacy = OSSL_PROVIDER_load(o->ctx, "legacy");
  ERR_clear_error();
  if (!o->prov_legacy) {
    set_err(err, err_len,
            "OpenSSL legacy provider not found (MD4/RC4 for NTLM unavailable): "
            "install legacy.so in the modules directory (%s) or set "
            "OPENSSL_MODULES",
            OpenSSL_version(OPENSSL_MODULES_DIR));
    if (flags & SMBX_OPENSSL_REQUIRE_LEGACY) {
      smbx_openssl_free(o);
      return SMBX_ERR_UNSUPPORTED;
    }
  }
  o->sha512 = EVP_MD_fetch(o->ctx, "SHA512", NULL);
  o->hmac = EVP_MAC_fetch(o->ctx, "HMAC", NULL);
  o->cmac = EVP_MAC_fetch(o->ctx, "CMAC", NULL);
  o->gmac = EVP_MAC_fetch(o->ctx, "GMAC", NULL);
  o->kbkdf = EVP_KDF_fetch(o->ctx, "KBKDF", NULL);
  int ok = o->sha512 && o->hmac && o->cmac && o->gmac && o->kbkdf;
  for (size_t i = 1; i < 5; i++) {
    o->aead[i] = EVP_CIPHER_fetch(o->ctx, aead_names[i], NULL);
    ok = ok && o->aead[i];
  }
  if (!ok) {
    set_err(err, err_len, "OpenSSL lacks an algorithm smbx needs "
                          "(SHA512, HMAC, CMAC, GMAC, KBKDF, AES-CCM/GCM)");
    smbx_openssl_free(o);
    return SMBX_ERR_UNSUPPORTED;
  }
  *out = o;
  return 0;
}

void smbx_openssl_crypto(smbx_openssl *o, smbx_crypto *out)
{
  if (!out)
    return;
  memset(out, 0, sizeof *out);
  out->struct_size = sizeof *out;
  out->user_data = o;
  out->sha512 = hook_sha512;
  out->mac = hook_mac;
  out->aead_encrypt = hook_aead_encrypt;
  out->aead_decrypt = hook_aead_decrypt;
  out->kdf = hook_kdf;
  out->random = hook_random;
}

int smbx_openssl_has_legacy(const smbx_openssl *o)
{
  return o && o->prov_legacy ? 1 : 0;
}

OSSL_LIB_CTX *smbx_openssl_libctx(const smbx_openssl *o)
{
  return o ? o->ctx : NULL;
}
