/* SPDX-License-Identifier: MIT */
/* sxauth: host-side authentication for the smbx example programs and tests.
 *
 * smbx leaves authentication to the host: the nodes hand security blobs to
 * the host as events and the host answers with the next blob. This is a
 * small NTLMSSP ([MS-NLMP]) implementation wrapped in SPNEGO ([MS-SPNG],
 * RFC 4178) for both roles:
 *   - client: NTLMv2 user (password or NT hash) or anonymous;
 *   - server: a table of users (password or NT hash), unknown users mapped
 *     to guest when allowed, anonymous when allowed; NTLMv2 only (LM and
 *     NTLMv1 responses are rejected); the AUTHENTICATE MIC and the SPNEGO
 *     mechListMIC are verified when present.
 * Crypto is OpenSSL 3 in a private library context with the "default" and
 * "legacy" providers (MD4 and RC4 live in "legacy").
 *
 * Step contract (both roles): call step() with the peer's blob (possibly
 * empty); it returns SXAUTH_CONTINUE (send *out and wait for the peer's next
 * blob), SXAUTH_DONE (send *out if *out_len > 0; finished) or a negative
 * SXAUTH_ERR_*. *out points into the context and stays valid until the next
 * call on it. After an error every later step returns the same error.
 * Not thread-safe per context; distinct contexts may run in parallel. No
 * global state. Plain C11. Not part of libsmbx. */
#ifndef SXAUTH_H
#define SXAUTH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SXAUTH_DONE 0
#define SXAUTH_CONTINUE 1
#define SXAUTH_ERR_INVAL (-1)       /* bad argument from the caller */
#define SXAUTH_ERR_NOMEM (-2)       /* malloc failed */
#define SXAUTH_ERR_CRYPTO (-3)      /* OpenSSL failed (e.g. no legacy provider) */
#define SXAUTH_ERR_DECODE (-4)      /* malformed peer token */
#define SXAUTH_ERR_LOGON (-5)       /* bad password / unknown user / refused */
#define SXAUTH_ERR_UNSUPPORTED (-6) /* LM, NTLMv1, OEM strings, no NTLMSSP */
#define SXAUTH_ERR_STATE (-7)       /* call not valid in this state */
#define SXAUTH_ERR_MIC (-8)         /* NTLM MIC or SPNEGO mechListMIC wrong */

/* Static text for an SXAUTH_* code; never NULL. */
const char *sxauth_strerror(int err);

/* OpenSSL state: a private OSSL_LIB_CTX with the default and legacy
 * providers loaded and MD4/MD5/HMAC/RC4 fetched. Read-only after creation,
 * so one may be shared by many clients/servers (it must outlive them).
 * Returns 0, SXAUTH_ERR_NOMEM, or SXAUTH_ERR_CRYPTO when a provider or an
 * algorithm is missing (the reason goes to stderr once per call). */
typedef struct sxauth_crypto sxauth_crypto;
int sxauth_crypto_new(sxauth_crypto **out);
void sxauth_crypto_free(sxauth_crypto *cr);

/* Replaceable randomness and clock (tests use fixed values). NULL members:
 * OpenSSL's RAND_bytes and the system real-time clock. */
typedef struct sxauth_hooks {
  int (*random)(void *user_data, uint8_t *buf, size_t len); /* 0 = ok */
  uint64_t (*filetime)(void *user_data); /* 100 ns units since 1601-01-01 */
  void *user_data;
} sxauth_hooks;

/* ---- client ---------------------------------------------------------- */

typedef struct sxauth_client_config {
  const char *user;        /* UTF-8; ignored when anonymous */
  const char *domain;      /* UTF-8; NULL = "" */
  const char *password;    /* UTF-8; NULL = "" unless nt_hash is set */
  const uint8_t *nt_hash;  /* 16 bytes MD4(UTF-16LE(password)), or NULL */
  const char *workstation; /* UTF-8; NULL = "" */
  const char *target_spn;  /* e.g. "cifs/host": sent as MsvAvTargetName */
  int anonymous;           /* nonzero: anonymous (NULL session) logon */
  int raw_ntlmssp;         /* nonzero: bare NTLMSSP tokens, no SPNEGO */
  sxauth_crypto *crypto;   /* shared crypto, or NULL: the client makes one */
  sxauth_hooks hooks;
} sxauth_client_config;

typedef struct sxauth_client sxauth_client;

/* Copies every string of cfg. Returns 0, SXAUTH_ERR_INVAL (NULL out/cfg,
 * invalid UTF-8, non-anonymous with no user), SXAUTH_ERR_NOMEM,
 * SXAUTH_ERR_CRYPTO. */
int sxauth_client_new(sxauth_client **out, const sxauth_client_config *cfg);
void sxauth_client_free(sxauth_client *c);

/* Round 1: in = the server's SMB2 NEGOTIATE security buffer (may be empty)
 *          -> CONTINUE, out = negTokenInit(NEGOTIATE).
 * Round 2: in = the server's MORE_PROCESSING_REQUIRED blob (CHALLENGE)
 *          -> CONTINUE, out = negTokenResp(AUTHENTICATE [+ mechListMIC]).
 * Round 3: in = the server's final SESSION_SETUP blob (may be empty)
 *          -> DONE (the server's mechListMIC is checked when present).
 * Errors: SXAUTH_ERR_INVAL, _NOMEM, _CRYPTO, _DECODE, _UNSUPPORTED (server
 * offers no NTLMSSP, no UNICODE), _LOGON (server sent reject), _MIC,
 * _STATE (called after DONE). */
int sxauth_client_step(sxauth_client *c, const uint8_t *in, size_t in_len,
                       const uint8_t **out, size_t *out_len);

/* The 16-byte exported session key (what SMB2 calls the session key),
 * available once AUTHENTICATE was built. Returns 0, or SXAUTH_ERR_STATE
 * before that and for anonymous logons (which have no key). */
int sxauth_client_session_key(const sxauth_client *c, uint8_t out[16]);

/* Static text naming why the last step failed ("" when none). */
const char *sxauth_client_error(const sxauth_client *c);

/* ---- server ---------------------------------------------------------- */

typedef struct sxauth_user {
  const char *user;        /* UTF-8; matched ASCII-case-insensitively */
  const char *password;    /* UTF-8, or NULL when nt_hash is given */
  const uint8_t *nt_hash;  /* 16 bytes, or NULL */
} sxauth_user;

typedef struct sxauth_server_config {
  const sxauth_user *users;
  size_t n_users;
  int allow_guest;         /* unknown user -> guest (SMB2 IS_GUEST) */
  int allow_anonymous;     /* empty user + empty responses -> IS_NULL */
  const char *nb_domain;   /* NULL: "WORKGROUP" */
  const char *nb_computer; /* NULL: "SMBX" */
  const char *dns_domain;  /* NULL: "" (pair omitted) */
  const char *dns_computer;/* NULL: "smbx" */
  sxauth_crypto *crypto;   /* shared crypto, or NULL: the server makes one */
  sxauth_hooks hooks;
} sxauth_server_config;

/* The long-lived part: user table, names, crypto. Read-only after
 * creation: any number of sxauth_accept exchanges may use it at once.
 * Returns 0, SXAUTH_ERR_INVAL, _NOMEM, _CRYPTO. */
typedef struct sxauth_server sxauth_server;
int sxauth_server_new(sxauth_server **out, const sxauth_server_config *cfg);
/* Free only after every sxauth_accept made from it. */
void sxauth_server_free(sxauth_server *s);

/* The SPNEGO negTokenInit (mechTypes: NTLMSSP) for the security buffer of
 * the SMB2 NEGOTIATE response. Owned by the server. Returns 0 or
 * SXAUTH_ERR_INVAL. */
int sxauth_server_negotiate_blob(const sxauth_server *s, const uint8_t **out,
                                 size_t *out_len);

#define SXAUTH_KIND_NONE 0
#define SXAUTH_KIND_USER 1
#define SXAUTH_KIND_GUEST 2
#define SXAUTH_KIND_ANONYMOUS 3

/* SMB2 SESSION_SETUP response SessionFlags ([MS-SMB2] 2.2.6). */
#define SXAUTH_SMB2_SESSION_FLAG_IS_GUEST 0x0001u
#define SXAUTH_SMB2_SESSION_FLAG_IS_NULL 0x0002u

typedef struct sxauth_result {
  int kind;                 /* SXAUTH_KIND_* */
  const char *user;         /* UTF-8 as the client sent it ("" anonymous) */
  const char *domain;       /* UTF-8 as the client sent it */
  const char *workstation;  /* UTF-8 as the client sent it */
  int has_key;              /* 1 for KIND_USER only */
  uint8_t session_key[16];  /* exported session key when has_key */
  uint16_t session_flags;   /* SXAUTH_SMB2_SESSION_FLAG_* for the response */
} sxauth_result;

/* One authentication exchange (one SMB2 SESSION_SETUP sequence). */
typedef struct sxauth_accept sxauth_accept;
int sxauth_accept_new(sxauth_accept **out, sxauth_server *s);
void sxauth_accept_free(sxauth_accept *a);

/* Round 1: in = client's negTokenInit (or a bare NTLMSSP NEGOTIATE)
 *          -> CONTINUE, out = negTokenResp(accept-incomplete, CHALLENGE)
 *             (or, when the client's preferred mech is not NTLMSSP,
 *              negTokenResp(accept-incomplete, supportedMech) and one more
 *              round brings the NEGOTIATE).
 * Last:    in = negTokenResp(AUTHENTICATE [+ mechListMIC])
 *          -> DONE, out = negTokenResp(accept-completed [+ mechListMIC]);
 *             send it with STATUS_SUCCESS and the result's session_flags.
 * Errors: SXAUTH_ERR_INVAL, _NOMEM, _CRYPTO, _DECODE, _UNSUPPORTED (LM or
 * NTLMv1 response, no NTLMSSP mech, no UNICODE), _LOGON (wrong password,
 * unknown user without guest, anonymous not allowed), _MIC, _STATE. The
 * SMB2 server answers any error with STATUS_LOGON_FAILURE. */
int sxauth_accept_step(sxauth_accept *a, const uint8_t *in, size_t in_len,
                       const uint8_t **out, size_t *out_len);

/* After DONE: who logged on. Pointers live as long as the accept. Returns
 * 0 or SXAUTH_ERR_STATE before DONE. */
int sxauth_accept_result(const sxauth_accept *a, sxauth_result *r);

/* Static text naming why the last step failed ("" when none). */
const char *sxauth_accept_error(const sxauth_accept *a);

#ifdef __cplusplus
}
#endif

#endif
