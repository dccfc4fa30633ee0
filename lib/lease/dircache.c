/* SPDX-License-Identifier: MIT */
/* Directory metadata cache (leases.md 4.3): one listing per leased
 * directory, filled from a complete enumeration, served while the lease
 * holds R and the listing is younger than dir_max_age_ns; bounded by
 * entries and bytes with whole listings evicted least recently used
 * first; own changes applied, and logged for write-back under W.
 * A complete listing is compacted into one immutable block that
 * snapshots share by reference (no copy, no allocation per snapshot);
 * own changes go to chunks and the next snapshot compacts again. */
#include <string.h>

#include "client_int.h"
#include "core/alloc.h"

#define CHUNK_BYTES 65536u

static uint8_t *dent_name(lc_dent *d)
{
  return (uint8_t *)d + d->name_off;
}

static const uint8_t *dent_cname(const lc_dent *d)
{
  return smbx_lease_dir_entry_name(d);
}

static size_t dent_size(size_t name_len, size_t short_len)
{
  return (sizeof(lc_dent) + name_len + short_len + 7u) & ~(size_t)7u;
}

static size_t dent_bytes(const lc_dent *d)
{
  return dent_size(d->name_len, d->short_len);
}

static void dent_fill(lc_dent *d, const smbx_smb2_dir_entry *e, bool cs)
{
  size_t nl = e->file_name.len;
  memset(d, 0, sizeof *d);
  d->creation_time = e->creation_time;
  d->last_access_time = e->last_access_time;
  d->last_write_time = e->last_write_time;
  d->change_time = e->change_time;
  d->end_of_file = e->end_of_file;
  d->allocation_size = e->allocation_size;
  d->file_id = e->file_id;
  d->file_index = e->file_index;
  d->file_attributes = e->file_attributes;
  d->ea_size = e->ea_size;
  d->name_len = (uint16_t)nl;
  d->short_len = (uint8_t)e->short_name.len;
  d->name_off = sizeof *d; /* the name follows the entry */
  uint8_t *name = dent_name(d);
  if (nl)
    memcpy(name, e->file_name.p, nl);
  if (d->short_len)
    memcpy(name + nl, e->short_name.p, d->short_len);
  d->name_hash = smbx__lc_name_hash(name, nl, cs);
}

/* A log entry: allocated alone (written back and freed one by one). */
static lc_dent *dent_new(smbx_lease_client *lc, const smbx_smb2_dir_entry *e,
                         bool cs)
{
  lc_dent *d = smbx__alloc(&lc->alloc,
                           dent_size(e->file_name.len, e->short_name.len),
                           _Alignof(lc_dent));
  if (d)
    dent_fill(d, e, cs);
  return d;
}

static void dent_free(smbx_lease_client *lc, lc_dent *d)
{
  smbx__free(&lc->alloc, d, dent_bytes(d), _Alignof(lc_dent));
}

static void dent_view(const lc_dent *d, smbx_smb2_dir_entry *e)
{
  e->next_entry_offset = 0;
  e->file_index = d->file_index;
  e->creation_time = d->creation_time;
  e->last_access_time = d->last_access_time;
  e->last_write_time = d->last_write_time;
  e->change_time = d->change_time;
  e->end_of_file = d->end_of_file;
  e->allocation_size = d->allocation_size;
  e->file_attributes = d->file_attributes;
  e->ea_size = d->ea_size;
  e->reparse_tag = 0;
  e->file_id = d->file_id;
  memset(e->file_id_128, 0, sizeof e->file_id_128);
  const uint8_t *name = dent_cname(d);
  e->short_name.p = d->short_len ? name + d->name_len : NULL;
  e->short_name.len = d->short_len;
  e->file_name.p = name;
  e->file_name.len = d->name_len;
}

static bool entry_ok(const smbx_smb2_dir_entry *e)
{
  return e && e->file_name.len % 2 == 0 && e->file_name.len <= LC_NAME_MAX &&
         (e->file_name.p || !e->file_name.len) && e->short_name.len <= 24 &&
         (e->short_name.p || !e->short_name.len);
}

/* ---- the index ------------------------------------------------------------- */

static void account(smbx_lease_client *lc, lc_dir *d, int64_t delta)
{
  d->bytes = (uint64_t)((int64_t)d->bytes + delta);
  lc->bytes = (uint64_t)((int64_t)lc->bytes + delta);
}

static void idx_put(lc_dir *d, uint32_t pos)
{
  uint32_t mask = d->idx_cap - 1;
  uint32_t i = d->ents[pos]->name_hash & mask;
  while (d->idx[i])
    i = (i + 1) & mask;
  d->idx[i] = pos + 1;
}

/* Rebuilds the index at `cap` slots (a power of two above n). */
static int idx_rebuild(smbx_lease_client *lc, lc_dir *d, uint32_t cap)
{
  uint32_t *ni = smbx__calloc(&lc->alloc, cap, sizeof(uint32_t),
                              _Alignof(uint32_t));
  if (!ni)
    return SMBX_ERR_NOMEM;
  if (d->idx)
    smbx__free(&lc->alloc, d->idx, d->idx_cap * sizeof(uint32_t),
               _Alignof(uint32_t));
  account(lc, d, ((int64_t)cap - (int64_t)d->idx_cap) * 4);
  d->idx = ni;
  d->idx_cap = cap;
  for (uint32_t p = 0; p < d->n; p++)
    idx_put(d, p);
  return 0;
}

static int64_t find_pos(const lc_dir *d, const uint8_t *name, size_t len)
{
  if (!d->idx_cap)
    return -1;
  uint32_t h = smbx__lc_name_hash(name, len, d->case_sensitive);
  uint32_t mask = d->idx_cap - 1;
  for (uint32_t i = h & mask;; i = (i + 1) & mask) {
    uint32_t v = d->idx[i];
    if (!v)
      return -1;
    const lc_dent *x = d->ents[v - 1];
    if (x->name_hash == h && smbx__lc_name_eq(dent_cname(x), x->name_len,
                                              name, len, d->case_sensitive))
      return v - 1;
  }
}

/* ---- listings ------------------------------------------------------------------ */

static void block_free(smbx_lease_client *lc, lc_block *b)
{
  smbx__free(&lc->alloc, b, b->size, _Alignof(lc_block));
}

/* The cache lets go of its block: freed, or kept (and still counted in
 * the byte bound) on lc->held until the last snapshot is released. */
static void block_drop(smbx_lease_client *lc, lc_dir *d)
{
  lc_block *b = d->block;
  if (!b)
    return;
  d->block = NULL;
  d->block_current = false;
  account(lc, d, -(int64_t)b->size);
  if (--b->refs == 0) {
    block_free(lc, b);
    return;
  }
  lc->bytes += b->size;
  lc->held_bytes += b->size;
  smbx__list_insert_after(&lc->held, &b->held);
}

static void free_chunks(smbx_lease_client *lc, lc_dir *d)
{
  while (d->chunks) {
    lc_chunk *c = d->chunks;
    d->chunks = c->next;
    account(lc, d, -(int64_t)(sizeof *c + c->cap));
    smbx__free(&lc->alloc, c, sizeof *c + c->cap, _Alignof(lc_chunk));
  }
}

/* Copies the listing, in order, into one new block (entries at a fixed
 * stride, then the names) that becomes its storage: ents[] point into
 * it, the chunks and the previous block go. */
static int compact(smbx_lease_client *lc, lc_dir *d)
{
  uint64_t names = 0;
  for (uint32_t i = 0; i < d->n; i++)
    names += (uint64_t)d->ents[i]->name_len + d->ents[i]->short_len;
  uint64_t size = sizeof(lc_block) + (uint64_t)d->n * sizeof(lc_dent) + names;
  if (size > UINT32_MAX)
    return SMBX_ERR_LIMIT; /* name_off is 32 bits */
  lc_block *b = smbx__alloc(&lc->alloc, (size_t)size, _Alignof(lc_block));
  if (!b)
    return SMBX_ERR_NOMEM;
  smbx__list_init(&b->held);
  b->size = size;
  b->filled_at = d->filled_at;
  b->refs = 1;
  b->count = d->n;
  uint8_t *np = (uint8_t *)&b->ents[d->n];
  for (uint32_t i = 0; i < d->n; i++) {
    const lc_dent *src = d->ents[i];
    lc_dent *x = &b->ents[i];
    size_t nb = (size_t)src->name_len + src->short_len;
    *x = *src;
    if (nb)
      memcpy(np, dent_cname(src), nb);
    x->name_off = (uint32_t)(np - (uint8_t *)x);
    np += nb;
  }
  for (uint32_t i = 0; i < d->n; i++)
    d->ents[i] = &b->ents[i];
  free_chunks(lc, d);
  block_drop(lc, d);
  d->block = b;
  d->block_current = true;
  account(lc, d, (int64_t)size);
  return 0;
}

void smbx__lc_dir_free_held(smbx_lease_client *lc)
{
  SMBX__LIST_FOREACH_SAFE(it, tmp, &lc->held) {
    lc_block *b = SMBX__CONTAINER_OF(it, lc_block, held);
    smbx__list_remove(&b->held);
    lc->bytes -= b->size;
    lc->held_bytes -= b->size;
    block_free(lc, b);
  }
  lc->snapshots = 0;
}

static void clear_entries(smbx_lease_client *lc, lc_dir *d)
{
  lc->entries -= d->n;
  free_chunks(lc, d);
  block_drop(lc, d);
  if (d->ents)
    smbx__free(&lc->alloc, d->ents, d->cap * sizeof(lc_dent *),
               _Alignof(lc_dent *));
  if (d->idx)
    smbx__free(&lc->alloc, d->idx, d->idx_cap * sizeof(uint32_t),
               _Alignof(uint32_t));
  account(lc, d, -(int64_t)(d->cap * sizeof(lc_dent *) + d->idx_cap * 4));
  d->ents = NULL;
  d->idx = NULL;
  d->n = d->cap = d->idx_cap = 0;
}

/* Room for one entry in the listing's newest chunk (a new chunk when it
 * is full); counted in the bounds as whole chunks. */
static lc_dent *chunk_take(smbx_lease_client *lc, lc_dir *d, size_t size)
{
  lc_chunk *c = d->chunks;
  if (!c || c->cap - c->used < size) {
    /* 1 KiB first, doubling to 64 KiB: small directories stay small */
    size_t cap = c ? (c->cap < CHUNK_BYTES ? c->cap * 2 : CHUNK_BYTES) : 1024;
    if (cap < size)
      cap = size;
    c = smbx__alloc(&lc->alloc, sizeof *c + cap, _Alignof(lc_chunk));
    if (!c)
      return NULL;
    c->next = d->chunks;
    c->used = 0;
    c->cap = cap;
    d->chunks = c;
    account(lc, d, (int64_t)(sizeof *c + cap));
  }
  lc_dent *x = (lc_dent *)(void *)((uint8_t *)c->data + c->used);
  c->used += size;
  return x;
}

bool smbx__lc_dir_has_log(const lc_lease *l)
{
  return l->dir && !smbx__list_empty(&l->dir->log);
}

void smbx__lc_dir_drop(smbx_lease_client *lc, lc_lease *l, uint32_t reason)
{
  lc_dir *d = l->dir;
  if (!d || d->state == LC_DIR_NONE)
    return;
  bool was_complete = d->state == LC_DIR_COMPLETE;
  clear_entries(lc, d);
  smbx__list_remove(&d->lru);
  if (was_complete)
    lc->listings--;
  d->state = LC_DIR_NONE;
  if (reason && was_complete) {
    smbx_lease_client_event ev;
    memset(&ev, 0, sizeof ev);
    ev.struct_size = sizeof ev;
    ev.type = SMBX_LEASE_CEV_INVALIDATE;
    ev.flags = SMBX_LEASE_CEVF_DIR;
    memcpy(ev.key, l->key, 16);
    ev.scope = l->scope;
    ev.owner = l->owner;
    ev.from = ev.to = l->state;
    ev.reason = reason;
    smbx__lc_push(lc, &ev);
  }
  if (smbx__list_empty(&d->log)) {
    SMBX__DELETE(&lc->alloc, d, lc_dir);
    l->dir = NULL;
  }
}

static void log_free(smbx_lease_client *lc, lc_log *g)
{
  smbx__list_remove(&g->link);
  dent_free(lc, g->d);
  SMBX__DELETE(&lc->alloc, g, lc_log);
}

void smbx__lc_dir_free(smbx_lease_client *lc, lc_lease *l)
{
  if (!l->dir)
    return;
  SMBX__LIST_FOREACH_SAFE(it, tmp, &l->dir->log)
    log_free(lc, SMBX__CONTAINER_OF(it, lc_log, link));
  smbx__lc_dir_drop(lc, l, 0);
  if (l->dir) {
    SMBX__DELETE(&lc->alloc, l->dir, lc_dir);
    l->dir = NULL;
  }
}

static lc_dir *dir_get(smbx_lease_client *lc, lc_lease *l)
{
  if (l->dir)
    return l->dir;
  lc_dir *d = SMBX__NEW(&lc->alloc, lc_dir);
  if (!d)
    return NULL;
  smbx__list_init(&d->lru);
  smbx__list_init(&d->log);
  d->lease = l;
  l->dir = d;
  return d;
}

/* Served only under R, settled, within the lifetime. */
static bool valid(smbx_lease_client *lc, lc_lease *l, uint64_t now)
{
  lc_dir *d = l->dir;
  if (!d || d->state != LC_DIR_COMPLETE)
    return false;
  if (!(l->state & SMBX_SMB2_LEASE_READ) || (l->flags & LCF_UNSETTLED))
    return false;
  if (now - d->filled_at >= lc->s.dir_max_age_ns || now < d->filled_at) {
    smbx__lc_dir_drop(lc, l, SMBX_LEASE_INVAL_EXPIRED);
    return false;
  }
  return true;
}

static void touch(smbx_lease_client *lc, lc_dir *d)
{
  smbx__list_remove(&d->lru);
  smbx__list_insert_after(&lc->lru, &d->lru);
}

/* Evicts least recently used listings other than `keep` until the bounds
 * hold; false when `keep` alone breaks them. */
static bool enforce_bounds(smbx_lease_client *lc, const lc_dir *keep)
{
  SMBX__LIST_FOREACH_REVERSE_SAFE(it, tmp, &lc->lru) {
    if (lc->entries <= lc->s.max_dir_entries &&
        lc->bytes <= lc->s.max_dir_bytes)
      return true;
    lc_dir *d = SMBX__CONTAINER_OF(it, lc_dir, lru);
    if (d != keep)
      smbx__lc_dir_drop(lc, d->lease, SMBX_LEASE_INVAL_EVICTED);
  }
  return lc->entries <= lc->s.max_dir_entries &&
         lc->bytes <= lc->s.max_dir_bytes;
}

static lc_lease *find(smbx_lease_client *lc, const uint8_t *key)
{
  if (!lc || !key)
    return NULL;
  if (lc->memo && memcmp(lc->memo->key, key, 16) == 0)
    return lc->memo;
  lc->memo = smbx__lc_find(lc, key);
  return lc->memo;
}

int smbx_lease_client_dir_fill_begin(smbx_lease_client *lc,
                                     const uint8_t key[16], uint64_t now_ns)
{
  (void)now_ns;
  lc_lease *l = find(lc, key);
  if (!l)
    return lc && key ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  if (!(l->flags & LCF_DIR) || !(l->state & SMBX_SMB2_LEASE_READ) ||
      (l->flags & (LCF_UNSETTLED | LCF_BREAKING | LCF_QUEUED)) ||
      l->pending || lc->s.dir_max_age_ns == 0)
    return SMBX_ERR_STATE;
  smbx__lc_dir_drop(lc, l, 0);
  lc_dir *d = dir_get(lc, l);
  if (!d)
    return SMBX_ERR_NOMEM;
  d->state = LC_DIR_FILLING;
  d->case_sensitive = smbx__lc_case_sensitive(lc, l);
  touch(lc, d);
  return 0;
}

/* Appends a copy of e to d (arrays grow as needed). */
static int add_entry(smbx_lease_client *lc, lc_dir *d,
                     const smbx_smb2_dir_entry *e)
{
  if (d->n == d->cap) {
    uint32_t nc = d->cap ? d->cap * 2 : 64;
    lc_dent **ne = smbx__realloc(&lc->alloc, d->ents,
                                 d->cap * sizeof(lc_dent *),
                                 nc * sizeof(lc_dent *), _Alignof(lc_dent *));
    if (!ne)
      return SMBX_ERR_NOMEM;
    account(lc, d, (int64_t)((nc - d->cap) * sizeof(lc_dent *)));
    d->ents = ne;
    d->cap = nc;
  }
  if ((uint64_t)(d->n + 1) * 4 > (uint64_t)d->idx_cap * 3) {
    int rc = idx_rebuild(lc, d, d->idx_cap ? d->idx_cap * 2 : 128);
    if (rc)
      return rc;
  }
  lc_dent *x =
      chunk_take(lc, d, dent_size(e->file_name.len, e->short_name.len));
  if (!x)
    return SMBX_ERR_NOMEM;
  dent_fill(x, e, d->case_sensitive);
  d->ents[d->n] = x;
  idx_put(d, d->n);
  d->n++;
  lc->entries++;
  d->block_current = false;
  return 0;
}

int smbx_lease_client_dir_fill_add(smbx_lease_client *lc,
                                   const uint8_t key[16],
                                   const smbx_smb2_dir_entry *e)
{
  lc_lease *l = find(lc, key);
  if (!l)
    return lc && key ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  if (!e)
    return SMBX_ERR_INVAL;
  lc_dir *d = l->dir;
  if (!d || d->state != LC_DIR_FILLING)
    return SMBX_ERR_STATE;
  if (!entry_ok(e))
    return SMBX_ERR_RANGE;
  int rc = add_entry(lc, d, e);
  if (rc == 0 && !enforce_bounds(lc, d))
    rc = SMBX_ERR_LIMIT;
  if (rc)
    smbx__lc_dir_drop(lc, l, 0); /* a partial listing is never served */
  return rc;
}

int smbx_lease_client_dir_fill_end(smbx_lease_client *lc,
                                   const uint8_t key[16], uint64_t now_ns)
{
  lc_lease *l = find(lc, key);
  if (!l)
    return lc && key ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  lc_dir *d = l->dir;
  if (!d || d->state != LC_DIR_FILLING)
    return SMBX_ERR_STATE;
  d->filled_at = now_ns;
  int rc = compact(lc, d);
  if (rc) {
    smbx__lc_dir_drop(lc, l, 0);
    return rc;
  }
  d->state = LC_DIR_COMPLETE;
  lc->listings++;
  touch(lc, d);
  return 0;
}

int smbx_lease_client_dir_next(smbx_lease_client *lc, const uint8_t key[16],
                               uint64_t now_ns, uint32_t *cursor,
                               smbx_smb2_dir_entry *e)
{
  if (!cursor || !e)
    return SMBX_ERR_INVAL;
  lc_lease *l = find(lc, key);
  if (!l)
    return lc && key ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  if (!valid(lc, l, now_ns)) {
    if (*cursor == 0)
      lc->misses++;
    return SMBX_ERR_NOTFOUND;
  }
  lc_dir *d = l->dir;
  if (*cursor == 0) {
    lc->hits++;
    touch(lc, d);
  }
  if (*cursor >= d->n)
    return 0;
  dent_view(d->ents[*cursor], e);
  (*cursor)++;
  return 1;
}

int smbx_lease_client_dir_lookup(smbx_lease_client *lc, const uint8_t key[16],
                                 const uint8_t *name, size_t len,
                                 uint64_t now_ns, smbx_smb2_dir_entry *e)
{
  if ((!name && len) || !e || len % 2)
    return SMBX_ERR_INVAL;
  lc_lease *l = find(lc, key);
  if (!l)
    return lc && key ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  if (!valid(lc, l, now_ns)) {
    lc->misses++;
    return SMBX_ERR_NOTFOUND;
  }
  lc->hits++;
  touch(lc, l->dir);
  int64_t p = find_pos(l->dir, name, len);
  if (p < 0)
    return 0;
  dent_view(l->dir->ents[p], e);
  return 1;
}

int smbx_lease_client_dir_snapshot(smbx_lease_client *lc,
                                   const uint8_t key[16], uint64_t now_ns,
                                   smbx_lease_dir_snapshot *snap)
{
  if (!snap || snap->struct_size < sizeof *snap)
    return SMBX_ERR_INVAL;
  lc_lease *l = find(lc, key);
  if (!l)
    return lc && key ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  if (!valid(lc, l, now_ns)) {
    lc->misses++;
    return SMBX_ERR_NOTFOUND;
  }
  lc_dir *d = l->dir;
  if (!d->block_current) {
    int rc = compact(lc, d); /* own changes since the last block */
    if (rc)
      return rc;
  }
  lc_block *b = d->block;
  if (b->refs == UINT32_MAX)
    return SMBX_ERR_LIMIT; /* wrapped, a release would free it in use */
  lc->hits++;
  touch(lc, d);
  b->refs++;
  lc->snapshots++;
  snap->entries = b->ents;
  snap->count = b->count;
  snap->reserved = 0;
  snap->filled_at = b->filled_at;
  snap->ref = b;
  return 0;
}

void smbx_lease_client_dir_release(smbx_lease_client *lc,
                                   smbx_lease_dir_snapshot *snap)
{
  if (!lc || !snap || !snap->ref)
    return;
  lc_block *b = snap->ref;
  lc->snapshots--;
  /* the cache's own reference keeps a block it still serves above 0 */
  if (--b->refs == 0) {
    smbx__list_remove(&b->held);
    lc->bytes -= b->size;
    lc->held_bytes -= b->size;
    block_free(lc, b);
  }
  snap->entries = NULL;
  snap->count = 0;
  snap->filled_at = 0;
  snap->ref = NULL;
}

/* The entry's bytes stay in their chunk (or block) until the listing
 * goes. */
static void remove_at(smbx_lease_client *lc, lc_dir *d, uint32_t pos)
{
  memmove(&d->ents[pos], &d->ents[pos + 1],
          (d->n - pos - 1) * sizeof(lc_dent *));
  d->n--;
  lc->entries--;
  d->block_current = false;
  memset(d->idx, 0, d->idx_cap * sizeof(uint32_t));
  for (uint32_t p = 0; p < d->n; p++)
    idx_put(d, p);
}

int smbx_lease_client_dir_update(smbx_lease_client *lc, const uint8_t key[16],
                                 uint32_t op, const smbx_smb2_dir_entry *e,
                                 uint64_t now_ns)
{
  if (!entry_ok(e) || op < SMBX_LEASE_OWN_ADD || op > SMBX_LEASE_OWN_SETATTR)
    return SMBX_ERR_INVAL;
  lc_lease *l = find(lc, key);
  if (!l)
    return lc && key ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  int res = 0;
  if (valid(lc, l, now_ns)) {
    lc_dir *d = l->dir;
    int64_t p = find_pos(d, e->file_name.p, e->file_name.len);
    if (op != SMBX_LEASE_OWN_ADD && p < 0) {
      /* our picture and the change disagree: stop serving it */
      smbx__lc_dir_drop(lc, l, SMBX_LEASE_INVAL_BREAK);
      return SMBX_ERR_NOTFOUND;
    }
    if (p >= 0)
      remove_at(lc, d, (uint32_t)p);
    if (op != SMBX_LEASE_OWN_REMOVE) {
      /* ADD, SETATTR: the entry as given goes to the end */
      int rc = add_entry(lc, d, e);
      if (rc == 0 && !enforce_bounds(lc, d))
        rc = SMBX_ERR_LIMIT;
      if (rc) {
        smbx__lc_dir_drop(lc, l, SMBX_LEASE_INVAL_EVICTED);
        return rc;
      }
    }
    res = 1;
  }
  if (l->state & SMBX_SMB2_LEASE_WRITE) {
    lc_dir *d = dir_get(lc, l);
    lc_log *g = d ? SMBX__NEW(&lc->alloc, lc_log) : NULL;
    lc_dent *x = g ? dent_new(lc, e, smbx__lc_case_sensitive(lc, l)) : NULL;
    if (!x) {
      if (g)
        SMBX__DELETE(&lc->alloc, g, lc_log);
      if (d && d->state == LC_DIR_NONE && smbx__list_empty(&d->log)) {
        SMBX__DELETE(&lc->alloc, d, lc_dir);
        l->dir = NULL;
      }
      return SMBX_ERR_NOMEM;
    }
    g->op = op;
    g->d = x;
    smbx__list_insert_before(&d->log, &g->link);
    res = 2;
  }
  return res;
}

int smbx_lease_client_dir_log_peek(smbx_lease_client *lc,
                                   const uint8_t key[16], uint32_t *op,
                                   smbx_smb2_dir_entry *e)
{
  if (!op || !e)
    return SMBX_ERR_INVAL;
  lc_lease *l = find(lc, key);
  if (!l)
    return lc && key ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  if (!smbx__lc_dir_has_log(l))
    return 0;
  const lc_log *g = SMBX__CONTAINER_OF(l->dir->log.next, lc_log, link);
  *op = g->op;
  dent_view(g->d, e);
  return 1;
}

int smbx_lease_client_dir_log_pop(smbx_lease_client *lc, const uint8_t key[16])
{
  lc_lease *l = find(lc, key);
  if (!l)
    return lc && key ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  if (!smbx__lc_dir_has_log(l))
    return SMBX_ERR_NOTFOUND;
  log_free(lc, SMBX__CONTAINER_OF(l->dir->log.next, lc_log, link));
  if (l->dir->state == LC_DIR_NONE && smbx__list_empty(&l->dir->log)) {
    SMBX__DELETE(&lc->alloc, l->dir, lc_dir);
    l->dir = NULL;
  }
  return 0;
}

uint64_t smbx__lc_dir_expiry(const smbx_lease_client *lc)
{
  uint64_t t = UINT64_MAX;
  SMBX__LIST_FOREACH(it, &lc->lru) {
    const lc_dir *d = SMBX__CONTAINER_OF_CONST(it, lc_dir, lru);
    if (d->state != LC_DIR_COMPLETE)
      continue;
    uint64_t at = d->filled_at + lc->s.dir_max_age_ns;
    if (at < d->filled_at)
      at = UINT64_MAX;
    if (at < t)
      t = at;
  }
  return t;
}

int smbx__lc_dir_expire(smbx_lease_client *lc, uint64_t now)
{
  int n = 0;
  SMBX__LIST_FOREACH_SAFE(it, tmp, &lc->lru) {
    lc_dir *d = SMBX__CONTAINER_OF(it, lc_dir, lru);
    if (d->state == LC_DIR_COMPLETE &&
        now - d->filled_at >= lc->s.dir_max_age_ns) {
      smbx__lc_dir_drop(lc, d->lease, SMBX_LEASE_INVAL_EXPIRED);
      n++;
    }
  }
  return n;
}
