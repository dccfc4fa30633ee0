/* SPDX-License-Identifier: MIT */
/** @file smbx/lease_client.h
 *  @brief Client side of leasing (leases.md sec. 4): the client lease
 *         table and the directory metadata cache, standalone
 *         (::smbx_lease_client, its own event queue) and wired into the
 *         client node (smbx_client_leases_enable() and the
 *         smbx_client_lease_* / smbx_client_dir_* calls).
 *
 *  **Lease table.** One random 16-byte key per object path per scope (a
 *  server and a share), reused by every open of that path, so a cached
 *  handle or cached metadata serves any application of this client.
 *  smbx_lease_client_request() builds the RqLs data for a CREATE (v2 on
 *  3.x with the parent directory's key when it is leased, v1 on 2.1);
 *  smbx_lease_client_granted() records the response. A break
 *  (smbx_lease_client_break()) for a key whose CREATE response is still
 *  outstanding is queued and applied right after that response. Stale
 *  breaks (3.x: NewEpoch behind the stored epoch in u16 serial order) keep
 *  the state; an equal epoch is a follow-up step of the current break
 *  cycle and is applied; an epoch more than one ahead (a missed change)
 *  purges the caches.
 *
 *  **What a break asks of the host** (SMBX_LEASE_ACT_*): FLUSH (W lost:
 *  write back dirty data and cached locks, and a directory's write-back
 *  log), CLOSE_HANDLES (H lost: really close deferred handles), PURGE (R
 *  lost: drop cached data; the table drops its directory listing itself).
 *  When the host has marked the lease as holding something that needs
 *  work (smbx_lease_client_set_cached()), the ack waits for
 *  smbx_lease_client_break_done(); otherwise the break settles at once and
 *  the event says so (SMBX_LEASE_CEVF_SETTLED, ack state included).
 *
 *  **Directory cache.** Under a directory lease with R, a complete
 *  enumeration (fill_begin / fill_add... / fill_end at NO_MORE_FILES) is
 *  kept with every entry's FileIdBothDirectoryInformation fields, and
 *  later enumerations and name lookups (including authoritative "not
 *  found") are answered from it, case-insensitively unless the scope says
 *  the server's file system is case-sensitive. A listing expires after
 *  dir_max_age_ns (host time) even under a lease. The cache is bounded by
 *  entries and bytes; whole listings are evicted least recently used
 *  first. Under W the host's own creates / deletes / attribute changes go
 *  into the listing and into an ordered write-back log.
 *
 *  All names and paths are UTF-16LE, share-relative, components separated
 *  by backslash, no leading backslash ("" is the share root).
 */
#ifndef SMBX_LEASE_CLIENT_H
#define SMBX_LEASE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <smbx/client.h>
#include <smbx/smb2_file.h>
#include <smbx/smb2_io.h>
#include <smbx/smbx.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque client lease table with its directory cache. @since 0.1.0 */
typedef struct smbx_lease_client smbx_lease_client;

/** @brief Client lease table settings; fill with
 *  smbx_lease_client_settings_default(). @since 0.1.0 */
typedef struct smbx_lease_client_settings {
  size_t struct_size;
  uint32_t max_leases;      /**< lease entries (files and directories): 4096 */
  uint32_t max_scopes;      /**< server+share pairs: 64 */
  uint32_t max_dir_entries; /**< cached entries over all listings: 65536 */
  uint32_t reserved;
  uint64_t max_dir_bytes;   /**< bytes of cached listings: 16 MiB */
  uint64_t dir_max_age_ns;  /**< lifetime of a listing, even under a lease:
                                 30 s; 0 disables the directory cache */
  uint8_t key_seed[16];     /**< mixed into generated keys (fill it from the
                                 host's random source): zero */
} smbx_lease_client_settings;

/** @name Flags of smbx_lease_client_request() and scopes
 *  @{ */
#define SMBX_LEASE_REQ_DIR 0x1u /**< the object is a directory */
#define SMBX_LEASE_REQ_DIR_WRITE 0x2u /**< with REQ_DIR: ask RWH (only a
                                           server that grants directory W,
                                           e.g. smbx-server's opt-in
                                           setting, gives it) */
#define SMBX_LEASE_SCOPE_CASE_SENSITIVE 0x1u /**< FILE_CASE_SENSITIVE_SEARCH
                                                  in the server's
                                                  FileFsAttributeInformation */
/** @} */

/** @name Break actions (smbx_lease_client_event.actions)
 *  @{ */
#define SMBX_LEASE_ACT_FLUSH 0x1u         /**< W lost: write back */
#define SMBX_LEASE_ACT_CLOSE_HANDLES 0x2u /**< H lost: close deferred handles */
#define SMBX_LEASE_ACT_PURGE 0x4u         /**< R lost: drop cached data */
/** @} */

/** @name What the host caches under a lease (smbx_lease_client_set_cached)
 *  @{ */
#define SMBX_LEASE_CACHED_DIRTY 0x1u   /**< dirty data or cached locks */
#define SMBX_LEASE_CACHED_HANDLES 0x2u /**< handles closed by the
                                            application, kept open */
/** @} */

/** @name Event types and flags
 *  @{ */
#define SMBX_LEASE_CEV_BREAK 1u      /**< a break to act on (or settled) */
#define SMBX_LEASE_CEV_INVALIDATE 2u /**< a directory listing was dropped */
#define SMBX_LEASE_CEVF_ACK 0x1u     /**< an ack is owed (ACK_REQUIRED) */
#define SMBX_LEASE_CEVF_SETTLED 0x2u /**< nothing to wait for: the state is
                                         `to` now; ack with ack_state at
                                         once when CEVF_ACK */
#define SMBX_LEASE_CEVF_STALE 0x4u   /**< NewEpoch behind: state kept */
#define SMBX_LEASE_CEVF_EPOCH_GAP 0x8u /**< a change was missed: purged */
#define SMBX_LEASE_CEVF_DIR 0x10u    /**< the lease is on a directory */
#define SMBX_LEASE_CEVF_WAIT_FLUSH 0x20u /**< not settled: dirty data or a
                                              write-back log to flush */
#define SMBX_LEASE_CEVF_WAIT_HANDLES 0x40u /**< not settled: deferred
                                                handles to close */
/** @} */

/** @name Why a listing was dropped (smbx_lease_client_event.reason)
 *  @{ */
#define SMBX_LEASE_INVAL_BREAK 1u   /**< R lost */
#define SMBX_LEASE_INVAL_EXPIRED 2u /**< dir_max_age_ns passed */
#define SMBX_LEASE_INVAL_EVICTED 3u /**< cache bounds (LRU) */
#define SMBX_LEASE_INVAL_EPOCH 4u   /**< epoch gap or unsettled state */
#define SMBX_LEASE_INVAL_LOST 5u    /**< the connection holding the lease
                                         went away */
/** @} */

/** @brief One event of the standalone table (also carried by the node's
 *  SMBX_EV_LEASE_BREAK / SMBX_EV_DIR_INVALIDATE in u.lease).
 *  @since 0.1.0 */
typedef struct smbx_lease_client_event {
  size_t struct_size;
  uint32_t type;      /**< SMBX_LEASE_CEV_* */
  uint32_t flags;     /**< SMBX_LEASE_CEVF_* */
  uint8_t key[16];    /**< the lease key */
  uint32_t scope;
  uint32_t from, to;  /**< lease states before / after the break */
  uint32_t actions;   /**< SMBX_LEASE_ACT_* */
  uint32_t ack_state; /**< with CEVF_SETTLED|CEVF_ACK: the state to ack */
  uint32_t reason;    /**< INVALIDATE: SMBX_LEASE_INVAL_* */
  uint16_t epoch;     /**< NewEpoch of the notification */
  uint16_t reserved;
  uint64_t owner;     /**< the cookie given to smbx_lease_client_request() */
} smbx_lease_client_event;

/** @brief Fill s with the defaults and store struct_size.
 *  @return 0; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_lease_client_settings_default(smbx_lease_client_settings *s,
                                                size_t struct_size);

/** @brief Create a table (all memory for leases and scopes allocated now;
 *  listings allocate as they fill). Copies s and a.
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOMEM. @since 0.1.0 */
SMBX_API int smbx_lease_client_new(smbx_lease_client **out,
                                   const smbx_lease_client_settings *s,
                                   const smbx_allocator *a, uint64_t now_ns);
/** @brief Free the table. NULL is a no-op. @since 0.1.0 */
SMBX_API void smbx_lease_client_free(smbx_lease_client *lc);

/** @brief The scope of a server (its ServerGuid) and share (any bytes
 *  naming it, e.g. the UTF-8 share name, compared exactly); the same pair
 *  gives the same scope. @param flags SMBX_LEASE_SCOPE_*, replacing the
 *  scope's flags
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_LIMIT (max_scopes); SMBX_ERR_RANGE
 *          (share longer than 255 bytes); SMBX_ERR_STATE (other flags
 *          once the scope has keys: the case rule names the paths).
 *  @since 0.1.0 */
SMBX_API int smbx_lease_client_scope(smbx_lease_client *lc,
                                     const uint8_t server_guid[16],
                                     const uint8_t *share, size_t share_len,
                                     uint32_t flags, uint32_t *scope);

/** @brief RqLs data for a CREATE of `path` in `scope`: the path's key
 *  (created on first use), state RWH (files) or RH (directories; RWH
 *  with SMBX_LEASE_REQ_DIR_WRITE), v2 with the stored epoch and, when the
 *  parent directory
 *  has a lease, its key with PARENT_LEASE_KEY_SET on 3.x; v1 on 2.1.
 *  Counts one CREATE outstanding for the key until
 *  smbx_lease_client_granted().
 *  @param dialect, caps the connection's dialect and capabilities
 *  @param owner a cookie carried by the key's events
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_UNSUPPORTED (2.0.2 or no LEASING;
 *          a directory without 3.x DIRECTORY_LEASING); SMBX_ERR_LIMIT
 *          (every entry holds a lease or an outstanding CREATE);
 *          SMBX_ERR_RANGE (path over 2048 bytes or odd). @since 0.1.0 */
SMBX_API int smbx_lease_client_request(smbx_lease_client *lc, uint32_t scope,
                                       const uint8_t *path, size_t path_len,
                                       uint32_t flags, uint16_t dialect,
                                       uint32_t caps, uint64_t owner,
                                       smbx_smb2_lease *out);

/** @brief The CREATE response for a key from smbx_lease_client_request():
 *  `resp` is its decoded RqLs (NULL: the CREATE failed or the server
 *  granted no lease, state 0). Applies a break queued meanwhile. With
 *  BREAK_IN_PROGRESS the lease is unsettled until the break comes, unless
 *  that break was applied already (the CREATE went out before its ack;
 *  3.x: a break of the response's epoch or later): then the break's
 *  target stays the state.
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND (unknown key);
 *          SMBX_ERR_STATE (no CREATE outstanding for it). @since 0.1.0 */
SMBX_API int smbx_lease_client_granted(smbx_lease_client *lc,
                                       const uint8_t key[16],
                                       const smbx_smb2_lease *resp,
                                       uint64_t now_ns);

/** @brief A lease break notification (decoded with
 *  smbx_smb2_decode_lease_break_notify()); reserved fields, BreakReason
 *  and the hints are ignored.
 *  @param dialect the connection's dialect (epochs count on 3.x)
 *  @return 1 an SMBX_LEASE_CEV_BREAK was queued; 0 ignored (unknown key:
 *          no ack); 2 queued until the CREATE response for the key;
 *          SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_lease_client_break(smbx_lease_client *lc,
                                     const smbx_smb2_lease_break_notify *n,
                                     uint16_t dialect, uint64_t now_ns);

/** @brief The host finished the actions of a break that was not settled.
 *  @param ack_state out: the state to acknowledge
 *  @return 1 an ack is owed (send it with *ack_state); 0 none;
 *          SMBX_ERR_NOTFOUND; SMBX_ERR_STATE (no break waiting).
 *  @since 0.1.0 */
SMBX_API int smbx_lease_client_break_done(smbx_lease_client *lc,
                                          const uint8_t key[16],
                                          uint64_t now_ns,
                                          uint32_t *ack_state);

/** @brief The connection (or session) the leases of `owner` were
 *  obtained through is gone, and the server drops leases with their opens:
 *  their state becomes 0, listings are dropped (INVALIDATE, reason LOST),
 *  breaks waiting for the host are forgotten. Keys and write-back logs
 *  stay (a later open reuses the key; the log can still be written back).
 *  @return leases affected; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_lease_client_lost(smbx_lease_client *lc, uint64_t owner,
                                    uint64_t now_ns);

/** @brief Mark what the host caches under a key: SMBX_LEASE_CACHED_*
 *  bits in `set` are added, those in `clear` removed (the client node
 *  keeps CACHED_HANDLES itself for the directory handles it defers).
 *  @return 0; SMBX_ERR_NOTFOUND; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_lease_client_set_cached(smbx_lease_client *lc,
                                          const uint8_t key[16], uint32_t set,
                                          uint32_t clear);

/** @brief Current state of a key. @return 0; SMBX_ERR_NOTFOUND.
 *  @since 0.1.0 */
SMBX_API int smbx_lease_client_state(const smbx_lease_client *lc,
                                     const uint8_t key[16], uint32_t *state,
                                     uint16_t *epoch);

/** @brief The key of a path in a scope, if it has one.
 *  @return 0; SMBX_ERR_NOTFOUND; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_lease_client_key(const smbx_lease_client *lc,
                                   uint32_t scope, const uint8_t *path,
                                   size_t path_len, uint8_t key[16]);

/** @brief Next event. @return 1, 0, SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_lease_client_next_event(smbx_lease_client *lc,
                                          smbx_lease_client_event *ev);

/** @brief Next listing expiry (UINT64_MAX: none). @since 0.1.0 */
SMBX_API uint64_t smbx_lease_client_expiry(const smbx_lease_client *lc);
/** @brief Drop expired listings (INVALIDATE events).
 *  @return listings dropped; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_lease_client_handle_expiry(smbx_lease_client *lc,
                                             uint64_t now_ns);

/** @brief Start (again) an enumeration of a leased directory: the old
 *  listing is dropped. Only under R, with no break outstanding.
 *  @return 0; SMBX_ERR_NOTFOUND; SMBX_ERR_STATE (no R, breaking,
 *          unsettled, or the cache is disabled). @since 0.1.0 */
SMBX_API int smbx_lease_client_dir_fill_begin(smbx_lease_client *lc,
                                              const uint8_t key[16],
                                              uint64_t now_ns);
/** @brief Add one entry (copied) to the enumeration in progress.
 *  @return 0; SMBX_ERR_STATE (no fill in progress: a break or the bounds
 *          ended it); SMBX_ERR_LIMIT (the listing alone exceeds the bounds:
 *          the fill is abandoned); SMBX_ERR_NOMEM; SMBX_ERR_RANGE (odd
 *          name or over 510 bytes); SMBX_ERR_NOTFOUND. @since 0.1.0 */
SMBX_API int smbx_lease_client_dir_fill_add(smbx_lease_client *lc,
                                            const uint8_t key[16],
                                            const smbx_smb2_dir_entry *e);
/** @brief The enumeration reached STATUS_NO_MORE_FILES: the listing is
 *  complete, compacted into its snapshot block, and served from now on.
 *  @return 0; SMBX_ERR_STATE; SMBX_ERR_NOTFOUND; SMBX_ERR_NOMEM or
 *          SMBX_ERR_LIMIT (a block over 4 GiB): the listing is not kept.
 *  @since 0.1.0 */
SMBX_API int smbx_lease_client_dir_fill_end(smbx_lease_client *lc,
                                            const uint8_t key[16],
                                            uint64_t now_ns);

/** @brief Enumerate a cached listing: *cursor 0 starts; e's names point
 *  into the cache until the next call that changes the table.
 *  @return 1 an entry; 0 the end; SMBX_ERR_NOTFOUND (no valid listing:
 *          ask the server). @since 0.1.0 */
SMBX_API int smbx_lease_client_dir_next(smbx_lease_client *lc,
                                        const uint8_t key[16],
                                        uint64_t now_ns, uint32_t *cursor,
                                        smbx_smb2_dir_entry *e);
/** @brief Look a child up by name (case rule of the scope).
 *  @return 1 found (e filled); 0 authoritatively absent; SMBX_ERR_NOTFOUND
 *          (no valid listing: ask the server). @since 0.1.0 */
SMBX_API int smbx_lease_client_dir_lookup(smbx_lease_client *lc,
                                          const uint8_t key[16],
                                          const uint8_t *name, size_t len,
                                          uint64_t now_ns,
                                          smbx_smb2_dir_entry *e);

/** @brief One entry of a directory snapshot (smbx_lease_client_dir_snapshot):
 *  the FileIdBothDirectoryInformation fields at a fixed stride (the other
 *  classes' fields are subsets). The UTF-16LE name is name_len bytes at
 *  smbx_lease_dir_entry_name(), the short name short_len bytes right
 *  after it. 80 bytes. @since 0.1.0 */
typedef struct smbx_lease_dir_entry {
  uint64_t creation_time, last_access_time, last_write_time, change_time;
  uint64_t end_of_file, allocation_size, file_id;
  uint32_t file_index, file_attributes, ea_size;
  uint32_t name_off;  /**< bytes from this entry to its name */
  uint16_t name_len;  /**< bytes of the name */
  uint8_t short_len;  /**< bytes of the short name */
  uint8_t reserved;
  uint32_t name_hash; /**< the cache's index hash of the name */
} smbx_lease_dir_entry;

/** @brief The name of a snapshot entry (name_len bytes, UTF-16LE).
 *  @since 0.1.0 */
static inline const uint8_t *
smbx_lease_dir_entry_name(const smbx_lease_dir_entry *e)
{
  return (const uint8_t *)e + e->name_off;
}

/** @brief A cached listing as one immutable block: `count` entries at
 *  `entries[0..count-1]` in server order, names inside the same block.
 *  Taking it copies nothing and allocates nothing (a reference on the
 *  block the cache built when the listing was filled); the block stays
 *  valid and unchanged until smbx_lease_client_dir_release(), even when a
 *  break, expiry or eviction drops the listing meanwhile (the snapshot is
 *  the listing as of when it was taken; no snapshot taken after the drop
 *  serves it). Held blocks the cache dropped still count in the byte
 *  bound (stats snapshot_bytes) until released. @since 0.1.0 */
typedef struct smbx_lease_dir_snapshot {
  size_t struct_size;
  const smbx_lease_dir_entry *entries;
  uint32_t count;
  uint32_t reserved;
  uint64_t filled_at; /**< host time the listing was complete */
  void *ref;          /**< the block reference (NULL: none held) */
} smbx_lease_dir_snapshot;

/** @brief Take a snapshot of a directory's cached listing (same validity
 *  rules as smbx_lease_client_dir_next(): R held, settled, younger than
 *  dir_max_age_ns). After own changes (smbx_lease_client_dir_update) the
 *  first snapshot builds a new block (one allocation; a change of the
 *  table: names from earlier dir_next/dir_lookup calls go); otherwise
 *  none.
 *  @return 0 (*snap filled, release it); SMBX_ERR_NOTFOUND (no valid
 *          listing: ask the server); SMBX_ERR_NOMEM; SMBX_ERR_LIMIT (a
 *          block over 4 GiB, or 2^32 - 1 references held on it);
 *          SMBX_ERR_INVAL (struct_size unset).
 *  @since 0.1.0 */
SMBX_API int smbx_lease_client_dir_snapshot(smbx_lease_client *lc,
                                            const uint8_t key[16],
                                            uint64_t now_ns,
                                            smbx_lease_dir_snapshot *snap);
/** @brief Drop a snapshot's reference (the block is freed with its last
 *  one); clears *snap. Every snapshot must be released before the table
 *  (or its client node) is freed. A cleared snapshot is a no-op.
 *  @since 0.1.0 */
SMBX_API void smbx_lease_client_dir_release(smbx_lease_client *lc,
                                            smbx_lease_dir_snapshot *snap);

/** @name Own changes (smbx_lease_client_dir_update)
 *  @{ */
#define SMBX_LEASE_OWN_ADD 1u     /**< child created (or replaced) */
#define SMBX_LEASE_OWN_REMOVE 2u  /**< child deleted */
#define SMBX_LEASE_OWN_SETATTR 3u /**< child attributes/times/size set */
/** @} */

/** @brief A change made through this client (an open carrying the
 *  directory's key as ParentLeaseKey, so the server does not break it):
 *  applied to the listing; under W also appended to the write-back log.
 *  Without a valid listing nothing is cached (returns 0).
 *  @return 1 applied to the listing (2: and logged); 0; SMBX_ERR_NOTFOUND
 *          (key; or REMOVE/SETATTR of a name not listed: the listing is
 *          dropped); SMBX_ERR_NOMEM; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_lease_client_dir_update(smbx_lease_client *lc,
                                          const uint8_t key[16], uint32_t op,
                                          const smbx_smb2_dir_entry *e,
                                          uint64_t now_ns);
/** @brief Oldest change not yet written back (W only), in order.
 *  @return 1 (op and e filled, names valid until the next change); 0
 *          none; SMBX_ERR_NOTFOUND. @since 0.1.0 */
SMBX_API int smbx_lease_client_dir_log_peek(smbx_lease_client *lc,
                                            const uint8_t key[16],
                                            uint32_t *op,
                                            smbx_smb2_dir_entry *e);
/** @brief The oldest logged change was written back: drop it.
 *  @return 0; SMBX_ERR_NOTFOUND (none). @since 0.1.0 */
SMBX_API int smbx_lease_client_dir_log_pop(smbx_lease_client *lc,
                                           const uint8_t key[16]);

/** @brief Memory accounting (bench, tests). @since 0.1.0 */
typedef struct smbx_lease_client_stats {
  size_t struct_size;
  uint32_t leases;        /**< entries in use */
  uint32_t listings;      /**< complete listings */
  uint64_t entries;       /**< cached entries */
  uint64_t bytes;         /**< bytes of cached entries and their indexes */
  uint64_t bytes_per_lease; /**< one lease record (the path apart) */
  uint64_t index_bytes_per_lease; /**< its share of the key and path
                                       indexes (sized at new) */
  uint64_t hits, misses;  /**< served from cache / not */
  uint64_t snapshots;     /**< snapshots not yet released */
  uint64_t snapshot_bytes; /**< bytes of blocks the cache dropped that
                                snapshots still hold (part of bytes) */
} smbx_lease_client_stats;
/** @return 0; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_lease_client_get_stats(const smbx_lease_client *lc,
                                         smbx_lease_client_stats *st);

/* ---- the client node ------------------------------------------------- */

/** @brief Give the node a lease table (settings as above; the node fills
 *  key_seed from its random hook). From then on: lease break
 *  notifications are consumed by the node and come out as
 *  SMBX_EV_LEASE_BREAK (u.lease), acked by the node itself when settled
 *  or after smbx_client_lease_break_done(); dropped listings come out as
 *  SMBX_EV_DIR_INVALIDATE. Oplock breaks still come as SMBX_EV_BREAK.
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_STATE (already enabled);
 *          SMBX_ERR_NOMEM. @since 0.1.0 */
SMBX_API int smbx_client_leases_enable(smbx_client *cli,
                                       const smbx_lease_client_settings *s,
                                       uint64_t now_ns);
/** @brief The node's table (lookups, marks); NULL before enable.
 *  @since 0.1.0 */
SMBX_API smbx_lease_client *smbx_client_lease_table(smbx_client *cli);

/** @brief The scope of a server (the ServerGuid of SMBX_EV_NEGOTIATED,
 *  u.negotiated.guid) and a share name (UTF-8).
 *  @return as smbx_lease_client_scope(); SMBX_ERR_STATE (not enabled).
 *  @since 0.1.0 */
SMBX_API int smbx_client_lease_scope(smbx_client *cli,
                                     const uint8_t server_guid[16],
                                     const char *share, uint32_t flags,
                                     uint32_t *scope);

/** @brief CREATE with a lease: in->name is the path; the RqLs context
 *  from smbx_lease_client_request() is appended to in->contexts and
 *  RequestedOplockLevel set to LEASE. The response is delivered as usual
 *  (SMBX_EV_RESPONSE) after the node recorded the granted lease (and,
 *  for a directory, its FileId for smbx_client_dir_query()).
 *  @param flags SMBX_LEASE_REQ_DIR for a directory
 *  @return as smbx_client_create(); as smbx_lease_client_request().
 *  @since 0.1.0 */
SMBX_API int smbx_client_create_leased(smbx_client *cli, uint64_t conn,
                                       uint64_t session, uint32_t tree_id,
                                       uint32_t scope,
                                       const smbx_smb2_create_req *in,
                                       uint32_t flags, uint64_t now_ns,
                                       uint64_t *req);

/** @brief QUERY_DIRECTORY on a handle from smbx_client_create_leased():
 *  while the directory holds R, a pattern "*" enumeration (RESTART_SCANS
 *  or the handle's first) fills its listing from the responses, complete
 *  at STATUS_NO_MORE_FILES. @return as smbx_client_query_directory().
 *  @since 0.1.0 */
SMBX_API int smbx_client_dir_query(smbx_client *cli, uint64_t conn,
                                   uint64_t session, uint32_t tree_id,
                                   const smbx_smb2_query_directory_req *in,
                                   uint64_t now_ns, uint64_t *req);

/** @brief Close a handle from smbx_client_create_leased(). A directory
 *  handle whose lease holds H is kept open (deferred) and reused by
 *  smbx_client_dir_reopen(); it is closed by the node when H goes.
 *  @return 1 deferred (no request); 0 a CLOSE was sent (*req); as
 *          smbx_client_close(). @since 0.1.0 */
SMBX_API int smbx_client_dir_close(smbx_client *cli, uint64_t conn,
                                   uint64_t session, uint32_t tree_id,
                                   smbx_smb2_fileid file_id, uint64_t now_ns,
                                   uint64_t *req);
/** @brief Take a deferred directory handle of `path` back (any
 *  application of this node). @return 1 (*file_id, and *conn, *session,
 *  *tree_id it lives on); 0 none. @since 0.1.0 */
SMBX_API int smbx_client_dir_reopen(smbx_client *cli, uint32_t scope,
                                    const uint8_t *path, size_t path_len,
                                    uint64_t *conn, uint64_t *session,
                                    uint32_t *tree_id,
                                    smbx_smb2_fileid *file_id);

/** @brief Enumerate / look up a directory's cached listing by path.
 *  @return as smbx_lease_client_dir_next() / _dir_lookup().
 *  @since 0.1.0 */
SMBX_API int smbx_client_dir_next(smbx_client *cli, uint32_t scope,
                                  const uint8_t *path, size_t path_len,
                                  uint64_t now_ns, uint32_t *cursor,
                                  smbx_smb2_dir_entry *e);
/** @brief Snapshot of a directory's cached listing by path (see
 *  smbx_lease_client_dir_snapshot()); release it with
 *  smbx_client_dir_release(). @return as smbx_lease_client_dir_snapshot();
 *  SMBX_ERR_STATE (leases not enabled). @since 0.1.0 */
SMBX_API int smbx_client_dir_snapshot(smbx_client *cli, uint32_t scope,
                                      const uint8_t *path, size_t path_len,
                                      uint64_t now_ns,
                                      smbx_lease_dir_snapshot *snap);
/** @brief Release a snapshot from smbx_client_dir_snapshot().
 *  @since 0.1.0 */
SMBX_API void smbx_client_dir_release(smbx_client *cli,
                                      smbx_lease_dir_snapshot *snap);
/** @since 0.1.0 */
SMBX_API int smbx_client_dir_lookup(smbx_client *cli, uint32_t scope,
                                    const uint8_t *dir, size_t dir_len,
                                    const uint8_t *name, size_t name_len,
                                    uint64_t now_ns, smbx_smb2_dir_entry *e);

/** @brief The host finished a break's actions (SMBX_EV_LEASE_BREAK
 *  without SETTLED): the node sends the ack when one is owed.
 *  @return 1 ack sent; 0 none owed; SMBX_ERR_NOTFOUND; SMBX_ERR_STATE;
 *          as smbx_client_request(). @since 0.1.0 */
SMBX_API int smbx_client_lease_break_done(smbx_client *cli,
                                          const uint8_t key[16],
                                          uint64_t now_ns);

#ifdef __cplusplus
}
#endif

#endif /* SMBX_LEASE_CLIENT_H */
