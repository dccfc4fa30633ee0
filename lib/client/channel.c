/* SPDX-License-Identifier: MIT */
/* The client node's multichannel parts (smb2.md 6.6, MS-SMB2 3.2.4.1.x,
 * 3.2.5.1.x): which channel a request goes on, the session's
 * ChannelSequence, failover replay of requests whose channel died, the
 * binding key and FSCTL_QUERY_NETWORK_INTERFACE_INFO. See
 * docs/multichannel.md. */
#include <string.h>

#include <smbx/client.h>

#include "client/client_int.h"
#include "client/rdma_io.h"
#include "core/cursor.h"

/* ---- channel choice ----------------------------------------------------------- */

static bool conn_live(const smbx_client *cli, uint64_t h, smbx__conn_info *ci)
{
  const cconn *cc = h ? smbx__slab_lookup(&cli->conns, h) : NULL;
  if (!cc || cc->state != 2)
    return false;
  smbx__conn_get_info(cc->c, ci);
  return ci->err == 0;
}

/* Fewest requests in flight first, then the most credits ("least
 * outstanding credits": a channel's in-flight requests hold its credits). */
static bool better(const smbx__conn_info *a, const smbx__conn_info *b)
{
  if (a->outstanding != b->outstanding)
    return a->outstanding < b->outstanding;
  return a->credits > b->credits;
}

uint64_t smbx__cli_pick(const smbx_client *cli, uint64_t sh)
{
  const csess *cs = smbx__slab_lookup(&cli->sessions, sh);
  if (!cs || cs->state != CS_UP)
    return 0;
  uint64_t best = 0;
  smbx__conn_info bi = {0}, ci; /* bi is read only once best is set */
  if (conn_live(cli, cs->conn, &ci)) {
    best = cs->conn;
    bi = ci;
  }
  for (uint32_t i = 0; i < smbx__slab_cap(&cli->chans); i++) {
    const cchan *ch = smbx__slab_at(&cli->chans, i);
    if (!ch || ch->session != sh || ch->state != CS_UP ||
        !conn_live(cli, ch->conn, &ci))
      continue;
    if (!best || better(&ci, &bi)) {
      best = ch->conn;
      bi = ci;
    }
  }
  return best;
}

int smbx_client_session_channel(const smbx_client *cli, uint64_t session,
                                uint64_t *conn)
{
  if (!cli || !conn)
    return SMBX_ERR_INVAL;
  const csess *cs =
      session ? smbx__slab_lookup(&cli->sessions, session) : NULL;
  if (!cs)
    return SMBX_ERR_NOTFOUND;
  uint64_t h = smbx__cli_pick(cli, session);
  if (!h)
    return SMBX_ERR_STATE;
  *conn = h;
  return 0;
}

/* ---- the replay arena ------------------------------------------------------------
 * A ring of records [u32 len, u32 live, PDU padded to 8] between rhead
 * and rtail; when the upper part is full the ring wraps (rend marks where
 * the upper records end). Records are dropped in any order and reclaimed
 * from the head. Fixed size: nothing is allocated per request. */

#define REC_HDR 8u
#define REC_LIVE 1u
#define REC_RDMA 2u /* a READ/WRITE by RDMA: rebuilt, never resent as is */

static size_t rec_size(size_t len)
{
  return REC_HDR + ((len + 7u) & ~(size_t)7u);
}

int smbx__cli_replay_init(smbx_client *cli)
{
  if (cli->rp || cli->s.replay_buffer_size == 0)
    return 0;
  cli->rp = smbx__alloc(&cli->alloc, cli->s.replay_buffer_size, 8);
  if (!cli->rp)
    return SMBX_ERR_NOMEM;
  cli->rcap = cli->s.replay_buffer_size & ~(size_t)7u;
  return 0;
}

void smbx__cli_replay_free(smbx_client *cli)
{
  if (cli->rp)
    smbx__free(&cli->alloc, cli->rp, cli->s.replay_buffer_size, 8);
  cli->rp = NULL;
}

/* Reserves a record for len bytes; its offset, or SIZE_MAX when full. */
static size_t rec_alloc(smbx_client *cli, size_t len)
{
  size_t need = rec_size(len);
  if (need > cli->rcap)
    return SIZE_MAX;
  if (cli->rused == 0) {
    cli->rhead = cli->rtail = 0;
    cli->rwrapped = false;
  }
  size_t off;
  if (!cli->rwrapped) {
    if (cli->rcap - cli->rtail >= need) {
      off = cli->rtail;
    } else if (cli->rhead >= need) {
      cli->rend = cli->rtail;
      cli->rwrapped = true;
      off = 0;
    } else {
      return SIZE_MAX;
    }
  } else if (cli->rhead - cli->rtail >= need) {
    off = cli->rtail;
  } else {
    return SIZE_MAX;
  }
  cli->rtail = off + need;
  cli->rused += need;
  uint8_t *r = cli->rp + off;
  smbx__put_le32(r, (uint32_t)len);
  smbx__put_le32(r + 4, REC_LIVE);
  return off;
}

void smbx__cli_replay_drop(smbx_client *cli, uint32_t id)
{
  if (!id || !cli->rp || id - 1 >= cli->rcap)
    return;
  smbx__put_le32(cli->rp + (id - 1) + 4, 0);
  /* reclaim dead records from the head */
  while (cli->rused) {
    const uint8_t *r = cli->rp + cli->rhead;
    if (smbx__get_le32(r + 4))
      break;
    size_t sz = rec_size(smbx__get_le32(r));
    cli->rhead += sz;
    cli->rused -= sz;
    if (cli->rwrapped && cli->rhead == cli->rend) {
      cli->rhead = 0;
      cli->rwrapped = false;
    }
  }
}

/* ---- ChannelSequence and what is kept ---------------------------------------------- */

/* smb2.md 6.6: commands resent after a channel loss. READ, QUERY_INFO and
 * FLUSH are idempotent; WRITE, SET_INFO and IOCTL are the replayable
 * modifying operations the server guards with ChannelSequence
 * (3.3.5.2.10); one by RDMA is rebuilt for its new channel
 * (rebuild_rdma). Not resent (they complete with the channel's error):
 * CREATE (replay needs a durable v2 handle), CLOSE, LOCK, QUERY_DIRECTORY
 * (its cursor moves) and CHANGE_NOTIFY. */
static bool replayable(uint16_t cmd)
{
  switch (cmd) {
  case SMBX_SMB2_READ:
  case SMBX_SMB2_WRITE:
  case SMBX_SMB2_FLUSH:
  case SMBX_SMB2_QUERY_INFO:
  case SMBX_SMB2_SET_INFO:
  case SMBX_SMB2_IOCTL:
    return true;
  default:
    return false;
  }
}

/* A READ/WRITE whose data moves by RDMA: its buffer descriptors name
 * registrations of its own SMB Direct connection, which go with it. */
static bool rdma_channel(const uint8_t *pdu, size_t len)
{
  uint16_t cmd = smbx__get_le16(pdu + 12);
  if (cmd == SMBX_SMB2_READ) {
    smbx_smb2_read_req q;
    return smbx_smb2_decode_read_req(pdu, len, &q, NULL) != 0 ||
           q.channel != SMBX_SMB2_CHANNEL_NONE;
  }
  if (cmd == SMBX_SMB2_WRITE) {
    smbx_smb2_write_req q;
    return smbx_smb2_decode_write_req(pdu, len, &q, NULL) != 0 ||
           q.channel != SMBX_SMB2_CHANNEL_NONE;
  }
  return false;
}

static bool has_channel(const smbx_client *cli, uint64_t sh)
{
  for (uint32_t i = 0; i < smbx__slab_cap(&cli->chans); i++) {
    const cchan *ch = smbx__slab_at(&cli->chans, i);
    if (ch && ch->session == sh && ch->state == CS_UP)
      return true;
  }
  return false;
}

uint32_t smbx__cli_before_send_general(cconn *cc, const csess *cs,
                                       uint64_t sh, size_t len)
{
  smbx_client *cli = cc->cli;
  if (!cs || cs->dialect < SMBX_SMB2_DIALECT_300)
    return 0;
  uint8_t *p = cli->sbuf + SMBX__CONN_HEADROOM;
  /* 2.2.1.2: ChannelSequence @8 of every PDU of the message (the owner
   * wrote NextCommand; the chain lies inside len) */
  size_t at = 0;
  bool single = true;
  for (;;) {
    if (len - at < SMBX_SMB2_HDR_SIZE)
      return 0;
    smbx__put_le16(p + at + 8, cs->channel_sequence);
    uint32_t next = smbx__get_le32(p + at + 20);
    if (next == 0 || next > len - at)
      break;
    single = false;
    at += next;
  }
  if (!single || !cli->rp || !replayable(smbx__get_le16(p + 12)) ||
      !has_channel(cli, sh))
    return 0;
  size_t off = rec_alloc(cli, len);
  if (off == SIZE_MAX)
    return 0; /* no room: this request is not replayed */
  memcpy(cli->rp + off + REC_HDR, p, len);
  if (rdma_channel(p, len))
    smbx__put_le32(cli->rp + off + 4, REC_LIVE | REC_RDMA);
  return (uint32_t)off + 1;
}

/* ---- failover ------------------------------------------------------------------------ */

/* Rebuilds READ/WRITE by RDMA `rec` (rlen bytes) for dst at sbuf +
 * HEADROOM: same FileId/Offset/Length, the caller's buffer registered
 * through dst's transport (new descriptors), or inline when dst is TCP,
 * signed or encrypted (case 56) or below the threshold. The old
 * descriptors name the dead connection's keys: never sent again. Returns
 * the PDU length, *chain set (SMBX__RDMA_NIL: inline); or an error,
 * nothing registered. */
static smbx_ssize rebuild_rdma(smbx_client *cli, const csess *cs, cconn *dst,
                               const uint8_t *rec, size_t rlen,
                               const crdma_io *io, uint32_t *chain,
                               uint32_t *channel)
{
  *chain = SMBX__RDMA_NIL;
  smbx_smb2_hdr oh;
  if (!io->buf || smbx_smb2_hdr_decode(rec, rlen, &oh, NULL))
    return SMBX_ERR_STATE;
  smbx_smb2_fileid fid;
  uint64_t offset;
  if (io->read) {
    smbx_smb2_read_req q;
    if (oh.command != SMBX_SMB2_READ ||
        smbx_smb2_decode_read_req(rec, rlen, &q, NULL))
      return SMBX_ERR_STATE;
    fid = q.file_id;
    offset = q.offset;
  } else {
    smbx_smb2_write_req q;
    if (oh.command != SMBX_SMB2_WRITE ||
        smbx_smb2_decode_write_req(rec, rlen, &q, NULL))
      return SMBX_ERR_STATE;
    fid = q.file_id;
    offset = q.offset;
  }
  bool protect = smbx__cli_protected(cs, oh.tree_id);
  uint32_t peer_rw = smbx__conn_smbd_max_rw(dst->c, NULL);
  uint8_t *p = cli->sbuf + SMBX__CONN_HEADROOM;
  size_t cap = cli->sbuf_cap - SMBX__CONN_HEADROOM;
  /* descriptors at the end of the send buffer, as rdma_or_inline does */
  size_t dcap = cap / 2;
  if (dcap > SMBX_SMB2_BUFFER_DESC_MAX * SMBX_SMB2_BUFFER_DESC_SIZE)
    dcap = SMBX_SMB2_BUFFER_DESC_MAX * SMBX_SMB2_BUFFER_DESC_SIZE;
  uint8_t *desc = p + cap - dcap;
  smbx_ssize nd = smbx__cli_rdma_prepare(dst->rdma, dst->dialect, protect,
                                         peer_rw, io->buf, io->length,
                                         io->read, desc, dcap, chain, channel);
  if (nd < 0)
    return nd;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = oh.command;
  h.session_id = oh.session_id;
  h.tree_id = oh.tree_id;
  smbx_smb2_bytes ci = {nd ? desc : NULL, (size_t)nd};
  smbx_ssize n;
  if (io->read) {
    smbx_smb2_read_req in;
    memset(&in, 0, sizeof in);
    in.padding = 0x50;
    in.length = io->length;
    in.offset = offset;
    in.file_id = fid;
    in.channel = *channel;
    in.channel_info = ci;
    n = smbx_smb2_encode_read_req(&h, &in, p, cap - dcap, NULL);
  } else {
    smbx_smb2_write_req in;
    memset(&in, 0, sizeof in);
    in.offset = offset;
    in.file_id = fid;
    in.channel = *channel;
    in.channel_info = ci;
    if (nd) {
      in.remaining_bytes = io->length; /* smb2.md 4.7: Length 0 */
    } else {
      in.data.len = io->length; /* header + fixed part; the data follows */
    }
    n = smbx_smb2_encode_write_req(&h, &in, p, cap - dcap, NULL);
    if (n >= 0 && !nd) {
      if (cap - (size_t)n < io->length)
        n = SMBX_ERR_RANGE;
      else
        memcpy(p + n, io->buf, io->length);
      n = n < 0 ? n : n + (smbx_ssize)io->length;
    }
  }
  if (n < 0) {
    smbx__cli_rdma_unprepare(dst->rdma, chain);
    return n == SMBX_ERR_NOBUF ? SMBX_ERR_RANGE : n;
  }
  return n;
}

bool smbx__cli_failover(cconn *cc, const cslot *s, uint64_t req,
                        uint64_t user, const crdma_io *io)
{
  smbx_client *cli = cc->cli;
  if (s->kind != CK_REQ || !s->replay || s->first_req || !cli->rp)
    return false;
  smbx_error_detail d;
  /* only a dead channel; a timed-out request completes as such */
  if (smbx__conn_error_detail(cc->c, &d) == 0)
    return false;
  csess *cs = smbx__slab_lookup(&cli->sessions, s->session);
  if (!cs || cs->state != CS_UP)
    return false;
  /* a surviving channel: the session's first connection, or a bound one */
  uint64_t to = 0;
  smbx__conn_info ci;
  if (cs->conn != cc->handle && conn_live(cli, cs->conn, &ci))
    to = cs->conn;
  for (uint32_t i = 0; !to && i < smbx__slab_cap(&cli->chans); i++) {
    const cchan *ch = smbx__slab_at(&cli->chans, i);
    if (ch && ch->session == s->session && ch->state == CS_UP &&
        ch->conn != cc->handle && conn_live(cli, ch->conn, &ci))
      to = ch->conn;
  }
  cconn *dst = to ? smbx__slab_lookup(&cli->conns, to) : NULL;
  if (!dst)
    return false;
  /* 3.2.1.3 Session.ChannelSequence moves on once per lost channel */
  if (cs->failed_conn != cc->handle) {
    cs->failed_conn = cc->handle;
    cs->channel_sequence++;
  }
  const uint8_t *r = cli->rp + (s->replay - 1);
  size_t len = smbx__get_le32(r);
  uint8_t *p = cli->sbuf + SMBX__CONN_HEADROOM;
  uint32_t chain = SMBX__RDMA_NIL, channel = SMBX_SMB2_CHANNEL_NONE;
  if (smbx__get_le32(r + 4) & REC_RDMA) {
    smbx_ssize n = rebuild_rdma(cli, cs, dst, r + REC_HDR, len, io, &chain,
                                &channel);
    if (n < 0)
      return false;
    len = (size_t)n;
  } else {
    memcpy(p, r + REC_HDR, len);
  }
  /* 2.2.1.2: REPLAY_OPERATION and the current ChannelSequence; the
   * connection sets MessageId, credits and the signature anew */
  smbx__put_le32(p + 16, smbx__get_le32(p + 16) |
                             SMBX_SMB2_FLAGS_REPLAY_OPERATION);
  smbx__put_le16(p + 8, cs->channel_sequence);
  smbx__put_le16(p + 10, 0);
  uint64_t nr = 0;
  cli->ev_spare = 0; /* dst owes its completion now: ev_room walks again */
  int rc = smbx__conn_send(dst->c, cli->sbuf, cli->sbuf_cap, len, NULL, user,
                           &nr, 1, cli->now);
  if (rc != 1) {
    smbx__cli_rdma_unprepare(dst->rdma, &chain);
    return false;
  }
  uint32_t ix = (uint32_t)nr;
  if (ix >= dst->n_slots) { /* cannot happen: slot indexes are below it */
    smbx__cli_rdma_unprepare(dst->rdma, &chain);
    return true;
  }
  cslot *ns = &dst->slots[ix];
  memset(ns, 0, sizeof *ns);
  ns->req = nr;
  ns->session = s->session;
  ns->kind = CK_REQ;
  ns->first_conn = cc->handle;
  ns->first_req = req;
  if (chain != SMBX__RDMA_NIL)
    smbx__cli_rdma_bind(&ns->io, chain, io->buf, io->length, io->read,
                        channel);
  return true;
}

/* ---- binding key --------------------------------------------------------------------- */

int smbx_client_session_bind_key(smbx_client *cli, uint64_t conn,
                                 uint64_t session, const uint8_t *key,
                                 size_t len, uint64_t now_ns)
{
  if (!cli || !key || len == 0 || len > 64)
    return SMBX_ERR_INVAL;
  cchan *ch = NULL;
  for (uint32_t i = 0; i < smbx__slab_cap(&cli->chans) && !ch; i++) {
    cchan *c = smbx__slab_at(&cli->chans, i);
    if (c && c->session == session && c->conn == conn)
      ch = c;
  }
  if (!ch)
    return SMBX_ERR_NOTFOUND;
  if (ch->state == CS_UP)
    return SMBX_ERR_STATE;
  cli->now = now_ns;
  memcpy(ch->key, key, len);
  ch->key_len = len;
  ch->have_key = true;
  return 0;
}

/* ---- FSCTL_QUERY_NETWORK_INTERFACE_INFO ------------------------------------------------- */

int smbx_client_query_interfaces(smbx_client *cli, uint64_t conn,
                                 uint64_t session, uint32_t tree_id,
                                 uint64_t now_ns, uint64_t *req)
{
  if (!cli)
    return SMBX_ERR_INVAL;
  smbx_smb2_ioctl_req in;
  memset(&in, 0, sizeof in);
  in.ctl_code = SMBX_SMB2_FSCTL_QUERY_NETWORK_INTERFACE_INFO;
  in.file_id.persistent_id = UINT64_MAX;
  in.file_id.volatile_id = UINT64_MAX;
  in.max_output_response = 65536;
  in.flags = SMBX_SMB2_IOCTL_IS_FSCTL;
  uint8_t body[128];
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.command = SMBX_SMB2_IOCTL;
  smbx_ssize n = smbx_smb2_encode_ioctl_req(&h, &in, body, sizeof body, NULL);
  if (n < 0)
    return (int)n;
  return smbx_client_request(cli, conn, session, tree_id, SMBX_SMB2_IOCTL,
                             body + SMBX_SMB2_HDR_SIZE,
                             (size_t)n - SMBX_SMB2_HDR_SIZE, 0, now_ns, req);
}

int smbx_client_interfaces(const smbx_event *ev, smbx_smb2_netif *out,
                           size_t cap, size_t *n)
{
  if (!ev || !n || (!out && cap))
    return SMBX_ERR_INVAL;
  *n = 0;
  if (ev->type != SMBX_EV_RESPONSE || ev->u.pdu.err ||
      ev->u.pdu.status != SMBX_STATUS_SUCCESS || !ev->u.pdu.data ||
      ev->u.pdu.hdr.command != SMBX_SMB2_IOCTL)
    return SMBX_ERR_STATE;
  smbx_smb2_ioctl_resp r;
  if (smbx_smb2_decode_ioctl_resp(ev->u.pdu.data, ev->u.pdu.len, &r, NULL))
    return SMBX_ERR_DECODE;
  if (r.ctl_code != SMBX_SMB2_FSCTL_QUERY_NETWORK_INTERFACE_INFO)
    return SMBX_ERR_STATE;
  smbx_smb2_netif_iter it;
  if (smbx_smb2_netif_iter_init(&it, r.output.p, r.output.len))
    return SMBX_ERR_DECODE;
  smbx_smb2_netif e;
  int rc;
  size_t k = 0;
  while ((rc = smbx_smb2_netif_iter_next(&it, &e, NULL)) == 1) {
    if (k < cap)
      out[k] = e;
    k++;
  }
  if (rc < 0)
    return SMBX_ERR_DECODE;
  *n = k;
  return 0;
}
