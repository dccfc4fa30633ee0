/* SPDX-License-Identifier: MIT */
/* sxauth internals shared by crypto.c, buf.c, ntlm.c, spnego.c, client.c
 * and server.c. Tests include this header to reach the primitives. */
#ifndef SXAUTH_AUTH_INT_H
#define SXAUTH_AUTH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sxauth.h"

/* Largest token either side accepts or builds: SMB2 SESSION_SETUP's
 * SecurityBufferLength is 16 bits ([MS-SMB2] 2.2.5). */
#define SXAUTH_MAX_TOKEN 65535u

/* ---- byte views and a growable buffer --------------------------------- */

typedef struct sxauth__slice {
  const uint8_t *p;
  size_t len;
} sxauth__slice;

/* Append-only buffer. Any failure (allocation, or growth past
 * SXAUTH_MAX_TOKEN * 4) sets the sticky `bad`; check once at the end. */
typedef struct sxauth__buf {
  uint8_t *p;
  size_t len, cap;
  int bad;
} sxauth__buf;

void sxauth__buf_free(sxauth__buf *b);
void sxauth__buf_reset(sxauth__buf *b);
void sxauth__buf_put(sxauth__buf *b, const void *data, size_t n);
void sxauth__buf_zero(sxauth__buf *b, size_t n);
void sxauth__buf_u8(sxauth__buf *b, uint8_t v);
void sxauth__buf_u16(sxauth__buf *b, uint16_t v); /* little-endian */
void sxauth__buf_u32(sxauth__buf *b, uint32_t v);
void sxauth__buf_u64(sxauth__buf *b, uint64_t v);
/* Overwrite bytes already written (offset + n <= len, else bad). */
void sxauth__buf_set(sxauth__buf *b, size_t off, const void *data, size_t n);
void sxauth__buf_set_u16(sxauth__buf *b, size_t off, uint16_t v);
void sxauth__buf_set_u32(sxauth__buf *b, size_t off, uint32_t v);

uint16_t sxauth__le16(const uint8_t *p);
uint32_t sxauth__le32(const uint8_t *p);
uint64_t sxauth__le64(const uint8_t *p);

/* UTF-8 -> UTF-16LE appended to b; -1 on invalid UTF-8 (b unchanged in
 * length), 0 ok. NULL s is "". */
int sxauth__utf8_to_utf16le(const char *s, sxauth__buf *b);
/* UTF-16LE -> NUL-terminated UTF-8 (malloc'd, *out). 0, -1 invalid
 * (odd length, unpaired surrogate), -2 NOMEM. */
int sxauth__utf16le_to_utf8(const uint8_t *p, size_t n, char **out);
/* ASCII-only upper case of UTF-16LE text, in place. */
void sxauth__utf16le_upper_ascii(uint8_t *p, size_t n);
/* strdup with NULL -> "" ; NULL on NOMEM. */
char *sxauth__strdup(const char *s);

/* ---- crypto (crypto.c) ------------------------------------------------ */

int sxauth__md4(const sxauth_crypto *cr, const void *data, size_t n,
                uint8_t out[16]);
/* MD5(a || b) */
int sxauth__md5(const sxauth_crypto *cr, const void *a, size_t na,
                const void *b, size_t nb, uint8_t out[16]);
/* HMAC-MD5(key, parts[0] || parts[1] || ...) */
int sxauth__hmac_md5(const sxauth_crypto *cr, const uint8_t *key, size_t klen,
                     const sxauth__slice *parts, size_t nparts,
                     uint8_t out[16]);
/* RC4 with a fresh key schedule; in and out may alias. */
int sxauth__rc4(const sxauth_crypto *cr, const uint8_t *key, size_t klen,
                const uint8_t *in, uint8_t *out, size_t n);
/* Equal in constant time: 1, else 0. */
int sxauth__ct_equal(const uint8_t *a, const uint8_t *b, size_t n);
/* Hooks or defaults. */
int sxauth__random(const sxauth_crypto *cr, const sxauth_hooks *h,
                   uint8_t *buf, size_t n);
uint64_t sxauth__filetime(const sxauth_hooks *h);

/* ---- NTLMSSP ([MS-NLMP] 2.2) (ntlm.c) ------------------------------- */

#define NTLMSSP_NEGOTIATE_UNICODE 0x00000001u
#define NTLMSSP_NEGOTIATE_OEM 0x00000002u
#define NTLMSSP_REQUEST_TARGET 0x00000004u
#define NTLMSSP_NEGOTIATE_SIGN 0x00000010u
#define NTLMSSP_NEGOTIATE_SEAL 0x00000020u
#define NTLMSSP_NEGOTIATE_LM_KEY 0x00000080u
#define NTLMSSP_NEGOTIATE_NTLM 0x00000200u
#define NTLMSSP_NEGOTIATE_ANONYMOUS 0x00000800u
#define NTLMSSP_NEGOTIATE_ALWAYS_SIGN 0x00008000u
#define NTLMSSP_TARGET_TYPE_DOMAIN 0x00010000u
#define NTLMSSP_TARGET_TYPE_SERVER 0x00020000u
#define NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLMSSP_NEGOTIATE_TARGET_INFO 0x00800000u
#define NTLMSSP_NEGOTIATE_VERSION 0x02000000u
#define NTLMSSP_NEGOTIATE_128 0x20000000u
#define NTLMSSP_NEGOTIATE_KEY_EXCH 0x40000000u
#define NTLMSSP_NEGOTIATE_56 0x80000000u

/* [MS-NLMP] 2.2.2.1 AV_PAIR ids */
#define MSV_AV_EOL 0
#define MSV_AV_NB_COMPUTER_NAME 1
#define MSV_AV_NB_DOMAIN_NAME 2
#define MSV_AV_DNS_COMPUTER_NAME 3
#define MSV_AV_DNS_DOMAIN_NAME 4
#define MSV_AV_DNS_TREE_NAME 5
#define MSV_AV_FLAGS 6
#define MSV_AV_TIMESTAMP 7
#define MSV_AV_SINGLE_HOST 8
#define MSV_AV_TARGET_NAME 9
#define MSV_AV_CHANNEL_BINDINGS 10
#define MSV_AV_FLAG_MIC_PRESENT 0x00000002u

#define NTLMSSP_MSG_NEGOTIATE 1u
#define NTLMSSP_MSG_CHALLENGE 2u
#define NTLMSSP_MSG_AUTHENTICATE 3u
#define NTLMSSP_AUTH_MIC_OFFSET 72u /* [MS-NLMP] 2.2.1.3 */
#define NTLMSSP_NTLMV2_BLOB_MIN 28u /* NTLMv2_CLIENT_CHALLENGE fixed part */

extern const uint8_t sxauth__ntlmssp_sig[8]; /* "NTLMSSP\0" */

/* A validated AV_PAIR list: every pair in bounds, ends with MsvAvEOL.
 * Returns 0 and the pairs' total length including EOL in *used, or -1. */
int sxauth__av_check(const uint8_t *p, size_t n, size_t *used);
/* Find pair `id` in a checked list; 1 found (value in *v), 0 absent. */
int sxauth__av_find(const uint8_t *p, size_t n, uint16_t id, sxauth__slice *v);

typedef struct sxauth__negotiate {
  uint32_t flags;
} sxauth__negotiate;

typedef struct sxauth__challenge {
  uint32_t flags;
  uint8_t server_challenge[8];
  sxauth__slice target_name;
  sxauth__slice target_info; /* checked AV list (may be empty) */
} sxauth__challenge;

typedef struct sxauth__authenticate {
  uint32_t flags;
  sxauth__slice lm, nt, domain, user, workstation, enc_key;
  int has_mic_field;         /* message long enough to hold a MIC */
} sxauth__authenticate;

/* Parsers: 0 ok, SXAUTH_ERR_DECODE with *why set (static text). */
int sxauth__parse_negotiate(const uint8_t *m, size_t n, sxauth__negotiate *o,
                            const char **why);
int sxauth__parse_challenge(const uint8_t *m, size_t n, sxauth__challenge *o,
                            const char **why);
int sxauth__parse_authenticate(const uint8_t *m, size_t n,
                               sxauth__authenticate *o, const char **why);

/* [MS-NLMP] 2.2.2.10 VERSION: 10.0.20348, NTLMSSP_REVISION_W2K3 (15). */
void sxauth__put_version(sxauth__buf *b);

/* [MS-NLMP] 3.3.2 NTOWFv2 = HMAC_MD5(MD4(UNICODE(Passwd)),
 *   UNICODE(Uppercase(User)) || UNICODE(UserDom)); user and domain are
 * UTF-16LE (user is upper-cased here, ASCII letters only). */
int sxauth__nt_hash(const sxauth_crypto *cr, const char *password,
                    uint8_t out[16]);
int sxauth__ntowfv2(const sxauth_crypto *cr, const uint8_t nt_hash[16],
                    const uint8_t *user16, size_t user_len,
                    const uint8_t *dom16, size_t dom_len, uint8_t out[16]);
/* NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge || temp). */
int sxauth__ntproof(const sxauth_crypto *cr, const uint8_t key[16],
                    const uint8_t server_challenge[8], const uint8_t *temp,
                    size_t temp_len, uint8_t out[16]);
/* temp = 01 01 Z(6) time(8) client_challenge(8) Z(4) av_pairs Z(4). */
void sxauth__build_temp(sxauth__buf *b, uint64_t time,
                        const uint8_t client_challenge[8],
                        const uint8_t *av, size_t av_len);

/* [MS-NLMP] 2.2.2.7: the NTLMv2 response (NTProofStr || temp) is at least
 * 16 + 28 bytes, RespType/HiRespType 1, a valid AV_PAIR list; *mic is set
 * from MsvAvFlags. 0 or SXAUTH_ERR_DECODE. */
int sxauth__ntlmv2_check_response(const sxauth__slice *nt, int *mic,
                                  const char **why);
/* [MS-NLMP] 3.2.5.1.2 for a known user: NTProofStr, session base key,
 * key exchange (when flags has KEY_EXCH with SIGN or SEAL) and, when mic,
 * the MIC over neg || chal || auth. flags = the negotiated flags. Returns 0
 * with the exported session key, SXAUTH_ERR_LOGON (wrong password),
 * _MIC, _DECODE or _CRYPTO. */
int sxauth__ntlmv2_verify(const sxauth_crypto *cr, const uint8_t nt_hash[16],
                          uint32_t flags, const uint8_t server_challenge[8],
                          const sxauth__authenticate *m, int mic,
                          const uint8_t *neg, size_t neg_len,
                          const uint8_t *chal, size_t chal_len,
                          const uint8_t *auth, size_t auth_len,
                          uint8_t key[16], const char **why);

/* [MS-NLMP] 3.4.4.2 MAC with extended session security: 16-byte signature
 * of msg under the signing/sealing keys derived from the exported session
 * key for one direction (client_to_server 1 or 0), sequence number seq,
 * a fresh RC4 handle (the first signed message of that direction). */
int sxauth__ntlm_mac(const sxauth_crypto *cr, uint32_t flags,
                     const uint8_t session_key[16], int client_to_server,
                     uint32_t seq, const uint8_t *msg, size_t n,
                     uint8_t out[16]);
/* MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE)
 * with the AUTHENTICATE's MIC field taken as zero. */
int sxauth__ntlm_mic(const sxauth_crypto *cr, const uint8_t session_key[16],
                     const uint8_t *neg, size_t neg_len, const uint8_t *chal,
                     size_t chal_len, const uint8_t *auth, size_t auth_len,
                     uint8_t out[16]);

/* ---- SPNEGO ([MS-SPNG], RFC 4178, RFC 2743 3.1 framing) (spnego.c) ---- */

#define SPNEGO_ACCEPT_COMPLETED 0
#define SPNEGO_ACCEPT_INCOMPLETE 1
#define SPNEGO_REJECT 2
#define SPNEGO_REQUEST_MIC 3

extern const uint8_t sxauth__oid_ntlmssp[10]; /* 1.3.6.1.4.1.311.2.2.10 */
extern const uint8_t sxauth__oid_spnego[6];   /* 1.3.6.1.5.5.2 */

typedef struct sxauth__neg_init {
  sxauth__slice mech_types; /* whole MechTypeList TLV (30 ...), for the MIC */
  int ntlm_index;           /* position of NTLMSSP in the list, -1 absent */
  sxauth__slice mech_token; /* p NULL when absent */
  sxauth__slice mech_list_mic;
} sxauth__neg_init;

typedef struct sxauth__neg_resp {
  int neg_state;             /* -1 absent */
  sxauth__slice supported_mech; /* OID value bytes, p NULL when absent */
  sxauth__slice response_token; /* p NULL when absent */
  sxauth__slice mech_list_mic;  /* p NULL when absent */
} sxauth__neg_resp;

/* Parse GSS-framed negTokenInit (60 .. 06 SPNEGO-OID a0 ..); init2's
 * negHints are skipped. 0 or SXAUTH_ERR_DECODE. */
int sxauth__spnego_parse_init(const uint8_t *p, size_t n, sxauth__neg_init *o,
                              const char **why);
/* Parse negTokenResp (a1 ..). 0 or SXAUTH_ERR_DECODE. */
int sxauth__spnego_parse_resp(const uint8_t *p, size_t n, sxauth__neg_resp *o,
                              const char **why);
/* The MechTypeList DER for NTLMSSP alone: 30 0c 06 0a <oid>. */
void sxauth__spnego_ntlm_mech_types(sxauth__buf *b);
/* GSS-framed negTokenInit with mechTypes (a full MechTypeList TLV) and an
 * optional mechToken (NULL = absent). */
void sxauth__spnego_build_init(sxauth__buf *b, const uint8_t *mech_types,
                               size_t mt_len, const uint8_t *token,
                               size_t token_len);
/* negTokenResp; neg_state < 0, supported_mech 0, token/mic NULL: absent. */
void sxauth__spnego_build_resp(sxauth__buf *b, int neg_state,
                               int supported_mech_ntlm, const uint8_t *token,
                               size_t token_len, const uint8_t *mic,
                               size_t mic_len);

#endif
