/* SPDX-License-Identifier: MIT */
/* The server node's multichannel parts (smb2.md 6.6): the host's network
 * interfaces and the node's own answer to
 * FSCTL_QUERY_NETWORK_INTERFACE_INFO (MS-SMB2 3.3.5.15.11), and the
 * ChannelSequence of opens (3.3.5.2.10). Session binding is in server.c
 * (bind_check, bind_setup, bind_respond). See docs/multichannel.md. */
#include <string.h>

#include <smbx/server.h>

#include "server/server_int.h"

/* An open the host created, as far as ChannelSequence goes. */
typedef struct sopen {
  uint8_t fid[16]; /* FileId: Persistent, Volatile (LE, the hash key) */
  uint64_t session;
  uint16_t channel_sequence;
} sopen;

static void fid_key(uint8_t k[16], smbx_smb2_fileid f)
{
  for (int i = 0; i < 8; i++) {
    k[i] = (uint8_t)(f.persistent_id >> (8 * i));
    k[8 + i] = (uint8_t)(f.volatile_id >> (8 * i));
  }
}

int smbx__srv_channel_init(smbx_server *srv)
{
  uint32_t n = srv->s.max_channel_opens;
  if (!(srv->s.capabilities & SMBX_SMB2_CAP_MULTI_CHANNEL) || n == 0)
    return 0;
  if (SMBX__SLAB_INIT(&srv->opens, &srv->alloc, sopen, n) ||
      smbx__hash_init(&srv->open_ids, &srv->alloc, 16, smbx__hash_cap_for(n),
                      srv->seed))
    return SMBX_ERR_NOMEM;
  return 0;
}

void smbx__srv_channel_free(smbx_server *srv)
{
  smbx__slab_free(&srv->opens);
  smbx__hash_free(&srv->open_ids);
  if (srv->ifwire)
    smbx__free(&srv->alloc, srv->ifwire, srv->ifwire_len, 8);
  if (srv->ifresp)
    smbx__free(&srv->alloc, srv->ifresp, srv->ifresp_cap, 8);
  srv->ifwire = srv->ifresp = NULL;
  srv->ifwire_len = srv->ifresp_cap = 0;
}

int smbx_server_set_interfaces(smbx_server *srv, const smbx_smb2_netif *ifs,
                               size_t n)
{
  if (!srv || (!ifs && n) || n > SMBX_SERVER_MAX_INTERFACES)
    return SMBX_ERR_INVAL;
  /* 3.3.5.15.11: never an interface with IfIndex 0 */
  for (size_t i = 0; i < n; i++)
    if (ifs[i].if_index == 0)
      return SMBX_ERR_INVAL;
  if (n == 0) {
    smbx__srv_channel_free(srv);
    return 0;
  }
  size_t wlen = n * SMBX_SMB2_NETIF_SIZE;
  /* the response: header, 48-byte fixed part, the chain (at 0x70) */
  size_t rcap = SMBX_SMB2_HDR_SIZE + 48 + wlen;
  uint8_t *w = smbx__alloc(&srv->alloc, wlen, 8);
  uint8_t *r = w ? smbx__alloc(&srv->alloc, rcap, 8) : NULL;
  if (!r) {
    if (w)
      smbx__free(&srv->alloc, w, wlen, 8);
    return SMBX_ERR_NOMEM;
  }
  smbx_ssize k = smbx_smb2_netif_encode(ifs, n, w, wlen, NULL);
  if (k != (smbx_ssize)wlen) {
    smbx__free(&srv->alloc, w, wlen, 8);
    smbx__free(&srv->alloc, r, rcap, 8);
    return SMBX_ERR_INVAL; /* a family other than IPv4/IPv6 */
  }
  smbx__srv_channel_free(srv);
  srv->ifwire = w;
  srv->ifwire_len = wlen;
  srv->ifresp = r;
  srv->ifresp_cap = rcap;
  return 0;
}

bool smbx__srv_ioctl(sconn *sc, const smbx__conn_pdu *pd)
{
  smbx_server *srv = sc->srv;
  smbx_smb2_ioctl_req q;
  if (smbx_smb2_decode_ioctl_req(pd->data, pd->len, &q, NULL) != 0 ||
      q.ctl_code != SMBX_SMB2_FSCTL_QUERY_NETWORK_INTERFACE_INFO)
    return false; /* malformed IOCTLs and other codes are the host's */
  uint32_t st = 0;
  /* 3.3.5.15: an FSCTL code without IS_FSCTL */
  if (!(q.flags & SMBX_SMB2_IOCTL_IS_FSCTL))
    st = SMBX_STATUS_INVALID_PARAMETER;
  /* 3.3.5.15.11: 2.x, no MULTI_CHANNEL, or nothing to tell */
  else if (sc->dialect < SMBX_SMB2_DIALECT_300 ||
           !(srv->s.capabilities & SMBX_SMB2_CAP_MULTI_CHANNEL) ||
           !srv->ifwire)
    st = SMBX_STATUS_NOT_SUPPORTED;
  else if (q.max_output_response < srv->ifwire_len)
    st = SMBX_STATUS_BUFFER_TOO_SMALL;
  /* SMBX_ERR_AGAIN (SMB Direct send space): the host gets the request */
  if (st)
    return smbx_server_respond_error(srv, sc->handle, pd->req, st, NULL, 0,
                                     srv->now) != SMBX_ERR_AGAIN;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = SMBX_SMB2_IOCTL;
  smbx_smb2_ioctl_resp rs;
  memset(&rs, 0, sizeof rs);
  rs.ctl_code = q.ctl_code;
  rs.file_id = q.file_id;
  rs.output.p = srv->ifwire;
  rs.output.len = srv->ifwire_len;
  smbx_ssize n = smbx_smb2_encode_ioctl_resp(&h, &rs, srv->ifresp,
                                             srv->ifresp_cap, NULL);
  int rc = n < SMBX_SMB2_HDR_SIZE
               ? smbx_server_respond_error(srv, sc->handle, pd->req,
                                           SMBX_STATUS_INSUFFICIENT_RESOURCES,
                                           NULL, 0, srv->now)
               : smbx_server_respond(srv, sc->handle, pd->req,
                                     SMBX_STATUS_SUCCESS,
                                     srv->ifresp + SMBX_SMB2_HDR_SIZE,
                                     (size_t)n - SMBX_SMB2_HDR_SIZE, srv->now);
  return rc != SMBX_ERR_AGAIN;
}

/* ---- ChannelSequence (3.3.5.2.10) ------------------------------------------------ */

void smbx__srv_open_created(sconn *sc, const slot *sl, const uint8_t *pdu,
                            size_t len)
{
  smbx_server *srv = sc->srv;
  smbx_smb2_create_resp r;
  if (!smbx__slab_cap(&srv->opens) || sc->dialect < SMBX_SMB2_DIALECT_300 ||
      smbx_smb2_decode_create_resp(pdu, len, &r, NULL) != 0)
    return;
  uint8_t k[16];
  fid_key(k, r.file_id);
  sopen *o = smbx__hash_get(&srv->open_ids, k);
  if (!o) {
    o = smbx__slab_get_zeroed(&srv->opens);
    if (!o)
      return; /* table full: this open is not guarded */
    memcpy(o->fid, k, 16);
    if (smbx__hash_insert(&srv->open_ids, o->fid, o) != 0) {
      (void)smbx__slab_put(&srv->opens, o);
      return;
    }
  }
  o->session = sl->session;
  /* 3.3.5.9: Open.ChannelSequence = the CREATE's */
  o->channel_sequence = sl->channel_sequence;
}

static void open_forget(smbx_server *srv, sopen *o)
{
  (void)smbx__hash_remove(&srv->open_ids, o->fid);
  memset(o, 0, sizeof *o);
  (void)smbx__slab_put(&srv->opens, o);
}

void smbx__srv_opens_drop_session(smbx_server *srv, uint64_t sid)
{
  for (uint32_t i = 0; i < smbx__slab_cap(&srv->opens); i++) {
    sopen *o = smbx__slab_at(&srv->opens, i);
    if (o && o->session == sid)
      open_forget(srv, o);
  }
}

/* The FileId a request acts on (inherited in a related compound). */
static int req_fileid(const smbx__conn_pdu *pd, smbx_smb2_fileid *f)
{
  int rc = SMBX_ERR_DECODE;
  switch (pd->hdr.command) {
  case SMBX_SMB2_WRITE: {
    smbx_smb2_write_req q;
    rc = smbx_smb2_decode_write_req(pd->data, pd->len, &q, NULL);
    *f = q.file_id;
    break;
  }
  case SMBX_SMB2_SET_INFO: {
    smbx_smb2_set_info_req q;
    rc = smbx_smb2_decode_set_info_req(pd->data, pd->len, &q, NULL);
    *f = q.file_id;
    break;
  }
  case SMBX_SMB2_IOCTL: {
    smbx_smb2_ioctl_req q;
    rc = smbx_smb2_decode_ioctl_req(pd->data, pd->len, &q, NULL);
    *f = q.file_id;
    break;
  }
  case SMBX_SMB2_CLOSE: {
    smbx_smb2_close_req q;
    rc = smbx_smb2_decode_close_req(pd->data, pd->len, &q, NULL);
    *f = q.file_id;
    break;
  }
  default:
    break;
  }
  if (rc == 0 && (pd->flags & SMBX__CONN_PDU_FILEID))
    *f = pd->fileid;
  return rc;
}

bool smbx__srv_channel_sequence(sconn *sc, const smbx__conn_pdu *pd)
{
  smbx_server *srv = sc->srv;
  uint16_t cmd = pd->hdr.command;
  if (!smbx__slab_live(&srv->opens) || sc->dialect < SMBX_SMB2_DIALECT_300 ||
      !smbx__srv_channel_sequence_guards(cmd))
    return false;
  smbx_smb2_fileid f;
  /* malformed bodies are the host's to refuse */
  if (req_fileid(pd, &f) != 0)
    return false;
  uint8_t k[16];
  fid_key(k, f);
  sopen *o = smbx__hash_get(&srv->open_ids, k);
  if (!o || o->session != pd->hdr.session_id)
    return false;
  if (cmd == SMBX_SMB2_CLOSE) {
    open_forget(srv, o);
    return false;
  }
  /* 2.2.1.2: ChannelSequence is the low 16 bits of the request's @8 */
  uint16_t seq = (uint16_t)pd->hdr.status;
  uint16_t diff = (uint16_t)(seq - o->channel_sequence);
  if (diff == 0)
    return false;
  if (diff <= 0x7FFF) {
    /* newer: a client that failed over; it becomes the open's */
    o->channel_sequence = seq;
    return false;
  }
  /* older: a request from before the failover */
  return smbx_server_respond_error(srv, sc->handle, pd->req,
                                   SMBX_STATUS_FILE_NOT_AVAILABLE, NULL, 0,
                                   srv->now) != SMBX_ERR_AGAIN;
}
