/* SPDX-License-Identifier: MIT */
/* Client lease table (leases.md 4.1, 4.2; MS-SMB2 3.2.4.3.8, 3.2.5.7.4,
 * 3.2.5.19.2): one key per path per scope, granted state and epoch,
 * breaks (stale, step, gap, early) and what each asks of the host. */
#include <string.h>

#include "client_int.h"
#include "core/alloc.h"

#define R SMBX_SMB2_LEASE_READ
#define H SMBX_SMB2_LEASE_HANDLE
#define W SMBX_SMB2_LEASE_WRITE

int smbx_lease_client_settings_default(smbx_lease_client_settings *s,
                                       size_t struct_size)
{
  if (!s || struct_size < sizeof(size_t))
    return SMBX_ERR_INVAL;
  smbx_lease_client_settings d;
  memset(&d, 0, sizeof d);
  d.struct_size = struct_size;
  d.max_leases = 4096;
  d.max_scopes = 64;
  d.max_dir_entries = 65536;
  d.max_dir_bytes = 16u << 20;
  d.dir_max_age_ns = 30ull * 1000000000ull;
  memcpy(s, &d, struct_size < sizeof d ? struct_size : sizeof d);
  return 0;
}

/* ---- names --------------------------------------------------------------- */

/* Simple upper-casing of one UTF-16 unit: ASCII, Latin-1, basic Greek and
 * Cyrillic (what Windows' $UpCase maps for these ranges). Other units
 * compare as they are. */
static uint16_t fold(uint16_t c)
{
  if (c >= 'a' && c <= 'z')
    return (uint16_t)(c - 32);
  if (c < 0xE0)
    return c;
  if (c <= 0xFE)
    return c == 0xF7 ? c : (uint16_t)(c - 32);
  if (c == 0xFF)
    return 0x178;
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2)
    return (uint16_t)(c - 32);
  if (c >= 0x430 && c <= 0x44F)
    return (uint16_t)(c - 32);
  if (c >= 0x450 && c <= 0x45F)
    return (uint16_t)(c - 80);
  return c;
}

static uint16_t unit(const uint8_t *p, size_t i)
{
  return (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
}

/* FNV-1a over the (folded) units */
static uint64_t name_hash64(const uint8_t *p, size_t len, bool cs)
{
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len / 2; i++) {
    uint16_t c = cs ? unit(p, i) : fold(unit(p, i));
    h = (h ^ (c & 0xFFu)) * 0x100000001b3ull;
    h = (h ^ (uint16_t)(c >> 8)) * 0x100000001b3ull;
  }
  return h;
}

uint32_t smbx__lc_name_hash(const uint8_t *p, size_t len, bool cs)
{
  uint64_t h = name_hash64(p, len, cs);
  return (uint32_t)(h ^ (h >> 32));
}

bool smbx__lc_name_eq(const uint8_t *a, size_t alen, const uint8_t *b,
                      size_t blen, bool cs)
{
  if (alen != blen)
    return false;
  if (cs)
    return memcmp(a, b, alen) == 0;
  for (size_t i = 0; i < alen / 2; i++)
    if (fold(unit(a, i)) != fold(unit(b, i)))
      return false;
  return true;
}

/* ---- life cycle ------------------------------------------------------------ */

void smbx_lease_client_free(smbx_lease_client *lc)
{
  if (!lc)
    return;
  for (uint32_t i = 0; i < smbx__slab_cap(&lc->leases); i++) {
    lc_lease *l = smbx__slab_at(&lc->leases, i);
    if (!l)
      continue;
    smbx__lc_dir_free(lc, l);
    if (l->path)
      smbx__free(&lc->alloc, l->path, l->path_len, 1);
  }
  smbx__lc_dir_free_held(lc);
  smbx__slab_free(&lc->leases);
  smbx__hash_free(&lc->by_key);
  smbx__hash_free(&lc->by_path);
  smbx__ring_free(&lc->evq);
  if (lc->scopes)
    smbx__free(&lc->alloc, lc->scopes, sizeof(lc_scope) * lc->s.max_scopes,
               _Alignof(lc_scope));
  smbx_allocator al = lc->alloc;
  SMBX__DELETE(&al, lc, smbx_lease_client);
}

int smbx_lease_client_new(smbx_lease_client **out,
                          const smbx_lease_client_settings *s,
                          const smbx_allocator *a, uint64_t now_ns)
{
  (void)now_ns;
  if (!out)
    return SMBX_ERR_INVAL;
  smbx_lease_client_settings st;
  smbx_lease_client_settings_default(&st, sizeof st);
  if (s) {
    if (s->struct_size < sizeof(size_t))
      return SMBX_ERR_INVAL;
    memcpy(&st, s, s->struct_size < sizeof st ? s->struct_size : sizeof st);
    st.struct_size = sizeof st;
  }
  if (st.max_leases == 0 || st.max_leases > (1u << 20) ||
      st.max_scopes == 0 || st.max_scopes > 65535)
    return SMBX_ERR_INVAL;
  smbx_allocator al;
  int rc = smbx__allocator_copy(&al, a);
  if (rc)
    return rc;
  smbx_lease_client *lc = SMBX__NEW(&al, smbx_lease_client);
  if (!lc)
    return SMBX_ERR_NOMEM;
  lc->alloc = al;
  lc->s = st;
  smbx__list_init(&lc->lru);
  smbx__list_init(&lc->held);
  memcpy(&lc->seed[0], st.key_seed, 8);
  memcpy(&lc->seed[1], st.key_seed + 8, 8);
  size_t hcap = smbx__hash_cap_for(st.max_leases);
  lc->scopes = smbx__calloc(&lc->alloc, st.max_scopes, sizeof(lc_scope),
                            _Alignof(lc_scope));
  if (!lc->scopes ||
      SMBX__SLAB_INIT(&lc->leases, &lc->alloc, lc_lease, st.max_leases) ||
      smbx__hash_init(&lc->by_key, &lc->alloc, 16, hcap, lc->seed[0]) ||
      smbx__hash_init(&lc->by_path, &lc->alloc, 16, hcap, lc->seed[1]) ||
      SMBX__RING_INIT(&lc->evq, &lc->alloc, smbx_lease_client_event, 64)) {
    smbx_lease_client_free(lc);
    return SMBX_ERR_NOMEM;
  }
  *out = lc;
  return 0;
}

/* ---- events ------------------------------------------------------------------ */

void smbx__lc_push(smbx_lease_client *lc, const smbx_lease_client_event *ev)
{
  /* a full queue grows; if even that fails the oldest event is dropped
   * rather than the newest (a break must reach the host) */
  if (smbx__ring_len(&lc->evq) == smbx__ring_cap(&lc->evq) &&
      smbx__ring_grow(&lc->evq) != 0)
    (void)smbx__ring_pop(&lc->evq, NULL);
  (void)smbx__ring_push(&lc->evq, ev);
}

int smbx_lease_client_next_event(smbx_lease_client *lc,
                                 smbx_lease_client_event *ev)
{
  if (!lc || !ev || ev->struct_size < sizeof(size_t))
    return SMBX_ERR_INVAL;
  smbx_lease_client_event tmp;
  if (smbx__ring_pop(&lc->evq, &tmp) != 0)
    return 0;
  size_t n = ev->struct_size < sizeof tmp ? ev->struct_size : sizeof tmp;
  tmp.struct_size = ev->struct_size;
  memcpy(ev, &tmp, n);
  return 1;
}

/* ---- lookups ------------------------------------------------------------------ */

lc_lease *smbx__lc_find(const smbx_lease_client *lc, const uint8_t key[16])
{
  return smbx__hash_get(&lc->by_key, key);
}

bool smbx__lc_case_sensitive(const smbx_lease_client *lc, const lc_lease *l)
{
  return (lc->scopes[l->scope].flags & SMBX_LEASE_SCOPE_CASE_SENSITIVE) != 0;
}

static void path_key(const smbx_lease_client *lc, uint32_t scope,
                     const uint8_t *path, size_t len, uint8_t out[16])
{
  bool cs = (lc->scopes[scope].flags & SMBX_LEASE_SCOPE_CASE_SENSITIVE) != 0;
  uint64_t sc = scope, h = name_hash64(path, len, cs);
  memcpy(out, &sc, 8);
  memcpy(out + 8, &h, 8);
}

static lc_lease *find_path(const smbx_lease_client *lc, uint32_t scope,
                           const uint8_t *path, size_t len)
{
  uint8_t pk[16];
  path_key(lc, scope, path, len, pk);
  lc_lease *l = smbx__hash_get(&lc->by_path, pk);
  bool cs = (lc->scopes[scope].flags & SMBX_LEASE_SCOPE_CASE_SENSITIVE) != 0;
  if (l && !smbx__lc_name_eq(l->path, l->path_len, path, len, cs))
    return NULL; /* another path with the same 64-bit hash */
  return l;
}

static bool scope_ok(const smbx_lease_client *lc, uint32_t scope)
{
  return scope < lc->s.max_scopes && lc->scopes[scope].used;
}

int smbx_lease_client_scope(smbx_lease_client *lc,
                            const uint8_t server_guid[16],
                            const uint8_t *share, size_t share_len,
                            uint32_t flags, uint32_t *scope)
{
  if (!lc || !server_guid || (!share && share_len) || !scope)
    return SMBX_ERR_INVAL;
  if (share_len > LC_SHARE_MAX)
    return SMBX_ERR_RANGE;
  uint32_t free_slot = UINT32_MAX;
  for (uint32_t i = 0; i < lc->s.max_scopes; i++) {
    lc_scope *sc = &lc->scopes[i];
    if (!sc->used) {
      if (free_slot == UINT32_MAX)
        free_slot = i;
      continue;
    }
    if (memcmp(sc->guid, server_guid, 16) == 0 &&
        sc->share_len == share_len &&
        (share_len == 0 || memcmp(sc->share, share, share_len) == 0)) {
      if (sc->flags != flags) {
        /* the case rule decides the path hashes: it may change only
         * before the first key of the scope is made */
        for (uint32_t j = 0; j < smbx__slab_cap(&lc->leases); j++) {
          const lc_lease *l = smbx__slab_at(&lc->leases, j);
          if (l && l->scope == i)
            return SMBX_ERR_STATE;
        }
        sc->flags = flags;
      }
      *scope = i;
      return 0;
    }
  }
  if (free_slot == UINT32_MAX)
    return SMBX_ERR_LIMIT;
  lc_scope *sc = &lc->scopes[free_slot];
  memcpy(sc->guid, server_guid, 16);
  if (share_len)
    memcpy(sc->share, share, share_len);
  sc->share_len = (uint8_t)share_len;
  sc->flags = flags;
  sc->used = true;
  *scope = free_slot;
  return 0;
}

/* ---- keys ---------------------------------------------------------------------- */

static void make_key(smbx_lease_client *lc, uint8_t key[16])
{
  do {
    /* the mixer is a bijection for a fixed seed: distinct counters give
     * distinct keys */
    uint64_t n = ++lc->next_key;
    uint64_t a = smbx__hash_u64(n, lc->seed[0]);
    uint64_t b = smbx__hash_u64(n, lc->seed[1] ^ 0x9e3779b97f4a7c15ull);
    memcpy(key, &a, 8);
    memcpy(key + 8, &b, 8);
  } while (smbx__hash_get(&lc->by_key, key) != NULL ||
           memcmp(key, (const uint8_t[16]){0}, 16) == 0);
}

static bool reclaimable(const lc_lease *l)
{
  return l->state == 0 && l->pending == 0 &&
         !(l->flags & (LCF_BREAKING | LCF_QUEUED)) && l->cached == 0 &&
         !smbx__lc_dir_has_log(l);
}

static void lease_free(smbx_lease_client *lc, lc_lease *l)
{
  if (lc->memo == l)
    lc->memo = NULL;
  uint8_t pk[16];
  path_key(lc, l->scope, l->path, l->path_len, pk);
  if (smbx__hash_get(&lc->by_path, pk) == l)
    (void)smbx__hash_remove(&lc->by_path, pk);
  (void)smbx__hash_remove(&lc->by_key, l->key);
  smbx__lc_dir_free(lc, l);
  if (l->path)
    smbx__free(&lc->alloc, l->path, l->path_len, 1);
  memset(l, 0, sizeof *l);
  (void)smbx__slab_put(&lc->leases, l);
}

static lc_lease *lease_new(smbx_lease_client *lc, uint32_t scope,
                           const uint8_t *path, size_t len, int *err)
{
  lc_lease *l = smbx__slab_get_zeroed(&lc->leases);
  if (!l) {
    /* full: reuse an entry that holds nothing */
    for (uint32_t i = 0; i < smbx__slab_cap(&lc->leases); i++) {
      lc_lease *o = smbx__slab_at(&lc->leases, i);
      if (o && reclaimable(o)) {
        lease_free(lc, o);
        break;
      }
    }
    l = smbx__slab_get_zeroed(&lc->leases);
    if (!l) {
      *err = SMBX_ERR_LIMIT;
      return NULL;
    }
  }
  if (len) {
    l->path = smbx__alloc(&lc->alloc, len, 1);
    if (!l->path) {
      (void)smbx__slab_put(&lc->leases, l);
      *err = SMBX_ERR_NOMEM;
      return NULL;
    }
    memcpy(l->path, path, len);
  }
  l->path_len = (uint16_t)len;
  l->scope = (uint16_t)scope;
  make_key(lc, l->key);
  uint8_t pk[16];
  path_key(lc, scope, path, len, pk);
  int rc = smbx__hash_insert(&lc->by_key, l->key, l);
  if (rc == 0) {
    rc = smbx__hash_insert(&lc->by_path, pk, l);
    if (rc)
      (void)smbx__hash_remove(&lc->by_key, l->key);
  }
  if (rc) {
    /* SMBX_ERR_EXISTS: another path has this 64-bit hash; it keeps it */
    if (l->path)
      smbx__free(&lc->alloc, l->path, len, 1);
    memset(l, 0, sizeof *l);
    (void)smbx__slab_put(&lc->leases, l);
    *err = rc == SMBX_ERR_EXISTS ? SMBX_ERR_LIMIT : rc;
    return NULL;
  }
  return l;
}

int smbx_lease_client_request(smbx_lease_client *lc, uint32_t scope,
                              const uint8_t *path, size_t path_len,
                              uint32_t flags, uint16_t dialect, uint32_t caps,
                              uint64_t owner, smbx_smb2_lease *out)
{
  if (!lc || (!path && path_len) || !out || !scope_ok(lc, scope))
    return SMBX_ERR_INVAL;
  if (path_len > LC_PATH_MAX || path_len % 2)
    return SMBX_ERR_RANGE;
  bool dir = (flags & SMBX_LEASE_REQ_DIR) != 0;
  bool v3 = dialect >= SMBX_SMB2_DIALECT_300;
  /* leases.md 2.8: none on 2.0.2; directories only on 3.x with
   * DIRECTORY_LEASING granted */
  if (dialect < SMBX_SMB2_DIALECT_210 || !(caps & SMBX_SMB2_CAP_LEASING) ||
      (dir && (!v3 || !(caps & SMBX_SMB2_CAP_DIRECTORY_LEASING))))
    return SMBX_ERR_UNSUPPORTED;
  lc_lease *l = find_path(lc, scope, path, path_len);
  if (!l) {
    int err = 0;
    l = lease_new(lc, scope, path, path_len, &err);
    if (!l)
      return err;
    l->version = v3 ? 2 : 1;
  }
  if (l->pending == UINT8_MAX)
    return SMBX_ERR_LIMIT;
  if (dir)
    l->flags |= LCF_DIR;
  memset(out, 0, sizeof *out);
  out->version = v3 ? 2 : 1;
  memcpy(out->key, l->key, 16);
  /* 4.1: directories ask RH (servers drop W) unless the caller knows the
   * server grants directory W */
  out->state = !dir || (flags & SMBX_LEASE_REQ_DIR_WRITE) ? (R | W | H)
                                                          : (R | H);
  if (v3) {
    out->epoch = l->epoch;
    /* 4.1: the parent's key, so our own changes do not break it */
    size_t cut = 0;
    for (size_t i = path_len / 2; i > 0; i--)
      if (unit(path, i - 1) == '\\') {
        cut = (i - 1) * 2;
        break;
      }
    if (path_len) {
      const lc_lease *p = find_path(lc, scope, path, cut);
      if (p && p != l && (p->flags & LCF_DIR) && p->state) {
        memcpy(out->parent_key, p->key, 16);
        out->flags = SMBX_SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET;
      }
    }
  }
  l->owner = owner;
  l->pending++;
  return 0;
}

int smbx_lease_client_key(const smbx_lease_client *lc, uint32_t scope,
                          const uint8_t *path, size_t path_len,
                          uint8_t key[16])
{
  if (!lc || (!path && path_len) || !key || !scope_ok(lc, scope))
    return SMBX_ERR_INVAL;
  const lc_lease *l = find_path(lc, scope, path, path_len);
  if (!l)
    return SMBX_ERR_NOTFOUND;
  memcpy(key, l->key, 16);
  return 0;
}

int smbx_lease_client_state(const smbx_lease_client *lc, const uint8_t key[16],
                            uint32_t *state, uint16_t *epoch)
{
  if (!lc || !key)
    return SMBX_ERR_INVAL;
  const lc_lease *l = smbx__lc_find(lc, key);
  if (!l)
    return SMBX_ERR_NOTFOUND;
  if (state)
    *state = l->state;
  if (epoch)
    *epoch = l->epoch;
  return 0;
}

int smbx_lease_client_set_cached(smbx_lease_client *lc, const uint8_t key[16],
                                 uint32_t set, uint32_t clear)
{
  if (!lc || !key)
    return SMBX_ERR_INVAL;
  lc_lease *l = smbx__lc_find(lc, key);
  if (!l)
    return SMBX_ERR_NOTFOUND;
  uint32_t all = SMBX_LEASE_CACHED_DIRTY | SMBX_LEASE_CACHED_HANDLES;
  l->cached = (uint8_t)(((l->cached & ~clear) | set) & all);
  return 0;
}

/* ---- breaks ------------------------------------------------------------------- */

static void ev_base(const lc_lease *l, smbx_lease_client_event *ev,
                    uint32_t type)
{
  memset(ev, 0, sizeof *ev);
  ev->struct_size = sizeof *ev;
  ev->type = type;
  memcpy(ev->key, l->key, 16);
  ev->scope = l->scope;
  ev->owner = l->owner;
  if (l->flags & LCF_DIR)
    ev->flags |= SMBX_LEASE_CEVF_DIR;
}

/* 4.2 steps 2-4 for a lease with no CREATE outstanding. */
static void apply_break(smbx_lease_client *lc, lc_lease *l, uint32_t to,
                        uint16_t epoch, bool ack, bool epochs)
{
  smbx_lease_client_event ev;
  ev_base(l, &ev, SMBX_LEASE_CEV_BREAK);
  ev.from = l->state;
  ev.epoch = epoch;
  if (ack)
    ev.flags |= SMBX_LEASE_CEVF_ACK;
  if (epochs && l->version == 2) {
    int16_t d = (int16_t)(uint16_t)(epoch - l->epoch);
    if (d < 0) {
      /* stale: an older cycle's notification; the state stays */
      ev.flags |= SMBX_LEASE_CEVF_STALE | SMBX_LEASE_CEVF_SETTLED;
      ev.to = l->state;
      ev.ack_state = l->state & to;
      smbx__lc_push(lc, &ev);
      return;
    }
    if (d > 1) {
      /* a whole cycle was missed: what we cached may be out of date */
      ev.flags |= SMBX_LEASE_CEVF_EPOCH_GAP;
      ev.actions |= SMBX_LEASE_ACT_PURGE;
    }
    /* d == 1: a new cycle; d == 0: a further step of this cycle (Windows
     * steps RWH -> RH -> R with one epoch) */
    l->epoch = epoch;
  }
  uint8_t now_state = (uint8_t)(l->state & to);
  uint8_t lost = (uint8_t)(l->state & ~now_state);
  if (lost & W)
    ev.actions |= SMBX_LEASE_ACT_FLUSH;
  if (lost & H)
    ev.actions |= SMBX_LEASE_ACT_CLOSE_HANDLES;
  if (lost & R)
    ev.actions |= SMBX_LEASE_ACT_PURGE;
  l->flags = (uint8_t)((l->flags & ~LCF_UNSETTLED) | LCF_BREAK_SEEN);
  l->state = now_state;
  ev.to = now_state;
  if ((lost & W) && ((l->cached & SMBX_LEASE_CACHED_DIRTY) ||
                      smbx__lc_dir_has_log(l)))
    ev.flags |= SMBX_LEASE_CEVF_WAIT_FLUSH;
  if ((lost & H) && (l->cached & SMBX_LEASE_CACHED_HANDLES))
    ev.flags |= SMBX_LEASE_CEVF_WAIT_HANDLES;
  bool wait = (ev.flags & (SMBX_LEASE_CEVF_WAIT_FLUSH |
                           SMBX_LEASE_CEVF_WAIT_HANDLES)) ||
              (l->flags & LCF_BREAKING);
  if (wait) {
    l->flags |= LCF_BREAKING;
    if (ack)
      l->flags |= LCF_ACK_OWED;
  } else {
    ev.flags |= SMBX_LEASE_CEVF_SETTLED;
    ev.ack_state = now_state;
  }
  smbx__lc_push(lc, &ev);
  /* R gone: the listing goes now, whatever the host still has to do */
  if (lost & R)
    smbx__lc_dir_drop(lc, l, SMBX_LEASE_INVAL_BREAK);
  else if (ev.flags & SMBX_LEASE_CEVF_EPOCH_GAP)
    smbx__lc_dir_drop(lc, l, SMBX_LEASE_INVAL_EPOCH);
}

int smbx_lease_client_break(smbx_lease_client *lc,
                            const smbx_smb2_lease_break_notify *n,
                            uint16_t dialect, uint64_t now_ns)
{
  (void)now_ns;
  if (!lc || !n)
    return SMBX_ERR_INVAL;
  lc_lease *l = smbx__lc_find(lc, n->lease_key);
  if (!l)
    return 0; /* 4.2 step 1: unknown key: ignored, no ack */
  bool ack = (n->flags & SMBX_SMB2_LEASE_BREAK_ACK_REQUIRED) != 0;
  uint32_t to = n->new_state & (R | H | W);
  if (l->pending) {
    /* the CREATE that granted it is not processed yet: keep the newest */
    bool newer = !(l->flags & LCF_QUEUED) ||
                 (int16_t)(uint16_t)(n->new_epoch - l->q_epoch) >= 0;
    if (newer) {
      l->q_state = (uint8_t)to;
      l->q_epoch = n->new_epoch;
      l->flags = (uint8_t)((l->flags & ~LCF_QUEUED_ACK) | LCF_QUEUED |
                           (ack ? LCF_QUEUED_ACK : 0));
    }
    return 2;
  }
  apply_break(lc, l, to, n->new_epoch, ack,
              dialect >= SMBX_SMB2_DIALECT_300);
  return 1;
}

int smbx_lease_client_break_done(smbx_lease_client *lc, const uint8_t key[16],
                                 uint64_t now_ns, uint32_t *ack_state)
{
  (void)now_ns;
  if (!lc || !key || !ack_state)
    return SMBX_ERR_INVAL;
  lc_lease *l = smbx__lc_find(lc, key);
  if (!l)
    return SMBX_ERR_NOTFOUND;
  if (!(l->flags & LCF_BREAKING))
    return SMBX_ERR_STATE;
  bool owed = (l->flags & LCF_ACK_OWED) != 0;
  l->flags &= (uint8_t)~(LCF_BREAKING | LCF_ACK_OWED);
  *ack_state = l->state;
  return owed ? 1 : 0;
}

int smbx_lease_client_granted(smbx_lease_client *lc, const uint8_t key[16],
                              const smbx_smb2_lease *resp, uint64_t now_ns)
{
  if (!lc || !key)
    return SMBX_ERR_INVAL;
  lc_lease *l = smbx__lc_find(lc, key);
  if (!l)
    return SMBX_ERR_NOTFOUND;
  if (!l->pending)
    return SMBX_ERR_STATE;
  l->pending--;
  if (resp && memcmp(resp->key, l->key, 16) == 0) {
    uint8_t st = (uint8_t)(resp->state & (R | H | W));
    int16_t d = (int16_t)(uint16_t)(resp->epoch - l->epoch);
    bool in_progress =
        (resp->flags & SMBX_SMB2_LEASE_FLAG_BREAK_IN_PROGRESS) != 0;
    /* 4.1: a server breaking the lease answers an open of its key with
     * the state before the break (Windows, Samba: smbtorture
     * lease.breaking1). When that break was applied here already (the
     * CREATE went out before its ack), the break's target is the state
     * and nothing more will come for it: no raise back, no waiting. On
     * 3.x only a break of this epoch or a later one counts. */
    bool seen = in_progress && (l->flags & LCF_BREAK_SEEN) &&
                (resp->version != 2 || d <= 0);
    if (resp->version == 2 && l->state) {
      /* 4.2: same state, epoch more than one ahead: a change was missed */
      if (d > 1 && st == l->state)
        smbx__lc_dir_drop(lc, l, SMBX_LEASE_INVAL_EPOCH);
      if (d >= 0)
        l->epoch = resp->epoch;
    } else if (resp->version == 2 && !seen) {
      l->epoch = resp->epoch;
    }
    l->version = resp->version;
    if (seen) {
      st &= l->state;
    } else if (in_progress) {
      /* 4.1: not settled yet: nothing is served until the break comes */
      l->flags |= LCF_UNSETTLED;
      smbx__lc_dir_drop(lc, l, SMBX_LEASE_INVAL_EPOCH);
    } else {
      l->flags &= (uint8_t)~(LCF_UNSETTLED | LCF_BREAK_SEEN);
    }
    if (!(st & R))
      smbx__lc_dir_drop(lc, l, SMBX_LEASE_INVAL_BREAK);
    l->state = st;
  }
  if (l->pending == 0 && (l->flags & LCF_QUEUED)) {
    bool ack = (l->flags & LCF_QUEUED_ACK) != 0;
    l->flags &= (uint8_t)~(LCF_QUEUED | LCF_QUEUED_ACK);
    apply_break(lc, l, l->q_state, l->q_epoch, ack, l->version == 2);
  }
  (void)now_ns;
  return 0;
}

int smbx_lease_client_lost(smbx_lease_client *lc, uint64_t owner,
                           uint64_t now_ns)
{
  (void)now_ns;
  if (!lc)
    return SMBX_ERR_INVAL;
  int n = 0;
  for (uint32_t i = 0; i < smbx__slab_cap(&lc->leases); i++) {
    lc_lease *l = smbx__slab_at(&lc->leases, i);
    if (!l || l->owner != owner)
      continue;
    smbx__lc_dir_drop(lc, l, SMBX_LEASE_INVAL_LOST);
    l->state = 0;
    l->flags &= (uint8_t)~(LCF_UNSETTLED | LCF_BREAKING | LCF_ACK_OWED |
                           LCF_QUEUED | LCF_QUEUED_ACK | LCF_BREAK_SEEN);
    l->cached &= (uint8_t)~SMBX_LEASE_CACHED_HANDLES;
    n++;
  }
  return n;
}

uint64_t smbx_lease_client_expiry(const smbx_lease_client *lc)
{
  return lc ? smbx__lc_dir_expiry(lc) : UINT64_MAX;
}

int smbx_lease_client_handle_expiry(smbx_lease_client *lc, uint64_t now_ns)
{
  if (!lc)
    return SMBX_ERR_INVAL;
  return smbx__lc_dir_expire(lc, now_ns);
}

int smbx_lease_client_get_stats(const smbx_lease_client *lc,
                                smbx_lease_client_stats *st)
{
  if (!lc || !st || st->struct_size < sizeof(size_t))
    return SMBX_ERR_INVAL;
  smbx_lease_client_stats o;
  memset(&o, 0, sizeof o);
  o.struct_size = st->struct_size;
  o.leases = smbx__slab_live(&lc->leases);
  o.listings = lc->listings;
  o.entries = lc->entries;
  o.bytes = lc->bytes;
  o.bytes_per_lease = smbx__slab_stride(&lc->leases);
  /* both indexes: a 16-byte key and a pointer per slot */
  o.index_bytes_per_lease =
      (2 * 24 * (uint64_t)smbx__hash_cap(&lc->by_key)) / lc->s.max_leases;
  o.hits = lc->hits;
  o.misses = lc->misses;
  o.snapshots = lc->snapshots;
  o.snapshot_bytes = lc->held_bytes;
  memcpy(st, &o, st->struct_size < sizeof o ? st->struct_size : sizeof o);
  return 0;
}
