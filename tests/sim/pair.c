/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "pair.h"

void sim_pair_smbd_settings(smbx_smbd_settings st[2], uint32_t credits)
{
  for (int k = 0; k < 2; k++) {
    smbx_smbd_settings_default(&st[k], sizeof st[k]);
    st[k].role = k == 0 ? SMBX_SMBD_ROLE_ACTIVE : SMBX_SMBD_ROLE_PASSIVE;
    st[k].recv_credit_max = credits;
    st[k].send_credit_target = credits;
  }
}

uint8_t *sim_pair_lend(smbx_smbd_recv_buf *rb, uint32_t n, uint32_t size)
{
  uint8_t *mem = calloc(n, size);
  if (!mem)
    return NULL;
  for (uint32_t b = 0; b < n; b++) {
    rb[b].addr = mem + (size_t)b * size;
    rb[b].length = size;
    rb[b].reserved = 0;
    rb[b].handle = 0x1000u + (uint64_t)b;
  }
  return mem;
}

int sim_pair_connect(sim_pair *p, const smbx_smbd_settings st[2],
                     const smbx_transport *tc, const smbx_transport *ts,
                     const smbx_smbd_recv_buf *rbc,
                     const smbx_smbd_recv_buf *rbs, uint32_t n, uint64_t now)
{
  int rc = smbx_client_add_smbd(p->cli, &st[0], tc, rbc, n, now, &p->cconn);
  if (rc == 0)
    rc = smbx_server_add_smbd(p->srv, &st[1], ts, rbs, n, now, &p->sconn);
  if (rc == 0)
    rc = smbx_client_cm_event(p->cli, p->cconn, SMBX_SMBD_CM_ESTABLISHED, 16,
                              16, now);
  if (rc == 0)
    rc = smbx_server_cm_event(p->srv, p->sconn, SMBX_SMBD_CM_ESTABLISHED, 16,
                              16, now);
  return rc;
}

int sim_pair_step(sim *w, const sim_pair *p, uint64_t now)
{
  int moved = sim_deliver(w), foreign = 0;
  sim_cqe c;
  while (sim_poll(w, 0, &c)) {
    moved++;
    if (c.is_recv)
      (void)smbx_client_recv(p->cli, p->cconn, &c.wc, now);
    else
      (void)smbx_client_send_done(p->cli, p->cconn, &c.wc, now);
  }
  while (sim_poll(w, 1, &c)) {
    moved++;
    switch (smbx_wr_id_kind(c.wc.wr_id)) {
    case SMBX_WR_KIND_RECV:
      (void)smbx_server_recv(p->srv, p->sconn, &c.wc, now);
      break;
    case SMBX_WR_KIND_SEND:
      (void)smbx_server_send_done(p->srv, p->sconn, &c.wc, now);
      break;
    case SMBX_WR_KIND_RDMA:
      (void)smbx_server_rdma_done(p->srv, p->sconn, &c.wc, now);
      break;
    default:
      foreign = 1;
      break;
    }
  }
  return foreign ? -1 : moved;
}
