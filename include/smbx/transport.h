/* SPDX-License-Identifier: MIT */
/** @file smbx/transport.h
 *  @brief The host's RDMA transport as seen by smbx: posting hooks, memory
 *  registration and work completions.
 *
 *  smbx never owns a queue pair. The host implements these hooks on top of
 *  ibverbs (or anything else); each hook posts work and returns at once,
 *  like ibverbs. The `wr_id` passed to a posting hook comes back later in an
 *  smbx_wc that the host reports (for SMB Direct: smbx_smbd_recv() and
 *  smbx_smbd_send_done()). Hooks run only inside an smbx_* call on the same
 *  thread and never call back into the object that called them. A hook that
 *  fails (non-zero return) tears the connection down with
 *  SMBX_ERR_TRANSPORT.
 */
#ifndef SMBX_TRANSPORT_H
#define SMBX_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <smbx/smbx.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief One scatter/gather element: registered local memory.
 *  `handle` is the registration handle the host returned from
 *  register_mr (or gave with a receive buffer); the host maps it to its
 *  lkey. @since 0.1.0 */
typedef struct smbx_sge {
  void *addr;      /**< local address */
  uint32_t length; /**< bytes */
  uint32_t reserved;
  uint64_t handle; /**< host registration handle */
} smbx_sge;

/** @brief A memory registration returned by register_mr.
 *  @since 0.1.0 */
typedef struct smbx_mr {
  uint64_t address; /**< address (IOVA) the peer uses in RDMA operations */
  uint64_t handle;  /**< host handle (e.g. a struct ibv_mr pointer) */
  uint32_t key;     /**< remote key (rkey / STag) */
  uint32_t flags;   /**< register_mr: set 0. deregister_mr: SMBX_MR_F_* */
} smbx_mr;

/** @brief smbx_mr.flags as given to deregister_mr: the peer already
 *  invalidated this key (a receive completed WITH_INVALIDATE of it), so a
 *  host using fast registration skips its local invalidation. Without it
 *  the host must invalidate the key (IB_WR_LOCAL_INV or deregistration)
 *  before deregister_mr returns: smbx completes the I/O right after.
 *  @since 0.1.0 */
#define SMBX_MR_F_INVALIDATED 0x1u

/** @name Access flags for register_mr
 *  @{ */
#define SMBX_MR_LOCAL_WRITE 0x1u  /**< local receives / RDMA read targets */
#define SMBX_MR_REMOTE_WRITE 0x2u /**< peer may RDMA-write */
#define SMBX_MR_REMOTE_READ 0x4u  /**< peer may RDMA-read */
/** @} */

/** @name post_send flags
 *  @{ */
#define SMBX_SEND_INVALIDATE 0x1u /**< SEND_WITH_INVALIDATE of invalidate_rkey */
/** @} */

/** @name Work completion status (smbx_wc.status)
 *  @{ */
#define SMBX_WC_SUCCESS 0u /**< completed */
#define SMBX_WC_FLUSH 1u   /**< flushed (IBV_WC_WR_FLUSH_ERR): QP in error */
#define SMBX_WC_ERROR 2u   /**< any other error (RNR retry exceeded, ...) */
/** @} */

/** @name Work completion flags (smbx_wc.flags)
 *  @{ */
#define SMBX_WC_WITH_INVALIDATE 0x1u /**< the peer invalidated invalidated_rkey */
/** @} */

/** @brief A work completion reported by the host.
 *  @since 0.1.0 */
typedef struct smbx_wc {
  uint64_t wr_id;            /**< as given to the posting hook */
  uint32_t status;           /**< SMBX_WC_SUCCESS, SMBX_WC_FLUSH, SMBX_WC_ERROR */
  uint32_t flags;            /**< SMBX_WC_WITH_INVALIDATE */
  uint32_t byte_len;         /**< receives: bytes received */
  uint32_t invalidated_rkey; /**< with SMBX_WC_WITH_INVALIDATE */
  uint32_t vendor_err;       /**< host's detail, kept for diagnostics */
  uint32_t reserved;
} smbx_wc;

/** @brief Transport hooks the host implements.
 *
 *  Every hook returns 0 when the work was posted (or the registration
 *  done) and non-zero on failure. The engine copies this struct at
 *  creation; the caller may free its copy.
 *  @since 0.1.0 */
typedef struct smbx_transport {
  size_t struct_size; /**< sizeof(smbx_transport) as compiled by the caller */
  void *user_data;    /**< passed to every hook */
  /** Post one SEND of the gathered elements (signaled). With
   *  SMBX_SEND_INVALIDATE in flags, as SEND_WITH_INVALIDATE of
   *  invalidate_rkey. The memory stays untouched until its completion. */
  int (*post_send)(void *user_data, uint64_t wr_id, const smbx_sge *sg,
                   size_t n_sg, uint32_t flags, uint32_t invalidate_rkey);
  /** Post one receive into buf (registered memory the host lent). */
  int (*post_recv)(void *user_data, uint64_t wr_id, const smbx_sge *buf);
  /** RDMA READ from the peer's (remote_addr, rkey) into local elements.
   *  Report its completion with smbx_server_rdma_done() (the wr_id has
   *  smbx_wr_id_kind() SMBX_WR_KIND_RDMA). */
  int (*rdma_read)(void *user_data, uint64_t wr_id, const smbx_sge *sg,
                   size_t n_sg, uint64_t remote_addr, uint32_t rkey);
  /** RDMA WRITE of local elements to the peer's (remote_addr, rkey).
   *  Completion: as rdma_read. */
  int (*rdma_write)(void *user_data, uint64_t wr_id, const smbx_sge *sg,
                    size_t n_sg, uint64_t remote_addr, uint32_t rkey);
  /** Register [addr, addr+len) with SMBX_MR_* access; synchronous (a host
   *  using fast registration completes it inside the hook). */
  int (*register_mr)(void *user_data, void *addr, size_t len, uint32_t access,
                     smbx_mr *out);
  /** Release a registration made by register_mr. */
  void (*deregister_mr)(void *user_data, const smbx_mr *mr);
} smbx_transport;

/** @name Kinds of smbx work-request ids (smbx_wr_id_kind)
 *  @{ */
#define SMBX_WR_KIND_UNKNOWN 0u /**< not an id smbx posted */
#define SMBX_WR_KIND_RECV 1u    /**< post_recv: report to *_recv() */
#define SMBX_WR_KIND_SEND 2u    /**< post_send: report to *_send_done() */
#define SMBX_WR_KIND_RDMA 3u    /**< rdma_read / rdma_write: report to
                                     smbx_server_rdma_done() */
/** @} */

/** @brief Which completion call a work-request id smbx posted belongs to:
 *  lets a host route completions whose opcode is undefined (ibverbs
 *  error and flush completions) without remembering its own postings.
 *  @return SMBX_WR_KIND_*. @since 0.1.0 */
SMBX_API uint32_t smbx_wr_id_kind(uint64_t wr_id);

#ifdef __cplusplus
}
#endif

#endif /* SMBX_TRANSPORT_H */
