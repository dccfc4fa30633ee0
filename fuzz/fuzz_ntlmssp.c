/* SPDX-License-Identifier: MIT */
/* sxauth (examples/auth): arbitrary SPNEGO/NTLMSSP tokens into the server
 * (sxauth_accept_step) or the client (sxauth_client_step). Never crash;
 * a completed exchange yields a consistent result.
 *
 * Input: byte 0 = mode (bit 0: 0 server, 1 client; bit 1: client is
 * anonymous; bit 2: client uses bare NTLMSSP), then up to three tokens,
 * each but the last prefixed by a 16-bit little-endian length (clamped to
 * what is left); the last takes the rest. Randomness and the clock are
 * fixed, so the server's CHALLENGE is the same every run and a seed can
 * hold a valid AUTHENTICATE for it (fuzz/corpus/fuzz_ntlmssp). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../examples/auth/sxauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixed server challenge / client challenge / session key bytes. */
static int fixed_random(void *u, uint8_t *buf, size_t n)
{
  (void)u;
  memset(buf, 0x5a, n);
  return 0;
}

static uint64_t fixed_time(void *u)
{
  (void)u;
  return 133000000000000000ull; /* 2022-06-18 */
}

static const uint8_t bob_hash[16] = { 1, 2, 3, 4, 5, 6, 7, 8,
                                      9, 10, 11, 12, 13, 14, 15, 16 };

/* Created once: loading the OpenSSL providers per input would dominate. */
static sxauth_crypto *cr;
static sxauth_server *srv;

static int init(void)
{
  static const sxauth_user users[] = {
    { "alice", "Secret#1", NULL },
    { "bob", NULL, bob_hash },
  };
  if (srv)
    return 0;
  if (sxauth_crypto_new(&cr) != 0)
    abort(); /* no legacy provider: nothing can be fuzzed */
  sxauth_server_config sc = { 0 };
  sc.users = users;
  sc.n_users = 2;
  sc.allow_guest = 1;
  sc.allow_anonymous = 1;
  sc.nb_domain = "TESTDOM";
  sc.nb_computer = "TESTSRV";
  sc.dns_domain = "test.example";
  sc.dns_computer = "testsrv.test.example";
  sc.crypto = cr;
  sc.hooks.random = fixed_random;
  sc.hooks.filetime = fixed_time;
  if (sxauth_server_new(&srv, &sc) != 0)
    abort();
  return 0;
}

static size_t split(const uint8_t *data, size_t size, const uint8_t *tok[3],
                    size_t len[3])
{
  size_t n = 0;
  while (n < 3) {
    if (n == 2 || size < 2) {
      tok[n] = data;
      len[n++] = size;
      break;
    }
    size_t l = (size_t)data[0] | (size_t)data[1] << 8;
    data += 2;
    size -= 2;
    if (l > size)
      l = size;
    tok[n] = data;
    len[n++] = l;
    data += l;
    size -= l;
  }
  return n;
}

static void check_result(const sxauth_accept *a)
{
  sxauth_result r;
  if (sxauth_accept_result(a, &r) != 0)
    abort();
  if (strlen(r.user) + strlen(r.domain) + strlen(r.workstation) > 3 * 65535)
    abort();
  switch (r.kind) {
  case SXAUTH_KIND_USER:
    if (!r.has_key || r.session_flags != 0)
      abort();
    break;
  case SXAUTH_KIND_GUEST:
    if (r.has_key || r.session_flags != SXAUTH_SMB2_SESSION_FLAG_IS_GUEST)
      abort();
    break;
  case SXAUTH_KIND_ANONYMOUS:
    if (r.has_key || r.user[0] ||
        r.session_flags != SXAUTH_SMB2_SESSION_FLAG_IS_NULL)
      abort();
    break;
  default:
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || init() != 0)
    return 0;
  uint8_t mode = data[0];
  const uint8_t *tok[3];
  size_t len[3];
  size_t n = split(data + 1, size - 1, tok, len);
  const uint8_t *out;
  size_t out_len;

  if (!(mode & 1)) {
    sxauth_accept *a;
    if (sxauth_accept_new(&a, srv) != 0)
      return 0;
    for (size_t i = 0; i < n; i++) {
      int rc = sxauth_accept_step(a, tok[i], len[i], &out, &out_len);
      if (rc == SXAUTH_DONE)
        check_result(a);
      if (rc >= 0 && out_len && !out)
        abort();
      if (rc != SXAUTH_CONTINUE)
        break;
    }
    sxauth_accept_free(a);
    return 0;
  }

  sxauth_client_config cc = { 0 };
  cc.user = "alice";
  cc.password = "Secret#1";
  cc.domain = "TESTDOM";
  cc.target_spn = "cifs/testsrv";
  cc.anonymous = (mode & 2) != 0;
  cc.raw_ntlmssp = (mode & 4) != 0;
  cc.crypto = cr;
  cc.hooks.random = fixed_random;
  cc.hooks.filetime = fixed_time;
  sxauth_client *c;
  if (sxauth_client_new(&c, &cc) != 0)
    return 0;
  for (size_t i = 0; i < n; i++) {
    int rc = sxauth_client_step(c, tok[i], len[i], &out, &out_len);
    if (rc >= 0 && out_len && !out)
      abort();
    if (rc != SXAUTH_CONTINUE)
      break;
  }
  uint8_t key[16];
  (void)sxauth_client_session_key(c, key);
  sxauth_client_free(c);
  return 0;
}
