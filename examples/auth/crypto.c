/* SPDX-License-Identifier: MIT */
/* OpenSSL 3 primitives for NTLM: MD4 and RC4 come from the "legacy"
 * provider, MD5 and HMAC from "default". Both are loaded into a private
 * OSSL_LIB_CTX, so nothing here touches OpenSSL's global default context
 * (other code in the same process keeps its own provider setup). */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include "auth_int.h"

struct sxauth_crypto {
  OSSL_LIB_CTX *lib;
  OSSL_PROVIDER *deflt, *legacy;
  EVP_MD *md4, *md5;
  EVP_MAC *hmac;
  EVP_CIPHER *rc4;
};

void sxauth_crypto_free(sxauth_crypto *cr)
{
  if (!cr)
    return;
  EVP_MD_free(cr->md4);
  EVP_MD_free(cr->md5);
  EVP_MAC_free(cr->hmac);
  EVP_CIPHER_free(cr->rc4);
  if (cr->legacy)
    OSSL_PROVIDER_unload(cr->legacy);
  if (cr->deflt)
    OSSL_PROVIDER_unload(cr->deflt);
  OSSL_LIB_CTX_free(cr->lib);
  free(cr);
}

static int crypto_fail(sxauth_crypto *cr, const char *what)
{
  fprintf(stderr,
          "sxauth: OpenSSL: %s. NTLM needs MD4 and RC4 from OpenSSL 3's "
          "\"legacy\" provider (Debian: legacy.so in "
          "/usr/lib/<arch>/ossl-modules, shipped by libssl3; or set "
          "OPENSSL_MODULES)\n",
          what);
  ERR_clear_error();
  sxauth_crypto_free(cr);
  return SXAUTH_ERR_CRYPTO;
}

int sxauth_crypto_new(sxauth_crypto **out)
{
  if (!out)
    return SXAUTH_ERR_INVAL;
  *out = NULL;
  sxauth_crypto *cr = calloc(1, sizeof *cr);
  if (!cr)
    return SXAUTH_ERR_NOMEM;
  cr->lib = OSSL_LIB_CTX_new();
  if (!cr->lib)
    return crypto_fail(cr, "cannot create a library context");
  cr->deflt = OSSL_PROVIDER_load(cr->lib, "default");
  if (!cr->deflt)
    return crypto_fail(cr, "cannot load the \"default\" provider");
  cr->legacy = OSSL_PROVIDER_load(cr->lib, "legacy");
  if (!cr->legacy)
    return crypto_fail(cr, "cannot load the \"legacy\" provider");
  cr->md4 = EVP_MD_fetch(cr->lib, "MD4", NULL);
  cr->md5 = EVP_MD_fetch(cr->lib, "MD5", NULL);
  cr->hmac = EVP_MAC_fetch(cr->lib, "HMAC", NULL);
  cr->rc4 = EVP_CIPHER_fetch(cr->lib, "RC4", NULL);
  if (!cr->md4 || !cr->md5 || !cr->hmac || !cr->rc4)
    return crypto_fail(cr, "MD4, MD5, HMAC or RC4 is unavailable");
  *out = cr;
  return 0;
}

static int digest(EVP_MD *md, const void *a, size_t na, const void *b,
                  size_t nb, uint8_t out[16])
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned int len = 0;
  int ok = ctx && EVP_DigestInit_ex2(ctx, md, NULL) &&
           (na == 0 || EVP_DigestUpdate(ctx, a, na)) &&
           (nb == 0 || EVP_DigestUpdate(ctx, b, nb)) &&
           EVP_DigestFinal_ex(ctx, out, &len) && len == 16;
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    ERR_clear_error();
    return SXAUTH_ERR_CRYPTO;
  }
  return 0;
}

int sxauth__md4(const sxauth_crypto *cr, const void *data, size_t n,
                uint8_t out[16])
{
  return digest(cr->md4, data, n, NULL, 0, out);
}

int sxauth__md5(const sxauth_crypto *cr, const void *a, size_t na,
                const void *b, size_t nb, uint8_t out[16])
{
  return digest(cr->md5, a, na, b, nb, out);
}

int sxauth__hmac_md5(const sxauth_crypto *cr, const uint8_t *key, size_t klen,
                     const sxauth__slice *parts, size_t nparts,
                     uint8_t out[16])
{
  char mdname[] = "MD5";
  OSSL_PARAM params[2] = {
    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, mdname, 0),
    OSSL_PARAM_construct_end(),
  };
  EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(cr->hmac);
  size_t len = 0;
  int ok = ctx && EVP_MAC_init(ctx, key, klen, params);
  for (size_t i = 0; ok && i < nparts; i++)
    if (parts[i].len)
      ok = EVP_MAC_update(ctx, parts[i].p, parts[i].len);
  ok = ok && EVP_MAC_final(ctx, out, &len, 16) && len == 16;
  EVP_MAC_CTX_free(ctx);
  if (!ok) {
    ERR_clear_error();
    return SXAUTH_ERR_CRYPTO;
  }
  return 0;
}

int sxauth__rc4(const sxauth_crypto *cr, const uint8_t *key, size_t klen,
                const uint8_t *in, uint8_t *out, size_t n)
{
  if (klen == 0 || klen > INT_MAX || n > INT_MAX)
    return SXAUTH_ERR_CRYPTO;
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int outl = 0, fin = 0;
  int ok = ctx && EVP_EncryptInit_ex2(ctx, cr->rc4, NULL, NULL, NULL) &&
           EVP_CIPHER_CTX_set_key_length(ctx, (int)klen) &&
           EVP_EncryptInit_ex2(ctx, NULL, key, NULL, NULL) &&
           (n == 0 || EVP_EncryptUpdate(ctx, out, &outl, in, (int)n)) &&
           EVP_EncryptFinal_ex(ctx, out + outl, &fin) &&
           (size_t)outl + (size_t)fin == n;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) {
    ERR_clear_error();
    return SXAUTH_ERR_CRYPTO;
  }
  return 0;
}

int sxauth__ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
  return CRYPTO_memcmp(a, b, n) == 0;
}

int sxauth__random(const sxauth_crypto *cr, const sxauth_hooks *h,
                   uint8_t *buf, size_t n)
{
  if (h && h->random)
    return h->random(h->user_data, buf, n) == 0 ? 0 : SXAUTH_ERR_CRYPTO;
  if (RAND_bytes_ex(cr->lib, buf, n, 0) != 1) {
    ERR_clear_error();
    return SXAUTH_ERR_CRYPTO;
  }
  return 0;
}

uint64_t sxauth__filetime(const sxauth_hooks *h)
{
  if (h && h->filetime)
    return h->filetime(h->user_data);
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
    return 0;
  /* 11644473600 s from 1601-01-01 to 1970-01-01 */
  return ((uint64_t)ts.tv_sec + 11644473600u) * 10000000u +
         (uint64_t)ts.tv_nsec / 100u;
}
