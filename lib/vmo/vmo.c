/* SPDX-License-Identifier: MIT */
/* Memory objects (include/smbx/vmo.h, docs/vmo.md): host blocks bound to
 * unguessable paths, opened and mapped by requests, revoked only once no
 * posted transfer names them. Everything is allocated at table creation
 * except each object's block, session and user arrays, page stamps and
 * dirty record (at smbx_vmo_create). */
#include <string.h>

#include <smbx/smb2_base.h>
#include <smbx/vmo.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/slab.h"
#include "vmo/vmo_int.h"

enum { OBJ_LIVE = 1, OBJ_REVOKED };

typedef struct vblock {
  void *addr;
  uint64_t start; /* object offset of its first byte */
  uint32_t length;
  smbx_mr mr;
} vblock;

typedef struct vuser {
  uint8_t len;
  uint8_t id[SMBX_VMO_USER_MAX];
} vuser;

typedef struct vobj {
  uint8_t state;
  uint32_t access;
  uint8_t token[SMBX_VMO_TOKEN_BYTES];
  uint64_t size;
  uint64_t cookie;
  vblock *blocks;
  uint32_t n_blocks;
  uint64_t *sessions;
  uint32_t n_sessions;
  vuser *users;
  uint32_t n_users;
  uint32_t pins;
  /* dirty tracking: the generation each page was last marked in, the
   * current generation, and the record a dirty READ is built into */
  uint32_t *stamps;
  uint32_t n_pages;
  uint32_t gen;
  uint8_t *rec;
  size_t rec_len;
  smbx_mr rec_mr;
  bool rec_busy; /* a pinned transfer sends it */
} vobj;

typedef struct vopen {
  uint64_t obj; /* object handle */
  uint32_t granted;
  uint32_t kind; /* SMBX_VMO_OPEN_* */
} vopen;

typedef struct vpin {
  uint64_t obj;
  bool rec; /* sends the object's dirty record */
  uint64_t conn, req; /* owner, when the node glue set one */
} vpin;

/* Key of the owner index: (conn, req) of the transfer holding a pin. */
typedef struct pin_key {
  uint64_t conn, req;
} pin_key;

struct smbx_vmo_table {
  smbx_allocator alloc;
  smbx_vmo_settings s;
  char ns[SMBX_VMO_NAMESPACE_MAX];
  size_t ns_len;
  smbx_transport t;
  smbx_vmo_random_fn random;
  void *random_user;
  smbx__slab objs, opens, pins;
  /* pins by owner (conn, req): RDMA_DONE finds its pin in O(1) */
  smbx__hash owners;
  /* the node glue's per-request scratch: max_sge elements and the iovs
   * of an inline READ (allocated here: nothing per request) */
  smbx_sge *sg;
  smbx_iov *iov;
  /* events: at most one RELEASED per object, so max_objects never fill */
  smbx_vmo_event *evq;
  uint32_t ev_head, ev_n;
  uint64_t refused;
};

int smbx_vmo_settings_default(smbx_vmo_settings *s, size_t size)
{
  if (!s || size < sizeof *s)
    return SMBX_ERR_INVAL;
  memset(s, 0, sizeof *s);
  s->struct_size = sizeof *s;
  s->namespace_name = "smbx-vmo";
  s->max_objects = 64;
  s->max_blocks = 64;
  s->max_sessions = 8;
  s->max_opens = 256;
  s->max_pins = 1024;
  s->max_sge = 64;
  s->page_size = 4096;
  s->max_users = 8;
  return 0;
}

static bool ns_char_ok(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '$' || c == '-' || c == '_' ||
         c == '.';
}

static void obj_release_blocks(smbx_vmo_table *tbl, vobj *o, uint32_t n)
{
  for (uint32_t i = 0; i < n; i++)
    tbl->t.deregister_mr(tbl->t.user_data, &o->blocks[i].mr);
  if (o->rec_mr.handle || o->rec_mr.key)
    tbl->t.deregister_mr(tbl->t.user_data, &o->rec_mr);
  memset(&o->rec_mr, 0, sizeof o->rec_mr);
}

static void obj_free(smbx_vmo_table *tbl, vobj *o)
{
  smbx__free(&tbl->alloc, o->stamps, sizeof(uint32_t) * o->n_pages,
             _Alignof(uint32_t));
  smbx__free(&tbl->alloc, o->rec, o->rec_len, 8);
  smbx__free(&tbl->alloc, o->blocks, sizeof(vblock) * o->n_blocks,
             _Alignof(vblock));
  smbx__free(&tbl->alloc, o->sessions, sizeof(uint64_t) * o->n_sessions,
             _Alignof(uint64_t));
  smbx__free(&tbl->alloc, o->users, sizeof(vuser) * o->n_users,
             _Alignof(vuser));
  (void)smbx__slab_put(&tbl->objs, o);
}

void smbx_vmo_free(smbx_vmo_table *tbl)
{
  if (!tbl)
    return;
  for (uint32_t i = 0; i < smbx__slab_cap(&tbl->objs); i++) {
    vobj *o = smbx__slab_at(&tbl->objs, i);
    if (!o)
      continue;
    obj_release_blocks(tbl, o, o->n_blocks);
    obj_free(tbl, o);
  }
  smbx__slab_free(&tbl->objs);
  smbx__slab_free(&tbl->opens);
  smbx__slab_free(&tbl->pins);
  smbx__hash_free(&tbl->owners);
  smbx__free(&tbl->alloc, tbl->sg, sizeof(smbx_sge) * tbl->s.max_sge,
             _Alignof(smbx_sge));
  smbx__free(&tbl->alloc, tbl->iov, sizeof(smbx_iov) * (tbl->s.max_sge + 1u),
             _Alignof(smbx_iov));
  smbx__free(&tbl->alloc, tbl->evq, sizeof(smbx_vmo_event) * tbl->s.max_objects,
             _Alignof(smbx_vmo_event));
  smbx_allocator a = tbl->alloc;
  SMBX__DELETE(&a, tbl, smbx_vmo_table);
}

int smbx_vmo_new(smbx_vmo_table **out, const smbx_vmo_settings *s,
                 const smbx_transport *t, smbx_vmo_random_fn random,
                 void *random_user, const smbx_allocator *a)
{
  if (!out || !t || !random || t->struct_size < sizeof(smbx_transport) ||
      !t->register_mr || !t->deregister_mr)
    return SMBX_ERR_INVAL;
  *out = NULL;
  smbx_vmo_settings st;
  smbx_vmo_settings_default(&st, sizeof st);
  if (s) {
    if (s->struct_size < sizeof(size_t))
      return SMBX_ERR_INVAL;
    memcpy(&st, s, s->struct_size < sizeof st ? s->struct_size : sizeof st);
    st.struct_size = sizeof st;
  }
  if (!st.namespace_name || !st.max_objects || !st.max_blocks ||
      !st.max_sessions || !st.max_opens || !st.max_pins || !st.max_sge ||
      st.max_sge > 1024 || st.max_pins > SMBX__SLAB_MAX / 2 ||
      st.page_size < 512 || st.page_size > (1u << 20) ||
      (st.page_size & (st.page_size - 1)))
    return SMBX_ERR_INVAL;
  size_t ns_len = strlen(st.namespace_name);
  if (ns_len == 0 || ns_len > SMBX_VMO_NAMESPACE_MAX)
    return SMBX_ERR_INVAL;
  for (size_t i = 0; i < ns_len; i++)
    if (!ns_char_ok(st.namespace_name[i]))
      return SMBX_ERR_INVAL;
  smbx_allocator al;
  int rc = smbx__allocator_copy(&al, a);
  if (rc)
    return rc;
  smbx_vmo_table *tbl = SMBX__NEW(&al, smbx_vmo_table);
  if (!tbl)
    return SMBX_ERR_NOMEM;
  tbl->alloc = al;
  tbl->s = st;
  memcpy(tbl->ns, st.namespace_name, ns_len);
  tbl->ns_len = ns_len;
  tbl->s.namespace_name = NULL; /* the caller's string is not kept */
  memset(&tbl->t, 0, sizeof tbl->t);
  memcpy(&tbl->t, t, sizeof tbl->t);
  tbl->random = random;
  tbl->random_user = random_user;
  tbl->evq = smbx__calloc(&tbl->alloc, st.max_objects, sizeof(smbx_vmo_event),
                          _Alignof(smbx_vmo_event));
  tbl->sg = smbx__calloc(&tbl->alloc, st.max_sge, sizeof(smbx_sge),
                         _Alignof(smbx_sge));
  tbl->iov = smbx__calloc(&tbl->alloc, st.max_sge + 1u, sizeof(smbx_iov),
                          _Alignof(smbx_iov));
  if (!tbl->evq || !tbl->sg || !tbl->iov ||
      SMBX__SLAB_INIT(&tbl->objs, &tbl->alloc, vobj, st.max_objects) ||
      SMBX__SLAB_INIT(&tbl->opens, &tbl->alloc, vopen, st.max_opens) ||
      SMBX__SLAB_INIT(&tbl->pins, &tbl->alloc, vpin, st.max_pins)) {
    smbx_vmo_free(tbl);
    return SMBX_ERR_NOMEM;
  }
  /* seeded by the host's random source like every smbx hash table */
  uint64_t seed = 0;
  if (random(random_user, (uint8_t *)&seed, sizeof seed) != 0) {
    smbx_vmo_free(tbl);
    return SMBX_ERR_TRANSPORT;
  }
  rc = smbx__hash_init(&tbl->owners, &tbl->alloc, sizeof(pin_key),
                       smbx__hash_cap_for(st.max_pins), seed);
  if (rc) {
    smbx_vmo_free(tbl);
    return rc == SMBX_ERR_RANGE ? SMBX_ERR_INVAL : SMBX_ERR_NOMEM;
  }
  *out = tbl;
  return 0;
}

int smbx_vmo_create(smbx_vmo_table *tbl, const smbx_vmo_spec *spec,
                    uint64_t *id)
{
  if (!tbl || !spec || !id || spec->struct_size < sizeof *spec ||
      !spec->blocks || spec->n_blocks == 0 ||
      spec->n_blocks > tbl->s.max_blocks ||
      (spec->n_sessions && !spec->sessions) ||
      spec->n_sessions > tbl->s.max_sessions ||
      (spec->n_users && !spec->users) || spec->n_users > tbl->s.max_users ||
      spec->n_sessions + spec->n_users == 0 ||
      (spec->access & ~(SMBX_VMO_READ | SMBX_VMO_WRITE)))
    return SMBX_ERR_INVAL;
  for (size_t i = 0; i < spec->n_users; i++)
    if (!spec->users[i].id || spec->users[i].len == 0 ||
        spec->users[i].len > SMBX_VMO_USER_MAX)
      return SMBX_ERR_INVAL;
  uint64_t size = 0;
  for (size_t i = 0; i < spec->n_blocks; i++) {
    if (!spec->blocks[i].addr || spec->blocks[i].length == 0 ||
        spec->blocks[i].length > UINT32_MAX)
      return SMBX_ERR_INVAL;
    size += spec->blocks[i].length;
  }
  uint64_t pages = (size + tbl->s.page_size - 1) / tbl->s.page_size;
  /* the dirty record must fit one READ: 16 bytes + 1 bit per page */
  if (pages > (uint64_t)UINT32_MAX - 8 * SMBX_VMO_DIRTY_HEADER)
    return SMBX_ERR_RANGE;
  vobj *o = smbx__slab_get_zeroed(&tbl->objs);
  if (!o)
    return SMBX_ERR_LIMIT;
  o->blocks = smbx__calloc(&tbl->alloc, spec->n_blocks, sizeof(vblock),
                           _Alignof(vblock));
  o->sessions = spec->n_sessions
                    ? smbx__calloc(&tbl->alloc, spec->n_sessions,
                                   sizeof(uint64_t), _Alignof(uint64_t))
                    : NULL;
  o->users = spec->n_users ? smbx__calloc(&tbl->alloc, spec->n_users,
                                          sizeof(vuser), _Alignof(vuser))
                           : NULL;
  o->n_blocks = (uint32_t)spec->n_blocks;
  o->n_sessions = (uint32_t)spec->n_sessions;
  o->n_users = (uint32_t)spec->n_users;
  o->n_pages = (uint32_t)pages;
  o->stamps = smbx__calloc(&tbl->alloc, o->n_pages, sizeof(uint32_t),
                           _Alignof(uint32_t));
  o->rec_len = SMBX_VMO_DIRTY_HEADER + (o->n_pages + 7u) / 8u;
  o->rec = smbx__calloc(&tbl->alloc, 1, o->rec_len, 8);
  if (!o->blocks || (o->n_sessions && !o->sessions) ||
      (o->n_users && !o->users) || !o->stamps || !o->rec) {
    obj_free(tbl, o);
    return SMBX_ERR_NOMEM;
  }
  if (tbl->random(tbl->random_user, o->token, sizeof o->token) != 0) {
    obj_free(tbl, o);
    return SMBX_ERR_TRANSPORT;
  }
  uint64_t at = 0;
  for (uint32_t i = 0; i < o->n_blocks; i++) {
    vblock *b = &o->blocks[i];
    b->addr = spec->blocks[i].addr;
    b->length = (uint32_t)spec->blocks[i].length;
    b->start = at;
    at += b->length;
    /* LOCAL_WRITE: the node RDMA-READs a peer's WRITE into the block */
    if (tbl->t.register_mr(tbl->t.user_data, b->addr, b->length,
                           SMBX_MR_LOCAL_WRITE, &b->mr) != 0) {
      obj_release_blocks(tbl, o, i);
      obj_free(tbl, o);
      return SMBX_ERR_TRANSPORT;
    }
  }
  if (tbl->t.register_mr(tbl->t.user_data, o->rec, o->rec_len, 0,
                         &o->rec_mr) != 0) {
    memset(&o->rec_mr, 0, sizeof o->rec_mr);
    obj_release_blocks(tbl, o, o->n_blocks);
    obj_free(tbl, o);
    return SMBX_ERR_TRANSPORT;
  }
  if (o->n_sessions)
    memcpy(o->sessions, spec->sessions, sizeof(uint64_t) * o->n_sessions);
  for (uint32_t i = 0; i < o->n_users; i++) {
    o->users[i].len = (uint8_t)spec->users[i].len;
    memcpy(o->users[i].id, spec->users[i].id, spec->users[i].len);
  }
  o->gen = 1;
  o->state = OBJ_LIVE;
  o->access = spec->access;
  o->size = size;
  o->cookie = spec->cookie;
  *id = smbx__slab_handle(&tbl->objs, o);
  return 0;
}

static vobj *obj_live(const smbx_vmo_table *tbl, uint64_t id)
{
  vobj *o = tbl ? smbx__slab_lookup(&tbl->objs, id) : NULL;
  return o && o->state == OBJ_LIVE ? o : NULL;
}

static const char hexdig[] = "0123456789abcdef";

int smbx_vmo_path(const smbx_vmo_table *tbl, uint64_t id, char *utf8,
                  size_t utf8_cap, size_t *utf8_len, uint8_t *utf16,
                  size_t utf16_cap, size_t *utf16_len)
{
  const vobj *o = obj_live(tbl, id);
  if (!o)
    return tbl ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  char p[SMBX_VMO_PATH_MAX];
  size_t n = tbl->ns_len;
  memcpy(p, tbl->ns, n);
  p[n++] = '\\';
  for (size_t i = 0; i < SMBX_VMO_TOKEN_BYTES; i++) {
    p[n++] = hexdig[o->token[i] >> 4];
    p[n++] = hexdig[o->token[i] & 15];
  }
  if (utf8_len)
    *utf8_len = n;
  if (utf16_len)
    *utf16_len = 2 * n;
  if ((utf8 && utf8_cap < n) || (utf16 && utf16_cap < 2 * n))
    return SMBX_ERR_NOBUF;
  if (utf8)
    memcpy(utf8, p, n);
  if (utf16)
    for (size_t i = 0; i < n; i++) {
      utf16[2 * i] = (uint8_t)p[i];
      utf16[2 * i + 1] = 0;
    }
  return 0;
}

int smbx_vmo_set_access(smbx_vmo_table *tbl, uint64_t id, uint32_t access)
{
  vobj *o = tbl ? smbx__slab_lookup(&tbl->objs, id) : NULL;
  if (!o)
    return tbl ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  if (access & ~(SMBX_VMO_READ | SMBX_VMO_WRITE))
    return SMBX_ERR_INVAL;
  if (o->state != OBJ_LIVE)
    return SMBX_ERR_STATE;
  o->access = access;
  return 0;
}

static void release(smbx_vmo_table *tbl, vobj *o)
{
  obj_release_blocks(tbl, o, o->n_blocks);
  smbx_vmo_event *e =
      &tbl->evq[(tbl->ev_head + tbl->ev_n) % tbl->s.max_objects];
  memset(e, 0, sizeof *e);
  e->struct_size = sizeof *e;
  e->type = SMBX_VMO_EV_RELEASED;
  e->id = smbx__slab_handle(&tbl->objs, o);
  e->cookie = o->cookie;
  tbl->ev_n++;
  obj_free(tbl, o);
}

int smbx_vmo_destroy(smbx_vmo_table *tbl, uint64_t id)
{
  vobj *o = obj_live(tbl, id);
  if (!o)
    return tbl ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  o->state = OBJ_REVOKED;
  o->access = 0;
  /* opens keep naming the handle; they fail FILE_CLOSED until closed */
  if (o->pins == 0)
    release(tbl, o);
  return 0;
}

uint64_t smbx_vmo_size(const smbx_vmo_table *tbl, uint64_t id)
{
  const vobj *o = obj_live(tbl, id);
  return o ? o->size : 0;
}

static uint16_t u16_at(const uint8_t *p, size_t i)
{
  return (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8));
}

static uint16_t ascii_lower(uint16_t c)
{
  return c >= 'A' && c <= 'Z' ? (uint16_t)(c + 32) : c;
}

/* Characters of the name matching the namespace, case-insensitively
 * (SMB2 names are); false when the name does not start with it. */
static bool ns_prefix(const smbx_vmo_table *tbl, const uint8_t *name,
                      size_t chars)
{
  if (chars < tbl->ns_len)
    return false;
  for (size_t i = 0; i < tbl->ns_len; i++)
    if (ascii_lower(u16_at(name, i)) !=
        ascii_lower((uint16_t)(uint8_t)tbl->ns[i]))
      return false;
  return true;
}

bool smbx_vmo_in_namespace(const smbx_vmo_table *tbl, const uint8_t *name,
                           size_t len)
{
  if (!tbl || !name || (len & 1))
    return false;
  size_t chars = len / 2;
  if (!ns_prefix(tbl, name, chars))
    return false;
  return chars == tbl->ns_len || u16_at(name, tbl->ns_len) == '\\';
}

static int hexval(uint16_t c)
{
  c = ascii_lower(c);
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* Constant time in the token's bytes: how a guess differs leaks nothing. */
static bool token_eq(const uint8_t *a, const uint8_t *b)
{
  uint8_t d = 0;
  for (size_t i = 0; i < SMBX_VMO_TOKEN_BYTES; i++)
    d |= (uint8_t)(a[i] ^ b[i]);
  return d == 0;
}

static const char dirty_suffix[] = SMBX_VMO_DIRTY_SUFFIX;
#define DIRTY_SUFFIX_LEN (sizeof dirty_suffix - 1)

static vobj *obj_by_name(const smbx_vmo_table *tbl, const uint8_t *name,
                         size_t len, uint32_t *kind)
{
  size_t base = tbl->ns_len + 1 + 2 * SMBX_VMO_TOKEN_BYTES;
  if (!smbx_vmo_in_namespace(tbl, name, len))
    return NULL;
  *kind = SMBX_VMO_OPEN_DATA;
  if (len / 2 == base + DIRTY_SUFFIX_LEN) {
    for (size_t i = 0; i < DIRTY_SUFFIX_LEN; i++)
      if (ascii_lower(u16_at(name, base + i)) != (uint16_t)dirty_suffix[i])
        return NULL;
    *kind = SMBX_VMO_OPEN_DIRTY;
  } else if (len / 2 != base) {
    return NULL;
  }
  uint8_t tok[SMBX_VMO_TOKEN_BYTES];
  for (size_t i = 0; i < SMBX_VMO_TOKEN_BYTES; i++) {
    int hi = hexval(u16_at(name, tbl->ns_len + 1 + 2 * i));
    int lo = hexval(u16_at(name, tbl->ns_len + 2 + 2 * i));
    if (hi < 0 || lo < 0)
      return NULL;
    tok[i] = (uint8_t)(hi << 4 | lo);
  }
  for (uint32_t i = 0; i < smbx__slab_cap(&tbl->objs); i++) {
    vobj *o = smbx__slab_at(&tbl->objs, i);
    if (o && o->state == OBJ_LIVE && token_eq(o->token, tok))
      return o;
  }
  return NULL;
}

/* Is the opener one the object names: its session, or the user the host
 * named for that session (never a guest or anonymous one: no user)? */
static bool opener_allowed(const vobj *o, uint64_t session,
                           const uint8_t *user, size_t user_len)
{
  for (uint32_t i = 0; i < o->n_sessions; i++)
    if (o->sessions[i] == session)
      return true;
  if (!user || user_len == 0)
    return false;
  for (uint32_t i = 0; i < o->n_users; i++)
    if (o->users[i].len == user_len &&
        memcmp(o->users[i].id, user, user_len) == 0)
      return true;
  return false;
}

uint32_t smbx_vmo_open(smbx_vmo_table *tbl, const uint8_t *name, size_t len,
                       uint64_t session, const uint8_t *user, size_t user_len,
                       uint32_t want, uint64_t *open)
{
  if (!tbl || !open)
    return SMBX_STATUS_INVALID_PARAMETER;
  uint32_t kind = 0;
  vobj *o = obj_by_name(tbl, name, len, &kind);
  if (!o || !opener_allowed(o, session, user, user_len))
    return SMBX_STATUS_OBJECT_NAME_NOT_FOUND;
  /* the dirty stream is read-only; reading it needs no right on the
   * memory (the peer that may open the object may see what changed) */
  uint32_t can = kind == SMBX_VMO_OPEN_DIRTY ? SMBX_VMO_READ : o->access;
  if (want & ~can)
    return SMBX_STATUS_ACCESS_DENIED;
  vopen *op = smbx__slab_get_zeroed(&tbl->opens);
  if (!op)
    return SMBX_STATUS_INSUFFICIENT_RESOURCES;
  op->obj = smbx__slab_handle(&tbl->objs, o);
  op->granted = want ? want : can;
  op->kind = kind;
  *open = smbx__slab_handle(&tbl->opens, op);
  return SMBX_STATUS_SUCCESS;
}

/* The open's object while it may still be used for `right`; else NULL
 * and *st says why. */
static vobj *open_obj(smbx_vmo_table *tbl, uint64_t open, uint32_t right,
                      uint32_t *st)
{
  vopen *op = smbx__slab_lookup(&tbl->opens, open);
  vobj *o = op ? obj_live(tbl, op->obj) : NULL;
  *st = SMBX_STATUS_FILE_CLOSED;
  uint32_t has = op && op->kind == SMBX_VMO_OPEN_DIRTY ? SMBX_VMO_READ
                 : o                                  ? o->access
                                                      : 0;
  if (!o || (right & op->granted & ~has)) {
    if (op)
      tbl->refused++;
    return NULL;
  }
  if (right & ~op->granted) {
    *st = SMBX_STATUS_ACCESS_DENIED;
    return NULL;
  }
  return o;
}

/* First block holding object offset off (off < size). */
static uint32_t block_at(const vobj *o, uint64_t off)
{
  uint32_t lo = 0, hi = o->n_blocks;
  while (hi - lo > 1) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (o->blocks[mid].start <= off)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

uint32_t smbx_vmo_map(smbx_vmo_table *tbl, uint64_t open, bool is_write,
                      uint64_t offset, uint64_t len, smbx_sge *sg, size_t cap,
                      size_t *n, uint64_t *bytes, uint64_t *pin)
{
  if (!tbl || !sg || !cap || !n || !bytes)
    return SMBX_STATUS_INVALID_PARAMETER;
  if (cap > tbl->s.max_sge)
    cap = tbl->s.max_sge;
  uint32_t st;
  vobj *o = open_obj(tbl, open, is_write ? SMBX_VMO_WRITE : SMBX_VMO_READ,
                     &st);
  if (!o)
    return st;
  const vopen *op = smbx__slab_lookup(&tbl->opens, open);
  if (op->kind != SMBX_VMO_OPEN_DATA)
    return SMBX_STATUS_ACCESS_DENIED; /* smbx_vmo_dirty_read() */
  if (is_write) {
    if (offset > o->size || len > o->size - offset)
      return SMBX_STATUS_DISK_FULL;
  } else {
    if (offset >= o->size)
      return SMBX_STATUS_END_OF_FILE;
    if (len > o->size - offset)
      len = o->size - offset;
  }
  size_t k = 0;
  uint64_t done = 0;
  if (len) {
    for (uint32_t b = block_at(o, offset); done < len && b < o->n_blocks;
         b++) {
      if (k == cap) {
        if (is_write)
          return SMBX_STATUS_INVALID_PARAMETER;
        break; /* a short READ: the peer asks again for the rest */
      }
      const vblock *bl = &o->blocks[b];
      uint64_t in = offset + done - bl->start;
      uint64_t piece = bl->length - in;
      if (piece > len - done)
        piece = len - done;
      sg[k].addr = (uint8_t *)bl->addr + in;
      sg[k].length = (uint32_t)piece;
      sg[k].reserved = 0;
      sg[k].handle = bl->mr.handle;
      k++;
      done += piece;
    }
  }
  if (pin) {
    vpin *p = smbx__slab_get_zeroed(&tbl->pins);
    if (!p)
      return SMBX_STATUS_INSUFFICIENT_RESOURCES;
    p->obj = smbx__slab_handle(&tbl->objs, o);
    o->pins++;
    *pin = smbx__slab_handle(&tbl->pins, p);
  }
  *n = k;
  *bytes = done;
  return SMBX_STATUS_SUCCESS;
}

int smbx_vmo_unpin(smbx_vmo_table *tbl, uint64_t pin)
{
  vpin *p = tbl ? smbx__slab_lookup(&tbl->pins, pin) : NULL;
  if (!p)
    return tbl ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  vobj *o = smbx__slab_lookup(&tbl->objs, p->obj);
  if (o && p->rec)
    o->rec_busy = false;
  if (p->conn) {
    pin_key k = {p->conn, p->req};
    (void)smbx__hash_remove(&tbl->owners, &k);
  }
  (void)smbx__slab_put(&tbl->pins, p);
  if (o && --o->pins == 0 && o->state == OBJ_REVOKED)
    release(tbl, o);
  return 0;
}

int smbx_vmo_close(smbx_vmo_table *tbl, uint64_t open)
{
  if (!tbl)
    return SMBX_ERR_INVAL;
  return smbx__slab_put_handle(&tbl->opens, open);
}

uint32_t smbx_vmo_open_info(const smbx_vmo_table *tbl, uint64_t open,
                            uint64_t *id, uint64_t *size, uint32_t *kind)
{
  const vopen *op = tbl ? smbx__slab_lookup(&tbl->opens, open) : NULL;
  const vobj *o = op ? obj_live(tbl, op->obj) : NULL;
  if (!o)
    return SMBX_STATUS_FILE_CLOSED;
  if (id)
    *id = op->obj;
  if (size)
    *size = op->kind == SMBX_VMO_OPEN_DIRTY ? o->rec_len : o->size;
  if (kind)
    *kind = op->kind;
  return SMBX_STATUS_SUCCESS;
}

int smbx_vmo_mark_dirty(smbx_vmo_table *tbl, uint64_t id, uint64_t offset,
                        uint64_t len)
{
  vobj *o = obj_live(tbl, id);
  if (!o)
    return tbl ? SMBX_ERR_NOTFOUND : SMBX_ERR_INVAL;
  if (len == 0)
    return SMBX_ERR_INVAL;
  if (offset >= o->size || len > o->size - offset)
    return SMBX_ERR_RANGE;
  uint64_t first = offset / tbl->s.page_size;
  uint64_t last = (offset + len - 1) / tbl->s.page_size;
  for (uint64_t p = first; p <= last; p++)
    o->stamps[p] = o->gen;
  return 0;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
  for (int i = 0; i < n; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t smbx_vmo_dirty_read(smbx_vmo_table *tbl, uint64_t open,
                             uint64_t generation, uint64_t len, smbx_sge *sg,
                             uint64_t *bytes, uint64_t *pin)
{
  if (!tbl || !sg || !bytes)
    return SMBX_STATUS_INVALID_PARAMETER;
  uint32_t st;
  vobj *o = open_obj(tbl, open, SMBX_VMO_READ, &st);
  if (!o)
    return st;
  const vopen *op = smbx__slab_lookup(&tbl->opens, open);
  if (op->kind != SMBX_VMO_OPEN_DIRTY)
    return SMBX_STATUS_ACCESS_DENIED;
  if (generation > o->gen)
    return SMBX_STATUS_INVALID_PARAMETER;
  if (len < o->rec_len)
    return SMBX_STATUS_BUFFER_TOO_SMALL;
  if (o->rec_busy)
    return SMBX_STATUS_INSUFFICIENT_RESOURCES;
  vpin *p = NULL;
  if (pin) {
    p = smbx__slab_get_zeroed(&tbl->pins);
    if (!p)
      return SMBX_STATUS_INSUFFICIENT_RESOURCES;
    p->obj = smbx__slab_handle(&tbl->objs, o);
    p->rec = true;
    o->pins++;
    o->rec_busy = true;
    *pin = smbx__slab_handle(&tbl->pins, p);
  }
  uint8_t *r = o->rec;
  memset(r, 0, o->rec_len);
  put_le(r, o->gen, 8);
  put_le(r + 8, tbl->s.page_size, 4);
  put_le(r + 12, o->n_pages, 4);
  uint8_t *bm = r + SMBX_VMO_DIRTY_HEADER;
  for (uint32_t i = 0; i < o->n_pages; i++)
    if (o->stamps[i] > generation)
      bm[i / 8] = (uint8_t)(bm[i / 8] | 1u << (i % 8));
  /* marks from now on belong to the next generation: they show up when
   * the peer reads at the generation this record names */
  o->gen++;
  sg->addr = r;
  sg->length = (uint32_t)o->rec_len;
  sg->reserved = 0;
  sg->handle = o->rec_mr.handle;
  *bytes = o->rec_len;
  return SMBX_STATUS_SUCCESS;
}

int smbx_vmo_next_event(smbx_vmo_table *tbl, smbx_vmo_event *ev)
{
  if (!tbl || !ev || ev->struct_size < sizeof *ev)
    return SMBX_ERR_INVAL;
  if (tbl->ev_n == 0)
    return 0;
  *ev = tbl->evq[tbl->ev_head];
  tbl->ev_head = (tbl->ev_head + 1) % tbl->s.max_objects;
  tbl->ev_n--;
  return 1;
}

int smbx_vmo_stats_get(const smbx_vmo_table *tbl, smbx_vmo_stats *o)
{
  if (!tbl || !o || o->struct_size < sizeof *o)
    return SMBX_ERR_INVAL;
  memset(o, 0, sizeof *o);
  o->struct_size = sizeof *o;
  for (uint32_t i = 0; i < smbx__slab_cap(&tbl->objs); i++) {
    const vobj *ob = smbx__slab_at(&tbl->objs, i);
    if (!ob)
      continue;
    if (ob->state == OBJ_LIVE)
      o->objects++;
    else
      o->revoked_waiting++;
  }
  o->opens = smbx__slab_live(&tbl->opens);
  o->pins = smbx__slab_live(&tbl->pins);
  o->refused = tbl->refused;
  return 0;
}

/* ---- vmo_int.h ---------------------------------------------------------- */

int smbx__vmo_pin_owner(smbx_vmo_table *tbl, uint64_t pin, uint64_t conn,
                        uint64_t req)
{
  vpin *p = smbx__slab_lookup(&tbl->pins, pin);
  if (!p || p->conn || !conn)
    return SMBX_ERR_INVAL;
  pin_key k = {conn, req};
  /* the index holds max_pins entries (sized at smbx_vmo_new): only a
   * second transfer on the same request can fail here */
  int rc = smbx__hash_insert(&tbl->owners, &k, p);
  if (rc)
    return rc;
  p->conn = conn;
  p->req = req;
  return 0;
}

uint64_t smbx__vmo_pin_of(const smbx_vmo_table *tbl, uint64_t conn,
                          uint64_t req)
{
  pin_key k = {conn, req};
  const vpin *p = smbx__hash_get(&tbl->owners, &k);
  return p ? smbx__slab_handle(&tbl->pins, p) : 0;
}

void smbx__vmo_scratch(smbx_vmo_table *tbl, smbx_sge **sg, smbx_iov **iov,
                       size_t *cap)
{
  *sg = tbl->sg;
  *iov = tbl->iov;
  *cap = tbl->s.max_sge;
}

uint32_t smbx__vmo_unpin_conn(smbx_vmo_table *tbl, uint64_t conn)
{
  uint32_t n = 0;
  for (uint32_t i = 0; i < smbx__slab_cap(&tbl->pins); i++) {
    const vpin *p = smbx__slab_at(&tbl->pins, i);
    if (p && p->conn == conn) {
      (void)smbx_vmo_unpin(tbl, smbx__slab_handle(&tbl->pins, p));
      n++;
    }
  }
  return n;
}

int smbx_vmo_pinned_conns(const smbx_vmo_table *tbl, uint64_t id,
                          uint64_t *conns, size_t cap)
{
  if (!tbl || (!conns && cap))
    return SMBX_ERR_INVAL;
  if (!smbx__slab_lookup(&tbl->objs, id))
    return SMBX_ERR_NOTFOUND;
  size_t n = 0;
  for (uint32_t i = 0; i < smbx__slab_cap(&tbl->pins); i++) {
    const vpin *p = smbx__slab_at(&tbl->pins, i);
    if (!p || p->obj != id || !p->conn)
      continue;
    /* each connection once: is it among the earlier pins? */
    bool seen = false;
    for (uint32_t j = 0; j < i && !seen; j++) {
      const vpin *q = smbx__slab_at(&tbl->pins, j);
      seen = q && q->obj == id && q->conn == p->conn;
    }
    if (seen)
      continue;
    if (n < cap)
      conns[n] = p->conn;
    n++;
  }
  return n > (size_t)INT32_MAX ? INT32_MAX : (int)n;
}

uint32_t smbx__vmo_facts_get(const smbx_vmo_table *tbl, uint64_t open,
                             smbx__vmo_facts *f)
{
  const vopen *op = smbx__slab_lookup(&tbl->opens, open);
  const vobj *o = op ? obj_live(tbl, op->obj) : NULL;
  if (!o)
    return SMBX_STATUS_FILE_CLOSED;
  f->id = op->obj;
  f->size = o->size;
  f->dirty_size = o->rec_len;
  f->granted = op->granted;
  f->kind = op->kind;
  f->page_size = tbl->s.page_size;
  return SMBX_STATUS_SUCCESS;
}
