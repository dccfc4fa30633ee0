/* SPDX-License-Identifier: MIT */
/* NTLMSSP message parsing and the NTLMv2 computations of [MS-NLMP]. */
#include <string.h>

#include "auth_int.h"

const uint8_t sxauth__ntlmssp_sig[8] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0 };

/* [MS-NLMP] 2.2.2.1: AvId (2), AvLen (2), Value; the list ends with
 * MsvAvEOL (AvLen 0). Every pair must lie inside the buffer. */
int sxauth__av_check(const uint8_t *p, size_t n, size_t *used)
{
  size_t pos = 0;
  while (n - pos >= 4) {
    uint16_t id = sxauth__le16(p + pos);
    uint16_t len = sxauth__le16(p + pos + 2);
    pos += 4;
    if (n - pos < len)
      return -1;
    pos += len;
    if (id == MSV_AV_EOL) {
      if (len != 0)
        return -1;
      *used = pos;
      return 0;
    }
  }
  return -1; /* no MsvAvEOL */
}

int sxauth__av_find(const uint8_t *p, size_t n, uint16_t id, sxauth__slice *v)
{
  size_t pos = 0;
  while (n - pos >= 4) {
    uint16_t aid = sxauth__le16(p + pos);
    uint16_t len = sxauth__le16(p + pos + 2);
    if (aid == MSV_AV_EOL || n - pos - 4 < len)
      return 0;
    if (aid == id) {
      v->p = p + pos + 4;
      v->len = len;
      return 1;
    }
    pos += 4u + len;
  }
  return 0;
}

/* [MS-NLMP] 2.2.1 fields: Len (2), MaxLen (2, ignored on receipt),
 * BufferOffset (4) from the start of the message. A non-empty field must
 * lie inside the message and after the fixed header (min_off). */
static int field(const uint8_t *m, size_t n, size_t at, size_t min_off,
                 sxauth__slice *s)
{
  uint16_t len = sxauth__le16(m + at);
  uint32_t off = sxauth__le32(m + at + 4);
  s->p = NULL;
  s->len = 0;
  if (len == 0)
    return 0;
  if (off < min_off || off > n || n - off < len)
    return -1;
  s->p = m + off;
  s->len = len;
  return 0;
}

static int check_header(const uint8_t *m, size_t n, size_t min, uint32_t type,
                        const char **why)
{
  if (!m || n < min) {
    *why = "NTLMSSP message shorter than its fixed part";
    return SXAUTH_ERR_DECODE;
  }
  if (memcmp(m, sxauth__ntlmssp_sig, 8) != 0) {
    *why = "no NTLMSSP signature";
    return SXAUTH_ERR_DECODE;
  }
  if (sxauth__le32(m + 8) != type) {
    *why = "unexpected NTLMSSP MessageType";
    return SXAUTH_ERR_DECODE;
  }
  return 0;
}

/* [MS-NLMP] 2.2.1.1: Signature, MessageType, NegotiateFlags,
 * DomainNameFields @16, WorkstationFields @24, Version @32 (when
 * NTLMSSP_NEGOTIATE_VERSION). The names are not used, only bounds-checked. */
int sxauth__parse_negotiate(const uint8_t *m, size_t n, sxauth__negotiate *o,
                            const char **why)
{
  int rc = check_header(m, n, 32, NTLMSSP_MSG_NEGOTIATE, why);
  if (rc)
    return rc;
  o->flags = sxauth__le32(m + 12);
  size_t fixed = (o->flags & NTLMSSP_NEGOTIATE_VERSION) ? 40 : 32;
  if (n < fixed) {
    *why = "NEGOTIATE shorter than its Version field";
    return SXAUTH_ERR_DECODE;
  }
  sxauth__slice dom, ws;
  if (field(m, n, 16, 32, &dom) != 0 || field(m, n, 24, 32, &ws) != 0) {
    *why = "NEGOTIATE field outside the message";
    return SXAUTH_ERR_DECODE;
  }
  return 0;
}

/* [MS-NLMP] 2.2.1.2: TargetNameFields @12, NegotiateFlags @20,
 * ServerChallenge @24, Reserved @32, TargetInfoFields @40, Version @48
 * (when NTLMSSP_NEGOTIATE_VERSION), payload. */
int sxauth__parse_challenge(const uint8_t *m, size_t n, sxauth__challenge *o,
                            const char **why)
{
  int rc = check_header(m, n, 48, NTLMSSP_MSG_CHALLENGE, why);
  if (rc)
    return rc;
  o->flags = sxauth__le32(m + 20);
  if ((o->flags & NTLMSSP_NEGOTIATE_VERSION) && n < 56) {
    *why = "CHALLENGE shorter than its Version field";
    return SXAUTH_ERR_DECODE;
  }
  memcpy(o->server_challenge, m + 24, 8);
  if (field(m, n, 12, 48, &o->target_name) != 0) {
    *why = "CHALLENGE TargetName outside the message";
    return SXAUTH_ERR_DECODE;
  }
  sxauth__slice ti;
  if (field(m, n, 40, 48, &ti) != 0) {
    *why = "CHALLENGE TargetInfo outside the message";
    return SXAUTH_ERR_DECODE;
  }
  o->target_info = ti;
  if (ti.len) {
    size_t used;
    if (sxauth__av_check(ti.p, ti.len, &used) != 0) {
      *why = "CHALLENGE TargetInfo: malformed AV_PAIR list";
      return SXAUTH_ERR_DECODE;
    }
    o->target_info.len = used; /* bytes after MsvAvEOL are not pairs */
  }
  return 0;
}

/* [MS-NLMP] 2.2.1.3: LmChallengeResponseFields @12, NtChallengeResponse
 * @20, DomainName @28, UserName @36, Workstation @44,
 * EncryptedRandomSessionKey @52, NegotiateFlags @60, Version @64, MIC @72
 * (present when the NTLMv2 response's MsvAvFlags says so), payload. */
int sxauth__parse_authenticate(const uint8_t *m, size_t n,
                               sxauth__authenticate *o, const char **why)
{
  int rc = check_header(m, n, 64, NTLMSSP_MSG_AUTHENTICATE, why);
  if (rc)
    return rc;
  if (field(m, n, 12, 64, &o->lm) || field(m, n, 20, 64, &o->nt) ||
      field(m, n, 28, 64, &o->domain) || field(m, n, 36, 64, &o->user) ||
      field(m, n, 44, 64, &o->workstation) ||
      field(m, n, 52, 64, &o->enc_key)) {
    *why = "AUTHENTICATE field outside the message";
    return SXAUTH_ERR_DECODE;
  }
  o->flags = sxauth__le32(m + 60);
  if ((o->flags & NTLMSSP_NEGOTIATE_VERSION) && n < 72) {
    *why = "AUTHENTICATE shorter than its Version field";
    return SXAUTH_ERR_DECODE;
  }
  o->has_mic_field = n >= NTLMSSP_AUTH_MIC_OFFSET + 16;
  return 0;
}

void sxauth__put_version(sxauth__buf *b)
{
  sxauth__buf_u8(b, 10);      /* ProductMajorVersion */
  sxauth__buf_u8(b, 0);       /* ProductMinorVersion */
  sxauth__buf_u16(b, 20348);  /* ProductBuild */
  sxauth__buf_zero(b, 3);     /* Reserved */
  sxauth__buf_u8(b, 0x0f);    /* NTLMSSP_REVISION_W2K3 */
}

int sxauth__nt_hash(const sxauth_crypto *cr, const char *password,
                    uint8_t out[16])
{
  sxauth__buf b = { 0 };
  if (sxauth__utf8_to_utf16le(password, &b) != 0) {
    sxauth__buf_free(&b);
    return SXAUTH_ERR_INVAL;
  }
  if (b.bad) {
    sxauth__buf_free(&b);
    return SXAUTH_ERR_NOMEM;
  }
  int rc = sxauth__md4(cr, b.p ? b.p : (const uint8_t *)"", b.len, out);
  if (b.p)
    memset(b.p, 0, b.len);
  sxauth__buf_free(&b);
  return rc;
}

int sxauth__ntowfv2(const sxauth_crypto *cr, const uint8_t nt_hash[16],
                    const uint8_t *user16, size_t user_len,
                    const uint8_t *dom16, size_t dom_len, uint8_t out[16])
{
  sxauth__buf up = { 0 };
  sxauth__buf_put(&up, user16, user_len);
  if (up.bad) {
    sxauth__buf_free(&up);
    return SXAUTH_ERR_NOMEM;
  }
  sxauth__utf16le_upper_ascii(up.p, up.len);
  sxauth__slice parts[2] = { { up.p, up.len }, { dom16, dom_len } };
  int rc = sxauth__hmac_md5(cr, nt_hash, 16, parts, 2, out);
  sxauth__buf_free(&up);
  return rc;
}

int sxauth__ntproof(const sxauth_crypto *cr, const uint8_t key[16],
                    const uint8_t server_challenge[8], const uint8_t *temp,
                    size_t temp_len, uint8_t out[16])
{
  sxauth__slice parts[2] = { { server_challenge, 8 }, { temp, temp_len } };
  return sxauth__hmac_md5(cr, key, 16, parts, 2, out);
}

/* [MS-NLMP] 3.3.2 / 2.2.2.7 NTLMv2_CLIENT_CHALLENGE. */
void sxauth__build_temp(sxauth__buf *b, uint64_t time,
                        const uint8_t client_challenge[8],
                        const uint8_t *av, size_t av_len)
{
  sxauth__buf_u8(b, 1); /* RespType */
  sxauth__buf_u8(b, 1); /* HiRespType */
  sxauth__buf_zero(b, 6);
  sxauth__buf_u64(b, time);
  sxauth__buf_put(b, client_challenge, 8);
  sxauth__buf_zero(b, 4);
  sxauth__buf_put(b, av, av_len);
  sxauth__buf_zero(b, 4);
}

/* [MS-NLMP] 3.4.5.2 SIGNKEY and 3.4.5.3 SEALKEY (with extended session
 * security); the magic constants include their terminating NUL. */
static const char c2s_sign[] =
    "session key to client-to-server signing key magic constant";
static const char s2c_sign[] =
    "session key to server-to-client signing key magic constant";
static const char c2s_seal[] =
    "session key to client-to-server sealing key magic constant";
static const char s2c_seal[] =
    "session key to server-to-client sealing key magic constant";

int sxauth__ntlm_mac(const sxauth_crypto *cr, uint32_t flags,
                     const uint8_t session_key[16], int client_to_server,
                     uint32_t seq, const uint8_t *msg, size_t n,
                     uint8_t out[16])
{
  uint8_t sign_key[16], seal_key[16], mac[16];
  const char *sm = client_to_server ? c2s_sign : s2c_sign;
  const char *em = client_to_server ? c2s_seal : s2c_seal;
  size_t klen = (flags & NTLMSSP_NEGOTIATE_128) ? 16
                : (flags & NTLMSSP_NEGOTIATE_56) ? 7 : 5;
  int rc = sxauth__md5(cr, session_key, 16, sm, sizeof c2s_sign, sign_key);
  if (!rc)
    rc = sxauth__md5(cr, session_key, klen, em, sizeof c2s_seal, seal_key);
  uint8_t seqb[4] = { (uint8_t)seq, (uint8_t)(seq >> 8),
                      (uint8_t)(seq >> 16), (uint8_t)(seq >> 24) };
  sxauth__slice parts[2] = { { seqb, 4 }, { msg, n } };
  if (!rc)
    rc = sxauth__hmac_md5(cr, sign_key, 16, parts, 2, mac);
  /* [MS-NLMP] 3.4.4.2: the checksum is sealed when KEY_EXCH was negotiated */
  if (!rc && (flags & NTLMSSP_NEGOTIATE_KEY_EXCH))
    rc = sxauth__rc4(cr, seal_key, 16, mac, mac, 8);
  if (rc)
    return rc;
  out[0] = 1; /* Version */
  out[1] = out[2] = out[3] = 0;
  memcpy(out + 4, mac, 8);
  memcpy(out + 12, seqb, 4);
  return 0;
}

int sxauth__ntlm_mic(const sxauth_crypto *cr, const uint8_t session_key[16],
                     const uint8_t *neg, size_t neg_len, const uint8_t *chal,
                     size_t chal_len, const uint8_t *auth, size_t auth_len,
                     uint8_t out[16])
{
  static const uint8_t zero[16];
  if (auth_len < NTLMSSP_AUTH_MIC_OFFSET + 16)
    return SXAUTH_ERR_DECODE;
  sxauth__slice parts[5] = {
    { neg, neg_len },
    { chal, chal_len },
    { auth, NTLMSSP_AUTH_MIC_OFFSET },
    { zero, 16 },
    { auth + NTLMSSP_AUTH_MIC_OFFSET + 16,
      auth_len - NTLMSSP_AUTH_MIC_OFFSET - 16 },
  };
  return sxauth__hmac_md5(cr, session_key, 16, parts, 5, out);
}

int sxauth__ntlmv2_check_response(const sxauth__slice *nt, int *mic,
                                  const char **why)
{
  *mic = 0;
  if (nt->len < 16 + NTLMSSP_NTLMV2_BLOB_MIN) {
    *why = "NT response too short for NTLMv2";
    return SXAUTH_ERR_DECODE;
  }
  const uint8_t *blob = nt->p + 16;
  if (blob[0] != 1 || blob[1] != 1) {
    *why = "NTLMv2 blob: bad RespType";
    return SXAUTH_ERR_DECODE;
  }
  const uint8_t *av = blob + NTLMSSP_NTLMV2_BLOB_MIN;
  size_t av_len = nt->len - 16 - NTLMSSP_NTLMV2_BLOB_MIN, used;
  if (sxauth__av_check(av, av_len, &used) != 0) {
    *why = "NTLMv2 blob: malformed AV_PAIR list";
    return SXAUTH_ERR_DECODE;
  }
  sxauth__slice fv;
  if (sxauth__av_find(av, used, MSV_AV_FLAGS, &fv)) {
    if (fv.len != 4) {
      *why = "MsvAvFlags is not 4 bytes";
      return SXAUTH_ERR_DECODE;
    }
    *mic = (sxauth__le32(fv.p) & MSV_AV_FLAG_MIC_PRESENT) != 0;
  }
  return 0;
}

int sxauth__ntlmv2_verify(const sxauth_crypto *cr, const uint8_t nt_hash[16],
                          uint32_t flags, const uint8_t server_challenge[8],
                          const sxauth__authenticate *m, int mic,
                          const uint8_t *neg, size_t neg_len,
                          const uint8_t *chal, size_t chal_len,
                          const uint8_t *auth, size_t auth_len,
                          uint8_t key[16], const char **why)
{
  uint8_t ntowf[16], proof[16], sbk[16];
  *why = "crypto failure";
  if (mic && !m->has_mic_field) {
    *why = "MIC flagged but message too short";
    return SXAUTH_ERR_DECODE;
  }
  int rc = sxauth__ntowfv2(cr, nt_hash, m->user.p, m->user.len, m->domain.p,
                           m->domain.len, ntowf);
  if (!rc)
    rc = sxauth__ntproof(cr, ntowf, server_challenge, m->nt.p + 16,
                         m->nt.len - 16, proof);
  if (rc)
    return rc;
  if (!sxauth__ct_equal(proof, m->nt.p, 16)) {
    *why = "wrong password (NTProofStr mismatch)";
    return SXAUTH_ERR_LOGON;
  }
  sxauth__slice pp = { proof, 16 };
  rc = sxauth__hmac_md5(cr, ntowf, 16, &pp, 1, sbk);
  if (rc)
    return rc;
  /* 3.2.5.1.2: KeyExchangeKey = SessionBaseKey (NTLMv2); with KEY_EXCH
   * (and SIGN or SEAL) the client sent RC4(KeyExchangeKey, exported key) */
  if ((flags & NTLMSSP_NEGOTIATE_KEY_EXCH) &&
      (flags & (NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_SEAL))) {
    if (m->enc_key.len != 16) {
      *why = "KEY_EXCH without a 16-byte key";
      return SXAUTH_ERR_DECODE;
    }
    rc = sxauth__rc4(cr, sbk, 16, m->enc_key.p, key, 16);
    if (rc)
      return rc;
  } else {
    memcpy(key, sbk, 16);
  }
  if (mic) {
    uint8_t want[16];
    rc = sxauth__ntlm_mic(cr, key, neg, neg_len, chal, chal_len, auth,
                          auth_len, want);
    if (rc)
      return rc;
    if (!sxauth__ct_equal(want, auth + NTLMSSP_AUTH_MIC_OFFSET, 16)) {
      *why = "AUTHENTICATE MIC mismatch";
      return SXAUTH_ERR_MIC;
    }
  }
  *why = "";
  return 0;
}
