/* SPDX-License-Identifier: MIT */
/* smbx_ibv: librdmacm + libibverbs glue that runs an smbx node (server or
 * client) over real RDMA hardware or soft-RoCE (rxe). Not part of libsmbx.
 *
 * One smbx_ibv owns one rdma_cm event channel (a listener, or the active
 * connects of a client) and every connection made through it. Per
 * connection: a protection domain, a completion channel and one CQ, an RC
 * QP, and the receive buffers lent to the engine (one registration). The
 * transport hooks (include/smbx/transport.h) post on that QP; completions
 * and CM events are read when the host's poll() says the fds are readable
 * and are reported to the node. The host forwards every SMBX_EV_SMBD event
 * to smbx_ibv_smbd_event(): DISCONNECTED starts rdma_disconnect (the QP
 * flushes, the receive buffers come back), CLOSED frees the connection.
 * See docs/ibverbs.md. */
#ifndef SMBX_IBV_H
#define SMBX_IBV_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include <smbx/client.h>
#include <smbx/event.h>
#include <smbx/server.h>
#include <smbx/smbd.h>
#include <smbx/transport.h>

typedef struct smbx_ibv smbx_ibv;

/* How the glue reports to a node: smbx_ibv_server_node() and
 * smbx_ibv_client_node() fill it for the two node kinds. rdma_done
 * receives the completions of RDMA READ/WRITE work (NULL: the node issues
 * none). */
typedef struct smbx_ibv_node {
  void *node;
  int (*add)(void *node, const smbx_smbd_settings *ss,
             const smbx_transport *t, const smbx_smbd_recv_buf *bufs,
             size_t n, uint64_t now, uint64_t *conn);
  int (*recv)(void *node, uint64_t conn, const smbx_wc *wc, uint64_t now);
  int (*send_done)(void *node, uint64_t conn, const smbx_wc *wc,
                   uint64_t now);
  int (*rdma_done)(void *node, uint64_t conn, const smbx_wc *wc,
                   uint64_t now);
  int (*cm_event)(void *node, uint64_t conn, uint32_t event, uint32_t ird,
                  uint32_t ord, uint64_t now);
  int (*close)(void *node, uint64_t conn, uint64_t now);
} smbx_ibv_node;

void smbx_ibv_server_node(smbx_server *srv, smbx_ibv_node *out);
void smbx_ibv_client_node(smbx_client *cli, smbx_ibv_node *out);

/* Settings of the glue; smbx_ibv_config_default() fills them. */
typedef struct smbx_ibv_config {
  smbx_smbd_settings smbd; /* engine settings for every connection */
  uint32_t recv_buffers;   /* receive buffers lent per connection */
  uint32_t max_conns;      /* listener: connections at once */
  int verbose;             /* log CM events and error completions */
} smbx_ibv_config;

void smbx_ibv_config_default(smbx_ibv_config *cfg);

/* 0 or a negative errno. */
int smbx_ibv_new(smbx_ibv **out, const smbx_ibv_node *node,
                 const smbx_ibv_config *cfg);
/* Closes every connection (no events) and frees everything. */
void smbx_ibv_free(smbx_ibv *g);

/* Passive side: listen on ip:port with RDMA_PS_TCP (IB/RoCE: 445). New
 * connections are added to the node and accepted by smbx_ibv_process(). */
int smbx_ibv_listen(smbx_ibv *g, const char *ip, uint16_t port);

/* Active side: resolve ip:port, create the QP, add the connection to the
 * node (the engine posts its receives: before the CM REQ leaves) and
 * rdma_connect. Blocks until ESTABLISHED (reported to the node) or
 * timeout_ms. A stale-connection reject (the server still holds a dead
 * peer's connection with our QP number) is retried up to `retries` times,
 * one second apart. *conn receives the node's handle. 0 or -errno. */
int smbx_ibv_connect(smbx_ibv *g, const char *ip, uint16_t port,
                     int timeout_ms, int retries, uint64_t *conn);

/* The fds to poll for POLLIN (CM channel, device async events, one
 * completion channel per connection). Returns how many were written
 * (at most max). */
size_t smbx_ibv_pollfds(smbx_ibv *g, struct pollfd *pfd, size_t max);

/* Reads every pending CM event, async event and completion (never blocks)
 * and reports them to the node; frees connections that closed. Drain the
 * node's events afterwards. Returns 0 or a negative errno when the CM
 * channel itself failed. */
int smbx_ibv_process(smbx_ibv *g, uint64_t now);

/* The host forwards SMBX_EV_SMBD events of the node here. Returns 1 when
 * the connection belongs to this glue, else 0. */
int smbx_ibv_smbd_event(smbx_ibv *g, const smbx_event *e);

/* Orderly end of an established connection: rdma_disconnect (DREQ; the
 * QP flushes, the engine reports DISCONNECTED, its buffers come back,
 * then CLOSED). Keep calling smbx_ibv_process() and draining the node
 * until smbx_ibv_has_conn() is 0. 0 or -ENOENT. */
int smbx_ibv_disconnect(smbx_ibv *g, uint64_t conn);

/* Registers host memory for RDMA on the glue's protection domain (every
 * connection's): the handle goes into smbx_sge.handle, e.g. for
 * smbx_server_rdma_push/_pull. Needs a device: after smbx_ibv_listen on an
 * RDMA address or the first connection. 0 or -errno. */
int smbx_ibv_register(smbx_ibv *g, void *addr, size_t len, uint64_t *handle);
void smbx_ibv_deregister(smbx_ibv *g, uint64_t handle);

/* Whether conn is one of this glue's live connections. */
int smbx_ibv_has_conn(const smbx_ibv *g, uint64_t conn);

/* Parameters from the last ESTABLISHED (for logs): 0 or -ENOENT. */
int smbx_ibv_conn_rdma(const smbx_ibv *g, uint64_t conn, uint32_t *ird,
                       uint32_t *ord);

#endif /* SMBX_IBV_H */
