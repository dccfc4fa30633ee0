/* SPDX-License-Identifier: MIT */
/* The server node's multichannel parts (smb2.md 6.6): the host's network
 * interfaces and the node's own answer to
 * FSCTL_QUERY_NETWORK_INTERFACE_INFO (MS-SMB2 3.3.5.15.11). Session
 * binding is in server.c (bind_check, bind_setup, bind_respond). See
 * docs/multichannel.md. */
#include <string.h>

#include <smbx/server.h>

#include "server/server_int.h"

void smbx__srv_channel_free(smbx_server *srv)
{
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
