/* SPDX-License-Identifier: MIT */
/* Server lease manager (rank 5): file and directory leases and oplocks,
 * keyed by ClientGuid + LeaseKey, with the grant, upgrade, break, ack and
 * timeout rules of leases.md sec. 3 ([MS-SMB2] 3.3.1.4, 3.3.4.7, 3.3.5.9.8,
 * 3.3.5.22.2, 3.3.6.5). The host reports opens (begin/finish), closes,
 * changes and acks; breaks and "may proceed" signals come out of one
 * ordered event queue. See include/smbx/lease.h and docs/leases.md.
 *
 * Memory: pools sized at new (leases with their break deadlines, opens,
 * clients, waiters); free opens, clients and waiters are chained through
 * a field of the entry, free leases are bits of a bitmap (a lease is
 * taken at a chosen entry, below). Objects refer to each other by 32-bit
 * index. Leases and clients are found through index hash tables
 * (itab.h); files live in their own hash table (see "files" below), so
 * finding a file is one cache line, not a slot and then the file. A
 * file's leases are placed in one of two groups of LEASE_GROUP pool
 * entries chosen by the file's hash, so a change that will read them
 * loads both groups beside the file's bucket (one miss, not the bucket
 * and then its lease); see "free lease entries". Breaking leases sit on
 * one list in deadline order (the timeout is one constant, so appending
 * keeps it sorted). */
#include <string.h>

#include <smbx/lease.h>

#include "core/alloc.h"
#include "core/compiler.h"
#include "core/hash.h"
#include "core/ring.h"
#include "core/time.h"
#include "lease/itab.h"
#include "lease/server_int.h"
#include "smb2/smb2_int.h"

#define NIL UINT32_MAX
#define R SMBX_SMB2_LEASE_READ
#define H SMBX_SMB2_LEASE_HANDLE
#define W SMBX_SMB2_LEASE_WRITE
#define RWH (R | H | W)

/* access bits of a "stat open" (leases.md 3.2 step 2: READ_ATTRIBUTES,
 * WRITE_ATTRIBUTES, SYNCHRONIZE; READ_CONTROL too, as Samba and
 * smbtorture statopen4 expect) */
#define ACC_STAT (0x00000080u | 0x00000100u | 0x00100000u | 0x00020000u)
/* CreateDisposition values that replace the data */
#define DISP_SUPERSEDE 0u
#define DISP_OVERWRITE 4u
#define DISP_OVERWRITE_IF 5u

/* lease.flags */
#define LF_LIVE 0x01u
#define LF_PARENT 0x02u /* parent_key set (v2) */
#define LF_DIR 0x04u
#define LF_KEYED 0x08u  /* in the lease table (an oplock is not) */
/* none of its opens has a connection (leases.md 3.8: a break takes
 * effect at once), kept so a lease break reads no open */
#define LF_CONNLESS 0x10u

/* lfile.flags */
#define FF_DIR 0x01u
#define FF_OPLOCK 0x02u /* a plain oplock is among its leases */
#define FF_LIVE 0x04u

/* lfile.sum: a superset of the union of its leases' states (low nibble)
 * and break cycles (`breaking`, high nibble). Raising a lease's state or
 * starting its break ORs the bits in; lowering leaves them (a superset
 * still), and every walk of all the file's leases stores the exact union.
 * An open or change whose bits are not in it neither walks the leases to
 * break them nor to wait for them, so it never reads them. */
#define SUM_BRK_SHIFT 4u

/* open.flags */
#define OF_LIVE 0x01u
#define OF_DONE 0x02u    /* finished: `ref` is the lease (or NIL) */
#define OF_NONSTAT 0x04u /* access beyond the stat set */

typedef struct lclient {
  uint8_t guid[16];
  uint64_t conn; /* its oldest live connection seen: breaks go there */
  uint32_t refs; /* leases + opens in progress naming it; 0: free */
  uint32_t next_free;
} lclient;

/* 32 bytes: two to a line, a line is one bucket of the file table */
typedef struct lfile {
  uint64_t key[2];
  uint32_t leases;  /* first lease (next_in_file chain) */
  uint32_t opens;   /* first open (next chain), newest first */
  uint32_t waiters; /* first waiter watching it (wnext chain), NIL */
  uint8_t flags; /* FF_* */
  uint8_t sum;   /* see SUM_BRK_SHIFT */
  /* in a bucket's first file only: files that probed past this bucket
   * (saturating at UINT16_MAX, then never lowered) */
  uint16_t spill;
} lfile;
_Static_assert(sizeof(lfile) == 32, "two files to a cache line");

/* One cache line (the pool is line-aligned), so a lookup that misses the
 * cache on a lease misses once. client + key first: the 20-byte table key;
 * the break deadline lives apart (m->deadlines), read only when due. */
typedef struct lease {
  uint32_t client;
  uint8_t key[16];
  uint32_t file;
  uint32_t next_in_file;
  uint32_t nopens;
  uint16_t epoch;
  uint8_t state, offered, required;
  uint8_t breaking; /* 0, or the state the break cycle started from */
  uint8_t version; /* 0 oplock, 1, 2 */
  uint8_t flags;
  uint32_t tprev, tnext; /* breaking list */
  /* LF_PARENT: the ParentLeaseKey; else a copy of its file's key, so a
   * query of such a lease reads no second line */
  union {
    uint8_t parent_key[16];
    uint64_t file_key[2];
  };
} lease;
_Static_assert(sizeof(lease) == 64, "a lease is one cache line");

/* 1024 hints, 4 KB: with more breaks outstanding than that, acks whose
 * hint was overwritten look in the lease table */
#define ACK_HINT_BITS 10u

/* the pools objects are looked up in at random: line-aligned, so a
 * 64-byte lease or a 32-byte file or open never straddles two lines */
#define POOL_ALIGN 64u

/* 32 bytes */
typedef struct lopen {
  uint64_t conn;
  uint64_t user;
  uint32_t ref;  /* OF_DONE: lease index or NIL; else waiter index */
  uint32_t file;
  uint32_t next; /* next open of the file; also the free-list link */
  uint16_t gen;  /* odd while live */
  uint16_t flags;
} lopen;

/* An open in progress (begin..finish) or an operation waiting for acks.
 * It is ready when no lease on `file` / `file2` other than the exempt
 * one is in a break cycle that started while it held a bit of
 * `must_drop` (the whole step chain, as Samba: smbtorture breaking3). */
typedef struct lwait {
  uint64_t user;
  uint32_t open;   /* open index, NIL for a change */
  uint32_t file, file2;
  uint32_t exempt;  /* the requester's own lease on file, NIL */
  uint32_t exempt2; /* the ParentLeaseKey-exempt lease on file2, NIL */
  uint32_t next_free;
  /* next waiter watching `file` / `file2` while waiting (one chain per
   * watched file, so a wake visits only that file's waiters) */
  uint32_t wnext[2];
  uint8_t must_drop, waiting, live, has_lease;
  uint8_t requested_oplock, is_dir, byte_locks;
  uint8_t honoured; /* lease_honoured(), fixed at begin */
  uint32_t capabilities;
  uint16_t dialect;
  uint16_t reserved2;
  uint32_t client;
  /* begin's lookup of the client's lease with this key (NIL: none), still
   * the answer while m->keyed_changes is keyed_seen */
  uint32_t found;
  uint64_t keyed_seen;
  uint64_t lease_hash; /* of (ClientGuid, lease.key): begin's, for finish */
  smbx_smb2_lease lease;
} lwait;

typedef struct qev {
  uint32_t type, flags;
  uint64_t conn, open, user;
  uint8_t guid[16];
  uint8_t key[16];
  uint32_t cur, next;
  uint16_t epoch;
  uint8_t version;
} qev;

struct smbx_lease_mgr {
  smbx_allocator alloc;
  smbx_lease_settings s;
  lease *leases;
  uint64_t *deadlines; /* of lease i, while it is breaking */
  /* a bit per lease entry, set while free; a bit per word of those, set
   * while the word has a free entry */
  uint64_t *lease_free, *lease_free_words;
  uint32_t lease_groups; /* max_leases / LEASE_GROUP */
  uint32_t free_scan;    /* the lease_free_words word a search starts at */
  lfile *files;          /* the file table: 2 * file_buckets slots */
  uint32_t file_buckets;
  lopen *opens;
  lclient *clients;
  lwait *waits;
  uint32_t free_open, free_client, free_wait;
  uint32_t n_leases, n_files, n_opens, n_clients, n_waits, n_breaking;
  uint32_t thead, ttail; /* breaking list */
  uint64_t keyed_changes; /* leases entered into or removed from lease_tab */
  /* index + 1 of a lease whose break awaits an ack, by ack_hint_slot():
   * a hint only (stale or overwritten slots are told apart by the
   * lease's own client and key), so an ack usually finds its lease
   * without a miss in the lease table */
  uint32_t ack_hint[1u << ACK_HINT_BITS];
  smbx__itab lease_tab, client_tab;
  smbx__ring evq;
  uint64_t breaks_sent, timeouts;
};

/* ---- hashing: once per operation, passed down --------------------------- */

static uint64_t client_hash(const smbx_lease_mgr *m, const uint8_t guid[16])
{
  return smbx__hash_16(guid, m->s.hash_seed ^ 0xc11e);
}

static uint64_t file_hash(const smbx_lease_mgr *m, const uint64_t key[2])
{
  return smbx__hash_16((const uint8_t *)key, m->s.hash_seed ^ 0x5eed);
}

/* ClientGuid + LeaseKey: known before the client's index is, so the lease
 * slot's miss overlaps the client lookup */
static uint64_t lease_hash(const smbx_lease_mgr *m, const uint8_t guid[16],
                           const uint8_t key[16])
{
  return smbx__hash_32(guid, key, m->s.hash_seed);
}

static uint64_t client_rehash(const void *ctx, uint32_t i)
{
  const smbx_lease_mgr *m = ctx;
  return client_hash(m, m->clients[i].guid);
}

/* a keyed lease holds a reference on its client, so the GUID is there */
static uint64_t lease_rehash(const void *ctx, uint32_t i)
{
  const smbx_lease_mgr *m = ctx;
  const lease *ls = &m->leases[i];
  return lease_hash(m, m->clients[ls->client].guid, ls->key);
}

/* ---- pools ---------------------------------------------------------------- */

static void *pool_alloc(const smbx_allocator *a, size_t n, size_t sz,
                        size_t al, int *err)
{
  if (*err)
    return NULL;
  if (n == 0 || n >= NIL) {
    *err = SMBX_ERR_INVAL;
    return NULL;
  }
  if (n > SIZE_MAX / sz) {
    *err = SMBX_ERR_RANGE;
    return NULL;
  }
  void *p = smbx__alloc(a, n * sz, al);
  if (!p)
    *err = SMBX_ERR_NOMEM;
  else
    memset(p, 0, n * sz);
  return p;
}

/* ---- free lease entries ----------------------------------------------------
 * A bit per entry (set: free) and a bit per 64 entries (set: one of them
 * is free), so taking a chosen entry touches two words and a search reads
 * a word per 4096 entries.
 *
 * The pool is cut into groups of LEASE_GROUP entries. A file's hash names
 * two groups (lease_group_of()); its leases go to the one with more free
 * entries, anywhere else only when both are full (with the pool full,
 * about 1 lease in 12: two choices keep the groups even). A change that
 * breaks a file's leases starts loading both groups with the file's
 * bucket, so the lease arrives with the bucket instead of after it. */

#define LEASE_GROUP 4u

static size_t lease_free_len(const smbx_lease_mgr *m)
{
  return ((size_t)m->s.max_leases + 63) / 64;
}

static size_t lease_free_words_len(const smbx_lease_mgr *m)
{
  return (lease_free_len(m) + 63) / 64;
}

static unsigned lowest_bit(uint64_t v)
{
#if defined(__GNUC__)
  return (unsigned)__builtin_ctzll(v);
#else
  unsigned n = 0;
  while (!(v & 1u)) {
    v >>= 1;
    n++;
  }
  return n;
#endif
}

static bool lease_is_free(const smbx_lease_mgr *m, uint32_t l)
{
  return (m->lease_free[l / 64] >> (l % 64)) & 1u;
}

static void lease_free_set(smbx_lease_mgr *m, uint32_t l)
{
  m->lease_free[l / 64] |= UINT64_C(1) << (l % 64);
  m->lease_free_words[l / 4096] |= UINT64_C(1) << (l / 64 % 64);
}

static void lease_free_clear(smbx_lease_mgr *m, uint32_t l)
{
  uint64_t *w = &m->lease_free[l / 64];
  *w &= ~(UINT64_C(1) << (l % 64));
  if (!*w)
    m->lease_free_words[l / 4096] &= ~(UINT64_C(1) << (l / 64 % 64));
}

/* A free entry, searching on from where the last search ended (the
 * caller knows one is free: n_leases < max_leases). */
static uint32_t lease_free_find(smbx_lease_mgr *m)
{
  uint32_t n = (uint32_t)lease_free_words_len(m);
  for (uint32_t k = 0; k <= n; k++) {
    uint64_t words = m->lease_free_words[m->free_scan];
    if (words) {
      uint32_t w = m->free_scan * 64 + lowest_bit(words);
      return w * 64 + lowest_bit(m->lease_free[w]);
    }
    m->free_scan = m->free_scan + 1 == n ? 0 : m->free_scan + 1;
  }
  return NIL;
}

static unsigned bit_count(unsigned v)
{
  unsigned n = 0;
  for (; v; v &= v - 1)
    n++;
  return n;
}

/* Group `choice` (0, 1) of the file with hash h, scaled from bits 16-47
 * or 0-31 of h: file_home() is decided by the top bits, so the file's
 * bucket and its groups fall independently. */
static uint32_t lease_group_of(const smbx_lease_mgr *m, uint64_t h,
                               unsigned choice)
{
  uint64_t bits = choice ? (uint32_t)h : (uint32_t)(h >> 16);
  return (uint32_t)((bits * m->lease_groups) >> 32);
}

/* The free bits of group g (LEASE_GROUP divides 64: one word holds them). */
static unsigned group_free_bits(const smbx_lease_mgr *m, uint32_t g)
{
  uint32_t first = g * LEASE_GROUP;
  return (unsigned)(m->lease_free[first / 64] >> (first % 64)) &
         ((1u << LEASE_GROUP) - 1u);
}

/* A free entry in the file with hash h's groups (the one with more free),
 * or NIL. */
static uint32_t lease_free_in_groups(const smbx_lease_mgr *m, uint64_t h)
{
  if (!m->lease_groups)
    return NIL;
  uint32_t g0 = lease_group_of(m, h, 0), g1 = lease_group_of(m, h, 1);
  unsigned f0 = group_free_bits(m, g0), f1 = group_free_bits(m, g1);
  if (bit_count(f1) > bit_count(f0)) {
    g0 = g1;
    f0 = f1;
  }
  return f0 ? g0 * LEASE_GROUP + lowest_bit(f0) : NIL;
}

#define POOL_FREE(m, p, type, n, align) \
  do { \
    if (p) \
      smbx__free(&(m)->alloc, (p), (size_t)(n) * sizeof(type), (align)); \
  } while (0)

int smbx_lease_settings_default(smbx_lease_settings *s, size_t struct_size)
{
  if (!s || struct_size < sizeof(size_t))
    return SMBX_ERR_INVAL;
  smbx_lease_settings d;
  memset(&d, 0, sizeof d);
  d.struct_size = struct_size;
  d.max_leases = 4096;
  d.max_opens = 16384;
  d.max_files = 16384;
  d.max_clients = 1024;
  d.max_waiters = 1024;
  d.max_events = 1024;
  d.break_timeout_ns = 35 * SMBX__NS_PER_S;
  memcpy(s, &d, struct_size < sizeof d ? struct_size : sizeof d);
  return 0;
}

void smbx_lease_mgr_free(smbx_lease_mgr *m)
{
  if (!m)
    return;
  smbx__itab_free(&m->lease_tab);
  smbx__itab_free(&m->client_tab);
  smbx__ring_free(&m->evq);
  POOL_FREE(m, m->leases, lease, m->s.max_leases, POOL_ALIGN);
  POOL_FREE(m, m->deadlines, uint64_t, m->s.max_leases, _Alignof(uint64_t));
  POOL_FREE(m, m->lease_free, uint64_t, lease_free_len(m), _Alignof(uint64_t));
  POOL_FREE(m, m->lease_free_words, uint64_t, lease_free_words_len(m),
            _Alignof(uint64_t));
  POOL_FREE(m, m->files, lfile, 2 * (size_t)m->file_buckets, POOL_ALIGN);
  POOL_FREE(m, m->opens, lopen, m->s.max_opens, POOL_ALIGN);
  POOL_FREE(m, m->clients, lclient, m->s.max_clients, _Alignof(lclient));
  POOL_FREE(m, m->waits, lwait, m->s.max_waiters, _Alignof(lwait));
  smbx_allocator a = m->alloc;
  smbx__free(&a, m, sizeof *m, _Alignof(smbx_lease_mgr));
}

int smbx_lease_mgr_new(smbx_lease_mgr **out, const smbx_lease_settings *s,
                       const smbx_allocator *a)
{
  if (!out)
    return SMBX_ERR_INVAL;
  *out = NULL;
  smbx_lease_settings st;
  smbx_lease_settings_default(&st, sizeof st);
  if (s) {
    if (s->struct_size < sizeof(size_t))
      return SMBX_ERR_INVAL;
    memcpy(&st, s, s->struct_size < sizeof st ? s->struct_size : sizeof st);
    st.struct_size = sizeof st;
  }
  smbx_allocator al;
  if (smbx__allocator_copy(&al, a ? a : smbx_allocator_default()) != 0)
    return SMBX_ERR_INVAL;
  if (!st.max_events || !st.break_timeout_ns)
    return SMBX_ERR_INVAL;
  smbx_lease_mgr *m = smbx__alloc(&al, sizeof *m, _Alignof(smbx_lease_mgr));
  if (!m)
    return SMBX_ERR_NOMEM;
  memset(m, 0, sizeof *m);
  m->alloc = al;
  m->s = st;
  int err = 0;
  m->leases = pool_alloc(&al, st.max_leases, sizeof(lease), POOL_ALIGN, &err);
  m->deadlines = pool_alloc(&al, st.max_leases, sizeof(uint64_t),
                            _Alignof(uint64_t), &err);
  m->lease_groups = st.max_leases / LEASE_GROUP;
  m->lease_free = pool_alloc(&al, lease_free_len(m), sizeof(uint64_t),
                             _Alignof(uint64_t), &err);
  m->lease_free_words = pool_alloc(&al, lease_free_words_len(m),
                                   sizeof(uint64_t), _Alignof(uint64_t), &err);
  /* buckets of two files, at most 3/4 full (a lookup stays in its home
   * line about 3 times in 4, in the next line nearly always) */
  uint64_t buckets = ((uint64_t)st.max_files * 2 + 2) / 3;
  if (st.max_files == 0 || 2 * buckets >= NIL)
    err = SMBX_ERR_INVAL;
  else
    m->file_buckets = (uint32_t)buckets;
  m->files = pool_alloc(&al, 2 * (size_t)m->file_buckets, sizeof(lfile),
                        POOL_ALIGN, &err);
  m->opens = pool_alloc(&al, st.max_opens, sizeof(lopen), POOL_ALIGN, &err);
  m->clients = pool_alloc(&al, st.max_clients, sizeof(lclient),
                          _Alignof(lclient), &err);
  m->waits = pool_alloc(&al, st.max_waiters, sizeof(lwait), _Alignof(lwait),
                        &err);
  if (!err)
    err = smbx__itab_init(&m->lease_tab, &m->alloc, m->leases, sizeof(lease),
                          0, 20, st.max_leases, lease_rehash, m);
  if (!err)
    err = smbx__itab_init(&m->client_tab, &m->alloc, m->clients,
                          sizeof(lclient), 0, 16, st.max_clients,
                          client_rehash, m);
  if (!err)
    err = SMBX__RING_INIT(&m->evq, &m->alloc, qev, st.max_events);
  if (err) {
    smbx_lease_mgr_free(m);
    return err;
  }
  /* every lease entry free; the other free lists in index order, so a
   * fresh manager hands out opens, clients and waiters 0, 1, 2... */
  for (uint32_t l = 0; l < st.max_leases; l++)
    lease_free_set(m, l);
  for (uint32_t i = 0; i < st.max_opens; i++)
    m->opens[i].next = i + 1 < st.max_opens ? i + 1 : NIL;
  for (uint32_t i = 0; i < st.max_clients; i++)
    m->clients[i].next_free = i + 1 < st.max_clients ? i + 1 : NIL;
  for (uint32_t i = 0; i < st.max_waiters; i++)
    m->waits[i].next_free = i + 1 < st.max_waiters ? i + 1 : NIL;
  m->thead = m->ttail = NIL;
  *out = m;
  return 0;
}

/* ---- clients and files ---------------------------------------------------- */

static uint32_t client_ref(smbx_lease_mgr *m, const uint8_t guid[16])
{
  uint64_t h = client_hash(m, guid);
  uint32_t c = smbx__itab_find_len(&m->client_tab, guid, 16, h);
  if (c == NIL) {
    c = m->free_client;
    if (c == NIL)
      return NIL;
    lclient *cl = &m->clients[c];
    m->free_client = cl->next_free;
    memcpy(cl->guid, guid, 16);
    cl->conn = 0;
    cl->refs = 0;
    if (smbx__itab_insert(&m->client_tab, c, h) != 0) {
      cl->next_free = m->free_client;
      m->free_client = c;
      return NIL;
    }
    m->n_clients++;
  }
  m->clients[c].refs++;
  return c;
}

static void client_unref(smbx_lease_mgr *m, uint32_t c)
{
  lclient *cl = &m->clients[c];
  if (--cl->refs)
    return;
  (void)smbx__itab_remove(&m->client_tab, c, client_hash(m, cl->guid));
  cl->next_free = m->free_client;
  m->free_client = c;
  m->n_clients--;
}

/* ---- files ----------------------------------------------------------------
 * The file table holds the files themselves: buckets of two 32-byte files
 * (one cache line), linear probing over buckets, a file never moves while
 * it lives (leases, opens and waiters name it by index). A bucket's first
 * file carries `spill`, how many files whose probe passed this bucket live
 * beyond it: a lookup stops at a bucket with no spill, and a removal
 * lowers the spill of the buckets between the file's home and its own, so
 * no tombstones are left. */

static uint32_t file_home(const smbx_lease_mgr *m, uint64_t h)
{
  /* the high 32 hash bits scaled to the bucket count (not a power of 2) */
  return (uint32_t)(((h >> 32) * m->file_buckets) >> 32);
}

static uint32_t file_next_bucket(const smbx_lease_mgr *m, uint32_t b)
{
  return b + 1 == m->file_buckets ? 0 : b + 1;
}

/* Starts loading bucket b and the next one: a lookup passes on to the
 * next about once in 4, and then finds it loading instead of missing
 * after the first. */
static void file_prefetch_from(const smbx_lease_mgr *m, uint32_t b)
{
  smbx__prefetch(&m->files[2 * (size_t)b]);
  smbx__prefetch(&m->files[2 * (size_t)file_next_bucket(m, b)]);
}

static bool file_key_eq(const lfile *fl, const uint64_t key[2])
{
  return (fl->flags & FF_LIVE) && fl->key[0] == key[0] && fl->key[1] == key[1];
}

/* The file with key (hash h), or NIL (inline: a change finds its file
 * without a call, from the home bucket it just prefetched). */
static inline uint32_t file_lookup(const smbx_lease_mgr *m,
                                   const uint64_t key[2], uint64_t h)
{
  uint32_t b = file_home(m, h);
  for (uint32_t n = 0; n < m->file_buckets; n++) {
    const lfile *pair = &m->files[2 * (size_t)b];
    if (file_key_eq(&pair[0], key))
      return 2 * b;
    if (file_key_eq(&pair[1], key))
      return 2 * b + 1;
    if (!pair[0].spill)
      return NIL;
    b = file_next_bucket(m, b);
  }
  return NIL;
}

/* The file with key (hash h), created when absent (the caller prefetched
 * its buckets). */
static uint32_t file_get(smbx_lease_mgr *m, const uint64_t key[2], uint64_t h,
                         bool is_dir)
{
  uint32_t f = file_lookup(m, key, h);
  if (f != NIL || m->n_files >= m->s.max_files)
    return f;
  /* max_files fills at most 3/4 of the slots: a free one comes */
  uint32_t b = file_home(m, h);
  for (;;) {
    lfile *pair = &m->files[2 * (size_t)b];
    if (!(pair[0].flags & FF_LIVE) || !(pair[1].flags & FF_LIVE)) {
      f = 2 * b + (pair[0].flags & FF_LIVE ? 1u : 0u);
      break;
    }
    if (pair[0].spill < UINT16_MAX)
      pair[0].spill++;
    b = file_next_bucket(m, b);
  }
  lfile *fl = &m->files[f];
  fl->key[0] = key[0];
  fl->key[1] = key[1];
  fl->leases = fl->opens = fl->waiters = NIL;
  fl->flags = FF_LIVE | (is_dir ? FF_DIR : 0);
  fl->sum = 0;
  m->n_files++;
  return f;
}

/* Forgets live file f, which has no opens, leases or waiters. */
static void file_drop(smbx_lease_mgr *m, uint32_t f)
{
  lfile *fl = &m->files[f];
  for (uint32_t b = file_home(m, file_hash(m, fl->key)); b != f / 2;
       b = file_next_bucket(m, b)) {
    lfile *first = &m->files[2 * (size_t)b];
    if (first->spill < UINT16_MAX)
      first->spill--;
  }
  fl->flags = 0;
  m->n_files--;
}

/* A file with no opens, leases or waiters is forgotten; most calls find
 * it still in use, a test made inline. */
static inline void file_drop_if_unused(smbx_lease_mgr *m, uint32_t f)
{
  const lfile *fl = &m->files[f];
  if ((fl->flags & FF_LIVE) && fl->opens == NIL && fl->leases == NIL &&
      fl->waiters == NIL)
    file_drop(m, f);
}

/* Lease ls's bits in its file's `sum`. */
static uint8_t lease_sum(const lease *ls)
{
  return (uint8_t)(ls->state | ls->breaking << SUM_BRK_SHIFT);
}

/* Lease ls's state rose or its break started: its file's sum takes it. */
static void file_sum_add(smbx_lease_mgr *m, const lease *ls)
{
  m->files[ls->file].sum |= lease_sum(ls);
}

static uint32_t file_find(const smbx_lease_mgr *m, const uint64_t key[2])
{
  uint64_t h = file_hash(m, key);
  file_prefetch_from(m, file_home(m, h));
  return file_lookup(m, key, h);
}

/* file_find() for a change that will read the file's leases: the file's
 * two lease groups start loading with its bucket, and so do their
 * deadlines, which a break that awaits an ack writes. */
static uint32_t file_find_leased(const smbx_lease_mgr *m,
                                 const uint64_t key[2])
{
  uint64_t h = file_hash(m, key);
  file_prefetch_from(m, file_home(m, h));
  for (unsigned choice = 0; choice < 2 && m->lease_groups; choice++) {
    uint32_t first = lease_group_of(m, h, choice) * LEASE_GROUP;
    /* through a pointer: each line one constant offset on */
    const lease *group = m->leases + first;
    for (uint32_t i = 0; i < LEASE_GROUP; i++)
      smbx__prefetch(group + i);
    smbx__prefetch_write(&m->deadlines[first]);
  }
  return file_lookup(m, key, h);
}

/* ---- events --------------------------------------------------------------- */

static qev *ev_slot(smbx_lease_mgr *m)
{
  if (smbx__ring_full(&m->evq) && smbx__ring_grow(&m->evq) != 0)
    return NULL; /* the host left the queue undrained and memory ran out */
  return smbx__ring_push_slot(&m->evq); /* the caller writes every field */
}

/* Newest open of the lease that still has a connection. */
static const lopen *lease_open_with_conn(const smbx_lease_mgr *m, uint32_t l)
{
  for (uint32_t o = m->files[m->leases[l].file].opens; o != NIL;
       o = m->opens[o].next) {
    const lopen *op = &m->opens[o];
    if ((op->flags & OF_DONE) && op->ref == l && op->conn)
      return op;
  }
  return NULL;
}

/* Lease l lost an open with a connection (a close): has it one left? */
static void lease_conn_recheck(smbx_lease_mgr *m, uint32_t l)
{
  if (lease_open_with_conn(m, l))
    m->leases[l].flags &= (uint8_t)~LF_CONNLESS;
  else
    m->leases[l].flags |= LF_CONNLESS;
}

/* Finished open op shares lease l from now on. */
static void lease_join(smbx_lease_mgr *m, uint32_t l, lopen *op)
{
  lease *ls = &m->leases[l];
  if (op->conn)
    ls->flags &= (uint8_t)~LF_CONNLESS;
  else if (!ls->nopens)
    ls->flags |= LF_CONNLESS;
  ls->nopens++;
  op->ref = l;
}

static uint64_t open_handle(const smbx_lease_mgr *m, const lopen *op)
{
  return (uint64_t)(op - m->opens) | (uint64_t)op->gen << 32;
}

/* Where the notification of lease l's break goes, 0 for nowhere (none of
 * its opens has a connection, leases.md 3.8). A lease break goes to the
 * client's oldest live connection (any connection of the client may carry
 * it; Samba does this and smbtorture v2_complex1 expects it) and reads no
 * open; without one, or for an oplock, to the newest open with a
 * connection (*op). */
static uint64_t break_conn(const smbx_lease_mgr *m, uint32_t l,
                           const lopen **op)
{
  const lease *ls = &m->leases[l];
  *op = NULL;
  uint64_t conn = m->clients[ls->client].conn;
  if (ls->version && conn)
    return ls->flags & LF_CONNLESS ? 0 : conn;
  *op = lease_open_with_conn(m, l);
  return *op ? (*op)->conn : 0;
}

/* Queue the notification of a break from `cur` to `next` to conn (op:
 * the oplock's open, which the event names). */
static void ev_break(smbx_lease_mgr *m, uint32_t l, uint64_t conn,
                     const lopen *op, uint8_t cur, uint8_t next, bool ack)
{
  const lease *ls = &m->leases[l];
  qev *q = ev_slot(m);
  if (!q)
    return;
  q->type = ls->version ? SMBX_LEASE_EV_BREAK : SMBX_LEASE_EV_OPLOCK_BREAK;
  q->flags = ack ? SMBX_SMB2_LEASE_BREAK_ACK_REQUIRED : 0;
  q->conn = conn;
  q->open = ls->version ? 0 : open_handle(m, op);
  q->user = ls->version ? 0 : op->user;
  memcpy(q->guid, m->clients[ls->client].guid, 16);
  memcpy(q->key, ls->key, 16);
  q->cur = cur;
  q->next = next;
  q->epoch = ls->version == 2 ? ls->epoch : 0;
  q->version = ls->version;
  m->breaks_sent++;
}

static void ev_ready(smbx_lease_mgr *m, const lwait *w)
{
  qev *q = ev_slot(m);
  if (!q)
    return;
  memset(q, 0, sizeof *q);
  q->type = SMBX_LEASE_EV_READY;
  q->user = w->user;
  if (w->open != NIL)
    q->open = open_handle(m, &m->opens[w->open]);
}

static uint8_t oplock_level_of(uint8_t state)
{
  if ((state & (R | W | H)) == RWH)
    return SMBX_SMB2_OPLOCK_LEVEL_BATCH;
  if (state & W)
    return SMBX_SMB2_OPLOCK_LEVEL_EXCLUSIVE;
  return state & R ? SMBX_SMB2_OPLOCK_LEVEL_II : SMBX_SMB2_OPLOCK_LEVEL_NONE;
}

/* Event e (full size) from q, an event other than a lease break: from
 * zero (out of line: a lease break's fill needs no stack frame). */
static SMBX__NOINLINE void event_fill_other(smbx_lease_event *e, const qev *q)
{
  size_t ss = e->struct_size;
  memset(e, 0, sizeof *e);
  e->struct_size = ss;
  e->type = q->type;
  e->flags = q->flags;
  e->conn = q->conn;
  e->open = q->open;
  e->user = q->user;
  memcpy(e->client_guid, q->guid, 16);
  if (q->type == SMBX_LEASE_EV_OPLOCK_BREAK) {
    e->current_state = oplock_level_of((uint8_t)q->cur);
    e->new_state = oplock_level_of((uint8_t)q->next);
    smbx_smb2_oplock_break ob;
    memset(&ob, 0, sizeof ob);
    ob.oplock_level = (uint8_t)e->new_state;
    smbx__wr w = smbx__wr_make(e->body, sizeof e->body);
    smbx__smb2_put_oplock_break(&w, &ob);
    e->body_len = w.bad ? 0 : (uint16_t)w.off;
  }
}

/* Event e (full size) from q. A lease break, the one the steady state
 * sees, writes every field (no zeroing first) and its body in place. */
static inline void event_fill(smbx_lease_event *e, const qev *q)
{
  if (q->type != SMBX_LEASE_EV_BREAK) {
    event_fill_other(e, q);
    return;
  }
  e->type = SMBX_LEASE_EV_BREAK;
  e->flags = q->flags;
  e->conn = q->conn;
  e->open = 0; /* a lease belongs to the client, not to an open */
  e->user = 0;
  memcpy(e->client_guid, q->guid, 16);
  memcpy(e->lease_key, q->key, 16);
  e->current_state = q->cur;
  e->new_state = q->next;
  e->new_epoch = q->epoch;
  e->body_len = SMBX__SMB2_LEASE_BREAK_NOTIFY_LEN;
  e->reserved = 0;
  /* the body alone: the host writes its own header */
  smbx_smb2_lease_break_notify n = {.new_epoch = q->epoch,
                                    .flags = q->flags,
                                    .current_state = q->cur,
                                    .new_state = q->next};
  memcpy(n.lease_key, q->key, 16);
  smbx__smb2_put_lease_break_notify(e->body, &n);
  memset(e->body + SMBX__SMB2_LEASE_BREAK_NOTIFY_LEN, 0,
         sizeof e->body - SMBX__SMB2_LEASE_BREAK_NOTIFY_LEN);
}

/* A caller built against an older, shorter struct gets the prefix of a
 * full one (out of line: the steady state fills in place). */
static SMBX__COLD void event_fill_short(smbx_lease_event *ev, const qev *q)
{
  smbx_lease_event local;
  local.struct_size = ev->struct_size;
  event_fill(&local, q);
  memcpy(ev, &local, ev->struct_size);
}

int smbx_lease_next_event(smbx_lease_mgr *m, smbx_lease_event *ev)
{
  if (!m || !ev || ev->struct_size < sizeof(size_t))
    return SMBX_ERR_INVAL;
  const qev *q = smbx__ring_front(&m->evq);
  if (!q)
    return 0;
  if (ev->struct_size >= sizeof *ev)
    event_fill(ev, q);
  else
    event_fill_short(ev, q);
  smbx__ring_drop_front(&m->evq);
  return 1;
}

/* ---- breaking list (deadline order) -------------------------------------- */

static void timer_unlink(smbx_lease_mgr *m, uint32_t l)
{
  lease *ls = &m->leases[l];
  if (ls->tprev != NIL)
    m->leases[ls->tprev].tnext = ls->tnext;
  else if (m->thead == l)
    m->thead = ls->tnext;
  if (ls->tnext != NIL)
    m->leases[ls->tnext].tprev = ls->tprev;
  else if (m->ttail == l)
    m->ttail = ls->tprev;
  ls->tprev = ls->tnext = NIL;
}

static void timer_append(smbx_lease_mgr *m, uint32_t l, uint64_t now)
{
  lease *ls = &m->leases[l];
  m->deadlines[l] = smbx__deadline_add(now, m->s.break_timeout_ns);
  ls->tnext = NIL;
  ls->tprev = m->ttail;
  if (m->ttail != NIL)
    m->leases[m->ttail].tnext = l;
  else
    m->thead = l;
  m->ttail = l;
}

/* cycle: the state the break cycle started from, 0 to stop breaking
 * (inline: with a constant cycle each caller keeps only its half) */
static inline void set_breaking(smbx_lease_mgr *m, uint32_t l,
                                uint8_t cycle, uint64_t now)
{
  lease *ls = &m->leases[l];
  if (ls->breaking) {
    timer_unlink(m, l);
    m->n_breaking--;
  }
  ls->breaking = cycle;
  if (cycle) {
    timer_append(m, l, now);
    m->n_breaking++;
    file_sum_add(m, ls);
  }
}

/* ---- waiters -------------------------------------------------------------- */

/* Is a lease of file f other than `exempt` in a break cycle that started
 * with a bit of must_drop? A walk that finds none leaves f's sum exact. */
static bool file_blocks(smbx_lease_mgr *m, uint32_t f, uint32_t exempt,
                        uint8_t must_drop)
{
  if (f == NIL || !((m->files[f].sum >> SUM_BRK_SHIFT) & must_drop))
    return false;
  uint8_t sum = 0;
  for (uint32_t l = m->files[f].leases; l != NIL;
       l = m->leases[l].next_in_file) {
    const lease *ls = &m->leases[l];
    if (l != exempt && (ls->breaking & must_drop))
      return true;
    sum |= lease_sum(ls);
  }
  m->files[f].sum = sum;
  return false;
}

static bool wait_ready(smbx_lease_mgr *m, const lwait *w)
{
  if (!w->must_drop) /* no break cycle can block it */
    return true;
  return !file_blocks(m, w->file, w->exempt, w->must_drop) &&
         !file_blocks(m, w->file2, w->exempt2, w->must_drop);
}

/* The link of waiter wi in file f's chain: a waiter whose two files are
 * the same is chained once, through wnext[0]. */
static uint32_t *wait_link(smbx_lease_mgr *m, uint32_t wi, uint32_t f)
{
  lwait *w = &m->waits[wi];
  return &w->wnext[w->file == f ? 0 : 1];
}

/* Appends waiter wi to file f's chain (first come, first woken). */
static void chain_append(smbx_lease_mgr *m, uint32_t f, uint32_t wi)
{
  uint32_t *pp = &m->files[f].waiters;
  while (*pp != NIL)
    pp = wait_link(m, *pp, f);
  *pp = wi;
  *wait_link(m, wi, f) = NIL;
}

static void chain_remove(smbx_lease_mgr *m, uint32_t f, uint32_t wi)
{
  uint32_t *pp = &m->files[f].waiters;
  while (*pp != wi)
    pp = wait_link(m, *pp, f);
  *pp = *wait_link(m, wi, f);
}

/* Waiter wi starts waiting on its file(s). */
static void wait_watch(smbx_lease_mgr *m, uint32_t wi)
{
  lwait *w = &m->waits[wi];
  w->waiting = 1;
  chain_append(m, w->file, wi);
  if (w->file2 != NIL && w->file2 != w->file)
    chain_append(m, w->file2, wi);
}

static void wait_unwatch(smbx_lease_mgr *m, uint32_t wi)
{
  lwait *w = &m->waits[wi];
  if (!w->waiting)
    return;
  w->waiting = 0;
  chain_remove(m, w->file, wi);
  if (w->file2 != NIL && w->file2 != w->file)
    chain_remove(m, w->file2, wi);
}

static void wait_free(smbx_lease_mgr *m, uint32_t wi)
{
  lwait *w = &m->waits[wi];
  wait_unwatch(m, wi);
  uint32_t f = w->file, f2 = w->file2;
  w->live = 0;
  w->next_free = m->free_wait;
  m->free_wait = wi;
  m->n_waits--;
  if (f != NIL)
    file_drop_if_unused(m, f);
  if (f2 != NIL)
    file_drop_if_unused(m, f2);
}

/* A lease of file f changed: wake the waiters that may now proceed. Opens
 * in progress keep their waiter (finish needs it); changes free theirs. */
static void wake_waiters(smbx_lease_mgr *m, uint32_t f)
{
  /* waking one waiter changes no lease, so no other's readiness; the next
   * link is read before this one leaves the chain. The file is dropped
   * (wait_free) only with its chain empty, when next is NIL. */
  for (uint32_t wi = m->files[f].waiters, next; wi != NIL; wi = next) {
    lwait *w = &m->waits[wi];
    next = *wait_link(m, wi, f);
    if (!wait_ready(m, w))
      continue;
    wait_unwatch(m, wi);
    ev_ready(m, w);
    if (w->open == NIL)
      wait_free(m, wi);
  }
}

/* Most changes leave a file nobody waits on: that test inline, the walk
 * out of line. */
static inline void wake(smbx_lease_mgr *m, uint32_t f)
{
  if (f != NIL && m->files[f].waiters != NIL)
    wake_waiters(m, f);
}

/* ---- leases --------------------------------------------------------------- */

/* The lease of client's key; h: lease_hash() of its GUID and key. */
static uint32_t lease_find(const smbx_lease_mgr *m, uint32_t client,
                           const uint8_t key[16], uint64_t h)
{
  uint8_t k[20];
  memcpy(k, &client, 4);
  memcpy(k + 4, key, 16);
  return smbx__itab_find_len(&m->lease_tab, k, sizeof k, h);
}

/* The lease of (ClientGuid, key), NIL when none. The table's candidates
 * are told apart by their key and their client's GUID (a keyed lease
 * holds a reference on its client; live clients' GUIDs differ), so the
 * client is not looked up first. */
static inline uint32_t lease_lookup(const smbx_lease_mgr *m,
                                    const uint8_t guid[16],
                                    const uint8_t key[16])
{
  smbx__itab_probe p =
      smbx__itab_probe_start(&m->lease_tab, lease_hash(m, guid, key));
  for (uint32_t l; (l = smbx__itab_probe_next(&m->lease_tab, &p)) != NIL;) {
    const lease *ls = &m->leases[l];
    if (memcmp(ls->key, key, 16) == 0 &&
        memcmp(m->clients[ls->client].guid, guid, 16) == 0)
      return l;
  }
  return NIL;
}

/* A new lease of file f: in the one of f's two groups with more free
 * entries, else at any free entry. */
static uint32_t lease_new(smbx_lease_mgr *m, uint32_t client, uint32_t f)
{
  if (m->n_leases >= m->s.max_leases)
    return NIL;
  uint32_t l = lease_free_in_groups(m, file_hash(m, m->files[f].key));
  if (l == NIL)
    l = lease_free_find(m);
  if (l == NIL)
    return NIL;
  lease_free_clear(m, l);
  lease *ls = &m->leases[l];
  memset(ls, 0, sizeof *ls);
  ls->client = client;
  ls->file = f;
  ls->file_key[0] = m->files[f].key[0];
  ls->file_key[1] = m->files[f].key[1];
  ls->tprev = ls->tnext = NIL;
  ls->flags = LF_LIVE | (m->files[f].flags & FF_DIR ? LF_DIR : 0);
  ls->next_in_file = m->files[f].leases;
  m->files[f].leases = l;
  m->clients[client].refs++;
  m->n_leases++;
  return l;
}

static void lease_delete(smbx_lease_mgr *m, uint32_t l)
{
  lease *ls = &m->leases[l];
  set_breaking(m, l, 0, 0);
  if (ls->flags & LF_KEYED) {
    (void)smbx__itab_remove(&m->lease_tab, l, lease_rehash(m, l));
    m->keyed_changes++;
  }
  lfile *fl = &m->files[ls->file];
  uint32_t *pp = &fl->leases;
  while (*pp != l)
    pp = &m->leases[*pp].next_in_file;
  *pp = ls->next_in_file;
  if (!(ls->flags & LF_KEYED) && (fl->flags & FF_OPLOCK)) {
    /* an oplock went: is another left? */
    fl->flags &= (uint8_t)~FF_OPLOCK;
    for (uint32_t x = fl->leases; x != NIL; x = m->leases[x].next_in_file)
      if (!(m->leases[x].flags & LF_KEYED))
        fl->flags |= FF_OPLOCK;
  }
  client_unref(m, ls->client);
  ls->flags = 0;
  lease_free_set(m, l);
  m->n_leases--;
}

/* lease_lookup() for an ack whose hint missed (out of line: the hit
 * path saves no registers for it) */
static SMBX__NOINLINE uint32_t lease_lookup_unhinted(const smbx_lease_mgr *m,
                                                    const uint8_t guid[16],
                                                    const uint8_t key[16])
{
  return lease_lookup(m, guid, key);
}

/* The ack hint of a ClientGuid's key: a multiplicative hash of the key's
 * and the GUID's halves, so an ack finds its hint before (without) looking
 * the client up. Unseeded: a peer choosing colliding keys only sends acks
 * to the table. */
static uint32_t ack_hint_slot(const uint8_t guid[16], const uint8_t key[16])
{
  uint64_t k0, k1, g0, g1;
  memcpy(&k0, key, 8);
  memcpy(&k1, key + 8, 8);
  memcpy(&g0, guid, 8);
  memcpy(&g1, guid + 8, 8);
  uint64_t k = (k0 ^ g1) + (k1 ^ g0) * UINT64_C(0x9e3779b97f4a7c15);
  return (uint32_t)((k * UINT64_C(0xff51afd7ed558ccd)) >> (64 - ACK_HINT_BITS));
}

/* Start a break of lease l toward `target` (leases.md 3.5). `step`: the
 * start state of the cycle this is a follow-up step of after an ack (same
 * epoch), 0 for a new cycle. */
static void lease_break(smbx_lease_mgr *m, uint32_t l, uint8_t target,
                        uint8_t step, uint64_t now)
{
  lease *ls = &m->leases[l];
  target &= ls->state;
  if (ls->version == 0) /* oplocks break to level II or NONE only */
    target = target & R ? (uint8_t)R : 0;
  if (ls->breaking && !step) {
    ls->required &= target;
    return;
  }
  if (target == ls->state)
    return;
  if (!step)
    ls->epoch++;
  const lopen *op;
  uint64_t conn = break_conn(m, l, &op);
  if (!conn) {
    /* nobody to notify (3.8): the break takes effect at once */
    ls->state = target;
    set_breaking(m, l, 0, now);
    return;
  }
  uint8_t cur = ls->state;
  bool ack = (cur & (H | W)) != 0;
  if (!ack) {
    /* R -> NONE: no ack, no timer */
    target = 0;
    ls->state = 0;
    set_breaking(m, l, 0, now);
  } else {
    /* a follow-up step keeps what the cycle still requires */
    ls->required = step ? (uint8_t)(ls->required & target) : target;
    ls->offered = target;
    set_breaking(m, l, step ? step : cur, now);
    m->ack_hint[ack_hint_slot(m->clients[ls->client].guid, ls->key)] = l + 1;
  }
  /* one call: inlined, it shares the GUID's and key's loads */
  ev_break(m, l, conn, op, cur, target, ack);
}

static void break_file_leases(smbx_lease_mgr *m, uint32_t f, uint32_t exempt,
                              uint8_t drop, uint64_t now)
{
  uint8_t sum = 0;
  for (uint32_t l = m->files[f].leases; l != NIL;
       l = m->leases[l].next_in_file) {
    if (l != exempt && (m->leases[l].state & drop))
      lease_break(m, l, (uint8_t)(m->leases[l].state & ~drop), 0, now);
    sum |= lease_sum(&m->leases[l]);
  }
  m->files[f].sum = sum;
}

/* Break every lease of file f except `exempt` by removing `drop`. A file
 * whose sum holds none of `drop` has nothing to break: its leases are not
 * read (that test inline, the walk out of line). */
static inline void break_file(smbx_lease_mgr *m, uint32_t f, uint32_t exempt,
                              uint8_t drop, uint64_t now)
{
  if (f != NIL && (m->files[f].sum & drop))
    break_file_leases(m, f, exempt, drop, now);
}

/* Is lease l the one a ParentLeaseKey exempts (leases.md 3.4)? */
static bool parent_exempt(const smbx_lease_mgr *m, uint32_t l,
                          const lease *child)
{
  if (!child || !(child->flags & LF_PARENT))
    return false;
  const lease *ls = &m->leases[l];
  if (ls->version == 0 || memcmp(ls->key, child->parent_key, 16) != 0)
    return false;
  return !(m->s.flags & SMBX_LEASE_PARENT_SAME_CLIENT) ||
         ls->client == child->client;
}

/* Break directory f's leases by removing `drop`, sparing the lease the
 * child's ParentLeaseKey names. */
static void break_dir(smbx_lease_mgr *m, uint32_t f, const lease *child,
                      uint8_t drop, uint64_t now)
{
  if (f == NIL || !(m->files[f].sum & drop))
    return;
  uint8_t sum = 0;
  for (uint32_t l = m->files[f].leases; l != NIL;
       l = m->leases[l].next_in_file) {
    if (!parent_exempt(m, l, child) && (m->leases[l].state & drop))
      lease_break(m, l, (uint8_t)(m->leases[l].state & ~drop), 0, now);
    sum |= lease_sum(&m->leases[l]);
  }
  m->files[f].sum = sum;
}

/* The parent-exempt lease of directory f, or NIL. */
static uint32_t dir_exempt(const smbx_lease_mgr *m, uint32_t f,
                           const lease *child)
{
  if (f == NIL || !child)
    return NIL;
  for (uint32_t l = m->files[f].leases; l != NIL;
       l = m->leases[l].next_in_file)
    if (parent_exempt(m, l, child))
      return l;
  return NIL;
}

/* What of `want` can be granted to open o (lease l or NIL) of file f now
 * (leases.md 3.2 step 2). */
static uint8_t grantable(const smbx_lease_mgr *m, uint32_t f, uint32_t o,
                         uint32_t l, uint8_t want, bool byte_locks)
{
  uint8_t g = want & RWH;
  if (byte_locks)
    g &= (uint8_t)~(R | H);
  if (!(g & R))
    return 0;
  /* the other opens take only W, and H beside a plain oplock: without
   * either at stake there is nothing to walk */
  if (!(g & W) && !(m->files[f].flags & FF_OPLOCK))
    return g;
  for (uint32_t x = m->files[f].opens; x != NIL; x = m->opens[x].next) {
    const lopen *op = &m->opens[x];
    if (x == o)
      continue;
    bool done = op->flags & OF_DONE;
    if (done && l != NIL && op->ref == l)
      continue; /* the same lease */
    if (op->flags & OF_NONSTAT)
      g &= (uint8_t)~W;
    if (done && op->ref != NIL && m->leases[op->ref].state) {
      g &= (uint8_t)~W;
      if (m->leases[op->ref].version == 0)
        g &= (uint8_t)~H; /* a plain oplock present */
    }
  }
  return g;
}

/* ---- opens ---------------------------------------------------------------- */

/* The live open a handle names (index | generation << 32), or NIL. */
static uint32_t open_index(const smbx_lease_mgr *m, uint64_t h)
{
  uint32_t i = (uint32_t)h;
  if (!m || i >= m->s.max_opens)
    return NIL;
  const lopen *op = &m->opens[i];
  if (!(op->flags & OF_LIVE) || op->gen != (uint16_t)(h >> 32))
    return NIL;
  return i;
}

static lopen *open_get(smbx_lease_mgr *m, uint64_t h, uint32_t *idx)
{
  uint32_t i = open_index(m, h);
  if (i == NIL)
    return NULL;
  if (idx)
    *idx = i;
  return &m->opens[i];
}

static void open_unlink(smbx_lease_mgr *m, uint32_t o)
{
  lopen *op = &m->opens[o];
  uint32_t *pp = &m->files[op->file].opens;
  while (*pp != o)
    pp = &m->opens[*pp].next;
  *pp = op->next;
  op->flags = 0;
  op->gen++; /* even: free */
  op->next = m->free_open;
  m->free_open = o;
  m->n_opens--;
}

static bool key_zero(const uint8_t k[16])
{
  static const uint8_t z[16];
  return memcmp(k, z, 16) == 0;
}

/* leases.md 2.8: is the RqLs context of this open honoured? */
static bool lease_honoured(const lwait *w)
{
  if (!w->has_lease || w->requested_oplock != SMBX_SMB2_OPLOCK_LEVEL_LEASE)
    return false;
  if (key_zero(w->lease.key) || w->dialect < SMBX_SMB2_DIALECT_210 ||
      !(w->capabilities & SMBX_SMB2_CAP_LEASING))
    return false;
  if (w->lease.version == 2 && w->dialect < SMBX_SMB2_DIALECT_300)
    return false; /* v2 on 2.1: ignored (Samba) */
  if (w->is_dir && (w->dialect < SMBX_SMB2_DIALECT_300 ||
                    !(w->capabilities & SMBX_SMB2_CAP_DIRECTORY_LEASING) ||
                    w->lease.version != 2))
    return false; /* 3.x clients send v2 for directories */
  return true;
}

int smbx_lease_create_parse(const smbx_smb2_create_req *cr, uint32_t flags,
                            smbx_lease_open_req *req, uint32_t *status)
{
  if (!cr || !req || !status)
    return SMBX_ERR_INVAL;
  *status = SMBX_STATUS_SUCCESS;
  req->requested_oplock = cr->requested_oplock_level;
  req->has_lease = 0;
  memset(&req->lease, 0, sizeof req->lease);
  smbx_smb2_create_ctx_iter it;
  if (smbx_smb2_create_ctx_iter_init(&it, cr->contexts, 0) != 0) {
    *status = SMBX_STATUS_INVALID_PARAMETER;
    return 0;
  }
  smbx_smb2_create_ctx c;
  int rc;
  while ((rc = smbx_smb2_create_ctx_next(&it, &c, NULL)) == 1) {
    if (smbx_smb2_create_ctx_tag(&c) != SMBX_SMB2_CTX_TAG_RQLS)
      continue;
    if (req->has_lease) {
      if (flags & SMBX_LEASE_STRICT_DUP)
        *status = SMBX_STATUS_INVALID_PARAMETER;
      continue; /* default: the first wins (Samba) */
    }
    smbx_smb2_lease l;
    if (smbx_smb2_lease_decode(c.data, &l, NULL) != 0) {
      *status = SMBX_STATUS_INVALID_PARAMETER; /* DataLength not 32/52 */
      continue;
    }
    /* server side: only PARENT_LEASE_KEY_SET is meaningful in a request;
     * LeaseDuration and Reserved are ignored */
    l.flags &= SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET;
    if (l.version != 2)
      l.flags = 0;
    if (!(l.flags & SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET))
      memset(l.parent_key, 0, 16);
    l.duration = 0;
    l.reserved = 0;
    req->lease = l;
    req->has_lease = 1;
  }
  if (rc < 0)
    *status = SMBX_STATUS_INVALID_PARAMETER;
  if (*status != SMBX_STATUS_SUCCESS) {
    req->has_lease = 0;
    memset(&req->lease, 0, sizeof req->lease);
  }
  return 0;
}

/* 3.3: what an open takes away from the other leases of its file; *must:
 * what it waits for. */
static uint8_t open_drop(const smbx_lease_open_req *req, uint8_t *must)
{
  bool over = !req->is_dir && (req->disposition == DISP_SUPERSEDE ||
                               req->disposition == DISP_OVERWRITE ||
                               req->disposition == DISP_OVERWRITE_IF);
  if (req->share_conflict) {
    /* the open fails unless the holders close: only H goes */
    *must = H;
    return H;
  }
  if (over) {
    *must = W;
    return RWH;
  }
  if (req->access & ~ACC_STAT) {
    *must = W;
    return W;
  }
  *must = 0;
  return 0;
}

int smbx_lease_open_begin(smbx_lease_mgr *m, const smbx_lease_open_req *req,
                          uint64_t now_ns, uint64_t *open, uint32_t *status)
{
  if (!m || !req || !open || !status ||
      req->struct_size < sizeof(smbx_lease_open_req))
    return SMBX_ERR_INVAL;
  *open = 0;
  *status = SMBX_STATUS_SUCCESS;
  if (m->free_open == NIL || m->free_wait == NIL)
    return SMBX_ERR_LIMIT;
  /* both table slots start loading while the client is looked up */
  uint64_t fh = file_hash(m, req->file_key);
  uint64_t lh = req->has_lease
                    ? lease_hash(m, req->client_guid, req->lease.key)
                    : 0;
  file_prefetch_from(m, file_home(m, fh));
  if (req->has_lease)
    smbx__itab_prefetch(&m->lease_tab, lh);
  uint32_t c = client_ref(m, req->client_guid);
  if (c == NIL)
    return SMBX_ERR_LIMIT;
  if (!m->clients[c].conn)
    m->clients[c].conn = req->conn;
  uint32_t f = file_get(m, req->file_key, fh, req->is_dir);
  if (f == NIL) {
    client_unref(m, c);
    return SMBX_ERR_LIMIT;
  }
  uint32_t wi = m->free_wait;
  lwait *w = &m->waits[wi];
  /* every field is written below or before the waiter goes live (no
   * memset: a free waiter is never read) */
  w->user = req->user;
  w->file = f;
  w->file2 = NIL;
  w->exempt = w->exempt2 = NIL;
  w->has_lease = req->has_lease;
  w->requested_oplock = req->requested_oplock;
  w->is_dir = req->is_dir ? 1 : 0;
  w->byte_locks = req->byte_locks;
  w->capabilities = req->capabilities;
  w->dialect = req->dialect;
  w->client = c;
  w->lease_hash = lh;
  w->lease = req->lease;
  w->honoured = lease_honoured(w);
  w->must_drop = w->waiting = 0;
  w->wnext[0] = w->wnext[1] = NIL;
  w->reserved2 = 0;
  /* 3.3: what this open takes away from the other leases, and what it
   * waits for */
  uint8_t must = 0, drop = open_drop(req, &must);
  uint8_t sum = m->files[f].sum;
  if ((drop & sum) || (must & sum >> SUM_BRK_SHIFT) || !w->honoured ||
      (req->lease.state & W) || (m->files[f].flags & FF_OPLOCK)) {
    /* breaking or granting will walk the file's other opens and leases:
     * start loading the first of each while the rest of begin runs */
    if (m->files[f].opens != NIL)
      smbx__prefetch(&m->opens[m->files[f].opens]);
    if (m->files[f].leases != NIL)
      smbx__prefetch(&m->leases[m->files[f].leases]);
  }
  uint32_t own = NIL;
  /* 3.1: one key, one object per client; checked even when the context is
   * then ignored (a directory without DIRECTORY_LEASING: Samba); an
   * honoured context already passed these tests */
  if (w->honoured ||
      (req->has_lease &&
       req->requested_oplock == SMBX_SMB2_OPLOCK_LEVEL_LEASE &&
       !key_zero(req->lease.key))) {
    own = lease_find(m, c, req->lease.key, lh);
    if (own != NIL && m->leases[own].file != f) {
      client_unref(m, c);
      file_drop_if_unused(m, f);
      *status = SMBX_STATUS_INVALID_PARAMETER;
      return 0;
    }
  }
  m->free_wait = w->next_free;
  w->live = 1;
  m->n_waits++;
  uint32_t o = m->free_open;
  lopen *op = &m->opens[o];
  m->free_open = op->next;
  op->gen = (uint16_t)(op->gen | 1u);
  op->flags = OF_LIVE | ((req->access & ~ACC_STAT) ? OF_NONSTAT : 0);
  op->conn = req->conn;
  op->user = req->user;
  op->file = f;
  op->ref = wi;
  op->next = m->files[f].opens;
  m->files[f].opens = o;
  m->n_opens++;
  w->open = o;
  w->found = own;
  w->keyed_seen = m->keyed_changes;
  /* its own lease is spared only when this open will share it (an
   * ignored context makes a lease-less open that breaks the lease) */
  if (!w->honoured)
    own = NIL;
  w->exempt = own;

  break_file(m, f, own, drop, now_ns);
  if (req->has_parent && (m->s.flags & SMBX_LEASE_DIR_WRITE)) {
    /* an open inside a directory another key holds W on (opt-in) */
    uint32_t pf = file_find(m, req->parent_key);
    if (pf != NIL) {
      lease child;
      memset(&child, 0, sizeof child);
      child.client = c;
      if (req->has_lease && req->lease.version == 2 &&
          (req->lease.flags & SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET)) {
        child.flags = LF_PARENT;
        memcpy(child.parent_key, req->lease.parent_key, 16);
      }
      break_dir(m, pf, &child, W, now_ns);
      uint32_t ex = dir_exempt(m, pf, &child);
      if (file_blocks(m, pf, ex, W)) {
        w->file2 = pf;
        w->exempt2 = ex;
      }
    }
  }
  w->must_drop = must;
  *open = open_handle(m, op);
  if (wait_ready(m, w))
    return 0;
  wait_watch(m, wi);
  return 1;
}

static uint8_t oplock_bits(uint8_t level)
{
  switch (level) {
  case SMBX_SMB2_OPLOCK_LEVEL_II:
    return R;
  case SMBX_SMB2_OPLOCK_LEVEL_EXCLUSIVE:
    return R | W;
  case SMBX_SMB2_OPLOCK_LEVEL_BATCH:
    return RWH;
  default:
    return 0;
  }
}

/* g arrives zeroed (smbx_lease_open_finish) */
static void fill_lease_grant(const smbx_lease_mgr *m, uint32_t l,
                             smbx_lease_grant *g, uint8_t version)
{
  const lease *ls = &m->leases[l];
  g->oplock_level = SMBX_SMB2_OPLOCK_LEVEL_LEASE;
  g->has_lease = 1;
  g->lease.version = version;
  memcpy(g->lease.key, ls->key, 16);
  g->lease.state = ls->state;
  if (ls->breaking)
    g->lease.flags |= SMBX_SMB2_LEASE_FLAG_BREAK_IN_PROGRESS;
  if (version == 2) {
    g->lease.epoch = ls->epoch;
    if (ls->flags & LF_PARENT) {
      g->lease.flags |= SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET;
      memcpy(g->lease.parent_key, ls->parent_key, 16);
    }
  }
}

/* Grant (or upgrade) for the open in progress o; fills g. */
static void grant(smbx_lease_mgr *m, uint32_t o, lwait *w, smbx_lease_grant *g)
{
  lopen *op = &m->opens[o];
  uint32_t f = op->file;
  op->ref = NIL;
  g->oplock_level = SMBX_SMB2_OPLOCK_LEVEL_NONE;
  g->has_lease = 0;
  if (w->honoured) {
    uint8_t want = (uint8_t)(w->lease.state & RWH);
    if (w->is_dir && !(m->s.flags & SMBX_LEASE_DIR_WRITE))
      want &= (uint8_t)~W; /* Windows drops W on directories */
    uint32_t l = w->keyed_seen == m->keyed_changes
                     ? w->found
                     : lease_find(m, w->client, w->lease.key, w->lease_hash);
    if (l != NIL && m->leases[l].file != f)
      return; /* taken for another object since begin: no lease */
    if (l == NIL) {
      l = lease_new(m, w->client, f);
      if (l == NIL)
        return; /* table full: the open goes on without a lease */
      lease *ls = &m->leases[l];
      memcpy(ls->key, w->lease.key, 16);
      if (smbx__itab_insert(&m->lease_tab, l, w->lease_hash) != 0) {
        lease_delete(m, l);
        return;
      }
      ls->flags |= LF_KEYED;
      m->keyed_changes++;
      ls->version = w->lease.version;
      if (w->lease.flags & SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET) {
        ls->flags |= LF_PARENT;
        memcpy(ls->parent_key, w->lease.parent_key, 16);
      }
      ls->state = grantable(m, f, o, l, want, w->byte_locks);
      file_sum_add(m, ls);
      /* 3.2 step 4: epoch + 1 only when something was granted */
      ls->epoch = (uint16_t)(w->lease.epoch + (ls->state ? 1 : 0));
    } else {
      lease *ls = &m->leases[l];
      if (!ls->breaking && (want & ls->state) == ls->state &&
          want != ls->state &&
          grantable(m, f, o, l, want, w->byte_locks) == want) {
        ls->state = want; /* all or nothing, never down */
        ls->epoch++;
        file_sum_add(m, ls);
      }
    }
    lease_join(m, l, op);
    /* answered in the version the lease was created with (Samba,
     * smbtorture v2_epoch2/3) */
    fill_lease_grant(m, l, g, m->leases[l].version);
    return;
  }
  uint8_t want = oplock_bits(w->requested_oplock);
  if (w->is_dir || !want)
    return; /* never plain oplocks on directories */
  for (uint32_t x = m->files[f].leases; x != NIL;
       x = m->leases[x].next_in_file)
    if (m->leases[x].version && (m->leases[x].state & H))
      return; /* an H lease keeps the handle: no oplock (Samba) */
  uint8_t got = grantable(m, f, o, NIL, want, w->byte_locks);
  if ((got & W) != (want & W) || ((want & H) && !(got & H)))
    got &= R; /* exclusive/batch only when alone: else level II */
  if (!got)
    return;
  uint32_t l = lease_new(m, w->client, f);
  if (l == NIL)
    return;
  m->leases[l].state = got;
  lease_join(m, l, op);
  file_sum_add(m, &m->leases[l]);
  m->files[f].flags |= FF_OPLOCK;
  g->oplock_level = oplock_level_of(got);
}

int smbx_lease_open_finish(smbx_lease_mgr *m, uint64_t open,
                           uint32_t fs_status, uint64_t now_ns,
                           smbx_lease_grant *g)
{
  (void)now_ns;
  uint32_t o;
  lopen *op = open_get(m, open, &o);
  if (!op)
    return m ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  if (op->flags & OF_DONE)
    return SMBX_ERR_STATE;
  if (fs_status == SMBX_STATUS_SUCCESS &&
      (!g || g->struct_size < sizeof(smbx_lease_grant)))
    return SMBX_ERR_INVAL;
  uint32_t wi = op->ref;
  lwait *w = &m->waits[wi];
  uint32_t f = op->file, c = w->client;
  if (fs_status != SMBX_STATUS_SUCCESS) {
    open_unlink(m, o);
    wait_free(m, wi);
    client_unref(m, c);
    file_drop_if_unused(m, f);
    wake(m, f);
    return 0;
  }
  /* g is full-size (checked above): filled in place */
  size_t ss = g->struct_size;
  memset(g, 0, sizeof *g);
  g->struct_size = ss;
  grant(m, o, w, g);
  op->flags |= OF_DONE;
  wait_free(m, wi);
  client_unref(m, c); /* the lease (if any) holds its own reference */
  return 0;
}

int smbx_lease_close(smbx_lease_mgr *m, uint64_t open, uint64_t now_ns)
{
  (void)now_ns;
  uint32_t o;
  lopen *op = open_get(m, open, &o);
  if (!op)
    return m ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  uint32_t f = op->file;
  if (!(op->flags & OF_DONE)) {
    /* closed before finish: as a failed open */
    uint32_t wi = op->ref, c = m->waits[wi].client;
    open_unlink(m, o);
    wait_free(m, wi);
    client_unref(m, c);
  } else {
    uint32_t l = op->ref;
    bool had_conn = op->conn != 0;
    open_unlink(m, o);
    if (l != NIL && --m->leases[l].nopens == 0)
      lease_delete(m, l); /* 3.9: a pending break is thereby satisfied */
    else if (l != NIL && had_conn)
      lease_conn_recheck(m, l);
  }
  wake(m, f);
  file_drop_if_unused(m, f);
  return 0;
}

/* ---- changes -------------------------------------------------------------- */

static int wait_add(smbx_lease_mgr *m, uint64_t user, uint32_t f,
                    uint32_t exempt, uint8_t must)
{
  lwait probe;
  memset(&probe, 0, sizeof probe);
  probe.file = f;
  probe.file2 = NIL;
  probe.exempt = exempt;
  probe.exempt2 = NIL;
  probe.must_drop = must;
  if (wait_ready(m, &probe))
    return 0;
  uint32_t wi = m->free_wait;
  if (wi == NIL)
    return SMBX_ERR_LIMIT;
  lwait *w = &m->waits[wi];
  m->free_wait = w->next_free;
  *w = probe;
  w->user = user;
  w->open = NIL;
  w->client = NIL;
  w->live = 1;
  m->n_waits++;
  wait_watch(m, wi);
  return 1;
}

int smbx_lease_change_report(smbx_lease_mgr *m, const smbx_lease_change *c,
                             uint64_t now_ns)
{
  if (!m || !c || c->struct_size < sizeof(smbx_lease_change))
    return SMBX_ERR_INVAL;
  const lease *own = NULL;
  uint32_t own_idx = NIL;
  if (c->open) {
    lopen *op = open_get(m, c->open, NULL);
    if (!op)
      return SMBX_ERR_NOTFOUND;
    if ((op->flags & OF_DONE) && op->ref != NIL) {
      own_idx = op->ref;
      own = &m->leases[own_idx];
    }
  }
  switch (c->kind) {
  case SMBX_LEASE_CHG_DATA:
    /* 3.3: a write, size change or lock takes R (and H) from the others */
    break_file(m, file_find_leased(m, c->file_key), own_idx, RWH, now_ns);
    return 0;
  case SMBX_LEASE_CHG_CHILD:
    /* 3.4: straight to NONE, never waits (a peer out of credits would
     * deadlock on its own ack) */
    break_dir(m, file_find_leased(m, c->dir_key), own, RWH, now_ns);
    if (c->has_dir2)
      break_dir(m, file_find_leased(m, c->dir2_key), own, RWH, now_ns);
    return 0;
  case SMBX_LEASE_CHG_HANDLES: {
    uint32_t f = file_find_leased(m, c->file_key);
    if (f == NIL)
      return 0;
    break_file(m, f, own_idx, H, now_ns);
    return wait_add(m, c->user, f, own_idx, H);
  }
  case SMBX_LEASE_CHG_DIR_ACCESS: {
    uint32_t f = file_find_leased(m, c->dir_key);
    if (f == NIL)
      return 0;
    /* spared: the caller's own lease on the directory (its handle), or
     * the one its ParentLeaseKey names (a child open) */
    uint32_t ex = own && own->file == f ? own_idx : dir_exempt(m, f, own);
    break_file(m, f, ex, W, now_ns);
    return wait_add(m, c->user, f, ex, W);
  }
  default:
    return SMBX_ERR_INVAL;
  }
}

int smbx_lease_cancel(smbx_lease_mgr *m, uint64_t user, uint64_t now_ns)
{
  (void)now_ns;
  if (!m)
    return SMBX_ERR_INVAL;
  for (uint32_t wi = 0; wi < m->s.max_waiters; wi++) {
    lwait *w = &m->waits[wi];
    if (!w->live || !w->waiting || w->user != user)
      continue;
    if (w->open != NIL) {
      /* a waiting open: drop it as a failed open */
      lopen *op = &m->opens[w->open];
      return smbx_lease_open_finish(m, open_handle(m, op),
                                    SMBX_STATUS_CANCELLED, now_ns, NULL);
    }
    wait_free(m, wi);
    return 0;
  }
  return SMBX_ERR_NOTFOUND;
}

/* ---- acks and timeouts ---------------------------------------------------- */

/* The acked state is settled; continue the cycle if conflicts still demand
 * less (leases.md 3.5: one step per notification, same epoch). Inline in
 * its two acks. */
static inline void settle(smbx_lease_mgr *m, uint32_t l, uint8_t acked,
                          uint64_t now)
{
  lease *ls = &m->leases[l];
  uint8_t required = ls->required & acked;
  uint8_t cycle = ls->breaking;
  ls->state = acked;
  ls->required = required;
  set_breaking(m, l, 0, now);
  if (acked != required) {
    uint8_t target = required;
    if (acked & (H | W))
      target |= acked & R; /* R goes last, in its own step */
    lease_break(m, l, target, cycle, now);
  }
  wake(m, ls->file);
}

int smbx_lease_ack(smbx_lease_mgr *m, const uint8_t client_guid[16],
                   const smbx_smb2_lease_break_ack *ack, uint64_t now_ns,
                   smbx_smb2_lease_break_ack *resp, uint32_t *status)
{
  if (!m || !client_guid || !ack || !resp || !status)
    return SMBX_ERR_INVAL;
  memset(resp, 0, sizeof *resp);
  /* a keyed lease holds a reference on its client: its GUID is there */
  uint32_t hint = m->ack_hint[ack_hint_slot(client_guid, ack->lease_key)];
  const lease *hl = hint ? &m->leases[hint - 1] : NULL;
  uint32_t l;
  if (hl && (hl->flags & LF_KEYED) &&
      memcmp(hl->key, ack->lease_key, 16) == 0 &&
      memcmp(m->clients[hl->client].guid, client_guid, 16) == 0)
    l = hint - 1; /* (ClientGuid, key) names one keyed lease */
  else
    l = lease_lookup_unhinted(m, client_guid, ack->lease_key);
  if (l == NIL) {
    *status = SMBX_STATUS_OBJECT_NAME_NOT_FOUND;
    return 0;
  }
  lease *ls = &m->leases[l];
  if (!ls->breaking) {
    *status = SMBX_STATUS_UNSUCCESSFUL;
    return 0;
  }
  if (ack->lease_state & ~(uint32_t)ls->offered) {
    *status = SMBX_STATUS_REQUEST_NOT_ACCEPTED;
    return 0;
  }
  *status = SMBX_STATUS_SUCCESS;
  memcpy(resp->lease_key, ls->key, 16);
  resp->lease_state = ack->lease_state;
  settle(m, l, (uint8_t)ack->lease_state, now_ns);
  return 0;
}

int smbx_lease_ack_pdu(smbx_lease_mgr *m, const uint8_t client_guid[16],
                       uint16_t dialect, const uint8_t *pdu, size_t len,
                       uint64_t now_ns, smbx_lease_ack_result *res)
{
  if (!m || !client_guid || !pdu || !res ||
      res->struct_size < sizeof(smbx_lease_ack_result))
    return SMBX_ERR_INVAL;
  size_t ss = res->struct_size;
  memset(res, 0, sizeof *res);
  res->struct_size = ss;
  res->status = SMBX_STATUS_INVALID_PARAMETER;
  /* 2.7: 24 oplock ack, 36 lease ack (not on 2.0.2), else refused */
  int kind = smbx_smb2_oplock_break_classify(pdu, len, NULL);
  if (kind == SMBX_SMB2_BREAK_OPLOCK) {
    smbx_smb2_oplock_break ob;
    if (smbx_smb2_decode_oplock_break(pdu, len, &ob, NULL) != 0)
      return 0;
    res->kind = kind;
    res->status = SMBX_STATUS_SUCCESS;
    res->file_id = ob.file_id;
    res->oplock_level = ob.oplock_level;
    return 0;
  }
  if (kind != SMBX_SMB2_BREAK_LEASE_ACK || dialect < SMBX_SMB2_DIALECT_210)
    return 0;
  smbx_smb2_lease_break_ack a, r;
  if (smbx_smb2_decode_lease_break_ack(pdu, len, &a, NULL) != 0)
    return 0;
  res->kind = kind;
  (void)smbx_lease_ack(m, client_guid, &a, now_ns, &r, &res->status);
  if (res->status != SMBX_STATUS_SUCCESS)
    return 0;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  h.flags = SMBX_SMB2_FLAGS_SERVER_TO_REDIR;
  uint8_t out[64 + 36];
  if (smbx_smb2_encode_lease_break_ack(&h, &r, out, sizeof out, NULL) ==
      (smbx_ssize)sizeof out) {
    memcpy(res->body, out + 64, 36);
    res->body_len = 36;
  }
  return 0;
}

int smbx_lease_oplock_ack(smbx_lease_mgr *m, uint64_t open, uint8_t level,
                          uint64_t now_ns, uint8_t *new_level,
                          uint32_t *status)
{
  if (!m || !new_level || !status)
    return SMBX_ERR_INVAL;
  lopen *op = open_get(m, open, NULL);
  if (!op)
    return SMBX_ERR_NOTFOUND;
  *new_level = SMBX_SMB2_OPLOCK_LEVEL_NONE;
  uint32_t l = (op->flags & OF_DONE) ? op->ref : NIL;
  if (l == NIL || m->leases[l].version != 0 || !m->leases[l].breaking) {
    *status = SMBX_STATUS_INVALID_OPLOCK_PROTOCOL;
    return 0;
  }
  lease *ls = &m->leases[l];
  uint8_t bits = oplock_bits(level);
  if (level != SMBX_SMB2_OPLOCK_LEVEL_NONE && !bits) {
    *status = SMBX_STATUS_INVALID_PARAMETER;
    return 0;
  }
  if (bits & ~ls->offered) {
    *status = SMBX_STATUS_INVALID_PARAMETER;
    return 0;
  }
  *status = SMBX_STATUS_SUCCESS;
  settle(m, l, bits, now_ns);
  *new_level = oplock_level_of(ls->state);
  return 0;
}

int smbx_lease_conn_down(smbx_lease_mgr *m, uint64_t conn)
{
  if (!m)
    return SMBX_ERR_INVAL;
  /* the leases of the opens losing their connection are marked, then
   * unmarked where an open still has one: two passes over the opens, not
   * a walk of the file's opens per open (quadratic in the opens of a
   * file, each with its own lease) */
  bool marked = false;
  for (uint32_t o = 0; o < m->s.max_opens; o++) {
    lopen *op = &m->opens[o];
    if (!(op->flags & OF_LIVE) || op->conn != conn)
      continue;
    op->conn = 0;
    if ((op->flags & OF_DONE) && op->ref != NIL) {
      m->leases[op->ref].flags |= LF_CONNLESS;
      marked = true;
    }
  }
  for (uint32_t o = 0; marked && o < m->s.max_opens; o++) {
    const lopen *op = &m->opens[o];
    if ((op->flags & OF_DONE) && op->ref != NIL && op->conn)
      m->leases[op->ref].flags &= (uint8_t)~LF_CONNLESS;
  }
  for (uint32_t c = 0; c < m->s.max_clients; c++)
    if (m->clients[c].refs && m->clients[c].conn == conn)
      m->clients[c].conn = 0; /* the next open names a live one */
  return 0;
}

uint64_t smbx_lease_expiry(const smbx_lease_mgr *m)
{
  if (!m || m->thead == NIL)
    return SMBX__NO_DEADLINE;
  return m->deadlines[m->thead];
}

int smbx_lease_handle_expiry(smbx_lease_mgr *m, uint64_t now_ns)
{
  if (!m)
    return SMBX_ERR_INVAL;
  int n = 0;
  while (m->thead != NIL &&
         smbx__deadline_passed(now_ns, m->deadlines[m->thead])) {
    uint32_t l = m->thead;
    /* 3.3.6.5: the lease drops to NONE; its opens stay */
    lease *ls = &m->leases[l];
    ls->state = 0;
    ls->required = 0;
    set_breaking(m, l, 0, now_ns);
    m->timeouts++;
    n++;
    wake(m, ls->file);
  }
  return n;
}

/* ---- queries -------------------------------------------------------------- */

/* Info r (full size) of lease l, or of none (NIL): every field written,
 * no zeroing first. */
static inline void info_fill(const smbx_lease_mgr *m, uint32_t l,
                             smbx_lease_info *r)
{
  memset(r->reserved, 0, sizeof r->reserved);
  if (l == NIL) {
    r->state = r->breaking_to = r->required = r->opens = 0;
    r->epoch = 0;
    r->breaking = r->version = r->is_dir = r->has_parent = 0;
    r->deadline = SMBX__NO_DEADLINE;
    r->file_key[0] = r->file_key[1] = 0;
    memset(r->parent_lease_key, 0, 16);
    return;
  }
  const lease *ls = &m->leases[l];
  r->state = ls->state;
  r->breaking_to = ls->breaking ? ls->offered : ls->state;
  r->required = ls->breaking ? ls->required : ls->state;
  r->opens = ls->nopens;
  r->epoch = ls->epoch;
  r->breaking = ls->breaking != 0;
  r->version = ls->version;
  r->is_dir = (ls->flags & LF_DIR) != 0;
  r->has_parent = (ls->flags & LF_PARENT) != 0;
  r->deadline = ls->breaking ? m->deadlines[l] : SMBX__NO_DEADLINE;
  if (ls->flags & LF_PARENT) {
    r->file_key[0] = m->files[ls->file].key[0];
    r->file_key[1] = m->files[ls->file].key[1];
    memcpy(r->parent_lease_key, ls->parent_key, 16);
  } else {
    r->file_key[0] = ls->file_key[0];
    r->file_key[1] = ls->file_key[1];
    memset(r->parent_lease_key, 0, 16);
  }
}

/* A caller built against an older, shorter struct gets the prefix of a
 * full one (out of line: queries fill in place). */
static SMBX__COLD void info_fill_short(const smbx_lease_mgr *m, uint32_t l,
                                       smbx_lease_info *in)
{
  smbx_lease_info local;
  local.struct_size = in->struct_size;
  info_fill(m, l, &local);
  memcpy(in, &local, in->struct_size);
}

static inline void fill_info(const smbx_lease_mgr *m, uint32_t l,
                             smbx_lease_info *in)
{
  if (in->struct_size >= sizeof *in)
    info_fill(m, l, in);
  else
    info_fill_short(m, l, in);
}

int smbx_lease_query(const smbx_lease_mgr *m, const uint8_t client_guid[16],
                     const uint8_t key[16], smbx_lease_info *info)
{
  if (!m || !client_guid || !key || !info ||
      info->struct_size < sizeof(size_t))
    return SMBX_ERR_INVAL;
  uint32_t l = lease_lookup(m, client_guid, key);
  if (l == NIL)
    return SMBX_ERR_NOTFOUND;
  fill_info(m, l, info);
  return 0;
}

int smbx_lease_open_query(const smbx_lease_mgr *m, uint64_t open,
                          smbx_lease_info *info)
{
  if (!m || !info || info->struct_size < sizeof(size_t))
    return SMBX_ERR_INVAL;
  uint32_t o = open_index(m, open);
  if (o == NIL)
    return SMBX_ERR_NOTFOUND;
  const lopen *op = &m->opens[o];
  fill_info(m, (op->flags & OF_DONE) ? op->ref : NIL, info);
  return 0;
}

/* The lease pool with its deadlines and free bits, and the file table. */
static uint64_t lease_pool_bytes(const smbx_lease_mgr *m)
{
  return (uint64_t)m->s.max_leases * (sizeof(lease) + sizeof(uint64_t)) +
         (lease_free_len(m) + lease_free_words_len(m)) * sizeof(uint64_t) +
         (uint64_t)m->file_buckets * 2 * sizeof(lfile);
}

int smbx_lease_get_stats(const smbx_lease_mgr *m, smbx_lease_stats *st)
{
  if (!m || !st || st->struct_size < sizeof(size_t))
    return SMBX_ERR_INVAL;
  smbx_lease_stats r;
  memset(&r, 0, sizeof r);
  r.struct_size = st->struct_size;
  r.leases = m->n_leases;
  r.opens = m->n_opens;
  r.files = m->n_files;
  r.clients = m->n_clients;
  r.waiters = m->n_waits;
  r.breaking = m->n_breaking;
  r.bytes = sizeof *m +
            lease_pool_bytes(m) +
            (uint64_t)m->s.max_opens * sizeof(lopen) +
            (uint64_t)m->s.max_clients * sizeof(lclient) +
            (uint64_t)m->s.max_waiters * sizeof(lwait) +
            smbx__itab_bytes(&m->lease_tab) + smbx__itab_bytes(&m->client_tab) +
            (uint64_t)smbx__ring_cap(&m->evq) * sizeof(qev);
  r.breaks_sent = m->breaks_sent;
  r.timeouts = m->timeouts;
  memcpy(st, &r, st->struct_size < sizeof r ? st->struct_size : sizeof r);
  return 0;
}

/* ---- internal (node glue, tests) ------------------------------------------ */

int smbx__lease_conn_for(const smbx_lease_mgr *m, const uint8_t guid[16],
                         const uint8_t key[16], uint64_t *conn)
{
  uint32_t l = lease_lookup(m, guid, key);
  const lopen *op = l == NIL ? NULL : lease_open_with_conn(m, l);
  if (!op)
    return SMBX_ERR_NOTFOUND;
  *conn = op->conn;
  return 0;
}

/* Every structural invariant of the manager (fuzzers, tests): counts match
 * the pools, each file findable with exact spill counts, each lease is in
 * its file's list and (keyed) findable in the table, each open in its file's list, the breaking list is exactly the
 * breaking leases in deadline order, break states are nested (required
 * within offered within state), and no lease keeps W beside a finished
 * non-stat open of another lease. Returns 0 or -1 with *why set. */
int smbx__lease_check(const smbx_lease_mgr *m, const char **why)
{
#define FAIL(s) \
  do { \
    *why = (s); \
    return -1; \
  } while (0)
  uint32_t nl = 0, nb = 0, no = 0, nf = 0, nw = 0;
  /* the spills count exactly the bucket steps of the files' probes */
  uint64_t spill = 0, steps = 0;
  bool saturated = false;
  for (uint32_t f = 0; f < 2 * m->file_buckets; f++) {
    const lfile *fl = &m->files[f];
    if (f & 1u) {
      if (fl->spill)
        FAIL("spill count outside a bucket's first file");
    } else {
      spill += fl->spill;
      saturated |= fl->spill == UINT16_MAX;
    }
    if (!(fl->flags & FF_LIVE))
      continue;
    nf++;
    if (file_find(m, fl->key) != f)
      FAIL("file not in the file table");
    uint32_t home = file_home(m, file_hash(m, fl->key));
    bool oplock = false;
    uint8_t sum = 0;
    for (uint32_t l = fl->leases; l != NIL; l = m->leases[l].next_in_file) {
      oplock |= !(m->leases[l].flags & LF_KEYED);
      sum |= lease_sum(&m->leases[l]);
    }
    if (oplock != ((fl->flags & FF_OPLOCK) != 0))
      FAIL("file's oplock flag disagrees with its leases");
    if (sum & ~fl->sum)
      FAIL("file's sum misses a bit of its leases' states or breaks");
    steps += f / 2 >= home ? f / 2 - home : m->file_buckets - home + f / 2;
    if (fl->leases == NIL && fl->opens == NIL && fl->waiters == NIL)
      FAIL("unused file kept");
    uint32_t chain = 0;
    for (uint32_t wi = fl->waiters; wi != NIL;) {
      const lwait *w = &m->waits[wi];
      if (!w->live || !w->waiting || (w->file != f && w->file2 != f))
        FAIL("waiter chain of a file names a foreign or idle waiter");
      if (++chain > m->s.max_waiters)
        FAIL("waiter chain loops");
      wi = w->wnext[w->file == f ? 0 : 1];
    }
    nw += chain;
    for (uint32_t l = fl->leases; l != NIL; l = m->leases[l].next_in_file) {
      const lease *ls = &m->leases[l];
      nl++;
      if (!(ls->flags & LF_LIVE) || ls->file != f)
        FAIL("lease list of a file names a foreign lease");
      if ((ls->flags & LF_KEYED) &&
          lease_find(m, ls->client, ls->key, lease_rehash(m, l)) != l)
        FAIL("keyed lease not in the lease table");
      if (!(ls->flags & LF_PARENT) && (ls->file_key[0] != fl->key[0] ||
                                       ls->file_key[1] != fl->key[1]))
        FAIL("lease's copy of its file key differs from the file's");
      if (ls->state & ~RWH)
        FAIL("lease state has unknown bits");
      if (ls->version == 0 && ls->state && (ls->state & R) == 0)
        FAIL("oplock without R");
      if (ls->breaking) {
        nb++;
        if ((ls->offered & ~ls->state) || (ls->required & ~ls->offered))
          FAIL("break states not nested");
        if (m->deadlines[l] == SMBX__NO_DEADLINE)
          FAIL("breaking lease without deadline");
      }
      uint32_t cnt = 0;
      for (uint32_t o = fl->opens; o != NIL; o = m->opens[o].next)
        if ((m->opens[o].flags & OF_DONE) && m->opens[o].ref == l)
          cnt++;
      if (cnt != ls->nopens || cnt == 0)
        FAIL("lease open count wrong (or a lease without opens)");
      if (!(ls->flags & LF_CONNLESS) != (lease_open_with_conn(m, l) != NULL))
        FAIL("lease's connection-less flag disagrees with its opens");
      if (lease_is_free(m, l))
        FAIL("live lease marked free");
      if ((ls->state & W) && !ls->breaking)
        for (uint32_t o = fl->opens; o != NIL; o = m->opens[o].next) {
          const lopen *op = &m->opens[o];
          if ((op->flags & OF_DONE) && (op->flags & OF_NONSTAT) &&
              op->ref != l)
            FAIL("W lease beside a non-stat open of another lease");
        }
    }
    for (uint32_t o = fl->opens; o != NIL; o = m->opens[o].next) {
      const lopen *op = &m->opens[o];
      no++;
      if (!(op->flags & OF_LIVE) || op->file != f || !(op->gen & 1u))
        FAIL("open list of a file names a foreign open");
      if (!(op->flags & OF_DONE) && !m->waits[op->ref].live)
        FAIL("open in progress without its waiter");
    }
  }
  if (nl != m->n_leases || no != m->n_opens || nf != m->n_files ||
      nb != m->n_breaking)
    FAIL("counters disagree with the pools");
  /* the free bits are the entries no file's list names, and each word's
   * summary bit says whether it has one */
  uint32_t nfree = 0;
  for (size_t w = 0; w < lease_free_len(m); w++) {
    uint64_t bits = m->lease_free[w];
    bool any = (m->lease_free_words[w / 64] >> (w % 64)) & 1u;
    if (any != (bits != 0))
      FAIL("free-lease summary bit disagrees with its word");
    for (; bits; bits &= bits - 1) {
      uint32_t l = (uint32_t)(w * 64 + lowest_bit(bits));
      /* a free entry's flags are 0: an ack hint naming it is refused */
      if (l >= m->s.max_leases || m->leases[l].flags)
        FAIL("free-lease bit on a live, flagged or missing entry");
      nfree++;
    }
  }
  if (nfree != m->s.max_leases - m->n_leases)
    FAIL("free-lease bits do not count the free entries");
  if (!saturated && spill != steps)
    FAIL("file table spill counts disagree with the files' places");
  /* every waiting waiter is on the chain of each file it watches */
  uint32_t watched = 0;
  for (uint32_t wi = 0; wi < m->s.max_waiters; wi++) {
    const lwait *w = &m->waits[wi];
    if (w->live && w->waiting)
      watched += 1u + (w->file2 != NIL && w->file2 != w->file);
  }
  if (watched != nw)
    FAIL("a waiting waiter is missing from a file's chain");
  uint32_t tb = 0;
  uint64_t last = 0;
  for (uint32_t l = m->thead; l != NIL; l = m->leases[l].tnext) {
    if (!m->leases[l].breaking)
      FAIL("idle lease on the breaking list");
    if (m->deadlines[l] < last)
      FAIL("breaking list out of deadline order");
    last = m->deadlines[l];
    if (++tb > m->n_leases)
      FAIL("breaking list loops");
  }
  if (tb != nb)
    FAIL("breaking list misses a breaking lease");
  return 0;
#undef FAIL
}

/* Table memory split for the benchmark: what the leases need (lease and
 * file pools with their hash tables, clients) and what the opens need. */
void smbx__lease_bytes(const smbx_lease_mgr *m, uint64_t *lease_bytes,
                       uint64_t *open_bytes)
{
  *lease_bytes = lease_pool_bytes(m) + smbx__itab_bytes(&m->lease_tab);
  *open_bytes = (uint64_t)m->s.max_opens * sizeof(lopen);
}
