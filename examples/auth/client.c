/* SPDX-License-Identifier: MIT */
/* NTLMSSP client ([MS-NLMP] 3.1.5) inside SPNEGO ([MS-SPNG] 3.1.5). */
#include <stdlib.h>
#include <string.h>

#include "auth_int.h"

enum { C_START, C_CHALLENGE, C_FINAL, C_DONE, C_FAILED };

/* What we offer in NEGOTIATE; the AUTHENTICATE carries the subset the
 * CHALLENGE granted. */
#define CLIENT_FLAGS                                                         \
  (NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET |                      \
   NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_NTLM |                         \
   NTLMSSP_NEGOTIATE_ALWAYS_SIGN |                                           \
   NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |                              \
   NTLMSSP_NEGOTIATE_TARGET_INFO | NTLMSSP_NEGOTIATE_VERSION |               \
   NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_KEY_EXCH | NTLMSSP_NEGOTIATE_56)

struct sxauth_client {
  sxauth_crypto *cr;
  int own_cr;
  sxauth_hooks hooks;
  int anonymous, raw;
  sxauth__buf user16, domain16, ws16, spn16;
  uint8_t nt_hash[16];
  int state, err;
  const char *why;
  sxauth__buf neg;        /* our NEGOTIATE, for the MIC */
  sxauth__buf mech_types; /* our MechTypeList DER, for the mechListMIC */
  sxauth__buf out;
  uint32_t flags;         /* negotiated (AUTHENTICATE's) */
  uint8_t key[16];
  int has_key;
};

static int utf16(const char *s, sxauth__buf *b)
{
  if (sxauth__utf8_to_utf16le(s, b) != 0)
    return SXAUTH_ERR_INVAL;
  return b->bad ? SXAUTH_ERR_NOMEM : 0;
}

void sxauth_client_free(sxauth_client *c)
{
  if (!c)
    return;
  sxauth__buf_free(&c->user16);
  sxauth__buf_free(&c->domain16);
  sxauth__buf_free(&c->ws16);
  sxauth__buf_free(&c->spn16);
  sxauth__buf_free(&c->neg);
  sxauth__buf_free(&c->mech_types);
  sxauth__buf_free(&c->out);
  if (c->own_cr)
    sxauth_crypto_free(c->cr);
  memset(c, 0, sizeof *c);
  free(c);
}

int sxauth_client_new(sxauth_client **out, const sxauth_client_config *cfg)
{
  if (!out || !cfg)
    return SXAUTH_ERR_INVAL;
  *out = NULL;
  if (!cfg->anonymous && (!cfg->user || !cfg->user[0]))
    return SXAUTH_ERR_INVAL;
  sxauth_client *c = calloc(1, sizeof *c);
  if (!c)
    return SXAUTH_ERR_NOMEM;
  c->hooks = cfg->hooks;
  c->anonymous = cfg->anonymous != 0;
  c->raw = cfg->raw_ntlmssp != 0;
  int rc = 0;
  if (cfg->crypto) {
    c->cr = cfg->crypto;
  } else {
    rc = sxauth_crypto_new(&c->cr);
    c->own_cr = rc == 0;
  }
  if (!rc && !c->anonymous) {
    rc = utf16(cfg->user, &c->user16);
    if (!rc)
      rc = utf16(cfg->domain, &c->domain16);
    if (!rc && cfg->nt_hash)
      memcpy(c->nt_hash, cfg->nt_hash, 16);
    else if (!rc)
      rc = sxauth__nt_hash(c->cr, cfg->password, c->nt_hash);
  }
  if (!rc)
    rc = utf16(cfg->workstation, &c->ws16);
  if (!rc)
    rc = utf16(cfg->target_spn, &c->spn16);
  if (!rc && (c->user16.len > 0xffff || c->domain16.len > 0xffff ||
              c->ws16.len > 0xffff || c->spn16.len > 0xffff))
    rc = SXAUTH_ERR_INVAL;
  if (rc) {
    sxauth_client_free(c);
    return rc;
  }
  *out = c;
  return 0;
}

static int fail(sxauth_client *c, int err, const char *why)
{
  c->state = C_FAILED;
  c->err = err;
  c->why = why;
  return err;
}

/* [MS-NLMP] 2.2.1.1: no domain or workstation supplied. */
static void build_negotiate(sxauth__buf *b)
{
  sxauth__buf_put(b, sxauth__ntlmssp_sig, 8);
  sxauth__buf_u32(b, NTLMSSP_MSG_NEGOTIATE);
  sxauth__buf_u32(b, CLIENT_FLAGS);
  for (int i = 0; i < 2; i++) { /* DomainNameFields, WorkstationFields */
    sxauth__buf_u16(b, 0);
    sxauth__buf_u16(b, 0);
    sxauth__buf_u32(b, 40);
  }
  sxauth__put_version(b);
}

static void put_av(sxauth__buf *b, uint16_t id, const void *v, size_t n)
{
  sxauth__buf_u16(b, id);
  sxauth__buf_u16(b, (uint16_t)n);
  sxauth__buf_put(b, v, n);
}

/* The client's AV pairs ([MS-NLMP] 3.1.5.1.2): the server's, plus
 * MsvAvFlags (MIC present) when the server sent a timestamp, plus
 * MsvAvTargetName when configured. */
static int client_av(sxauth_client *c, const sxauth__challenge *ch,
                     int mic, sxauth__buf *av)
{
  uint32_t av_flags = mic ? MSV_AV_FLAG_MIC_PRESENT : 0;
  size_t pos = 0;
  const uint8_t *p = ch->target_info.p;
  size_t n = ch->target_info.len;
  while (n - pos >= 4) {
    uint16_t id = sxauth__le16(p + pos);
    uint16_t len = sxauth__le16(p + pos + 2);
    if (id == MSV_AV_EOL || n - pos - 4 < len)
      break;
    if (id == MSV_AV_FLAGS && len == 4)
      av_flags |= sxauth__le32(p + pos + 4);
    else if (id != MSV_AV_FLAGS && !(id == MSV_AV_TARGET_NAME && c->spn16.len))
      put_av(av, id, p + pos + 4, len);
    pos += 4u + len;
  }
  if (av_flags) {
    uint8_t f[4] = { (uint8_t)av_flags, (uint8_t)(av_flags >> 8),
                     (uint8_t)(av_flags >> 16), (uint8_t)(av_flags >> 24) };
    put_av(av, MSV_AV_FLAGS, f, 4);
  }
  if (c->spn16.len)
    put_av(av, MSV_AV_TARGET_NAME, c->spn16.p, c->spn16.len);
  put_av(av, MSV_AV_EOL, NULL, 0);
  return av->bad ? SXAUTH_ERR_NOMEM : 0;
}

static void put_field(sxauth__buf *b, size_t at, size_t len, size_t off)
{
  sxauth__buf_set_u16(b, at, (uint16_t)len);
  sxauth__buf_set_u16(b, at + 2, (uint16_t)len);
  sxauth__buf_set_u32(b, at + 4, (uint32_t)off);
}

/* [MS-NLMP] 3.1.5.1.2 and 3.3.2: AUTHENTICATE_MESSAGE with an NTLMv2
 * response (or the anonymous form), key exchange and MIC. */
static int build_authenticate(sxauth_client *c, const uint8_t *chal_msg,
                              size_t chal_len, const sxauth__challenge *ch,
                              sxauth__buf *auth)
{
  static const uint8_t z24[24];
  uint32_t flags = ch->flags & CLIENT_FLAGS;
  sxauth__buf av = { 0 }, nt = { 0 };
  uint8_t lm[24], enc[16], sbk[16];
  size_t lm_len = 0, enc_len = 0;
  int mic = 0, rc = 0;
  sxauth__slice ts = { 0 };

  if (c->anonymous) {
    /* [MS-NLMP] 3.1.5.1.2: anonymous: NtChallengeResponse empty,
     * LmChallengeResponse Z(1); no key, so no key exchange */
    flags = (flags | NTLMSSP_NEGOTIATE_ANONYMOUS) & ~NTLMSSP_NEGOTIATE_KEY_EXCH;
    lm[0] = 0;
    lm_len = 1;
  } else {
    int have_ts = ch->target_info.len &&
                  sxauth__av_find(ch->target_info.p, ch->target_info.len,
                                  MSV_AV_TIMESTAMP, &ts) && ts.len == 8;
    mic = have_ts;
    uint64_t time = have_ts ? sxauth__le64(ts.p) : sxauth__filetime(&c->hooks);
    uint8_t cc[8], ntowf[16], proof[16];
    rc = sxauth__random(c->cr, &c->hooks, cc, 8);
    if (!rc)
      rc = client_av(c, ch, mic, &av);
    if (!rc) {
      sxauth__build_temp(&nt, time, cc, av.p, av.len);
      rc = nt.bad ? SXAUTH_ERR_NOMEM : 0;
    }
    if (!rc)
      rc = sxauth__ntowfv2(c->cr, c->nt_hash, c->user16.p, c->user16.len,
                           c->domain16.p, c->domain16.len, ntowf);
    if (!rc)
      rc = sxauth__ntproof(c->cr, ntowf, ch->server_challenge, nt.p, nt.len,
                           proof);
    if (!rc) {
      /* response = NTProofStr || temp */
      sxauth__buf full = { 0 };
      sxauth__buf_put(&full, proof, 16);
      sxauth__buf_put(&full, nt.p, nt.len);
      sxauth__buf_free(&nt);
      nt = full;
      rc = nt.bad || nt.len > 0xffff ? SXAUTH_ERR_NOMEM : 0;
    }
    if (!rc) {
      sxauth__slice pp = { proof, 16 };
      rc = sxauth__hmac_md5(c->cr, ntowf, 16, &pp, 1, sbk);
    }
    if (!rc && have_ts) {
      /* with MsvAvTimestamp the LmChallengeResponse is Z(24) */
      memcpy(lm, z24, 24);
      lm_len = 24;
    } else if (!rc) {
      sxauth__slice parts[2] = { { ch->server_challenge, 8 }, { cc, 8 } };
      rc = sxauth__hmac_md5(c->cr, ntowf, 16, parts, 2, lm);
      memcpy(lm + 16, cc, 8);
      lm_len = 24;
    }
    /* KeyExchangeKey = SessionBaseKey for NTLMv2 (3.4.5.1) */
    if (!rc && (flags & NTLMSSP_NEGOTIATE_KEY_EXCH) &&
        (flags & (NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_SEAL))) {
      rc = sxauth__random(c->cr, &c->hooks, c->key, 16);
      if (!rc)
        rc = sxauth__rc4(c->cr, sbk, 16, c->key, enc, 16);
      enc_len = 16;
    } else if (!rc) {
      memcpy(c->key, sbk, 16);
    }
    c->has_key = rc == 0;
  }
  if (rc)
    goto out;

  size_t hdr = mic ? 88 : (flags & NTLMSSP_NEGOTIATE_VERSION) ? 72 : 64;
  sxauth__buf_put(auth, sxauth__ntlmssp_sig, 8);
  sxauth__buf_u32(auth, NTLMSSP_MSG_AUTHENTICATE);
  sxauth__buf_zero(auth, 48); /* six fields, filled below */
  sxauth__buf_u32(auth, flags);
  if (hdr > 64)
    sxauth__put_version(auth);
  if (hdr > 72)
    sxauth__buf_zero(auth, 16); /* MIC, computed last */
  const sxauth__buf *dom = c->anonymous ? NULL : &c->domain16;
  const sxauth__buf *usr = c->anonymous ? NULL : &c->user16;
  size_t off = hdr;
  put_field(auth, 28, dom ? dom->len : 0, off);
  off += dom ? dom->len : 0;
  put_field(auth, 36, usr ? usr->len : 0, off);
  off += usr ? usr->len : 0;
  put_field(auth, 44, c->ws16.len, off);
  off += c->ws16.len;
  put_field(auth, 12, lm_len, off);
  off += lm_len;
  put_field(auth, 20, nt.len, off);
  off += nt.len;
  put_field(auth, 52, enc_len, off);
  if (dom)
    sxauth__buf_put(auth, dom->p, dom->len);
  if (usr)
    sxauth__buf_put(auth, usr->p, usr->len);
  sxauth__buf_put(auth, c->ws16.p, c->ws16.len);
  sxauth__buf_put(auth, lm, lm_len);
  sxauth__buf_put(auth, nt.p, nt.len);
  sxauth__buf_put(auth, enc, enc_len);
  if (auth->bad) {
    rc = SXAUTH_ERR_NOMEM;
    goto out;
  }
  if (mic) {
    uint8_t m[16];
    rc = sxauth__ntlm_mic(c->cr, c->key, c->neg.p, c->neg.len, chal_msg,
                          chal_len, auth->p, auth->len, m);
    if (!rc)
      memcpy(auth->p + NTLMSSP_AUTH_MIC_OFFSET, m, 16);
  }
  c->flags = flags;
out:
  if (rc)
    c->has_key = 0;
  sxauth__buf_free(&av);
  sxauth__buf_free(&nt);
  return rc;
}

static int step_start(sxauth_client *c, const uint8_t *in, size_t in_len)
{
  const char *why = "";
  if (in_len && !c->raw) {
    sxauth__neg_init ni;
    if (sxauth__spnego_parse_init(in, in_len, &ni, &why) != 0)
      return fail(c, SXAUTH_ERR_DECODE, why);
    if (ni.ntlm_index < 0)
      return fail(c, SXAUTH_ERR_UNSUPPORTED, "server does not offer NTLMSSP");
  }
  build_negotiate(&c->neg);
  if (c->raw) {
    sxauth__buf_put(&c->out, c->neg.p, c->neg.len);
  } else {
    sxauth__spnego_ntlm_mech_types(&c->mech_types);
    sxauth__spnego_build_init(&c->out, c->mech_types.p, c->mech_types.len,
                              c->neg.p, c->neg.len);
  }
  if (c->neg.bad || c->mech_types.bad || c->out.bad)
    return fail(c, SXAUTH_ERR_NOMEM, "out of memory");
  c->state = C_CHALLENGE;
  return SXAUTH_CONTINUE;
}

static int step_challenge(sxauth_client *c, const uint8_t *in, size_t in_len)
{
  const char *why = "";
  const uint8_t *tok = in;
  size_t tok_len = in_len;
  if (!c->raw) {
    sxauth__neg_resp nr;
    if (sxauth__spnego_parse_resp(in, in_len, &nr, &why) != 0)
      return fail(c, SXAUTH_ERR_DECODE, why);
    if (nr.neg_state == SPNEGO_REJECT)
      return fail(c, SXAUTH_ERR_LOGON, "server rejected the negotiation");
    /* RFC 4178 4.2.2: request-mic also continues (we send a mechListMIC
     * whenever we have a key) */
    if (nr.neg_state >= 0 && nr.neg_state != SPNEGO_ACCEPT_INCOMPLETE &&
        nr.neg_state != SPNEGO_REQUEST_MIC)
      return fail(c, SXAUTH_ERR_DECODE, "SPNEGO: unexpected negState");
    if (nr.supported_mech.p &&
        (nr.supported_mech.len != sizeof sxauth__oid_ntlmssp ||
         memcmp(nr.supported_mech.p, sxauth__oid_ntlmssp,
                sizeof sxauth__oid_ntlmssp) != 0))
      return fail(c, SXAUTH_ERR_UNSUPPORTED, "server chose another mech");
    if (!nr.response_token.p)
      return fail(c, SXAUTH_ERR_DECODE, "SPNEGO: no CHALLENGE token");
    tok = nr.response_token.p;
    tok_len = nr.response_token.len;
  }
  sxauth__challenge ch;
  if (sxauth__parse_challenge(tok, tok_len, &ch, &why) != 0)
    return fail(c, SXAUTH_ERR_DECODE, why);
  if (!(ch.flags & NTLMSSP_NEGOTIATE_UNICODE))
    return fail(c, SXAUTH_ERR_UNSUPPORTED, "CHALLENGE without UNICODE");
  sxauth__buf auth = { 0 };
  int rc = build_authenticate(c, tok, tok_len, &ch, &auth);
  if (rc) {
    sxauth__buf_free(&auth);
    return fail(c, rc, "cannot build AUTHENTICATE");
  }
  sxauth__buf_reset(&c->out);
  if (c->raw) {
    sxauth__buf_put(&c->out, auth.p, auth.len);
  } else {
    uint8_t mic[16];
    int send_mic = c->has_key &&
                   (c->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY);
    if (send_mic)
      rc = sxauth__ntlm_mac(c->cr, c->flags, c->key, 1, 0, c->mech_types.p,
                            c->mech_types.len, mic);
    if (!rc)
      sxauth__spnego_build_resp(&c->out, -1, 0, auth.p, auth.len,
                                send_mic ? mic : NULL, 16);
  }
  sxauth__buf_free(&auth);
  if (rc)
    return fail(c, rc, "cannot sign mechListMIC");
  if (c->out.bad)
    return fail(c, SXAUTH_ERR_NOMEM, "out of memory");
  c->state = C_FINAL;
  return SXAUTH_CONTINUE;
}

static int step_final(sxauth_client *c, const uint8_t *in, size_t in_len)
{
  const char *why = "";
  sxauth__buf_reset(&c->out);
  /* an empty final blob (or any in raw mode) completes the exchange */
  if (c->raw || in_len == 0) {
    c->state = C_DONE;
    return SXAUTH_DONE;
  }
  sxauth__neg_resp nr;
  if (sxauth__spnego_parse_resp(in, in_len, &nr, &why) != 0)
    return fail(c, SXAUTH_ERR_DECODE, why);
  if (nr.neg_state == SPNEGO_REJECT)
    return fail(c, SXAUTH_ERR_LOGON, "server rejected the logon");
  if (nr.neg_state >= 0 && nr.neg_state != SPNEGO_ACCEPT_COMPLETED)
    return fail(c, SXAUTH_ERR_DECODE, "SPNEGO: final negState not completed");
  if (nr.mech_list_mic.p && c->has_key &&
      (c->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY)) {
    uint8_t want[16];
    int rc = sxauth__ntlm_mac(c->cr, c->flags, c->key, 0, 0, c->mech_types.p,
                              c->mech_types.len, want);
    if (rc)
      return fail(c, rc, "cannot check mechListMIC");
    if (nr.mech_list_mic.len != 16 ||
        !sxauth__ct_equal(want, nr.mech_list_mic.p, 16))
      return fail(c, SXAUTH_ERR_MIC, "server mechListMIC mismatch");
  }
  /* A server that sends no mechListMIC is accepted: NTLMSSP is our only
   * mech, so there is no downgrade to detect (RFC 4178 5). */
  c->state = C_DONE;
  return SXAUTH_DONE;
}

int sxauth_client_step(sxauth_client *c, const uint8_t *in, size_t in_len,
                       const uint8_t **out, size_t *out_len)
{
  if (!c || !out || !out_len || (!in && in_len))
    return SXAUTH_ERR_INVAL;
  *out = NULL;
  *out_len = 0;
  if (c->state == C_FAILED)
    return c->err;
  if (c->state == C_DONE)
    return SXAUTH_ERR_STATE;
  if (in_len > SXAUTH_MAX_TOKEN)
    return fail(c, SXAUTH_ERR_DECODE, "token longer than 65535 bytes");
  int rc;
  switch (c->state) {
  case C_START:
    rc = step_start(c, in, in_len);
    break;
  case C_CHALLENGE:
    rc = step_challenge(c, in, in_len);
    break;
  default:
    rc = step_final(c, in, in_len);
    break;
  }
  if (rc >= 0 && c->out.len) {
    *out = c->out.p;
    *out_len = c->out.len;
  }
  return rc;
}

int sxauth_client_session_key(const sxauth_client *c, uint8_t out[16])
{
  if (!c || !out)
    return SXAUTH_ERR_INVAL;
  if (!c->has_key || c->state == C_FAILED)
    return SXAUTH_ERR_STATE;
  memcpy(out, c->key, 16);
  return 0;
}

const char *sxauth_client_error(const sxauth_client *c)
{
  return c && c->why ? c->why : "";
}

const char *sxauth_strerror(int err)
{
  switch (err) {
  case SXAUTH_DONE:
    return "done";
  case SXAUTH_CONTINUE:
    return "continue";
  case SXAUTH_ERR_INVAL:
    return "invalid argument";
  case SXAUTH_ERR_NOMEM:
    return "out of memory";
  case SXAUTH_ERR_CRYPTO:
    return "OpenSSL failure (legacy provider missing?)";
  case SXAUTH_ERR_DECODE:
    return "malformed token";
  case SXAUTH_ERR_LOGON:
    return "logon failure";
  case SXAUTH_ERR_UNSUPPORTED:
    return "unsupported (LM/NTLMv1/OEM or no NTLMSSP)";
  case SXAUTH_ERR_STATE:
    return "invalid state";
  case SXAUTH_ERR_MIC:
    return "MIC mismatch";
  default:
    return "unknown error";
  }
}
