/* SPDX-License-Identifier: MIT */
/* Client lease table (table.c) and directory metadata cache (dircache.c):
 * the objects both files share. Public side: include/smbx/lease_client.h;
 * rules: leases.md sec. 4. */
#ifndef SMBX_LEASE_CLIENT_INT_H
#define SMBX_LEASE_CLIENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbx/lease_client.h>

#include "core/hash.h"
#include "core/list.h"
#include "core/ring.h"
#include "core/slab.h"

#define LC_PATH_MAX 2048u /* bytes of a share-relative path */
#define LC_NAME_MAX 510u  /* bytes of one name (255 UTF-16 units) */
#define LC_SHARE_MAX 255u

/* One cached directory entry (the public snapshot entry): fixed fields,
 * the name and short name elsewhere at name_off (right after the entry
 * while filling, in the block's name area once compacted). */
typedef smbx_lease_dir_entry lc_dent;

/* A complete listing compacted into one block: the entries at a fixed
 * stride, then their names. Immutable once built; shared by the cache
 * (one reference while it is the listing's storage) and by snapshots. */
typedef struct lc_block {
  smbx__list held; /* on lc->held once the cache dropped it */
  uint64_t size;   /* bytes allocated */
  uint64_t filled_at;
  uint32_t refs;
  uint32_t count;
  lc_dent ents[];
} lc_block;

/* Entries of a listing live in chunks filled in order (an enumeration
 * reads them back in the same order: sequential memory). */
typedef struct lc_chunk {
  struct lc_chunk *next;
  size_t used, cap;
  uint64_t data[]; /* cap bytes */
} lc_chunk;

/* A change waiting for write-back (W on the directory). */
typedef struct lc_log {
  smbx__list link;
  uint32_t op;
  lc_dent *d;
} lc_log;

enum { LC_DIR_NONE = 0, LC_DIR_FILLING, LC_DIR_COMPLETE };

/* The listing of one leased directory. */
typedef struct lc_dir {
  lc_dent **ents; /* server order */
  uint32_t n, cap;
  uint32_t *idx;  /* open addressing: position + 1, 0 = empty */
  lc_chunk *chunks; /* newest first: entries not (yet) in the block */
  lc_block *block;  /* compacted storage, or NULL */
  bool block_current; /* block holds exactly ents[] in order */
  uint32_t idx_cap;
  uint8_t state;  /* LC_DIR_* */
  bool case_sensitive;
  uint64_t bytes; /* accounted: entries, pointer array, index */
  uint64_t filled_at;
  smbx__list lru; /* on lc->lru while FILLING or COMPLETE */
  smbx__list log; /* lc_log, oldest first */
  struct lc_lease *lease;
} lc_dir;

/* lc_lease.flags */
#define LCF_DIR 0x01u
#define LCF_UNSETTLED 0x02u /* BREAK_IN_PROGRESS in the last response */
#define LCF_BREAKING 0x04u  /* host work before the ack */
#define LCF_ACK_OWED 0x08u
#define LCF_QUEUED 0x10u    /* a break waits for the CREATE response */
#define LCF_QUEUED_ACK 0x20u
#define LCF_BREAK_SEEN 0x40u /* a break was applied since the last settled
                                CREATE response */

/* One lease key (a path in a scope). Kept at or below 64 bytes (bench
 * lease.bytes_per_client_lease). */
typedef struct lc_lease {
  uint8_t key[16];
  uint64_t owner;
  uint8_t *path; /* path_len bytes, as first requested */
  lc_dir *dir;
  uint16_t path_len;
  uint16_t epoch;
  uint16_t q_epoch; /* queued break */
  uint16_t scope;
  uint8_t state;
  uint8_t version;
  uint8_t flags;   /* LCF_* */
  uint8_t pending; /* CREATEs sent, responses not processed */
  uint8_t q_state; /* queued break: NewLeaseState */
  uint8_t cached;  /* SMBX_LEASE_CACHED_* */
  uint8_t reserved[2];
} lc_lease;

typedef struct lc_scope {
  uint8_t guid[16];
  uint8_t share[LC_SHARE_MAX];
  uint8_t share_len;
  uint32_t flags;
  bool used;
} lc_scope;

struct smbx_lease_client {
  smbx_allocator alloc;
  smbx_lease_client_settings s;
  smbx__slab leases;
  smbx__hash by_key;  /* 16-byte key -> lc_lease */
  smbx__hash by_path; /* {scope, path hash} -> lc_lease */
  lc_scope *scopes;
  smbx__ring evq;
  smbx__list lru; /* lc_dir, most recently used first */
  uint64_t seed[2];
  uint64_t next_key;
  uint64_t entries, bytes;
  uint32_t listings;
  uint64_t hits, misses;
  smbx__list held;  /* lc_block the cache dropped, still referenced */
  uint64_t snapshots, held_bytes;
  lc_lease *memo; /* the lease the last dircache call named (enumeration
                     calls one entry at a time) */
};

/* table.c */
lc_lease *smbx__lc_find(const smbx_lease_client *lc, const uint8_t key[16]);
bool smbx__lc_case_sensitive(const smbx_lease_client *lc, const lc_lease *l);
void smbx__lc_push(smbx_lease_client *lc, const smbx_lease_client_event *ev);
uint32_t smbx__lc_name_hash(const uint8_t *p, size_t len, bool cs);
bool smbx__lc_name_eq(const uint8_t *a, size_t alen, const uint8_t *b,
                      size_t blen, bool cs);

/* dircache.c */
/* Drops the listing (not the write-back log); reason 0: no event. */
void smbx__lc_dir_drop(smbx_lease_client *lc, lc_lease *l, uint32_t reason);
/* Frees the listing and the log (the lease goes away). */
void smbx__lc_dir_free(smbx_lease_client *lc, lc_lease *l);
bool smbx__lc_dir_has_log(const lc_lease *l);
/* Frees the blocks snapshots still hold (the table goes away). */
void smbx__lc_dir_free_held(smbx_lease_client *lc);
/* Fires listing expiry; returns listings dropped. */
int smbx__lc_dir_expire(smbx_lease_client *lc, uint64_t now);
uint64_t smbx__lc_dir_expiry(const smbx_lease_client *lc);

#endif
