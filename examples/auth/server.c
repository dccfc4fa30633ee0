/* SPDX-License-Identifier: MIT */
/* NTLMSSP server ([MS-NLMP] 3.2.5) inside SPNEGO ([MS-SPNG] 3.2.5). */
#include <stdlib.h>
#include <string.h>

#include "auth_int.h"

typedef struct user_entry {
  sxauth__buf name16; /* UTF-16LE, ASCII upper-cased, for lookups */
  uint8_t nt_hash[16];
} user_entry;

struct sxauth_server {
  sxauth_crypto *cr;
  int own_cr;
  sxauth_hooks hooks;
  int allow_guest, allow_anonymous;
  user_entry *users;
  size_t n_users;
  sxauth__buf nb_domain16, nb_computer16, dns_domain16, dns_computer16;
  sxauth__buf neg_blob;
};

enum { A_START, A_NEGOTIATE, A_AUTHENTICATE, A_DONE, A_FAILED };

struct sxauth_accept {
  sxauth_server *s;
  int state, err;
  const char *why;
  int raw;           /* bare NTLMSSP, no SPNEGO */
  int mic_required;  /* NTLMSSP was not the client's first mech */
  sxauth__buf mech_types, neg, chal, out;
  uint8_t server_challenge[8];
  uint32_t chal_flags, flags;
  int kind, has_key, ntlm_mic;
  uint8_t key[16];
  char *user, *domain, *workstation;
};

/* What the server grants when the client asks for it. */
#define SERVER_OPTIONAL_FLAGS                                                \
  (NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_SEAL |                         \
   NTLMSSP_NEGOTIATE_ALWAYS_SIGN |                                           \
   NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE_VERSION |  \
   NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_56 | NTLMSSP_NEGOTIATE_KEY_EXCH)

static int utf16(const char *s, sxauth__buf *b)
{
  if (sxauth__utf8_to_utf16le(s, b) != 0)
    return SXAUTH_ERR_INVAL;
  if (b->len > 0xffff)
    return SXAUTH_ERR_INVAL;
  return b->bad ? SXAUTH_ERR_NOMEM : 0;
}

void sxauth_server_free(sxauth_server *s)
{
  if (!s)
    return;
  for (size_t i = 0; i < s->n_users; i++)
    sxauth__buf_free(&s->users[i].name16);
  if (s->users)
    memset(s->users, 0, s->n_users * sizeof *s->users);
  free(s->users);
  sxauth__buf_free(&s->nb_domain16);
  sxauth__buf_free(&s->nb_computer16);
  sxauth__buf_free(&s->dns_domain16);
  sxauth__buf_free(&s->dns_computer16);
  sxauth__buf_free(&s->neg_blob);
  if (s->own_cr)
    sxauth_crypto_free(s->cr);
  free(s);
}

int sxauth_server_new(sxauth_server **out, const sxauth_server_config *cfg)
{
  if (!out || !cfg || (cfg->n_users && !cfg->users))
    return SXAUTH_ERR_INVAL;
  *out = NULL;
  sxauth_server *s = calloc(1, sizeof *s);
  if (!s)
    return SXAUTH_ERR_NOMEM;
  s->hooks = cfg->hooks;
  s->allow_guest = cfg->allow_guest != 0;
  s->allow_anonymous = cfg->allow_anonymous != 0;
  int rc = 0;
  if (cfg->crypto) {
    s->cr = cfg->crypto;
  } else {
    rc = sxauth_crypto_new(&s->cr);
    s->own_cr = rc == 0;
  }
  if (!rc && cfg->n_users) {
    s->users = calloc(cfg->n_users, sizeof *s->users);
    if (!s->users)
      rc = SXAUTH_ERR_NOMEM;
    else
      s->n_users = cfg->n_users;
  }
  for (size_t i = 0; !rc && i < s->n_users; i++) {
    const sxauth_user *u = &cfg->users[i];
    if (!u->user || !u->user[0]) {
      rc = SXAUTH_ERR_INVAL;
      break;
    }
    rc = utf16(u->user, &s->users[i].name16);
    if (!rc)
      sxauth__utf16le_upper_ascii(s->users[i].name16.p,
                                  s->users[i].name16.len);
    if (!rc && u->nt_hash)
      memcpy(s->users[i].nt_hash, u->nt_hash, 16);
    else if (!rc)
      rc = sxauth__nt_hash(s->cr, u->password, s->users[i].nt_hash);
  }
  if (!rc)
    rc = utf16(cfg->nb_domain ? cfg->nb_domain : "WORKGROUP", &s->nb_domain16);
  if (!rc)
    rc = utf16(cfg->nb_computer ? cfg->nb_computer : "SMBX",
               &s->nb_computer16);
  if (!rc)
    rc = utf16(cfg->dns_domain, &s->dns_domain16);
  if (!rc)
    rc = utf16(cfg->dns_computer ? cfg->dns_computer : "smbx",
               &s->dns_computer16);
  if (!rc) {
    /* [MS-SPNG] 3.2.5.2: the NEGOTIATE response carries a negTokenInit
     * listing what the server accepts: NTLMSSP only */
    sxauth__buf mt = { 0 };
    sxauth__spnego_ntlm_mech_types(&mt);
    if (mt.bad)
      rc = SXAUTH_ERR_NOMEM;
    else
      sxauth__spnego_build_init(&s->neg_blob, mt.p, mt.len, NULL, 0);
    sxauth__buf_free(&mt);
    if (!rc && s->neg_blob.bad)
      rc = SXAUTH_ERR_NOMEM;
  }
  if (rc) {
    sxauth_server_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

int sxauth_server_negotiate_blob(const sxauth_server *s, const uint8_t **out,
                                 size_t *out_len)
{
  if (!s || !out || !out_len)
    return SXAUTH_ERR_INVAL;
  *out = s->neg_blob.p;
  *out_len = s->neg_blob.len;
  return 0;
}

int sxauth_accept_new(sxauth_accept **out, sxauth_server *s)
{
  if (!out || !s)
    return SXAUTH_ERR_INVAL;
  sxauth_accept *a = calloc(1, sizeof *a);
  *out = a;
  if (!a)
    return SXAUTH_ERR_NOMEM;
  a->s = s;
  return 0;
}

void sxauth_accept_free(sxauth_accept *a)
{
  if (!a)
    return;
  sxauth__buf_free(&a->mech_types);
  sxauth__buf_free(&a->neg);
  sxauth__buf_free(&a->chal);
  sxauth__buf_free(&a->out);
  free(a->user);
  free(a->domain);
  free(a->workstation);
  memset(a, 0, sizeof *a);
  free(a);
}

static int fail(sxauth_accept *a, int err, const char *why)
{
  a->state = A_FAILED;
  a->err = err;
  a->why = why;
  a->has_key = 0;
  a->kind = SXAUTH_KIND_NONE;
  return err;
}

static void put_av(sxauth__buf *b, uint16_t id, const sxauth__buf *v)
{
  sxauth__buf_u16(b, id);
  sxauth__buf_u16(b, (uint16_t)v->len);
  sxauth__buf_put(b, v->p, v->len);
}

/* [MS-NLMP] 3.2.5.1.1: NEGOTIATE in, CHALLENGE (into a->chal) out. */
static int do_negotiate(sxauth_accept *a, const uint8_t *tok, size_t len)
{
  const sxauth_server *s = a->s;
  const char *why = "";
  sxauth__negotiate ng;
  if (sxauth__parse_negotiate(tok, len, &ng, &why) != 0)
    return fail(a, SXAUTH_ERR_DECODE, why);
  if (!(ng.flags & NTLMSSP_NEGOTIATE_UNICODE))
    return fail(a, SXAUTH_ERR_UNSUPPORTED, "NEGOTIATE without UNICODE");
  sxauth__buf_put(&a->neg, tok, len);

  uint32_t flags = NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_NEGOTIATE_NTLM |
                   NTLMSSP_NEGOTIATE_TARGET_INFO | NTLMSSP_TARGET_TYPE_SERVER |
                   (ng.flags & NTLMSSP_REQUEST_TARGET) |
                   (ng.flags & SERVER_OPTIONAL_FLAGS);
  /* [MS-NLMP] 3.1.5.1.2 / 3.2.5.1.2 exchange a key only with SIGN or SEAL
   * (Samba's client would still send one): never grant the ambiguous mix */
  if (!(flags & (NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_SEAL)))
    flags &= ~NTLMSSP_NEGOTIATE_KEY_EXCH;
  int rc = sxauth__random(s->cr, &s->hooks, a->server_challenge, 8);
  if (rc)
    return fail(a, rc, "no random bytes");
  a->chal_flags = flags;

  sxauth__buf ti = { 0 };
  put_av(&ti, MSV_AV_NB_DOMAIN_NAME, &s->nb_domain16);
  put_av(&ti, MSV_AV_NB_COMPUTER_NAME, &s->nb_computer16);
  if (s->dns_domain16.len)
    put_av(&ti, MSV_AV_DNS_DOMAIN_NAME, &s->dns_domain16);
  if (s->dns_computer16.len)
    put_av(&ti, MSV_AV_DNS_COMPUTER_NAME, &s->dns_computer16);
  sxauth__buf_u16(&ti, MSV_AV_TIMESTAMP);
  sxauth__buf_u16(&ti, 8);
  sxauth__buf_u64(&ti, sxauth__filetime(&s->hooks));
  sxauth__buf_u32(&ti, 0); /* MsvAvEOL */

  const sxauth__buf *tn =
      (flags & NTLMSSP_REQUEST_TARGET) ? &s->nb_computer16 : NULL;
  size_t hdr = (flags & NTLMSSP_NEGOTIATE_VERSION) ? 56 : 48;
  size_t tn_len = tn ? tn->len : 0;
  sxauth__buf *c = &a->chal;
  sxauth__buf_put(c, sxauth__ntlmssp_sig, 8);
  sxauth__buf_u32(c, NTLMSSP_MSG_CHALLENGE);
  sxauth__buf_u16(c, (uint16_t)tn_len); /* TargetNameFields */
  sxauth__buf_u16(c, (uint16_t)tn_len);
  sxauth__buf_u32(c, (uint32_t)hdr);
  sxauth__buf_u32(c, flags);
  sxauth__buf_put(c, a->server_challenge, 8);
  sxauth__buf_zero(c, 8); /* Reserved */
  sxauth__buf_u16(c, (uint16_t)ti.len); /* TargetInfoFields */
  sxauth__buf_u16(c, (uint16_t)ti.len);
  sxauth__buf_u32(c, (uint32_t)(hdr + tn_len));
  if (hdr == 56)
    sxauth__put_version(c);
  if (tn)
    sxauth__buf_put(c, tn->p, tn->len);
  sxauth__buf_put(c, ti.p, ti.len);
  int bad = ti.bad || ti.len > 0xffff || a->neg.bad;
  sxauth__buf_free(&ti);
  if (bad || c->bad)
    return fail(a, SXAUTH_ERR_NOMEM, "out of memory");
  return 0;
}

static int to_utf8(sxauth_accept *a, sxauth__slice v, char **out)
{
  int rc = sxauth__utf16le_to_utf8(v.p, v.len, out);
  if (rc == -2)
    return fail(a, SXAUTH_ERR_NOMEM, "out of memory");
  if (rc)
    return fail(a, SXAUTH_ERR_DECODE, "AUTHENTICATE: name is not UTF-16");
  return 0;
}

static const user_entry *find_user(const sxauth_server *s,
                                   const sxauth__slice *name16)
{
  uint8_t up[512];
  if (name16->len == 0 || name16->len > sizeof up)
    return NULL;
  memcpy(up, name16->p, name16->len);
  sxauth__utf16le_upper_ascii(up, name16->len);
  for (size_t i = 0; i < s->n_users; i++)
    if (s->users[i].name16.len == name16->len &&
        memcmp(s->users[i].name16.p, up, name16->len) == 0)
      return &s->users[i];
  return NULL;
}

/* [MS-NLMP] 3.2.5.1.2: verify an AUTHENTICATE. Sets kind/key on success. */
static int do_authenticate(sxauth_accept *a, const uint8_t *tok, size_t len)
{
  const sxauth_server *s = a->s;
  const char *why = "";
  sxauth__authenticate m;
  if (sxauth__parse_authenticate(tok, len, &m, &why) != 0)
    return fail(a, SXAUTH_ERR_DECODE, why);
  if (!(m.flags & NTLMSSP_NEGOTIATE_UNICODE))
    return fail(a, SXAUTH_ERR_UNSUPPORTED, "AUTHENTICATE without UNICODE");
  if (m.user.len % 2 || m.domain.len % 2 || m.workstation.len % 2)
    return fail(a, SXAUTH_ERR_DECODE, "AUTHENTICATE: odd UTF-16 length");
  if (to_utf8(a, m.user, &a->user) || to_utf8(a, m.domain, &a->domain) ||
      to_utf8(a, m.workstation, &a->workstation))
    return a->err;
  a->flags = m.flags & a->chal_flags;

  if (m.nt.len == 0) {
    /* 3.2.5.1.2: anonymous = empty user, empty NT response and an LM
     * response that is empty or Z(1) */
    int lm_empty = m.lm.len == 0 || (m.lm.len == 1 && m.lm.p[0] == 0);
    if (!lm_empty)
      return fail(a, SXAUTH_ERR_UNSUPPORTED, "LM response (no NT response)");
    if (m.user.len)
      return fail(a, SXAUTH_ERR_LOGON, "empty NT response for a user");
    if (!s->allow_anonymous)
      return fail(a, SXAUTH_ERR_LOGON, "anonymous logon not allowed");
    a->kind = SXAUTH_KIND_ANONYMOUS;
    return 0;
  }
  if (m.nt.len == 24)
    return fail(a, SXAUTH_ERR_UNSUPPORTED, "NTLMv1 response");
  if (sxauth__ntlmv2_check_response(&m.nt, &a->ntlm_mic, &why) != 0)
    return fail(a, SXAUTH_ERR_DECODE, why);
  if (a->ntlm_mic && !m.has_mic_field)
    return fail(a, SXAUTH_ERR_DECODE, "MIC flagged but message too short");

  const user_entry *u = find_user(s, &m.user);
  if (!u) {
    if (!s->allow_guest)
      return fail(a, SXAUTH_ERR_LOGON, "unknown user");
    /* mapped to guest: no password, so no key and nothing to verify */
    a->kind = SXAUTH_KIND_GUEST;
    return 0;
  }
  int rc = sxauth__ntlmv2_verify(s->cr, u->nt_hash, a->flags,
                                 a->server_challenge, &m, a->ntlm_mic,
                                 a->neg.p, a->neg.len, a->chal.p, a->chal.len,
                                 tok, len, a->key, &why);
  if (rc)
    return fail(a, rc, why);
  a->kind = SXAUTH_KIND_USER;
  a->has_key = 1;
  return 0;
}

static int step_start(sxauth_accept *a, const uint8_t *in, size_t in_len)
{
  const char *why = "";
  if (in_len >= 8 && memcmp(in, sxauth__ntlmssp_sig, 8) == 0) {
    a->raw = 1;
    if (do_negotiate(a, in, in_len))
      return a->err;
    sxauth__buf_put(&a->out, a->chal.p, a->chal.len);
    a->state = A_AUTHENTICATE;
    return SXAUTH_CONTINUE;
  }
  sxauth__neg_init ni;
  if (sxauth__spnego_parse_init(in, in_len, &ni, &why) != 0)
    return fail(a, SXAUTH_ERR_DECODE, why);
  if (ni.ntlm_index < 0)
    return fail(a, SXAUTH_ERR_UNSUPPORTED, "client does not offer NTLMSSP");
  sxauth__buf_put(&a->mech_types, ni.mech_types.p, ni.mech_types.len);
  if (ni.ntlm_index == 0 && ni.mech_token.p) {
    if (do_negotiate(a, ni.mech_token.p, ni.mech_token.len))
      return a->err;
    sxauth__spnego_build_resp(&a->out, SPNEGO_ACCEPT_INCOMPLETE, 1,
                              a->chal.p, a->chal.len, NULL, 0);
    a->state = A_AUTHENTICATE;
  } else {
    /* RFC 4178 5: the optimistic token (if any) is for another mech;
     * select NTLMSSP and ask for its first token. Choosing other than the
     * client's first mech makes the mechListMIC exchange mandatory. */
    a->mic_required = ni.ntlm_index != 0;
    sxauth__spnego_build_resp(&a->out, SPNEGO_ACCEPT_INCOMPLETE, 1, NULL, 0,
                              NULL, 0);
    a->state = A_NEGOTIATE;
  }
  return SXAUTH_CONTINUE;
}

static int resp_token(sxauth_accept *a, const uint8_t *in, size_t in_len,
                      sxauth__neg_resp *nr)
{
  const char *why = "";
  if (sxauth__spnego_parse_resp(in, in_len, nr, &why) != 0)
    return fail(a, SXAUTH_ERR_DECODE, why);
  if (nr->neg_state == SPNEGO_REJECT)
    return fail(a, SXAUTH_ERR_LOGON, "client rejected the negotiation");
  if (!nr->response_token.p)
    return fail(a, SXAUTH_ERR_DECODE, "SPNEGO: no responseToken");
  return 0;
}

static int step_negotiate(sxauth_accept *a, const uint8_t *in, size_t in_len)
{
  sxauth__neg_resp nr;
  if (resp_token(a, in, in_len, &nr))
    return a->err;
  if (do_negotiate(a, nr.response_token.p, nr.response_token.len))
    return a->err;
  sxauth__spnego_build_resp(&a->out, SPNEGO_ACCEPT_INCOMPLETE, 0, a->chal.p,
                            a->chal.len, NULL, 0);
  a->state = A_AUTHENTICATE;
  return SXAUTH_CONTINUE;
}

static int step_authenticate(sxauth_accept *a, const uint8_t *in,
                             size_t in_len)
{
  if (a->raw) {
    if (do_authenticate(a, in, in_len))
      return a->err;
    a->state = A_DONE;
    return SXAUTH_DONE;
  }
  sxauth__neg_resp nr;
  if (resp_token(a, in, in_len, &nr))
    return a->err;
  if (do_authenticate(a, nr.response_token.p, nr.response_token.len))
    return a->err;
  const sxauth_crypto *cr = a->s->cr;
  int ess = (a->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY) != 0;
  uint8_t mic[16];
  int send_mic = 0;
  if (a->has_key) {
    /* [MS-SPNG] 3.1.5.1 / RFC 4178 5: check the client's mechListMIC over
     * its MechTypeList; required when NTLMSSP was not its first choice */
    if (nr.mech_list_mic.p) {
      if (!ess)
        return fail(a, SXAUTH_ERR_UNSUPPORTED,
                    "mechListMIC without extended session security");
      int rc = sxauth__ntlm_mac(cr, a->flags, a->key, 1, 0, a->mech_types.p,
                                a->mech_types.len, mic);
      if (rc)
        return fail(a, rc, "crypto failure");
      if (nr.mech_list_mic.len != 16 ||
          !sxauth__ct_equal(mic, nr.mech_list_mic.p, 16))
        return fail(a, SXAUTH_ERR_MIC, "client mechListMIC mismatch");
    } else if (a->mic_required) {
      return fail(a, SXAUTH_ERR_MIC, "mechListMIC required but missing");
    }
    send_mic = ess && (nr.mech_list_mic.p || a->mic_required || a->ntlm_mic);
    if (send_mic) {
      int rc = sxauth__ntlm_mac(cr, a->flags, a->key, 0, 0, a->mech_types.p,
                                a->mech_types.len, mic);
      if (rc)
        return fail(a, rc, "crypto failure");
    }
  }
  sxauth__buf_reset(&a->out);
  sxauth__spnego_build_resp(&a->out, SPNEGO_ACCEPT_COMPLETED, 0, NULL, 0,
                            send_mic ? mic : NULL, 16);
  a->state = A_DONE;
  return SXAUTH_DONE;
}

int sxauth_accept_step(sxauth_accept *a, const uint8_t *in, size_t in_len,
                       const uint8_t **out, size_t *out_len)
{
  if (!a || !out || !out_len || (!in && in_len))
    return SXAUTH_ERR_INVAL;
  *out = NULL;
  *out_len = 0;
  if (a->state == A_FAILED)
    return a->err;
  if (a->state == A_DONE)
    return SXAUTH_ERR_STATE;
  if (in_len > SXAUTH_MAX_TOKEN)
    return fail(a, SXAUTH_ERR_DECODE, "token longer than 65535 bytes");
  sxauth__buf_reset(&a->out);
  int rc;
  switch (a->state) {
  case A_START:
    rc = step_start(a, in, in_len);
    break;
  case A_NEGOTIATE:
    rc = step_negotiate(a, in, in_len);
    break;
  default:
    rc = step_authenticate(a, in, in_len);
    break;
  }
  if (rc >= 0 && (a->out.bad || a->mech_types.bad))
    rc = fail(a, SXAUTH_ERR_NOMEM, "out of memory");
  if (rc >= 0 && a->out.len) {
    *out = a->out.p;
    *out_len = a->out.len;
  }
  return rc;
}

int sxauth_accept_result(const sxauth_accept *a, sxauth_result *r)
{
  if (!a || !r)
    return SXAUTH_ERR_INVAL;
  if (a->state != A_DONE)
    return SXAUTH_ERR_STATE;
  memset(r, 0, sizeof *r);
  r->kind = a->kind;
  r->user = a->user ? a->user : "";
  r->domain = a->domain ? a->domain : "";
  r->workstation = a->workstation ? a->workstation : "";
  r->has_key = a->has_key;
  if (a->has_key)
    memcpy(r->session_key, a->key, 16);
  if (a->kind == SXAUTH_KIND_GUEST)
    r->session_flags = SXAUTH_SMB2_SESSION_FLAG_IS_GUEST;
  else if (a->kind == SXAUTH_KIND_ANONYMOUS)
    r->session_flags = SXAUTH_SMB2_SESSION_FLAG_IS_NULL;
  return 0;
}

const char *sxauth_accept_error(const sxauth_accept *a)
{
  return a && a->why ? a->why : "";
}
