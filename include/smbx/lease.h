/* SPDX-License-Identifier: MIT */
/** @file smbx/lease.h
 *  @brief Leases: the server lease manager (file and directory leases,
 *         oplocks) and the client lease table / directory cache.
 *
 *  Both halves are usable through a node (smbx/server.h, smbx/client.h)
 *  or standalone, each object with its own ordered event queue, by an
 *  appliance that has its own SMB2 stack. Nothing here does I/O or reads
 *  a clock: calls that change state take `now_ns`.
 *  Design notes: docs/leases.md. Spec digest: leases.md (shared/spec).
 */
#ifndef SMBX_LEASE_H
#define SMBX_LEASE_H

#include <stddef.h>
#include <stdint.h>

#include <smbx/smb2.h>
#include <smbx/smbx.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ==== Server: lease manager ============================================== */

/** Opaque server lease manager. One thread at a time. @since 0.1.0 */
typedef struct smbx_lease_mgr smbx_lease_mgr;

/** @name Lease manager settings flags (smbx_lease_settings.flags)
 *  @{ */
/** Grant W on directories to clients that ask for it (off: W is stripped,
 *  as Windows does). Another client's open, enumeration or change in such
 *  a directory breaks the W lease first and waits for the ack. */
#define SMBX_LEASE_DIR_WRITE 0x1u
/** ParentLeaseKey exemption also requires the same ClientGuid (ksmbd);
 *  off: key only (Samba, smbtorture). */
#define SMBX_LEASE_PARENT_SAME_CLIENT 0x2u
/** Two RqLs contexts in one CREATE fail it with INVALID_PARAMETER (off:
 *  the first wins, as Samba). */
#define SMBX_LEASE_STRICT_DUP 0x4u
/** @} */

/** @brief Lease manager settings; fill with smbx_lease_settings_default().
 *  Every table is sized once at smbx_lease_mgr_new(): grants, breaks and
 *  acks never allocate (the event queue grows only when the host leaves
 *  more than max_events undrained). @since 0.1.0 */
typedef struct smbx_lease_settings {
  size_t struct_size;
  uint32_t flags;            /**< SMBX_LEASE_*: 0 */
  uint32_t max_leases;       /**< leases and oplocks alive at once: 4096 */
  uint32_t max_opens;        /**< opens tracked (with or without lease): 16384 */
  uint32_t max_files;        /**< distinct file keys with opens: 16384 */
  uint32_t max_clients;      /**< distinct ClientGuids: 1024 */
  uint32_t max_waiters;      /**< operations waiting for acks: 1024 */
  uint32_t max_events;       /**< initial event queue length: 1024 */
  uint32_t reserved;
  uint64_t break_timeout_ns; /**< ack timeout (3.3.6.5): 35 s */
  uint64_t hash_seed;        /**< from the host's random source: 0 */
} smbx_lease_settings;

/** @brief Fill s with the defaults and store struct_size.
 *  @return 0; SMBX_ERR_INVAL (NULL s or struct_size too small).
 *  @since 0.1.0 */
SMBX_API int smbx_lease_settings_default(smbx_lease_settings *s,
                                         size_t struct_size);

/** @brief Create a lease manager; all tables are allocated here.
 *  @param a allocator (NULL = default); copied
 *  @return 0; SMBX_ERR_INVAL (NULL out, a zero table size);
 *          SMBX_ERR_RANGE (sizes overflow); SMBX_ERR_NOMEM.
 *  @since 0.1.0 */
SMBX_API int smbx_lease_mgr_new(smbx_lease_mgr **out,
                                const smbx_lease_settings *s,
                                const smbx_allocator *a);

/** @brief Free the manager (queued events are dropped). NULL is a no-op.
 *  @since 0.1.0 */
SMBX_API void smbx_lease_mgr_free(smbx_lease_mgr *m);

/** @brief What the lease manager needs to know about one CREATE.
 *  smbx_lease_create_parse() fills the request part from a decoded CREATE;
 *  the host fills the open part from its file system.
 *  @since 0.1.0 */
typedef struct smbx_lease_open_req {
  size_t struct_size;
  uint8_t client_guid[16]; /**< ClientGuid of the connection (NEGOTIATE) */
  uint64_t conn;           /**< the host's connection handle (breaks go to
                                a connection of the lease's opens) */
  uint64_t user;           /**< host cookie, returned in events naming this
                                open (e.g. its FileId's volatile part) */
  uint64_t file_key[2];    /**< identity of the object (e.g. st_dev,
                                st_ino; a stream its own key) */
  uint64_t parent_key[2];  /**< identity of the parent directory */
  uint32_t access;         /**< granted access mask */
  uint32_t disposition;    /**< CreateDisposition (SUPERSEDE,
                                OVERWRITE(_IF) break every lease) */
  uint32_t capabilities;   /**< negotiated capabilities of the connection
                                (SMBX_SMB2_CAP_LEASING, _DIRECTORY_LEASING) */
  uint16_t dialect;        /**< SMBX_SMB2_DIALECT_* of the connection */
  uint8_t requested_oplock; /**< RequestedOplockLevel */
  uint8_t has_lease;        /**< an RqLs context was found (lease valid) */
  uint8_t is_dir;           /**< the object is a directory */
  uint8_t has_parent;       /**< parent_key is set */
  uint8_t share_conflict;   /**< the host's share check fails against the
                                 current opens: break H and wait, then
                                 check again */
  uint8_t byte_locks;       /**< byte-range locks exist on the file (no R,
                                 no H can be granted) */
  smbx_smb2_lease lease;    /**< the RqLs context (has_lease) */
} smbx_lease_open_req;

/** @brief Extract the oplock/lease request of a decoded CREATE into req
 *  (requested_oplock, has_lease, lease); other fields are untouched.
 *  RqLs with DataLength other than 32/52 fails the CREATE; with two RqLs
 *  the first wins (SMBX_LEASE_STRICT_DUP: fails). Request flags other than
 *  PARENT_LEASE_KEY_SET are masked, the parent key cleared without it.
 *  @param flags settings flags (SMBX_LEASE_STRICT_DUP)
 *  @param status receives SMBX_STATUS_SUCCESS or the NTSTATUS to fail the
 *         CREATE with (INVALID_PARAMETER)
 *  @return 0; SMBX_ERR_INVAL (NULL argument). @since 0.1.0 */
SMBX_API int smbx_lease_create_parse(const smbx_smb2_create_req *cr,
                                     uint32_t flags, smbx_lease_open_req *req,
                                     uint32_t *status);

/** @brief Start an open: resolves the conflicts the open causes before
 *  the host completes it (3.3 of leases.md): breaks W of other leases for
 *  non-stat access, everything for SUPERSEDE/OVERWRITE, H on a share
 *  conflict; breaks a parent directory's W lease (SMBX_LEASE_DIR_WRITE).
 *  Call it before the file system open changes anything (truncation). On
 *  return 1 send the interim STATUS_PENDING and wait for the
 *  SMBX_LEASE_EV_READY event with req->user; then finish the open.
 *  @param open receives the open handle (also on 1)
 *  @param status SMBX_STATUS_SUCCESS, or the NTSTATUS to fail the CREATE
 *         with (INVALID_PARAMETER: lease key in use by the same client on
 *         another object); no open is created then
 *  @return 0 ready; 1 pending; SMBX_ERR_INVAL; SMBX_ERR_LIMIT (a table is
 *          full: fail the CREATE with INSUFFICIENT_RESOURCES).
 *  @since 0.1.0 */
SMBX_API int smbx_lease_open_begin(smbx_lease_mgr *m,
                                   const smbx_lease_open_req *req,
                                   uint64_t now_ns, uint64_t *open,
                                   uint32_t *status);

/** @brief The grant to put in a CREATE response. @since 0.1.0 */
typedef struct smbx_lease_grant {
  size_t struct_size;
  uint8_t oplock_level; /**< OplockLevel of the response */
  uint8_t has_lease;    /**< add an RqLs context built from `lease` */
  uint8_t reserved[6];
  smbx_smb2_lease lease; /**< same version as requested; state, flags
                              (BREAK_IN_PROGRESS, PARENT_LEASE_KEY_SET),
                              parent key and epoch as granted */
} smbx_lease_grant;

/** @brief Finish an open once the file system answered: on success the
 *  lease/oplock is granted (or upgraded) and g describes it; send the
 *  CREATE response before draining this manager's events (a break of
 *  the lease must not overtake it). On failure the open is removed.
 *  @param fs_status the CREATE's NTSTATUS from the file system
 *  @param g receives the grant (may be NULL on failure)
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND (stale open);
 *          SMBX_ERR_STATE (already finished). @since 0.1.0 */
SMBX_API int smbx_lease_open_finish(smbx_lease_mgr *m, uint64_t open,
                                    uint32_t fs_status, uint64_t now_ns,
                                    smbx_lease_grant *g);

/** @brief The open was closed. Its lease goes with the last open of that
 *  lease (a pending break is then satisfied); waiters re-evaluate. Report
 *  a close after writes with smbx_lease_change() first.
 *  @return 0; SMBX_ERR_NOTFOUND. @since 0.1.0 */
SMBX_API int smbx_lease_close(smbx_lease_mgr *m, uint64_t open,
                              uint64_t now_ns);

/** @name Change kinds (smbx_lease_change.kind)
 *  @{ */
/** Completed write, size change or byte-range lock on file_key: every
 *  other lease and oplock loses R (to NONE); never waits. */
#define SMBX_LEASE_CHG_DATA 1u
/** Completed change of the content of directory dir_key (and dir2_key when
 *  has_dir2, e.g. the destination of a rename): child created, deleted at
 *  last close, renamed in or out, hard-linked, EOF/attributes/timestamps
 *  set, or closed after writing. Every lease on the directory breaks to
 *  NONE except the one keyed by the open's ParentLeaseKey; never waits. */
#define SMBX_LEASE_CHG_CHILD 2u
/** About to rename or delete file_key (or to rename a directory above
 *  it): H leases of other keys break (RH->R, RWH->RW); wait for the acks
 *  when 1 is returned. */
#define SMBX_LEASE_CHG_HANDLES 3u
/** About to enumerate or change directory dir_key: a directory W lease of
 *  another key (SMBX_LEASE_DIR_WRITE) breaks first; wait on 1. */
#define SMBX_LEASE_CHG_DIR_ACCESS 4u
/** @} */

/** @brief A change the host reports (through SMB or not). @since 0.1.0 */
typedef struct smbx_lease_change {
  size_t struct_size;
  uint32_t kind;          /**< SMBX_LEASE_CHG_* */
  uint8_t has_dir2;       /**< CHILD: dir2_key is a second directory */
  uint8_t reserved[3];
  uint64_t open;          /**< the open that did it (its lease is not
                               broken, its ParentLeaseKey exempts the
                               parent's lease); 0 for local changes */
  uint64_t user;          /**< cookie for the READY event (waiting kinds) */
  uint64_t file_key[2];   /**< DATA, HANDLES */
  uint64_t dir_key[2];    /**< CHILD, DIR_ACCESS */
  uint64_t dir2_key[2];   /**< CHILD with has_dir2 */
} smbx_lease_change;

/** @brief Report a change: breaks are queued as events (never before this
 *  call returns to the host), so the host answers the triggering request
 *  first.
 *  @return 0 done; 1 the host must wait for SMBX_LEASE_EV_READY with
 *          c->user before performing the change (HANDLES, DIR_ACCESS);
 *          SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND (stale open);
 *          SMBX_ERR_LIMIT (no waiter slot). @since 0.1.0 */
SMBX_API int smbx_lease_change_report(smbx_lease_mgr *m,
                                      const smbx_lease_change *c,
                                      uint64_t now_ns);

/** @brief Drop a waiting operation (its request was cancelled): no READY
 *  follows. Breaks already sent stay in force.
 *  @return 0; SMBX_ERR_NOTFOUND (no waiter with this cookie).
 *  @since 0.1.0 */
SMBX_API int smbx_lease_cancel(smbx_lease_mgr *m, uint64_t user,
                               uint64_t now_ns);

/** @brief Process a Lease Break Acknowledgment (leases.md 3.6, in order:
 *  unknown key for this ClientGuid OBJECT_NAME_NOT_FOUND; not breaking
 *  UNSUCCESSFUL; state beyond the offered one REQUEST_NOT_ACCEPTED;
 *  otherwise SUCCESS). Any connection of the client may ack.
 *  @param resp receives the Lease Break Response (key, state now held;
 *         reserved fields 0) when *status is SUCCESS
 *  @return 0; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_lease_ack(smbx_lease_mgr *m, const uint8_t client_guid[16],
                            const smbx_smb2_lease_break_ack *ack,
                            uint64_t now_ns, smbx_smb2_lease_break_ack *resp,
                            uint32_t *status);

/** @brief What smbx_lease_ack_pdu() decided. @since 0.1.0 */
typedef struct smbx_lease_ack_result {
  size_t struct_size;
  uint32_t status;   /**< NTSTATUS of the response */
  int kind;          /**< SMBX_SMB2_BREAK_LEASE_ACK, SMBX_SMB2_BREAK_OPLOCK,
                          or 0 when the PDU was refused */
  smbx_smb2_fileid file_id; /**< oplock form: resolve the open and call
                                 smbx_lease_oplock_ack() */
  uint8_t oplock_level;     /**< oplock form: the acknowledged level */
  uint8_t reserved;
  uint16_t body_len;        /**< lease form with SUCCESS: 36 */
  uint8_t body[40];         /**< the Lease Break Response body */
} smbx_lease_ack_result;

/** @brief Process an OPLOCK_BREAK request PDU (64-byte header included,
 *  leases.md 2.7): StructureSize 36 is a lease ack (processed as
 *  smbx_lease_ack(); invalid on 2.0.2), 24 an oplock ack (decoded for the
 *  host), anything else INVALID_PARAMETER.
 *  @param dialect the connection's dialect
 *  @return 0 (the outcome is in res); SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_lease_ack_pdu(smbx_lease_mgr *m,
                                const uint8_t client_guid[16],
                                uint16_t dialect, const uint8_t *pdu,
                                size_t len, uint64_t now_ns,
                                smbx_lease_ack_result *res);

/** @brief Process an oplock break acknowledgment for an open.
 *  @param level the acknowledged OplockLevel (II or NONE)
 *  @param new_level receives the level now held (for the response)
 *  @param status SUCCESS; INVALID_OPLOCK_PROTOCOL (no break in progress);
 *         INVALID_PARAMETER (level above the offered one)
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND (stale open).
 *  @since 0.1.0 */
SMBX_API int smbx_lease_oplock_ack(smbx_lease_mgr *m, uint64_t open,
                                   uint8_t level, uint64_t now_ns,
                                   uint8_t *new_level, uint32_t *status);

/** @brief A connection is gone: its opens stay (the host closes them) but
 *  breaks are no longer addressed to it. @return 0. @since 0.1.0 */
SMBX_API int smbx_lease_conn_down(smbx_lease_mgr *m, uint64_t conn);

/** @name Lease manager events (smbx_lease_event.type)
 *  @{ */
/** Send a Lease Break Notification: `body` (44 bytes) to `conn` (the
 *  client's oldest live connection seen by the manager, else the newest
 *  open's; any connection of client_guid will do) with MessageId
 *  all-ones, SessionId 0, unsigned (smbx_server_lease_deliver()). A lease
 *  belongs to the client, not to an open: `open` and `user` are 0. */
#define SMBX_LEASE_EV_BREAK 1u
/** Send an oplock break to `open`'s connection: the host fills the
 *  FileId of `user` into `body` (24 bytes, level at offset 2). */
#define SMBX_LEASE_EV_OPLOCK_BREAK 2u
/** The waiting operation with cookie `user` may proceed (`open`: the
 *  open from smbx_lease_open_begin(), or 0 for a change). */
#define SMBX_LEASE_EV_READY 3u
/** @} */

/** @brief One lease manager event. @since 0.1.0 */
typedef struct smbx_lease_event {
  size_t struct_size;
  uint32_t type;          /**< SMBX_LEASE_EV_* */
  uint32_t flags;         /**< BREAK: SMBX_SMB2_LEASE_BREAK_ACK_REQUIRED */
  uint64_t conn;          /**< BREAK, OPLOCK_BREAK: where to send it (0
                               never: a lease without a connection breaks
                               at once, leases.md 3.8) */
  uint64_t open;          /**< OPLOCK_BREAK, READY; 0 for BREAK */
  uint64_t user;          /**< OPLOCK_BREAK: the open's cookie; READY: the
                               waiter's; 0 for BREAK */
  uint8_t client_guid[16];
  uint8_t lease_key[16];  /**< BREAK */
  uint32_t current_state; /**< BREAK: lease state; OPLOCK_BREAK: level */
  uint32_t new_state;     /**< BREAK: lease state; OPLOCK_BREAK: level */
  uint16_t new_epoch;     /**< BREAK: 0 for v1 leases */
  uint16_t body_len;      /**< 44 or 24 */
  uint32_t reserved;
  uint8_t body[48];       /**< the OPLOCK_BREAK body to send */
} smbx_lease_event;

/** @brief Next event (ev->struct_size must be set).
 *  @return 1 with an event; 0 when empty; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_lease_next_event(smbx_lease_mgr *m, smbx_lease_event *ev);

/** @brief Earliest break-ack deadline (UINT64_MAX: none). @since 0.1.0 */
SMBX_API uint64_t smbx_lease_expiry(const smbx_lease_mgr *m);

/** @brief Time out every break whose deadline passed (3.3.6.5): the lease
 *  drops to NONE, its opens stay, waiters resume.
 *  @return number of breaks timed out; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_lease_handle_expiry(smbx_lease_mgr *m, uint64_t now_ns);

/** @brief State of one lease (tests, debugging). @since 0.1.0 */
typedef struct smbx_lease_info {
  size_t struct_size;
  uint32_t state;       /**< SMBX_SMB2_LEASE_* bits held now */
  uint32_t breaking_to; /**< offered break-to state while breaking */
  uint32_t required;    /**< lowest state later conflicts demand */
  uint32_t opens;       /**< opens sharing the lease */
  uint16_t epoch;
  uint8_t breaking;
  uint8_t version;      /**< 1, 2; 0 for an oplock */
  uint8_t is_dir;
  uint8_t has_parent;
  uint8_t reserved[2];
  uint64_t deadline;    /**< while breaking */
  uint64_t file_key[2];
  uint8_t parent_lease_key[16];
} smbx_lease_info;

/** @brief Look a lease up by ClientGuid and LeaseKey.
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND. @since 0.1.0 */
SMBX_API int smbx_lease_query(const smbx_lease_mgr *m,
                              const uint8_t client_guid[16],
                              const uint8_t key[16], smbx_lease_info *info);

/** @brief The lease or oplock an open holds (version 0: oplock; state 0
 *  and opens 0 when it holds neither).
 *  @return 0; SMBX_ERR_INVAL; SMBX_ERR_NOTFOUND. @since 0.1.0 */
SMBX_API int smbx_lease_open_query(const smbx_lease_mgr *m, uint64_t open,
                                   smbx_lease_info *info);

/** @brief Counters and memory use. @since 0.1.0 */
typedef struct smbx_lease_stats {
  size_t struct_size;
  uint32_t leases, opens, files, clients, waiters, breaking;
  uint64_t bytes;          /**< memory held by the manager's tables */
  uint64_t breaks_sent;    /**< notifications queued so far */
  uint64_t timeouts;       /**< breaks that timed out */
} smbx_lease_stats;

/** @return 0; SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_lease_get_stats(const smbx_lease_mgr *m,
                                  smbx_lease_stats *st);

/* ==== Server: through the server node ==================================== */

/* The server node (smbx/server.h); repeated here so this header stands
 * alone. */
typedef struct smbx_server smbx_server;
struct smbx_event;

/** @brief Send a lease manager BREAK or OPLOCK_BREAK event through the
 *  node (MessageId all-ones, unsigned; a lease break carries SessionId 0)
 *  on ev->conn; when that connection is gone it is reported to the manager
 *  (smbx_lease_conn_down()) and another connection of the lease's opens
 *  is tried. Call it only after the CREATE responses that granted the
 *  leases were sent (drain the manager after answering).
 *  @param file_id OPLOCK_BREAK: the FileId of ev->open (NULL for BREAK)
 *  @param session_id OPLOCK_BREAK: the open's SessionId (Samba sends it;
 *         0 is also accepted by clients)
 *  @return 0 sent; SMBX_ERR_NOTFOUND (no live connection: the host closes
 *          the lease's opens, leases.md 3.8); SMBX_ERR_AGAIN (SMB Direct
 *          send space: retry); SMBX_ERR_INVAL. @since 0.1.0 */
SMBX_API int smbx_server_lease_deliver(smbx_server *srv, smbx_lease_mgr *m,
                                       const smbx_lease_event *ev,
                                       const smbx_smb2_fileid *file_id,
                                       uint64_t session_id, uint64_t now_ns);

/** @brief Answer an OPLOCK_BREAK request event (lease or oplock ack) with
 *  the manager: a lease ack (or a malformed one) is answered here; for an
 *  oplock ack res->kind is SMBX_SMB2_BREAK_OPLOCK and nothing is sent:
 *  resolve res->file_id to the open, call smbx_lease_oplock_ack() and
 *  answer with the 24-byte body yourself.
 *  @param client_guid the connection's ClientGuid (NEGOTIATE)
 *  @return 0; SMBX_ERR_INVAL; any smbx_server_respond() error.
 *  @since 0.1.0 */
SMBX_API int smbx_server_lease_ack(smbx_server *srv, smbx_lease_mgr *m,
                                   const struct smbx_event *ev,
                                   const uint8_t client_guid[16],
                                   uint64_t now_ns, smbx_lease_ack_result *res);

/* ==== Client: lease table and directory cache ============================ */
/* Declared in smbx/lease_client.h. */

#ifdef __cplusplus
}
#endif

/* the client half (lease table, directory cache, node calls) */
#include <smbx/lease_client.h>

#endif /* SMBX_LEASE_H */
