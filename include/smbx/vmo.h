/* SPDX-License-Identifier: MIT */
/** @file smbx/vmo.h
 *  @brief Memory objects: a host's memory blocks exposed as files
 *  (MISSION.md "second idea", docs/vmo.md).
 *
 *  A table of memory objects (`smbx_vmo_table`) binds scatter lists of
 *  host memory (each block registered once through the transport's
 *  register_mr) to unguessable paths in a namespace directory of a share.
 *  A peer opens such a path with CREATE and reads or writes the memory with
 *  READ/WRITE; QUERY_INFO answers the file and file system classes clients
 *  ask (the fixed size, its streams, ...: docs/vmo.md); CLOSE releases the
 *  open. Who may open an object: listed sessions, or sessions of listed
 *  users (smbx_server_session_user()).
 *
 *  Standalone, the table answers the questions a request raises
 *  (smbx_vmo_open(), smbx_vmo_map(), smbx_vmo_unpin(), smbx_vmo_close())
 *  and reports through its own queue (smbx_vmo_next_event()). Through the
 *  server node, the host hands each server event to
 *  smbx_server_vmo_route() first: requests on memory objects are answered
 *  there (RDMA straight from/to the bound blocks) and never reach the host.
 *
 *  Revocation: smbx_vmo_destroy() (or smbx_vmo_set_access() reducing the
 *  rights) fails new requests on its opens with STATUS_FILE_CLOSED at once;
 *  the blocks go back to the host with SMBX_VMO_EV_RELEASED only after
 *  every RDMA transfer that names them ended (smbx_vmo_unpin()).
 *  One thread at a time drives a table; there is no global state.
 */
#ifndef SMBX_VMO_H
#define SMBX_VMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbx/event.h>
#include <smbx/server.h>
#include <smbx/smbx.h>
#include <smbx/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque table of memory objects. @since 0.1.0 */
typedef struct smbx_vmo_table smbx_vmo_table;

/** @name Access rights of an object @{ */
#define SMBX_VMO_READ 0x1u  /**< peers may READ */
#define SMBX_VMO_WRITE 0x2u /**< peers may WRITE */
/** @} */

/** Bytes of the token in a path (hex-encoded in the path: 32 chars).
 *  @since 0.1.0 */
#define SMBX_VMO_TOKEN_BYTES 16u
/** Longest namespace name (UTF-8 bytes). @since 0.1.0 */
#define SMBX_VMO_NAMESPACE_MAX 64u
/** Longest path in UTF-8 bytes: namespace, '\\', 32 hex digits.
 *  @since 0.1.0 */
#define SMBX_VMO_PATH_MAX (SMBX_VMO_NAMESPACE_MAX + 1u + 2u * SMBX_VMO_TOKEN_BYTES)

/** @brief Table settings; fill with smbx_vmo_settings_default().
 *  @since 0.1.0 */
typedef struct smbx_vmo_settings {
  size_t struct_size;
  /** Share-relative directory every path lives in (ASCII letters, digits,
   *  '$', '-', '_', '.'): "smbx-vmo". Copied. */
  const char *namespace_name;
  uint32_t max_objects;  /**< live + revoked objects: 64 */
  uint32_t max_blocks;   /**< blocks per object: 64 */
  uint32_t max_sessions; /**< allowed sessions per object: 8 */
  uint32_t max_opens;    /**< opens over all objects: 256 */
  uint32_t max_pins;     /**< transfers in flight over all objects: 1024 */
  uint32_t max_sge;      /**< pieces per mapped transfer (1..1024); set it
                              to the server's rdma_max_xfer_sge (each RDMA
                              operation then carries at most rdma_max_sge
                              of them): 64 */
  uint32_t page_size;    /**< dirty-tracking page (power of two, 512 ..
                              1 MiB): 4096 */
  uint32_t max_users;    /**< allowed users per object: 8 */
} smbx_vmo_settings;

/** @brief Fill defaults. @return 0; SMBX_ERR_INVAL (NULL, size too small).
 *  @since 0.1.0 */
SMBX_API int smbx_vmo_settings_default(smbx_vmo_settings *s, size_t size);

/** @brief Random bytes for tokens (the host's CSPRNG); 0 on success.
 *  @since 0.1.0 */
typedef int (*smbx_vmo_random_fn)(void *user_data, uint8_t *buf, size_t len);

/** @brief Create a table. Everything is allocated here (no allocation
 *  later but per object at smbx_vmo_create()); `random` also seeds the
 *  table's hash index.
 *  @param t transport whose register_mr / deregister_mr register the
 *         blocks (the server's SMB Direct transport); copied
 *  @param random token source (required); @param random_user its argument
 *  @return 0; SMBX_ERR_INVAL (NULL, bad namespace, zero limits);
 *          SMBX_ERR_NOMEM; SMBX_ERR_TRANSPORT (random failed).
 *  @since 0.1.0 */
SMBX_API int smbx_vmo_new(smbx_vmo_table **out, const smbx_vmo_settings *s,
                          const smbx_transport *t, smbx_vmo_random_fn random,
                          void *random_user, const smbx_allocator *a);
/** @brief Free the table; every live registration is deregistered (the
 *  host must have ended all I/O first). @since 0.1.0 */
SMBX_API void smbx_vmo_free(smbx_vmo_table *tbl);

/** @brief One host memory block of an object. @since 0.1.0 */
typedef struct smbx_vmo_block {
  void *addr;
  size_t length; /**< > 0, at most 4 GiB - 1 */
} smbx_vmo_block;

/** Longest user identity an object names (= SMBX_SERVER_USER_MAX).
 *  @since 0.1.0 */
#define SMBX_VMO_USER_MAX SMBX_SERVER_USER_MAX

/** @brief A user allowed to open an object: the opaque identity the host
 *  names for a session with smbx_server_session_user() (a SID,
 *  "DOMAIN\user", ...), compared byte for byte. @since 0.1.0 */
typedef struct smbx_vmo_user {
  const uint8_t *id;
  size_t len; /**< 1..SMBX_VMO_USER_MAX */
} smbx_vmo_user;

/** @brief What to bind. Who may open it: any of `sessions`, or any session
 *  whose user is one of `users` (at least one entry in all).
 *  @since 0.1.0 */
typedef struct smbx_vmo_spec {
  size_t struct_size;
  const smbx_vmo_block *blocks; /**< in object order; copied */
  size_t n_blocks;              /**< 1..max_blocks */
  uint32_t access;              /**< SMBX_VMO_READ | SMBX_VMO_WRITE */
  const uint64_t *sessions;     /**< wire SessionIds allowed to open */
  size_t n_sessions;            /**< 0..max_sessions */
  uint64_t cookie;              /**< the host's, given back in events */
  const smbx_vmo_user *users;   /**< users allowed to open (copied); a
                                     guest or anonymous session has no user
                                     and never matches one */
  size_t n_users;               /**< 0..max_users */
} smbx_vmo_spec;

/** @brief Create an object: registers each block (LOCAL_WRITE: RDMA READ
 *  targets) and the object's dirty record (see smbx_vmo_dirty_read()),
 *  draws a 128-bit token and makes its path. Allocates the block,
 *  session and user arrays, 4 bytes per page and the dirty record.
 *  The object's length is the sum of the block lengths.
 *  @param id set to the object's id (never 0)
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_LIMIT (table full); SMBX_ERR_NOMEM;
 *          SMBX_ERR_TRANSPORT (register_mr or random failed: nothing
 *          stays registered). @since 0.1.0 */
SMBX_API int smbx_vmo_create(smbx_vmo_table *tbl, const smbx_vmo_spec *spec,
                             uint64_t *id);

/** @brief The object's path, share-relative ("namespace\\token"), in UTF-8
 *  (not NUL-terminated) and UTF-16LE; either output may be NULL.
 *  @return 0; SMBX_ERR_NOTFOUND; SMBX_ERR_NOBUF (a capacity too small;
 *          the lengths are set). @since 0.1.0 */
SMBX_API int smbx_vmo_path(const smbx_vmo_table *tbl, uint64_t id,
                           char *utf8, size_t utf8_cap, size_t *utf8_len,
                           uint8_t *utf16, size_t utf16_cap,
                           size_t *utf16_len);

/** @brief Reduce (or restore) the access rights. Opens granted a right
 *  the object no longer has fail every new request with FILE_CLOSED.
 *  @return 0; SMBX_ERR_NOTFOUND; SMBX_ERR_STATE (revoked). @since 0.1.0 */
SMBX_API int smbx_vmo_set_access(smbx_vmo_table *tbl, uint64_t id,
                                 uint32_t access);

/** @brief Revoke: the path stops existing, new requests on its opens fail
 *  with FILE_CLOSED. SMBX_VMO_EV_RELEASED follows once no transfer names
 *  the blocks (at once when none does); until then the blocks stay
 *  registered and must stay valid.
 *  @return 0; SMBX_ERR_NOTFOUND (unknown or already revoked).
 *  @since 0.1.0 */
SMBX_API int smbx_vmo_destroy(smbx_vmo_table *tbl, uint64_t id);

/** @brief Mark [offset, offset+len) dirty (the pages it touches) in the
 *  object's current generation (see smbx_vmo_dirty_read()).
 *  @return 0; SMBX_ERR_INVAL (len 0); SMBX_ERR_RANGE (past the end);
 *          SMBX_ERR_NOTFOUND. @since 0.1.0 */
SMBX_API int smbx_vmo_mark_dirty(smbx_vmo_table *tbl, uint64_t id,
                                 uint64_t offset, uint64_t len);

/** @brief Bytes of the object; 0 when unknown. @since 0.1.0 */
SMBX_API uint64_t smbx_vmo_size(const smbx_vmo_table *tbl, uint64_t id);

/* ---- requests (standalone use; smbx_server_vmo_route() uses these) ---- */

/** Suffix of an object's path naming its read-only dirty stream.
 *  @since 0.1.0 */
#define SMBX_VMO_DIRTY_SUFFIX ":dirty"
/** Bytes before the bitmap in a dirty record. @since 0.1.0 */
#define SMBX_VMO_DIRTY_HEADER 16u

/** @brief Is this share-relative UTF-16LE name in the namespace (the
 *  namespace directory itself or anything under it)? @since 0.1.0 */
SMBX_API bool smbx_vmo_in_namespace(const smbx_vmo_table *tbl,
                                    const uint8_t *name, size_t len);

/** @brief Open by name (the object's path, or the path followed by
 *  SMBX_VMO_DIRTY_SUFFIX for its dirty stream, which is read-only).
 *  `want` is SMBX_VMO_READ/WRITE as the peer asked.
 *  @param session the opener's wire SessionId
 *  @param user,user_len the user the host named for that session
 *         (smbx_server_session_user()); NULL/0 for a guest, anonymous or
 *         unnamed session, which matches no user entry
 *  @param open set to the open's handle (never 0)
 *  @return an NTSTATUS: SUCCESS; OBJECT_NAME_NOT_FOUND (not in the
 *          namespace, malformed, unknown, revoked, or neither `session`
 *          nor `user` allowed: indistinguishable); ACCESS_DENIED (a right
 *          the object lacks); INSUFFICIENT_RESOURCES (open table full).
 *  @since 0.1.0 */
SMBX_API uint32_t smbx_vmo_open(smbx_vmo_table *tbl, const uint8_t *name,
                                size_t len, uint64_t session,
                                const uint8_t *user, size_t user_len,
                                uint32_t want, uint64_t *open);

/** @brief Map [offset, offset+len) of an open onto the blocks: one element
 *  per contiguous piece (the block's registration handle), at most
 *  max_sge (a READ is cut short there, a WRITE is refused).
 *  READ: clipped at the end of the object; nothing left = END_OF_FILE.
 *  WRITE: past the end = DISK_FULL (nothing mapped).
 *  With `pin` non-NULL a successful map is a transfer in flight on the
 *  object until smbx_vmo_unpin(*pin) (revocation waits for it).
 *  @param sg,cap output elements; @param n, @param bytes set on SUCCESS
 *  @param pin NULL (the caller is done with the memory before it returns
 *         to the table: inline I/O) or set to the pin's handle
 *  @return an NTSTATUS: SUCCESS; FILE_CLOSED (unknown open, revoked, or
 *          the right gone); ACCESS_DENIED (not opened for it); END_OF_FILE;
 *          DISK_FULL; INVALID_PARAMETER (WRITE needing more than cap
 *          pieces); INSUFFICIENT_RESOURCES (no pin left).
 *  @since 0.1.0 */
SMBX_API uint32_t smbx_vmo_map(smbx_vmo_table *tbl, uint64_t open,
                               bool is_write, uint64_t offset, uint64_t len,
                               smbx_sge *sg, size_t cap, size_t *n,
                               uint64_t *bytes, uint64_t *pin);

/** @brief A pinned transfer ended (completed or failed; the memory is no
 *  longer named by any posted operation); the last one of a revoked
 *  object queues SMBX_VMO_EV_RELEASED.
 *  @return 0; SMBX_ERR_NOTFOUND (stale pin). @since 0.1.0 */
SMBX_API int smbx_vmo_unpin(smbx_vmo_table *tbl, uint64_t pin);

/** @brief Close an open (its pins, if any, still count until unpinned).
 *  @return 0; SMBX_ERR_NOTFOUND. @since 0.1.0 */
SMBX_API int smbx_vmo_close(smbx_vmo_table *tbl, uint64_t open);

/** @name Kinds of opens (smbx_vmo_open_info) @{ */
#define SMBX_VMO_OPEN_DATA 1u  /**< the object's memory */
#define SMBX_VMO_OPEN_DIRTY 2u /**< its dirty stream */
/** @} */

/** @brief The object an open belongs to, the size its QUERY_INFO reports
 *  (the object's; for the dirty stream the record's) and its kind; any
 *  output may be NULL.
 *  @return an NTSTATUS: SUCCESS; FILE_CLOSED. @since 0.1.0 */
SMBX_API uint32_t smbx_vmo_open_info(const smbx_vmo_table *tbl, uint64_t open,
                                     uint64_t *id, uint64_t *size,
                                     uint32_t *kind);

/** @brief READ of the dirty stream at offset `generation` (G).
 *
 *  Every page carries the generation it was last marked dirty in. The
 *  record built (little-endian) is: u64 generation C (the object's
 *  current one: read at C next), u32 page_size, u32 page_count, then a
 *  bitmap of ceil(page_count / 8) bytes, page i in byte i / 8, bit i % 8
 *  (least significant first), set when page i was marked dirty in a
 *  generation after G. The object then moves to generation C + 1, so a
 *  page marked while (or after) this record is sent shows up when reading
 *  at C. Reading at G again (a lost response) reports everything since G
 *  again: nothing is lost; a generation needs no state once read past.
 *  The first generation is 1; reading at 0 reports every page ever marked.
 *
 *  The record is built into the object's registered buffer; `sg` names it.
 *  With `pin` non-NULL it stays the transfer's until smbx_vmo_unpin(), and
 *  another dirty READ meanwhile fails INSUFFICIENT_RESOURCES; without, the
 *  caller copies it before the table is used again.
 *  @return an NTSTATUS: SUCCESS; FILE_CLOSED; ACCESS_DENIED (not a dirty
 *          open); INVALID_PARAMETER (G after C); BUFFER_TOO_SMALL (len
 *          below the record: nothing changes); INSUFFICIENT_RESOURCES.
 *  @since 0.1.0 */
SMBX_API uint32_t smbx_vmo_dirty_read(smbx_vmo_table *tbl, uint64_t open,
                                      uint64_t generation, uint64_t len,
                                      smbx_sge *sg, uint64_t *bytes,
                                      uint64_t *pin);

/** @name Table events @{ */
#define SMBX_VMO_EV_RELEASED 1u /**< a revoked object's blocks are the
                                     host's again (deregistered) */
/** @} */

/** @brief A table event. @since 0.1.0 */
typedef struct smbx_vmo_event {
  size_t struct_size;
  uint32_t type;   /**< SMBX_VMO_EV_* */
  uint32_t reserved;
  uint64_t id;     /**< the object */
  uint64_t cookie; /**< smbx_vmo_spec.cookie */
} smbx_vmo_event;

/** @brief Next event. @return 1 (ev filled); 0 (none); SMBX_ERR_INVAL.
 *  @since 0.1.0 */
SMBX_API int smbx_vmo_next_event(smbx_vmo_table *tbl, smbx_vmo_event *ev);

/** @brief Connections with a transfer in flight on object id (live or
 *  revoked), as smbx_server_vmo_route() recorded them. To end a revocation
 *  stuck behind an operation that never completes, the host tears those
 *  connections down (QP to error: verbs cannot cancel one operation); the
 *  flush completions end the transfers, which unpins them.
 *  @param conns,cap output (may be NULL with cap 0)
 *  @return how many there are (more than cap: only cap written);
 *          SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND. @since 0.1.0 */
SMBX_API int smbx_vmo_pinned_conns(const smbx_vmo_table *tbl, uint64_t id,
                                   uint64_t *conns, size_t cap);

/** @brief Table counters (tests, benchmarks). @since 0.1.0 */
typedef struct smbx_vmo_stats {
  size_t struct_size;
  uint32_t objects, opens, pins; /**< live now */
  uint32_t revoked_waiting;      /**< revoked, blocks not yet released */
  uint64_t refused;              /**< requests failed FILE_CLOSED */
} smbx_vmo_stats;

/** @brief Fill counters. @return 0; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_vmo_stats_get(const smbx_vmo_table *tbl, smbx_vmo_stats *o);

/* ---- through the server node (lib/server/vmo_glue.c) ------------------ */

/** @brief Offer one server event to the memory objects before the host
 *  handles it. Answered here (returns 1; the host must not touch it):
 *  REQUESTs CREATE of a name in the namespace, READ/WRITE/QUERY_INFO/CLOSE
 *  of a FileId smbx_vmo opened; SMBX_EV_RDMA_DONE of a transfer this call
 *  started. READ/WRITE with an RDMA channel move data by
 *  smbx_server_rdma_push()/_pull() straight from/to the blocks; inline
 *  ones are copied once (into the send buffer, or from the request into
 *  the block). FileIds of memory objects have persistent_id
 *  SMBX_VMO_FILEID_TAG: a host must not hand out that value.
 *  @return 1 answered; 0 the host's; SMBX_ERR_INVAL; a node error from
 *          answering (the connection's sticky code). @since 0.1.0 */
SMBX_API int smbx_server_vmo_route(smbx_server *srv, smbx_vmo_table *tbl,
                                   const smbx_event *ev, uint64_t now_ns);

/** FileId.persistent_id of every memory-object open. @since 0.1.0 */
#define SMBX_VMO_FILEID_TAG 0x4F4D56786278736Dull

#ifdef __cplusplus
}
#endif
#endif
