/* SPDX-License-Identifier: MIT */
/* posixfs: POSIX-backed SMB2 file system of the example server. See
 * posixfs.h for the API and docs/posixfs.md for the mapping. */
#define _GNU_SOURCE
#include "posixfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define ST_OK SMBX_STATUS_SUCCESS
#define DATA_ACCESS                                                     \
  (POSIXFS_READ_DATA | POSIXFS_WRITE_DATA | POSIXFS_APPEND_DATA |       \
   POSIXFS_EXECUTE | POSIXFS_DELETE)
#define WRITE_BITS                                                      \
  (POSIXFS_WRITE_DATA | POSIXFS_APPEND_DATA | POSIXFS_WRITE_EA |        \
   POSIXFS_WRITE_ATTRIBUTES | POSIXFS_DELETE_CHILD)
#define NOTIFY_QUEUE_MAX 1024u
#define WATCH_MAX 4096u
#define INOTIFY_MASK                                                    \
  (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY |    \
   IN_ATTRIB | IN_ONLYDIR)

typedef struct open_s open_s;

typedef struct lockrec {
  const open_s *owner;
  uint64_t off;
  uint64_t len;
  int excl;
} lockrec;

/* A file (base == NULL) or one named stream of a file. Share modes,
 * byte-range locks and delete-pending are per stream, as in NTFS; a
 * stream node holds a reference on its file's node (streams) so the
 * file's delete-pending outlives the file's own opens. */
typedef struct node {
  dev_t dev;
  ino_t ino;
  unsigned opens;
  unsigned streams; /* file nodes: stream nodes referring to it */
  int delete_pending;
  int is_dir;
  char *path; /* share-relative, '/' separators, "" = root; NULL for a
                 stream (its file's path is the one kept current) */
  char *stream;      /* stream nodes: the name as stored */
  struct node *base; /* stream nodes: the file's node */
  lockrec *locks;
  size_t nlocks;
  size_t caplocks;
  struct node *next;
} node;

#define FILE_OF(n) ((n)->base ? (n)->base : (n))

typedef struct nevent {
  uint32_t action;
  char *name; /* relative to the watched directory, '/' separators */
} nevent;

struct open_s {
  int pfd; /* O_PATH */
  int fd;  /* I/O fd or -1 (directories: O_RDONLY|O_DIRECTORY) */
  node *n;
  uint32_t gen;
  uint32_t access;
  uint32_t share;
  uint32_t options;
  int is_dir;
  int doc;
  uint64_t pos;
  /* directory enumeration */
  char **names;
  size_t nnames;
  size_t cursor;
  int scanning;
  int queried; /* a query since the last restart */
  char *pattern;
  /* change notify */
  int watching;
  uint32_t filter;
  int tree;
  int overflow;
  int gone; /* the watched directory was deleted: DELETE_PENDING */
  nevent *q;
  size_t nq;
};

typedef struct watchrec {
  int wd;
  open_s *o;
  char *rel; /* "" for the watched directory itself */
} watchrec;

/* case-insensitive name cache (icase_fix): see nc_lookup */
#define NC_DIRS 8

typedef struct ncname {
  struct ncname *next;
  size_t len;
  char name[];
} ncname;

typedef struct ncdir {
  int wd; /* its inotify watch; 0: slot free */
  dev_t dev;
  ino_t ino;
  ncname **b; /* chained by the ASCII-folded name's hash */
  size_t nb, n;
  uint64_t used; /* nc_clock at the last lookup (least recent goes) */
} ncdir;

struct posixfs {
  int rootfd;
  int inofd;
  int ncfd; /* inotify for the name cache; -1: no cache */
  ncdir nc[NC_DIRS];
  uint64_t nc_clock;
  open_s **slots;
  size_t nslots;
  size_t nopen;
  uint32_t gen;
  node *nodes;
  uint64_t lock_epoch;
  watchrec *w;
  size_t nw;
  size_t capw;
  int have_openat2;
};

/* ------------------------------------------------------------------ */
/* small helpers */

static void put16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v) {
  put16(p, v);
  put16(p + 2, v >> 16);
}
static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)v);
  put32(p + 4, (uint32_t)(v >> 32));
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) {
  return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static char *join(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *d = malloc(la + lb + 2);
  if (!d) return NULL;
  memcpy(d, a, la);
  size_t k = la;
  if (la && lb) d[k++] = '/';
  memcpy(d + k, b, lb + 1);
  return d;
}

static void proc_path(char *buf, size_t cap, int fd) {
  snprintf(buf, cap, "/proc/self/fd/%d", fd);
}

static uint64_t filetime(struct timespec ts) {
  int64_t s = (int64_t)ts.tv_sec + 11644473600LL;
  if (s < 0) return 0;
  return (uint64_t)s * 10000000u + (uint64_t)ts.tv_nsec / 100u;
}

static struct timespec from_filetime(uint64_t ft) {
  struct timespec ts;
  uint64_t s = ft / 10000000u;
  ts.tv_sec = (time_t)((int64_t)s - 11644473600LL);
  ts.tv_nsec = (long)((ft % 10000000u) * 100u);
  return ts;
}

static uint32_t errno_status(int e) {
  switch (e) {
  case ENOENT: return SMBX_STATUS_OBJECT_NAME_NOT_FOUND;
  case ENOTDIR: return SMBX_STATUS_OBJECT_PATH_NOT_FOUND;
  case EEXIST: return SMBX_STATUS_OBJECT_NAME_COLLISION;
  case EACCES: case EPERM: case EROFS: case EXDEV: case ELOOP:
    return SMBX_STATUS_ACCESS_DENIED;
  case EISDIR: return SMBX_STATUS_FILE_IS_A_DIRECTORY;
  case ENOTEMPTY: return SMBX_STATUS_DIRECTORY_NOT_EMPTY;
  case ENOSPC: case EDQUOT: return SMBX_STATUS_DISK_FULL;
  case ENOMEM: case EMFILE: case ENFILE:
    return SMBX_STATUS_INSUFFICIENT_RESOURCES;
  case ENAMETOOLONG: return SMBX_STATUS_OBJECT_NAME_INVALID;
  default: return SMBX_STATUS_UNSUCCESSFUL;
  }
}

/* ------------------------------------------------------------------ */
/* names */

/* Windows-invalid characters in a path component (MS-FSCC 2.1.5.2). */
static int bad_char(unsigned char c) {
  return c < 0x20 || c == '/' || c == ':' || c == '*' || c == '?' ||
         c == '"' || c == '<' || c == '>' || c == '|';
}

#define STREAM_XATTR "user.smbx.stream."
/* the longest stream name whose xattr name fits XATTR_NAME_MAX (255) */
#define STREAM_NAME_MAX (255u - (sizeof STREAM_XATTR - 1))

/* The stream part of a CREATE name (MS-FSCC 2.1.5.4): what follows the
 * first ':' of the last component. */
typedef struct streamspec {
  char *name;        /* NULL: the unnamed data stream */
  int explicit_data; /* "file::$DATA" (the unnamed stream named) */
} streamspec;

/* "name", "name:$DATA" or ":$DATA" (case-insensitive type) after the
 * first colon. An empty type, more colons or an empty name without a type
 * is OBJECT_NAME_INVALID; another type ($FOO, $INDEX_ALLOCATION) is
 * INVALID_PARAMETER, as Samba and Windows 2000 answer. */
static uint32_t parse_stream(const char *spec, streamspec *ss) {
  const char *colon = strchr(spec, ':');
  size_t nl = colon ? (size_t)(colon - spec) : strlen(spec);
  if (colon) {
    const char *type = colon + 1;
    if (!type[0] || strchr(type, ':')) return SMBX_STATUS_OBJECT_NAME_INVALID;
    if (strcasecmp(type, "$DATA") != 0) return SMBX_STATUS_INVALID_PARAMETER;
  } else if (nl == 0) {
    return SMBX_STATUS_OBJECT_NAME_INVALID; /* "file:" */
  }
  if (nl == 0) {
    ss->explicit_data = 1;
    return ST_OK;
  }
  if (nl > STREAM_NAME_MAX || memchr(spec, '/', nl))
    return SMBX_STATUS_OBJECT_NAME_INVALID;
  ss->name = malloc(nl + 1);
  if (!ss->name) return SMBX_STATUS_INSUFFICIENT_RESOURCES;
  memcpy(ss->name, spec, nl);
  ss->name[nl] = '\0';
  return ST_OK;
}

/* SMB2 name -> share-relative POSIX path ("" = root). With ss, the last
 * component may name a stream (file:stream[:$DATA]); without, a colon is
 * invalid. */
static uint32_t parse_name_stream(const uint8_t *name, size_t len, char **out,
                                  streamspec *ss) {
  *out = NULL;
  if (ss) memset(ss, 0, sizeof *ss);
  if (len % 2) return SMBX_STATUS_OBJECT_NAME_INVALID;
  size_t u8len = 0;
  int rc = smbx_utf16le_to_utf8(name, len, NULL, 0, &u8len);
  if (rc != 0 && rc != SMBX_ERR_NOBUF) return SMBX_STATUS_OBJECT_NAME_INVALID;
  char *s = malloc(u8len + 1);
  if (!s) return SMBX_STATUS_INSUFFICIENT_RESOURCES;
  if (u8len && smbx_utf16le_to_utf8(name, len, (uint8_t *)s, u8len,
                                    &u8len) != 0) {
    free(s);
    return SMBX_STATUS_OBJECT_NAME_INVALID;
  }
  s[u8len] = '\0';
  if (memchr(s, '\0', u8len)) goto bad;
  if (u8len && s[0] == '\\') goto bad; /* absolute */
  char *colon = ss ? strchr(s, ':') : NULL;
  if (colon) {
    /* a stream of the last component only: no '\' after the colon */
    if (strchr(colon, '\\')) goto bad;
    uint32_t st = parse_stream(colon + 1, ss);
    if (st != ST_OK) {
      free(s);
      return st;
    }
    *colon = '\0';
    u8len = (size_t)(colon - s);
  }
  if (u8len && s[u8len - 1] == '\\') s[--u8len] = '\0';
  /* components: no empty, no "..", drop "." */
  size_t w = 0;
  size_t i = 0;
  while (i < u8len) {
    size_t j = i;
    while (j < u8len && s[j] != '\\') j++;
    size_t cl = j - i;
    if (cl == 0) goto bad;
    if (cl == 2 && s[i] == '.' && s[i + 1] == '.') goto bad;
    if (!(cl == 1 && s[i] == '.')) {
      if (cl > 255) goto bad;
      for (size_t k = i; k < j; k++)
        if (bad_char((unsigned char)s[k])) goto bad;
      if (w) s[w++] = '/';
      memmove(s + w, s + i, cl);
      w += cl;
    }
    i = j + 1;
  }
  s[w] = '\0';
  *out = s;
  return ST_OK;
bad:
  free(s);
  if (ss) {
    free(ss->name);
    memset(ss, 0, sizeof *ss);
  }
  return SMBX_STATUS_OBJECT_NAME_INVALID;
}

static uint32_t parse_name(const uint8_t *name, size_t len, char **out) {
  return parse_name_stream(name, len, out, NULL);
}

static int utf8_to_16(const char *s, uint8_t **out, size_t *olen) {
  size_t n = 0;
  size_t sl = strlen(s);
  int rc = smbx_utf8_to_utf16le((const uint8_t *)s, sl, NULL, 0, &n);
  if (rc != 0 && rc != SMBX_ERR_NOBUF) return -1;
  uint8_t *b = malloc(n ? n : 1);
  if (!b) return -1;
  if (n && smbx_utf8_to_utf16le((const uint8_t *)s, sl, b, n, &n) != 0) {
    free(b);
    return -1;
  }
  *out = b;
  *olen = n;
  return 0;
}

/* '/' -> '\' copy, optionally with a leading '\'. */
static char *win_path(const char *p, int lead) {
  size_t l = strlen(p);
  char *d = malloc(l + 2);
  if (!d) return NULL;
  size_t k = 0;
  if (lead) d[k++] = '\\';
  for (size_t i = 0; i <= l; i++) d[k++] = p[i] == '/' ? '\\' : p[i];
  return d;
}

/* ------------------------------------------------------------------ */
/* resolution beneath the root */

static int open_beneath(posixfs *fs, const char *path, int flags) {
  if (!path[0]) return openat(fs->rootfd, ".", flags | O_CLOEXEC);
  if (fs->have_openat2) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long r = syscall(SYS_openat2, fs->rootfd, path, &how, sizeof how);
    if (r >= 0 || errno != ENOSYS) return (int)r;
    fs->have_openat2 = 0;
  }
  /* fallback: component-wise, never following a symlink */
  int dfd = fcntl(fs->rootfd, F_DUPFD_CLOEXEC, 0);
  if (dfd < 0) return -1;
  const char *p = path;
  for (;;) {
    const char *sl = strchr(p, '/');
    char comp[256];
    size_t cl = sl ? (size_t)(sl - p) : strlen(p);
    if (cl >= sizeof comp) {
      close(dfd);
      errno = ENAMETOOLONG;
      return -1;
    }
    memcpy(comp, p, cl);
    comp[cl] = '\0';
    int nfd = openat(dfd, comp,
                     sl ? (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                        : (flags | O_NOFOLLOW | O_CLOEXEC));
    int e = errno;
    close(dfd);
    if (nfd < 0) {
      errno = e;
      return -1;
    }
    if (!sl) return nfd;
    dfd = nfd;
    p = sl + 1;
  }
}

/* Split "a/b/c" into parent fd (O_PATH dir) and last component. */
static int open_parent(posixfs *fs, const char *path, const char **last) {
  const char *sl = strrchr(path, '/');
  if (!sl) {
    *last = path;
    return fcntl(fs->rootfd, F_DUPFD_CLOEXEC, 0);
  }
  *last = sl + 1;
  size_t pl = (size_t)(sl - path);
  char *par = malloc(pl + 1);
  if (!par) {
    errno = ENOMEM;
    return -1;
  }
  memcpy(par, path, pl);
  par[pl] = '\0';
  int fd = open_beneath(fs, par, O_PATH | O_DIRECTORY);
  int e = errno;
  free(par);
  errno = e;
  return fd;
}

/* The parent of a name CREATE would make (open_parent), or -1 with *st:
 * the parent is missing, the name is a dangling symlink (never created
 * through), or disp only opens what exists. */
static int create_parent(posixfs *fs, const char *path, uint32_t disp,
                         const char **last, uint32_t *st) {
  struct stat sb;
  int par = open_parent(fs, path, last);
  if (par < 0) {
    *st = errno == ENOENT || errno == ENOTDIR
              ? SMBX_STATUS_OBJECT_PATH_NOT_FOUND
              : errno_status(errno);
    return -1;
  }
  if (fstatat(par, *last, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
    close(par);
    *st = SMBX_STATUS_ACCESS_DENIED;
    return -1;
  }
  if (disp == POSIXFS_OPEN || disp == POSIXFS_OVERWRITE) {
    close(par);
    *st = SMBX_STATUS_OBJECT_NAME_NOT_FOUND;
    return -1;
  }
  return par;
}

/* ---- the name cache ----
 * The names of a directory a case-insensitive lookup missed in are read
 * once and then kept current from inotify events (a watch per directory
 * on an inotify fd of its own, drained before every use: the kernel
 * queues an event before the change's system call returns, so every
 * change completed before the lookup is applied). Creating N new names
 * in a directory thus costs one scan, not N. A queue overflow drops every
 * directory, a watch's end (directory deleted) its own; at most NC_DIRS
 * directories are kept, the least recently used goes. Without inotify
 * (or a watch) a miss scans, as before. */

static uint64_t fold_hash(const char *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) {
    unsigned c = (unsigned char)p[i];
    if (c >= 'A' && c <= 'Z') c += 32u;
    h = (h ^ c) * 0x100000001b3ull;
  }
  return h;
}

static void nc_drop(posixfs *fs, ncdir *d, int watch_gone) {
  if (!d->wd) return;
  if (!watch_gone) inotify_rm_watch(fs->ncfd, d->wd);
  for (size_t i = 0; i < d->nb; i++)
    for (ncname *e = d->b[i], *nx; e; e = nx) {
      nx = e->next;
      free(e);
    }
  free(d->b);
  memset(d, 0, sizeof *d);
}

static int nc_grow(ncdir *d) {
  size_t nb = d->nb ? d->nb * 2 : 64;
  ncname **b = calloc(nb, sizeof *b);
  if (!b) return -1;
  for (size_t i = 0; i < d->nb; i++)
    for (ncname *e = d->b[i], *nx; e; e = nx) {
      nx = e->next;
      ncname **h = &b[fold_hash(e->name, e->len) & (nb - 1)];
      e->next = *h;
      *h = e;
    }
  free(d->b);
  d->b = b;
  d->nb = nb;
  return 0;
}

/* The exact spelling joins the set (no-op when present); -1: no memory. */
static int nc_add(ncdir *d, const char *name, size_t len) {
  if (d->n >= d->nb && nc_grow(d) != 0) return -1;
  ncname **h = &d->b[fold_hash(name, len) & (d->nb - 1)];
  for (ncname *e = *h; e; e = e->next)
    if (e->len == len && !memcmp(e->name, name, len)) return 0;
  ncname *e = malloc(sizeof *e + len + 1);
  if (!e) return -1;
  e->len = len;
  memcpy(e->name, name, len);
  e->name[len] = '\0';
  e->next = *h;
  *h = e;
  d->n++;
  return 0;
}

static void nc_del(ncdir *d, const char *name, size_t len) {
  if (!d->nb) return;
  for (ncname **h = &d->b[fold_hash(name, len) & (d->nb - 1)]; *h;
       h = &(*h)->next)
    if ((*h)->len == len && !memcmp((*h)->name, name, len)) {
      ncname *e = *h;
      *h = e->next;
      free(e);
      d->n--;
      return;
    }
}

static ncdir *nc_by_wd(posixfs *fs, int wd) {
  for (int i = 0; i < NC_DIRS; i++)
    if (fs->nc[i].wd && fs->nc[i].wd == wd) return &fs->nc[i];
  return NULL;
}

/* Applies every queued change to the cached directories. */
static void nc_sync(posixfs *fs) {
  _Alignas(struct inotify_event) char buf[8192];
  for (;;) {
    ssize_t got = read(fs->ncfd, buf, sizeof buf);
    if (got <= 0) return; /* EAGAIN: all applied */
    for (size_t off = 0; off + sizeof(struct inotify_event) <= (size_t)got;) {
      const struct inotify_event *ev =
          (const struct inotify_event *)(const void *)(buf + off);
      off += sizeof *ev + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        for (int i = 0; i < NC_DIRS; i++) nc_drop(fs, &fs->nc[i], 0);
        continue;
      }
      ncdir *d = nc_by_wd(fs, ev->wd);
      if (!d) continue;
      if (ev->mask & IN_IGNORED) {
        nc_drop(fs, d, 1);
        continue;
      }
      size_t len = ev->len ? strnlen(ev->name, ev->len) : 0;
      if (!len) continue;
      if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
        if (nc_add(d, ev->name, len) != 0) nc_drop(fs, d, 0);
      } else if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
        nc_del(d, ev->name, len);
      }
    }
  }
}

/* Directory dfd's cached names, read now when not cached; NULL when it
 * cannot be cached (no inotify, no watch, no memory). */
static ncdir *nc_dir(posixfs *fs, int dfd) {
  struct stat sb;
  if (fs->ncfd < 0 || fstat(dfd, &sb) != 0) return NULL;
  nc_sync(fs);
  ncdir *d = NULL;
  for (int i = 0; i < NC_DIRS && !d; i++)
    if (fs->nc[i].wd && fs->nc[i].dev == sb.st_dev &&
        fs->nc[i].ino == sb.st_ino)
      d = &fs->nc[i];
  if (d) return d;
  d = &fs->nc[0];
  for (int i = 1; i < NC_DIRS && d->wd; i++)
    if (!fs->nc[i].wd || fs->nc[i].used < d->used) d = &fs->nc[i];
  nc_drop(fs, d, 0);
  /* the watch first: a change during the scan is queued and applied */
  char pp[64];
  proc_path(pp, sizeof pp, dfd);
  int wd = inotify_add_watch(fs->ncfd, pp,
                             IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                                 IN_MOVED_TO | IN_ONLYDIR);
  if (wd <= 0) return NULL;
  d->wd = wd;
  d->dev = sb.st_dev;
  d->ino = sb.st_ino;
  int sfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = sfd >= 0 ? fdopendir(sfd) : NULL;
  if (!dir) {
    if (sfd >= 0) close(sfd);
    nc_drop(fs, d, 0);
    return NULL;
  }
  int ok = nc_grow(d) == 0;
  struct dirent *de;
  while (ok && (de = readdir(dir)) != NULL)
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
      ok = nc_add(d, de->d_name, strlen(de->d_name)) == 0;
  closedir(dir);
  if (!ok) {
    nc_drop(fs, d, 0);
    return NULL;
  }
  nc_sync(fs);
  return d->wd ? d : NULL; /* the directory may have gone meanwhile */
}

/* Spells name (len bytes) as an entry of directory dfd that matches it
 * ignoring ASCII case, in place. Returns whether one exists. */
static int icase_match(posixfs *fs, int dfd, char *name, size_t len) {
  ncdir *d = nc_dir(fs, dfd);
  if (d) {
    d->used = ++fs->nc_clock;
    for (const ncname *e = d->b[fold_hash(name, len) & (d->nb - 1)]; e;
         e = e->next)
      if (e->len == len && !strncasecmp(e->name, name, len)) {
        memcpy(name, e->name, len);
        return 1;
      }
    return 0;
  }
  int sfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir = sfd >= 0 ? fdopendir(sfd) : NULL;
  if (!dir && sfd >= 0) close(sfd);
  struct dirent *de;
  int found = 0;
  while (dir && !found && (de = readdir(dir)) != NULL)
    if (strlen(de->d_name) == len && !strncasecmp(de->d_name, name, len)) {
      memcpy(name, de->d_name, len);
      found = 1;
    }
  if (dir) closedir(dir);
  return found;
}

/* Names match ignoring ASCII case, as on Windows: a component of path
 * that does not exist as spelled but exists in another case in its
 * directory takes the on-disk spelling, in place (ASCII case folding keeps
 * the length). An exact spelling always wins; among other matches any
 * one. Stops at the first component found in no case (the rest, e.g. a
 * name being created, stays as given). A missing name costs a probe of
 * its directory's cached names (icase_match). */
static void icase_fix(posixfs *fs, char *path) {
  if (!path[0]) return;
  int fd = open_beneath(fs, path, O_PATH);
  if (fd >= 0 || errno != ENOENT) {
    if (fd >= 0) close(fd);
    return;
  }
  size_t len = strlen(path);
  for (size_t i = 0; i < len;) {
    size_t j = i;
    while (j < len && path[j] != '/') j++;
    path[j] = '\0';
    fd = open_beneath(fs, path, O_PATH);
    int missing = fd < 0 && errno == ENOENT;
    if (fd >= 0) close(fd);
    int found = !missing;
    if (missing) {
      if (i) path[i - 1] = '\0';
      int dfd = open_beneath(fs, i ? path : "", O_RDONLY | O_DIRECTORY);
      if (i) path[i - 1] = '/';
      if (dfd >= 0) {
        found = icase_match(fs, dfd, path + i, j - i);
        close(dfd);
      }
    }
    if (j < len) path[j] = '/';
    if (!found) return;
    i = j + 1;
  }
}

/* ------------------------------------------------------------------ */
/* handles and nodes */
/* ------------------------------------------------------------------ */
/* handles and nodes */

static open_s *lookup(posixfs *fs, smbx_smb2_fileid fid) {
  uint64_t v = fid.volatile_id;
  if (fid.persistent_id != v) return NULL;
  uint64_t idx = (v & 0xFFFFFFFFu);
  if (idx == 0 || idx > fs->nslots) return NULL;
  open_s *o = fs->slots[idx - 1];
  if (!o || o->gen != (uint32_t)(v >> 32)) return NULL;
  return o;
}

static node *node_get(posixfs *fs, const struct stat *st, const char *path) {
  for (node *n = fs->nodes; n; n = n->next)
    if (!n->base && n->dev == st->st_dev && n->ino == st->st_ino) return n;
  node *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->path = xstrdup(path);
  if (!n->path) {
    free(n);
    return NULL;
  }
  n->dev = st->st_dev;
  n->ino = st->st_ino;
  n->is_dir = S_ISDIR(st->st_mode);
  n->next = fs->nodes;
  fs->nodes = n;
  return n;
}

static node *node_find(posixfs *fs, dev_t dev, ino_t ino) {
  for (node *n = fs->nodes; n; n = n->next)
    if (!n->base && n->dev == dev && n->ino == ino) return n;
  return NULL;
}

/* The node of a stream (name as stored) of the file node base, made
 * when absent (it then holds a reference on base). */
static node *stream_node_find(posixfs *fs, const node *base,
                              const char *name) {
  for (node *n = fs->nodes; n; n = n->next)
    if (n->base == base && !strcasecmp(n->stream, name)) return n;
  return NULL;
}

static node *stream_node_get(posixfs *fs, node *base, const char *name) {
  node *n = stream_node_find(fs, base, name);
  if (n) return n;
  n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->stream = xstrdup(name);
  if (!n->stream) {
    free(n);
    return NULL;
  }
  n->dev = base->dev;
  n->ino = base->ino;
  n->base = base;
  base->streams++;
  n->next = fs->nodes;
  fs->nodes = n;
  return n;
}

static void node_put(posixfs *fs, node *n) {
  if (n->opens || n->streams) return;
  for (node **pp = &fs->nodes; *pp; pp = &(*pp)->next)
    if (*pp == n) {
      *pp = n->next;
      break;
    }
  node *base = n->base;
  free(n->path);
  free(n->stream);
  free(n->locks);
  free(n);
  if (base) {
    base->streams--;
    node_put(fs, base);
  }
}

#define ATTR_XATTR "user.smbx.dosattr"
/* attributes kept in ATTR_XATTR; READONLY is the owner write bit and
 * DIRECTORY the file type */
#define ATTR_KEPT                                                       \
  (POSIXFS_ATTR_HIDDEN | POSIXFS_ATTR_SYSTEM | POSIXFS_ATTR_ARCHIVE |   \
   POSIXFS_ATTR_NOT_CONTENT_INDEXED)

/* The attributes stored for fd (name NULL) or for name in directory fd;
 * -1 when none are. */
/* The value of xattr x (at most cap bytes) of fd or of name in directory
 * fd; -1 when absent. */
static ssize_t stored_xattr(int fd, const char *name, const char *x,
                            uint8_t *b, size_t cap) {
  char pp[4200];
  if (name) {
    snprintf(pp, sizeof pp, "/proc/self/fd/%d/%s", fd, name);
    return lgetxattr(pp, x, b, cap);
  }
  proc_path(pp, sizeof pp, fd);
  return getxattr(pp, x, b, cap);
}

static int64_t stored_attrs(int fd, const char *name) {
  uint8_t b[4];
  ssize_t r = stored_xattr(fd, name, ATTR_XATTR, b, sizeof b);
  return r == 4 ? (int64_t)(get32(b) & ATTR_KEPT) : -1;
}

/* CreationTime set through FileBasicInformation (no file system here lets
 * the birth time be set) */
#define BTIME_XATTR "user.smbx.btime"

/* Sizes, times and attributes of st; the file's stored attributes are
 * read through fd/name as for stored_attrs(). */
static void attrs_of(const struct stat *st, int fd, const char *name,
                     smbx_smb2_file_network_open_info *i) {
  memset(i, 0, sizeof *i);
  /* the birth time where the file system keeps one (statx), else the
   * earlier of mtime and ctime */
  struct timespec c = st->st_mtim;
  if (st->st_ctim.tv_sec < c.tv_sec) c = st->st_ctim;
  struct statx sx;
  uint8_t bt[8];
  if (stored_xattr(fd, name, BTIME_XATTR, bt, sizeof bt) == 8) {
    i->creation_time = get64(bt);
  } else {
    if (statx(fd, name ? name : "",
              name ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH, STATX_BTIME,
              &sx) == 0 &&
        (sx.stx_mask & STATX_BTIME)) {
      c.tv_sec = (time_t)sx.stx_btime.tv_sec;
      c.tv_nsec = (long)sx.stx_btime.tv_nsec;
    }
    i->creation_time = filetime(c);
  }
  i->last_access_time = filetime(st->st_atim);
  i->last_write_time = filetime(st->st_mtim);
  i->change_time = filetime(st->st_ctim);
  if (S_ISDIR(st->st_mode)) {
    i->file_attributes = POSIXFS_ATTR_DIRECTORY;
  } else {
    i->end_of_file = (uint64_t)st->st_size;
    i->allocation_size = (uint64_t)st->st_blocks * 512u;
  }
  int64_t kept = stored_attrs(fd, name);
  if (kept >= 0)
    i->file_attributes |= (uint32_t)kept;
  else if (!S_ISDIR(st->st_mode))
    i->file_attributes = POSIXFS_ATTR_ARCHIVE;
  if (!(st->st_mode & S_IWUSR)) i->file_attributes |= POSIXFS_ATTR_READONLY;
  if (!i->file_attributes) i->file_attributes = POSIXFS_ATTR_NORMAL;
}

/* A new object keeps the HIDDEN/SYSTEM/ARCHIVE/NOT_CONTENT_INDEXED bits of
 * its CREATE's FileAttributes; a file gains ARCHIVE (MS-FSA 2.1.5.1.1).
 * Without any, the defaults of attrs_of() hold. Best effort. */
static void keep_create_attrs(int pfd, uint32_t attrs, int is_dir) {
  uint32_t kept = attrs & ATTR_KEPT;
  if (!kept) return;
  if (!is_dir) kept |= POSIXFS_ATTR_ARCHIVE;
  char pp[64];
  uint8_t b[4];
  proc_path(pp, sizeof pp, pfd);
  put32(b, kept);
  (void)setxattr(pp, ATTR_XATTR, b, sizeof b, 0);
}

static uint32_t map_generic(uint32_t a) {
  if (a & POSIXFS_GENERIC_READ) a |= 0x00120089u;
  if (a & POSIXFS_GENERIC_WRITE) a |= 0x00120116u;
  if (a & POSIXFS_GENERIC_EXECUTE) a |= 0x001200A0u;
  if (a & POSIXFS_GENERIC_ALL) a |= POSIXFS_FILE_ALL_ACCESS;
  return a & ~(POSIXFS_GENERIC_READ | POSIXFS_GENERIC_WRITE |
               POSIXFS_GENERIC_EXECUTE | POSIXFS_GENERIC_ALL);
}

static uint32_t maximal_of(int pfd) {
  char pp[64];
  proc_path(pp, sizeof pp, pfd);
  uint32_t m = POSIXFS_FILE_ALL_ACCESS;
  if (faccessat(AT_FDCWD, pp, W_OK, AT_EACCESS) != 0) m &= ~WRITE_BITS;
  if (faccessat(AT_FDCWD, pp, R_OK, AT_EACCESS) != 0)
    m &= ~(POSIXFS_READ_DATA | POSIXFS_EXECUTE | POSIXFS_READ_EA);
  return m;
}

/* MS-FSA 2.1.5.1.2 share-access check against every open of the file. */
static int share_conflict(posixfs *fs, const node *n, uint32_t acc,
                          uint32_t share) {
  if (!(acc & DATA_ACCESS)) return 0;
  for (size_t i = 0; i < fs->nslots; i++) {
    const open_s *o = fs->slots[i];
    if (!o || o->n != n || !(o->access & DATA_ACCESS)) continue;
    if ((acc & (POSIXFS_READ_DATA | POSIXFS_EXECUTE)) &&
        !(o->share & POSIXFS_SHARE_READ))
      return 1;
    if ((acc & (POSIXFS_WRITE_DATA | POSIXFS_APPEND_DATA)) &&
        !(o->share & POSIXFS_SHARE_WRITE))
      return 1;
    if ((acc & POSIXFS_DELETE) && !(o->share & POSIXFS_SHARE_DELETE))
      return 1;
    if ((o->access & (POSIXFS_READ_DATA | POSIXFS_EXECUTE)) &&
        !(share & POSIXFS_SHARE_READ))
      return 1;
    if ((o->access & (POSIXFS_WRITE_DATA | POSIXFS_APPEND_DATA)) &&
        !(share & POSIXFS_SHARE_WRITE))
      return 1;
    if ((o->access & POSIXFS_DELETE) && !(share & POSIXFS_SHARE_DELETE))
      return 1;
  }
  /* DELETE of a file needs every open of its streams to share delete
   * (Windows; smbtorture smb2.streams.delete), not the other way round */
  if (!n->base && (acc & POSIXFS_DELETE))
    for (size_t i = 0; i < fs->nslots; i++) {
      const open_s *o = fs->slots[i];
      if (o && o->n->base == n && (o->access & DATA_ACCESS) &&
          !(o->share & POSIXFS_SHARE_DELETE))
        return 1;
    }
  return 0;
}

static int slot_add(posixfs *fs, open_s *o, smbx_smb2_fileid *fid) {
  size_t i;
  for (i = 0; i < fs->nslots; i++)
    if (!fs->slots[i]) break;
  if (i == fs->nslots) {
    if (fs->nslots >= 0xFFFFFFFEu) return -1;
    size_t nn = fs->nslots ? fs->nslots * 2 : 16;
    open_s **ns = realloc(fs->slots, nn * sizeof *ns);
    if (!ns) return -1;
    for (size_t k = fs->nslots; k < nn; k++) ns[k] = NULL;
    fs->slots = ns;
    fs->nslots = nn;
  }
  fs->slots[i] = o;
  fs->nopen++;
  o->gen = ++fs->gen;
  if (o->gen == 0) o->gen = ++fs->gen;
  uint64_t v = (uint64_t)o->gen << 32 | (uint64_t)(i + 1);
  fid->persistent_id = v;
  fid->volatile_id = v;
  return 0;
}

/* ------------------------------------------------------------------ */
/* posixfs_new / free */

int posixfs_new(const char *root, posixfs **out) {
  if (!root || !out) return -EINVAL;
  posixfs *fs = calloc(1, sizeof *fs);
  if (!fs) return -ENOMEM;
  fs->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fs->rootfd < 0) {
    int e = errno;
    free(fs);
    return -e;
  }
  fs->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fs->inofd < 0) {
    int e = errno;
    close(fs->rootfd);
    free(fs);
    return -e;
  }
  /* the name cache is an optimisation: without it a miss scans */
  fs->ncfd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  fs->have_openat2 = 1;
  *out = fs;
  return 0;
}

void posixfs_free(posixfs *fs) {
  if (!fs) return;
  for (size_t i = 0; i < fs->nslots; i++) {
    open_s *o = fs->slots[i];
    if (!o) continue;
    smbx_smb2_fileid fid;
    uint64_t v = (uint64_t)o->gen << 32 | (uint64_t)(i + 1);
    fid.persistent_id = v;
    fid.volatile_id = v;
    posixfs_close(fs, fid, NULL);
  }
  free(fs->slots);
  free(fs->w);
  for (int i = 0; i < NC_DIRS; i++) nc_drop(fs, &fs->nc[i], 0);
  if (fs->ncfd >= 0) close(fs->ncfd);
  close(fs->inofd);
  close(fs->rootfd);
  free(fs);
}

void posixfs_set_resolve_fallback(posixfs *fs, int on) {
  if (fs) fs->have_openat2 = !on;
}

size_t posixfs_open_count(const posixfs *fs) { return fs ? fs->nopen : 0; }
uint64_t posixfs_lock_epoch(const posixfs *fs) { return fs->lock_epoch; }
int posixfs_notify_fd(const posixfs *fs) { return fs->inofd; }

/* ------------------------------------------------------------------ */
/* CREATE */

static void open_free(open_s *o) {
  if (o->pfd >= 0) close(o->pfd);
  if (o->fd >= 0) close(o->fd);
  for (size_t i = 0; i < o->nnames; i++) free(o->names[i]);
  free(o->names);
  free(o->pattern);
  for (size_t i = 0; i < o->nq; i++) free(o->q[i].name);
  free(o->q);
  free(o);
}

static void key_of(int fd, posixfs_key *k) {
  struct stat sb;
  memset(k, 0, sizeof *k);
  if (fd >= 0 && fstat(fd, &sb) == 0) {
    k->dev = (uint64_t)sb.st_dev;
    k->ino = (uint64_t)sb.st_ino;
    k->valid = 1;
    k->is_dir = S_ISDIR(sb.st_mode) ? 1 : 0;
  }
}

static int stream_lookup(const char *pp, const char *name, char *found);

/* FNV-1a over the ASCII-lowercased name (stream names ignore case), top
 * bit set so no stream has the file's key 0. */
static uint64_t stream_key(const char *name) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    unsigned c = *p >= 'A' && *p <= 'Z' ? *p + 32u : *p;
    h = (h ^ c) * 0x100000001b3ull;
  }
  return h | 1ull << 63;
}

uint32_t posixfs_lookup(posixfs *fs, const uint8_t *name, size_t name_len,
                        posixfs_key *obj, posixfs_key *parent) {
  if (!fs || !obj || !parent) return SMBX_STATUS_INVALID_PARAMETER;
  memset(obj, 0, sizeof *obj);
  memset(parent, 0, sizeof *parent);
  char *path = NULL;
  streamspec ss;
  uint32_t st = parse_name_stream(name, name_len, &path, &ss);
  if (st != ST_OK) return st;
  icase_fix(fs, path);
  int fd = open_beneath(fs, path, O_PATH);
  key_of(fd, obj);
  if (ss.name && obj->valid) {
    char pp[64], found[STREAM_NAME_MAX + 1];
    proc_path(pp, sizeof pp, fd);
    if (stream_lookup(pp, ss.name, found) == 1) {
      obj->stream = stream_key(found);
      obj->is_dir = 0;
    } else {
      memset(obj, 0, sizeof *obj);
    }
  }
  free(ss.name);
  if (fd >= 0) close(fd);
  if (path[0]) {
    const char *last;
    int par = open_parent(fs, path, &last);
    key_of(par, parent);
    if (par >= 0) close(par);
  }
  free(path);
  return obj->valid ? SMBX_STATUS_SUCCESS : SMBX_STATUS_OBJECT_NAME_NOT_FOUND;
}

/* ------------------------------------------------------------------ */
/* extended attributes: user.smbx.ea.<NAME> xattrs */

#define EA_PREFIX "user.smbx.ea."
#define EA_MAX 65536u

/* Walks a FILE_FULL_EA_INFORMATION list (MS-FSCC 2.4.15): NUL-terminated
 * ASCII names, 4-aligned NextEntryOffset inside the list. With pp set,
 * stores each EA (names upper-cased, as Windows keeps them; an empty
 * value removes it). 0, or -1 when the list is malformed or a store
 * fails. */
static int ea_list_apply(const uint8_t *p, size_t len, const char *pp) {
  size_t off = 0;
  for (;;) {
    if (len - off < 9) return -1;
    uint32_t next = get32(p + off);
    size_t nl = p[off + 5];
    size_t vl = p[off + 6] | (size_t)p[off + 7] << 8;
    size_t size = 8 + nl + 1 + vl;
    if (nl == 0 || size > len - off || p[off + 8 + nl] != 0) return -1;
    char xn[sizeof EA_PREFIX + 256];
    memcpy(xn, EA_PREFIX, sizeof EA_PREFIX - 1);
    for (size_t i = 0; i < nl; i++) {
      uint8_t c = p[off + 8 + i];
      if (c < 0x20 || c > 0x7E) return -1;
      xn[sizeof EA_PREFIX - 1 + i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    xn[sizeof EA_PREFIX - 1 + nl] = '\0';
    if (pp) {
      const uint8_t *v = p + off + 8 + nl + 1;
      if (vl ? setxattr(pp, xn, v, vl, 0) != 0
             : removexattr(pp, xn) != 0 && errno != ENODATA)
        return -1;
    }
    if (next == 0) return 0;
    if (next % 4 || next < size || next > len - off) return -1;
    off += next;
  }
}

/* The file's EAs as a FILE_FULL_EA_INFORMATION list into out (when it all
 * fits cap; entries 4-aligned); *need = the list's size, 0 without EAs. */
static uint32_t ea_list_build(open_s *o, uint8_t *out, size_t cap,
                              size_t *need) {
  *need = 0;
  char pp[64];
  proc_path(pp, sizeof pp, o->pfd);
  char *names = malloc(EA_MAX);
  uint8_t *val = malloc(EA_MAX);
  uint32_t st = ST_OK;
  ssize_t nn = names && val ? listxattr(pp, names, EA_MAX) : -1;
  if (nn < 0) {
    st = names && val && (errno == ENOTSUP || errno == ENODATA)
             ? ST_OK
             : SMBX_STATUS_INSUFFICIENT_RESOURCES;
    nn = 0;
  }
  size_t at = 0, last = 0;
  int any = 0;
  for (ssize_t i = 0; i < nn; i += (ssize_t)strlen(names + i) + 1) {
    const char *x = names + i;
    if (strncmp(x, EA_PREFIX, sizeof EA_PREFIX - 1)) continue;
    const char *nm = x + sizeof EA_PREFIX - 1;
    size_t nl = strlen(nm);
    ssize_t vl = getxattr(pp, x, val, EA_MAX);
    if (vl < 0 || nl == 0 || nl > 255 || vl > 0xFFFF) continue;
    size_t start = any ? (at + 3u) & ~(size_t)3u : 0;
    size_t size = 8 + nl + 1 + (size_t)vl;
    if (start + size <= cap) {
      if (any) {
        memset(out + at, 0, start - at);
        put32(out + last, (uint32_t)(start - last));
      }
      put32(out + start, 0);
      out[start + 4] = 0;
      out[start + 5] = (uint8_t)nl;
      put16(out + start + 6, (uint32_t)vl);
      memcpy(out + start + 8, nm, nl + 1);
      memcpy(out + start + 8 + nl + 1, val, (size_t)vl);
    }
    last = start;
    at = start + size;
    any = 1;
  }
  *need = at;
  free(names);
  free(val);
  return st;
}

/* ------------------------------------------------------------------ */
/* named streams: user.smbx.stream.<NAME> xattrs of the file */

#define STREAM_SIZE_MAX 65536u /* XATTR_SIZE_MAX */

static void stream_xname(char *x, const char *name) {
  snprintf(x, sizeof STREAM_XATTR + STREAM_NAME_MAX, "%s%s", STREAM_XATTR,
           name);
}

/* The file's xattr names (NUL-separated) into a malloc'd buffer;
 * *n = their length (0 when the file system keeps none). NULL on
 * failure. */
static char *xattr_names(const char *pp, ssize_t *n) {
  char *names = malloc(EA_MAX);
  if (!names) return NULL;
  *n = listxattr(pp, names, EA_MAX);
  if (*n < 0) {
    if (errno != ENOTSUP && errno != ENODATA) {
      free(names);
      return NULL;
    }
    *n = 0;
  }
  return names;
}

/* Looks up a stream by name, ignoring ASCII case as NTFS does: 1 and the
 * stored name in found (STREAM_NAME_MAX + 1 bytes), 0 absent, -1 error. */
static int stream_lookup(const char *pp, const char *name, char *found) {
  ssize_t nn;
  char *names = xattr_names(pp, &nn);
  if (!names) return -1;
  int hit = 0;
  for (ssize_t i = 0; i < nn && !hit; i += (ssize_t)strlen(names + i) + 1) {
    const char *x = names + i;
    if (strncmp(x, STREAM_XATTR, sizeof STREAM_XATTR - 1)) continue;
    const char *nm = x + sizeof STREAM_XATTR - 1;
    if (strcasecmp(nm, name)) continue;
    snprintf(found, STREAM_NAME_MAX + 1, "%s", nm);
    hit = 1;
  }
  free(names);
  return hit;
}

/* The stream's size, or -1 (errno) when it cannot be read. */
static ssize_t stream_size(const char *pp, const char *name) {
  char x[sizeof STREAM_XATTR + STREAM_NAME_MAX];
  stream_xname(x, name);
  return getxattr(pp, x, NULL, 0);
}

static uint32_t stream_store(const char *pp, const char *name,
                             const uint8_t *v, size_t len, int flags) {
  char x[sizeof STREAM_XATTR + STREAM_NAME_MAX];
  stream_xname(x, name);
  if (setxattr(pp, x, v, len, flags) == 0) return ST_OK;
  /* the file system's per-inode xattr space is the stream's limit */
  if (errno == E2BIG || errno == ENOSPC) return SMBX_STATUS_DISK_FULL;
  if (errno == ENOTSUP) return SMBX_STATUS_NOT_SUPPORTED;
  return errno_status(errno);
}

/* The stream's value into a malloc'd buffer of at least `want` bytes
 * (zero-filled past the value). */
static uint8_t *stream_load(const char *pp, const char *name, size_t want,
                            size_t *len, uint32_t *st) {
  char x[sizeof STREAM_XATTR + STREAM_NAME_MAX];
  stream_xname(x, name);
  uint8_t *v = NULL;
  for (int tries = 0; tries < 4; tries++) { /* the value may grow between */
    ssize_t n = getxattr(pp, x, NULL, 0);
    if (n < 0) break;
    size_t cap = (size_t)n > want ? (size_t)n : want;
    v = calloc(1, cap ? cap : 1);
    if (!v) {
      *st = SMBX_STATUS_INSUFFICIENT_RESOURCES;
      return NULL;
    }
    ssize_t r = n ? getxattr(pp, x, v, (size_t)n) : 0;
    if (r >= 0) {
      *len = (size_t)r;
      return v;
    }
    free(v);
    v = NULL;
    if (errno != ERANGE) break;
  }
  *st = errno == ENODATA ? POSIXFS_STATUS_FILE_DELETED : errno_status(errno);
  return NULL;
}

static uint64_t stream_alloc(uint64_t size) { return (size + 4095u) & ~4095ull; }

/* Removes every named stream of the file (overwrite/supersede of it). */
static void stream_remove_all(const char *pp) {
  ssize_t nn;
  char *names = xattr_names(pp, &nn);
  if (!names) return;
  for (ssize_t i = 0; i < nn; i += (ssize_t)strlen(names + i) + 1)
    if (!strncmp(names + i, STREAM_XATTR, sizeof STREAM_XATTR - 1))
      (void)removexattr(pp, names + i);
  free(names);
}

/* FILE_STREAM_INFORMATION (MS-FSCC 2.4.44): "::$DATA" for a file, then
 * ":NAME:$DATA" per named stream, entries 8-aligned, into a malloc'd
 * buffer. */
static uint32_t stream_info_build(const char *pp, int is_dir, uint64_t eof,
                                  uint64_t alloc, uint8_t **out,
                                  size_t *len) {
  ssize_t nn;
  char *names = xattr_names(pp, &nn);
  if (!names) return SMBX_STATUS_INSUFFICIENT_RESOURCES;
  size_t cap = 64, at = 0, last = 0;
  int any = 0;
  uint8_t *b = malloc(cap);
  uint32_t st = b ? ST_OK : SMBX_STATUS_INSUFFICIENT_RESOURCES;
  for (ssize_t i = is_dir ? 0 : -1; st == ST_OK && i < nn;
       i += i < 0 ? 1 : (ssize_t)strlen(names + i) + 1) {
    char sn[STREAM_NAME_MAX + 8];
    uint64_t size = eof, asz = alloc;
    if (i >= 0) {
      const char *x = names + i;
      if (strncmp(x, STREAM_XATTR, sizeof STREAM_XATTR - 1)) continue;
      ssize_t vl = getxattr(pp, x, NULL, 0);
      if (vl < 0) continue;
      snprintf(sn, sizeof sn, ":%s:$DATA", x + sizeof STREAM_XATTR - 1);
      size = (uint64_t)vl;
      asz = stream_alloc(size);
    } else {
      snprintf(sn, sizeof sn, "::$DATA");
    }
    uint8_t *u16 = NULL;
    size_t ul = 0;
    if (utf8_to_16(sn, &u16, &ul) != 0)
      continue; /* set from outside, not UTF-8: not a name to list */
    size_t start = any ? (at + 7u) & ~(size_t)7u : 0;
    if (start + 24 + ul > cap) {
      size_t nc = (start + 24 + ul) * 2;
      uint8_t *nb = realloc(b, nc);
      if (!nb) {
        free(u16);
        st = SMBX_STATUS_INSUFFICIENT_RESOURCES;
        break;
      }
      b = nb;
      cap = nc;
    }
    if (any) {
      memset(b + at, 0, start - at);
      put32(b + last, (uint32_t)(start - last));
    }
    put32(b + start, 0);
    put32(b + start + 4, (uint32_t)ul);
    put64(b + start + 8, size);
    put64(b + start + 16, asz);
    memcpy(b + start + 24, u16, ul);
    free(u16);
    last = start;
    at = start + 24 + ul;
    any = 1;
  }
  free(names);
  if (st != ST_OK) {
    free(b);
    return st;
  }
  *out = b;
  *len = at;
  return ST_OK;
}

static int remove_path(posixfs *fs, const char *path, int is_dir);

/* CREATE of file:stream (MS-FSA 2.1.5.1): the file is made first when the
 * disposition allows; the stream is an xattr of it. */
static uint32_t create_stream(posixfs *fs, const posixfs_create_args *a,
                              const char *path, const char *sname,
                              uint32_t acc, uint32_t share,
                              posixfs_create_result *r) {
  uint32_t disp = a->create_disposition;
  int doc = (a->create_options & POSIXFS_DELETE_ON_CLOSE) != 0;
  int base_created = 0;
  uint32_t st;
  struct stat sb;
  char pp[64];
  char found[STREAM_NAME_MAX + 1];
  open_s *o = calloc(1, sizeof *o);
  if (!o) return SMBX_STATUS_INSUFFICIENT_RESOURCES;
  o->fd = -1;
  o->pfd = open_beneath(fs, path, O_PATH);
  if (o->pfd < 0) {
    int e = errno;
    if (e != ENOENT) {
      st = e == ENOTDIR ? SMBX_STATUS_OBJECT_PATH_NOT_FOUND : errno_status(e);
      goto fail;
    }
    const char *last;
    int par = create_parent(fs, path, disp, &last, &st);
    if (par < 0)
      goto fail;
    mode_t mode = (a->file_attributes & POSIXFS_ATTR_READONLY) ? 0444 : 0666;
    int fd = openat(par, last,
                    O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd >= 0) {
      close(fd);
      o->pfd = openat(par, last, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }
    st = o->pfd < 0 ? errno_status(errno) : ST_OK;
    if (st != ST_OK) {
      close(par);
      goto fail;
    }
    close(par);
    base_created = 1;
    keep_create_attrs(o->pfd, a->file_attributes, 0);
  }
  if (fstat(o->pfd, &sb) != 0) {
    st = errno_status(errno);
    goto fail;
  }
  if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode)) {
    st = SMBX_STATUS_ACCESS_DENIED;
    goto fail;
  }
  proc_path(pp, sizeof pp, o->pfd);
  node *base = node_find(fs, sb.st_dev, sb.st_ino);
  if (base && base->delete_pending) {
    st = SMBX_STATUS_DELETE_PENDING;
    goto fail;
  }
  uint32_t maxacc = base_created ? POSIXFS_FILE_ALL_ACCESS : maximal_of(o->pfd);
  r->maximal_access = maxacc;
  if (acc & POSIXFS_MAXIMUM_ALLOWED) acc |= maxacc;
  acc &= ~POSIXFS_MAXIMUM_ALLOWED;
  int overwrite = disp == POSIXFS_SUPERSEDE || disp == POSIXFS_OVERWRITE ||
                  disp == POSIXFS_OVERWRITE_IF;
  int exists = base_created ? 0 : stream_lookup(pp, sname, found);
  if (exists < 0) {
    st = SMBX_STATUS_INSUFFICIENT_RESOURCES;
    goto fail;
  }
  if (exists && disp == POSIXFS_CREATE) {
    st = SMBX_STATUS_OBJECT_NAME_COLLISION;
    goto fail;
  }
  if (!exists && (disp == POSIXFS_OPEN || disp == POSIXFS_OVERWRITE)) {
    st = SMBX_STATUS_OBJECT_NAME_NOT_FOUND;
    goto fail;
  }
  /* a new or overwritten stream is a write of the file */
  if ((acc & ~maxacc & (POSIXFS_READ_DATA | POSIXFS_WRITE_DATA |
                        POSIXFS_APPEND_DATA)) ||
      ((!exists || overwrite) && !(maxacc & POSIXFS_WRITE_DATA))) {
    st = SMBX_STATUS_ACCESS_DENIED;
    goto fail;
  }
  if (doc && !(sb.st_mode & S_IWUSR)) {
    st = POSIXFS_STATUS_CANNOT_DELETE;
    goto fail;
  }
  node *sn = exists && base ? stream_node_find(fs, base, found) : NULL;
  if (sn && sn->delete_pending) {
    st = SMBX_STATUS_DELETE_PENDING;
    goto fail;
  }
  if (sn && share_conflict(fs, sn, acc, share)) {
    st = SMBX_STATUS_SHARING_VIOLATION;
    goto fail;
  }
  uint32_t action = POSIXFS_ACTION_OPENED;
  st = ST_OK;
  if (!exists) {
    snprintf(found, sizeof found, "%s", sname);
    st = stream_store(pp, found, NULL, 0, XATTR_CREATE);
    action = POSIXFS_ACTION_CREATED;
  } else if (overwrite) {
    st = stream_store(pp, found, NULL, 0, XATTR_REPLACE);
    action = disp == POSIXFS_SUPERSEDE ? POSIXFS_ACTION_SUPERSEDED
                                       : POSIXFS_ACTION_OVERWRITTEN;
  }
  if (st != ST_OK) goto fail;
  node *bn = base ? base : node_get(fs, &sb, path);
  sn = bn ? stream_node_get(fs, bn, found) : NULL;
  if (!sn) {
    if (bn) node_put(fs, bn);
    st = SMBX_STATUS_INSUFFICIENT_RESOURCES;
    goto fail;
  }
  o->n = sn;
  o->access = acc;
  o->share = share;
  o->options = a->create_options;
  o->doc = doc;
  if (slot_add(fs, o, &r->file_id) != 0) {
    node_put(fs, sn);
    st = SMBX_STATUS_INSUFFICIENT_RESOURCES;
    goto fail_created;
  }
  sn->opens++;
  ssize_t size = stream_size(pp, found);
  r->create_action = action;
  r->granted_access = acc;
  attrs_of(&sb, o->pfd, NULL, &r->info);
  r->info.end_of_file = size > 0 ? (uint64_t)size : 0;
  r->info.allocation_size = stream_alloc(r->info.end_of_file);
  r->disk_file_id = (uint64_t)sb.st_ino;
  r->volume_id = (uint64_t)sb.st_dev;
  return ST_OK;
fail_created:
  if (action == POSIXFS_ACTION_CREATED) {
    char x[sizeof STREAM_XATTR + STREAM_NAME_MAX];
    stream_xname(x, found);
    (void)removexattr(pp, x);
  }
fail:
  if (base_created) (void)remove_path(fs, path, 0);
  open_free(o);
  return st;
}

uint32_t posixfs_create(posixfs *fs, const posixfs_create_args *a,
                        posixfs_create_result *r) {
  if (!fs || !a || !r) return SMBX_STATUS_INVALID_PARAMETER;
  memset(r, 0, sizeof *r);
  uint32_t disp = a->create_disposition, opt = a->create_options;
  if (disp > POSIXFS_OVERWRITE_IF) return SMBX_STATUS_INVALID_PARAMETER;
  int want_dir = (opt & POSIXFS_DIRECTORY_FILE) != 0;
  int want_file = (opt & POSIXFS_NON_DIRECTORY_FILE) != 0;
  if (want_dir && want_file) return SMBX_STATUS_INVALID_PARAMETER;
  if (want_dir && disp != POSIXFS_CREATE && disp != POSIXFS_OPEN &&
      disp != POSIXFS_OPEN_IF)
    return SMBX_STATUS_INVALID_PARAMETER;
  uint32_t acc = map_generic(a->desired_access);
  int doc = (opt & POSIXFS_DELETE_ON_CLOSE) != 0;
  if (doc && !(acc & (POSIXFS_DELETE | POSIXFS_MAXIMUM_ALLOWED)))
    return SMBX_STATUS_ACCESS_DENIED;
  uint32_t share = a->share_access & 7u;
  if (doc && a->name_len == 0) return SMBX_STATUS_ACCESS_DENIED; /* root */
  if (a->eas_len && ea_list_apply(a->eas, a->eas_len, NULL) != 0)
    return SMBX_STATUS_INVALID_PARAMETER;

  char *path = NULL;
  streamspec ss;
  uint32_t st = parse_name_stream(a->name, a->name_len, &path, &ss);
  if (st != ST_OK) return st;
  icase_fix(fs, path);
  /* a stream is never a directory; "dir::$DATA" names the data stream a
   * directory does not have (smbtorture smb2.streams.dir) */
  if ((ss.name || ss.explicit_data) && want_dir) {
    free(path);
    free(ss.name);
    return SMBX_STATUS_NOT_A_DIRECTORY;
  }
  if (ss.name) {
    st = create_stream(fs, a, path, ss.name, acc, share, r);
    free(path);
    free(ss.name);
    return st;
  }
  if (ss.explicit_data) want_file = 1;

  open_s *o = calloc(1, sizeof *o);
  if (!o) {
    free(path);
    return SMBX_STATUS_INSUFFICIENT_RESOURCES;
  }
  o->pfd = -1;
  o->fd = -1;
  uint32_t action = POSIXFS_ACTION_OPENED;
  struct stat sb;
  int pfd = open_beneath(fs, path, O_PATH);
  int exists = pfd >= 0;
  if (!exists) {
    int e = errno;
    if (e == ENOENT) {
      const char *last;
      int par = create_parent(fs, path, disp, &last, &st);
      if (par < 0)
        goto fail;
      /* MS-FSA 2.1.5.1.1: a new READONLY file cannot be delete-on-close */
      if (doc && (a->file_attributes & POSIXFS_ATTR_READONLY)) {
        close(par);
        st = POSIXFS_STATUS_CANNOT_DELETE;
        goto fail;
      }
      mode_t mode = (a->file_attributes & POSIXFS_ATTR_READONLY) ? 0444 : 0666;
      if (want_dir) {
        if (mkdirat(par, last, 0777) != 0) {
          st = errno_status(errno);
          close(par);
          goto fail;
        }
        pfd = openat(par, last, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      } else {
        int fd = openat(par, last,
                        O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC,
                        mode);
        if (fd < 0) {
          st = errno_status(errno);
          close(par);
          goto fail;
        }
        close(fd);
        pfd = openat(par, last, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      }
      close(par);
      if (pfd < 0) {
        st = errno_status(errno);
        goto fail;
      }
      action = POSIXFS_ACTION_CREATED;
      if (acc & POSIXFS_MAXIMUM_ALLOWED) acc |= POSIXFS_FILE_ALL_ACCESS;
      keep_create_attrs(pfd, a->file_attributes, want_dir);
    } else if (e == ENOTDIR) {
      st = SMBX_STATUS_OBJECT_PATH_NOT_FOUND;
      goto fail;
    } else {
      st = errno_status(e);
      goto fail;
    }
  }
  o->pfd = pfd;
  if (fstat(pfd, &sb) != 0) {
    st = errno_status(errno);
    goto fail;
  }
  int is_dir = S_ISDIR(sb.st_mode);
  if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode)) {
    st = SMBX_STATUS_ACCESS_DENIED;
    goto fail;
  }
  uint32_t maxacc = maximal_of(pfd);
  r->maximal_access = maxacc;
  node *existing = node_find(fs, sb.st_dev, sb.st_ino);
  if (exists) {
    if (existing && existing->delete_pending) {
      st = SMBX_STATUS_DELETE_PENDING;
      goto fail;
    }
    if (disp == POSIXFS_CREATE) {
      st = SMBX_STATUS_OBJECT_NAME_COLLISION;
      goto fail;
    }
    if (is_dir && want_file) {
      st = SMBX_STATUS_FILE_IS_A_DIRECTORY;
      goto fail;
    }
    if (!is_dir && want_dir) {
      st = SMBX_STATUS_NOT_A_DIRECTORY;
      goto fail;
    }
    if (is_dir && disp != POSIXFS_OPEN && disp != POSIXFS_OPEN_IF) {
      st = SMBX_STATUS_FILE_IS_A_DIRECTORY;
      goto fail;
    }
    if (acc & POSIXFS_MAXIMUM_ALLOWED) acc |= maxacc;
    int overwrite = disp == POSIXFS_SUPERSEDE || disp == POSIXFS_OVERWRITE ||
                    disp == POSIXFS_OVERWRITE_IF;
    if ((acc & ~maxacc & (POSIXFS_READ_DATA | POSIXFS_WRITE_DATA |
                          POSIXFS_APPEND_DATA)) ||
        (overwrite && !(maxacc & POSIXFS_WRITE_DATA))) {
      st = SMBX_STATUS_ACCESS_DENIED;
      goto fail;
    }
    if (doc && !is_dir && !(sb.st_mode & S_IWUSR)) { /* READONLY attr */
      st = POSIXFS_STATUS_CANNOT_DELETE;
      goto fail;
    }
    if (overwrite && existing && existing->streams) {
      st = SMBX_STATUS_SHARING_VIOLATION; /* it would drop open streams */
      goto fail;
    }
    if (overwrite)
      action = disp == POSIXFS_SUPERSEDE ? POSIXFS_ACTION_SUPERSEDED
                                         : POSIXFS_ACTION_OVERWRITTEN;
  }
  acc &= ~POSIXFS_MAXIMUM_ALLOWED;
  if (existing && share_conflict(fs, existing, acc, share)) {
    st = SMBX_STATUS_SHARING_VIOLATION;
    goto fail;
  }
  /* the I/O descriptor, reopened from the O_PATH one */
  char pp[64];
  proc_path(pp, sizeof pp, pfd);
  if (is_dir) {
    o->fd = open(pp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } else if (acc & (POSIXFS_WRITE_DATA | POSIXFS_APPEND_DATA) ||
             action == POSIXFS_ACTION_SUPERSEDED ||
             action == POSIXFS_ACTION_OVERWRITTEN) {
    o->fd = open(pp, O_RDWR | O_CLOEXEC);
  } else if (acc & (POSIXFS_READ_DATA | POSIXFS_EXECUTE)) {
    o->fd = open(pp, O_RDONLY | O_CLOEXEC);
  }
  if (o->fd < 0 && (is_dir || acc & (POSIXFS_READ_DATA | POSIXFS_WRITE_DATA |
                                    POSIXFS_APPEND_DATA | POSIXFS_EXECUTE) ||
                    action == POSIXFS_ACTION_OVERWRITTEN ||
                    action == POSIXFS_ACTION_SUPERSEDED)) {
    st = errno_status(errno);
    goto fail;
  }
  if (action != POSIXFS_ACTION_OPENED && !is_dir && o->fd >= 0 &&
      a->allocation_size && a->allocation_size <= INT64_MAX)
    (void)fallocate(o->fd, FALLOC_FL_KEEP_SIZE, 0,
                    (off_t)a->allocation_size); /* AlSi: a hint */
  if (action == POSIXFS_ACTION_SUPERSEDED ||
      action == POSIXFS_ACTION_OVERWRITTEN) {
    if (ftruncate(o->fd, 0) != 0) {
      st = errno_status(errno);
      goto fail;
    }
    stream_remove_all(pp); /* an overwritten file keeps no named stream */
    fstat(pfd, &sb);
  }
  if (a->eas_len && action != POSIXFS_ACTION_OPENED) { /* ExtA context */
    if (ea_list_apply(a->eas, a->eas_len, pp) != 0 && errno != ENOTSUP) {
      st = errno_status(errno);
      goto fail;
    }
  }
  node *n = existing ? existing : node_get(fs, &sb, path);
  if (!n) {
    st = SMBX_STATUS_INSUFFICIENT_RESOURCES;
    goto fail;
  }
  o->n = n;
  o->access = acc;
  o->share = share;
  o->options = opt;
  o->is_dir = is_dir;
  o->doc = doc;
  if (slot_add(fs, o, &r->file_id) != 0) {
    o->n = NULL;
    node_put(fs, n);
    st = SMBX_STATUS_INSUFFICIENT_RESOURCES;
    goto fail;
  }
  n->opens++;
  r->create_action = action;
  r->granted_access = acc;
  attrs_of(&sb, pfd, NULL, &r->info);
  r->disk_file_id = (uint64_t)sb.st_ino;
  r->volume_id = (uint64_t)sb.st_dev;
  free(path);
  return ST_OK;
fail:
  free(path);
  open_free(o);
  return st;
}

/* ------------------------------------------------------------------ */
/* CLOSE */

static void unwatch(posixfs *fs, open_s *o) {
  int *gone = malloc((fs->nw ? fs->nw : 1) * sizeof *gone);
  size_t ng = 0, w = 0;
  for (size_t i = 0; i < fs->nw; i++) {
    if (fs->w[i].o == o) {
      if (gone) gone[ng++] = fs->w[i].wd;
      free(fs->w[i].rel);
      continue;
    }
    fs->w[w++] = fs->w[i];
  }
  fs->nw = w;
  /* drop each inotify watch no remaining record shares (once per wd) */
  for (size_t i = 0; i < ng; i++) {
    int used = 0;
    for (size_t k = 0; k < fs->nw && !used; k++) used = fs->w[k].wd == gone[i];
    for (size_t k = 0; k < i && !used; k++) used = gone[k] == gone[i];
    if (!used) inotify_rm_watch(fs->inofd, gone[i]);
  }
  free(gone);
  o->watching = 0;
}

static void release_locks(posixfs *fs, open_s *o) {
  node *n = o->n;
  size_t w = 0;
  for (size_t i = 0; i < n->nlocks; i++)
    if (n->locks[i].owner != o) n->locks[w++] = n->locks[i];
  if (w != n->nlocks) fs->lock_epoch++;
  n->nlocks = w;
}

static int remove_path(posixfs *fs, const char *path, int is_dir) {
  const char *last;
  int par = open_parent(fs, path, &last);
  if (par < 0) return -1;
  int rc = unlinkat(par, last, is_dir ? AT_REMOVEDIR : 0);
  close(par);
  return rc;
}

/* A file becomes delete-pending; watches on a directory being deleted
 * complete with DELETE_PENDING (MS-FSA 2.1.5.15.3). */
static void set_delete_pending(posixfs *fs, node *n) {
  n->delete_pending = 1;
  if (!n->is_dir) return;
  for (size_t i = 0; i < fs->nslots; i++)
    if (fs->slots[i] && fs->slots[i]->n == n && fs->slots[i]->watching)
      fs->slots[i]->gone = 1;
}

uint32_t posixfs_close(posixfs *fs, smbx_smb2_fileid fid,
                       smbx_smb2_file_network_open_info *post) {
  if (post) memset(post, 0, sizeof *post);
  open_s *o = fs ? lookup(fs, fid) : NULL;
  if (!o) return SMBX_STATUS_FILE_CLOSED;
  node *n = o->n;
  fs->slots[(fid.volatile_id & 0xFFFFFFFFu) - 1] = NULL;
  fs->nopen--;
  if (o->watching) unwatch(fs, o);
  release_locks(fs, o);
  if (o->doc) set_delete_pending(fs, n);
  n->opens--;
  char pp[64];
  proc_path(pp, sizeof pp, o->pfd);
  int stream_gone = n->base && n->opens == 0 && n->delete_pending;
  if (stream_gone) {
    char x[sizeof STREAM_XATTR + STREAM_NAME_MAX];
    stream_xname(x, n->stream);
    (void)removexattr(pp, x);
  }
  /* the file goes once neither it nor any stream of it is open */
  node *f = FILE_OF(n);
  unsigned streams_left = f->streams - (n->base && n->opens == 0 ? 1u : 0u);
  if (f->opens == 0 && streams_left == 0 && f->delete_pending) {
    remove_path(fs, f->path, f->is_dir);
  } else if (post && !stream_gone) {
    struct stat sb;
    if (fstat(o->pfd, &sb) == 0) attrs_of(&sb, o->pfd, NULL, post);
    if (n->base) {
      ssize_t size = stream_size(pp, n->stream);
      post->end_of_file = size > 0 ? (uint64_t)size : 0;
      post->allocation_size = stream_alloc(post->end_of_file);
    }
  }
  open_free(o);
  node_put(fs, n);
  return ST_OK;
}

/* ------------------------------------------------------------------ */
/* byte-range locks */

static int overlaps(uint64_t o1, uint64_t l1, uint64_t o2, uint64_t l2) {
  if (l1 == 0 || l2 == 0) return 0;
  uint64_t e1 = o1 + (l1 - 1), e2 = o2 + (l2 - 1); /* inclusive, no wrap */
  return o1 <= e2 && o2 <= e1;
}

/* Lock ranges overlap as for I/O, except that a zero-length range at X
 * meets a range that holds X past its first byte (s < X < s+len; as
 * Windows: smbtorture lock.zerobytelength); two zero-length ranges never
 * meet. */
static int lock_overlaps(uint64_t o1, uint64_t l1, uint64_t o2, uint64_t l2) {
  if (l1 == 0 && l2 == 0) return 0;
  if (l1 == 0) return o1 > o2 && o1 - o2 < l2;
  if (l2 == 0) return o2 > o1 && o2 - o1 < l1;
  return overlaps(o1, l1, o2, l2);
}

/* Does `o` wanting [off,len) (excl or shared) conflict with a held lock? */
static int lock_conflict(const node *n, const open_s *o, uint64_t off,
                         uint64_t len, int excl) {
  for (size_t i = 0; i < n->nlocks; i++) {
    const lockrec *l = &n->locks[i];
    if (!lock_overlaps(off, len, l->off, l->len)) continue;
    if (excl) return 1;
    if (l->excl && l->owner != o) return 1;
  }
  return 0;
}

/* I/O check: reads conflict with others' exclusive locks, writes with any
 * lock of another open and with own shared locks. */
static int io_conflict(const node *n, const open_s *o, uint64_t off,
                       uint64_t len, int write) {
  for (size_t i = 0; i < n->nlocks; i++) {
    const lockrec *l = &n->locks[i];
    if (!overlaps(off, len, l->off, l->len)) continue;
    if (l->owner == o) {
      if (write && !l->excl) return 1;
      continue;
    }
    if (write || l->excl) return 1;
  }
  return 0;
}

uint32_t posixfs_lock(posixfs *fs, smbx_smb2_fileid fid,
                      const smbx_smb2_lock_element *el, size_t n) {
  open_s *o = fs ? lookup(fs, fid) : NULL;
  if (!o) return SMBX_STATUS_FILE_CLOSED;
  if (!el || n == 0) return SMBX_STATUS_INVALID_PARAMETER;
  node *nd = o->n;
  if (el[0].flags & SMBX_SMB2_LOCKFLAG_UNLOCK) {
    /* MS-SMB2 3.3.5.14.1: element by element; a bad element or a range
     * not locked stops there and the earlier unlocks stay done */
    for (size_t i = 0; i < n; i++) {
      if (el[i].flags != SMBX_SMB2_LOCKFLAG_UNLOCK)
        return SMBX_STATUS_INVALID_PARAMETER;
      if (el[i].length && el[i].offset + (el[i].length - 1) < el[i].offset)
        return POSIXFS_STATUS_INVALID_LOCK_RANGE;
      size_t k;
      for (k = 0; k < nd->nlocks; k++)
        if (nd->locks[k].owner == o && nd->locks[k].off == el[i].offset &&
            nd->locks[k].len == el[i].length)
          break;
      if (k == nd->nlocks) return SMBX_STATUS_RANGE_NOT_LOCKED;
      memmove(&nd->locks[k], &nd->locks[k + 1],
              (nd->nlocks - k - 1) * sizeof *nd->locks);
      nd->nlocks--;
      fs->lock_epoch++;
    }
    return ST_OK;
  }
  /* 3.3.5.14.2: several elements must all be FAIL_IMMEDIATELY (only a
   * single lock may wait) */
  for (size_t i = 0; i < n; i++) {
    uint32_t f = el[i].flags, k = f & ~SMBX_SMB2_LOCKFLAG_FAIL_IMMEDIATELY;
    if ((k != SMBX_SMB2_LOCKFLAG_SHARED && k != SMBX_SMB2_LOCKFLAG_EXCLUSIVE) ||
        (n > 1 && !(f & SMBX_SMB2_LOCKFLAG_FAIL_IMMEDIATELY)))
      return SMBX_STATUS_INVALID_PARAMETER;
    if (el[i].length && el[i].offset + (el[i].length - 1) < el[i].offset)
      return POSIXFS_STATUS_INVALID_LOCK_RANGE;
  }
  size_t base = nd->nlocks;
  for (size_t i = 0; i < n; i++) {
    int excl = (el[i].flags & SMBX_SMB2_LOCKFLAG_EXCLUSIVE) != 0;
    uint32_t st = ST_OK;
    if (lock_conflict(nd, o, el[i].offset, el[i].length, excl))
      st = (el[i].flags & SMBX_SMB2_LOCKFLAG_FAIL_IMMEDIATELY)
               ? SMBX_STATUS_LOCK_NOT_GRANTED
               : SMBX_STATUS_PENDING;
    if (st == ST_OK && nd->nlocks == nd->caplocks) {
      size_t nc = nd->caplocks ? nd->caplocks * 2 : 8;
      lockrec *nl = realloc(nd->locks, nc * sizeof *nl);
      if (!nl) st = SMBX_STATUS_INSUFFICIENT_RESOURCES;
      else {
        nd->locks = nl;
        nd->caplocks = nc;
      }
    }
    if (st != ST_OK) {
      nd->nlocks = base; /* roll back this request's locks */
      return st;
    }
    lockrec *l = &nd->locks[nd->nlocks++];
    l->owner = o;
    l->off = el[i].offset;
    l->len = el[i].length;
    l->excl = excl;
  }
  return ST_OK;
}

/* ------------------------------------------------------------------ */
/* READ / WRITE / FLUSH */

/* Stream I/O: the whole value is read (and for a write, rewritten) per
 * request; streams are at most STREAM_SIZE_MAX bytes. */
static uint32_t stream_read(open_s *o, uint64_t offset, uint8_t *buf,
                            uint32_t len, uint32_t *nread) {
  char pp[64];
  proc_path(pp, sizeof pp, o->pfd);
  size_t size = 0;
  uint32_t st = ST_OK;
  uint8_t *v = stream_load(pp, o->n->stream, 0, &size, &st);
  if (!v) return st;
  if (len > 0 && offset >= size) {
    free(v);
    return SMBX_STATUS_END_OF_FILE;
  }
  size_t got = offset >= size ? 0 : size - (size_t)offset;
  if (got > len) got = len;
  memcpy(buf, v + offset, got);
  free(v);
  o->pos = offset + got;
  *nread = (uint32_t)got;
  return ST_OK;
}

static uint32_t stream_write(open_s *o, uint64_t offset, const uint8_t *buf,
                             uint32_t len, uint32_t *nwritten) {
  if (offset > STREAM_SIZE_MAX || len > STREAM_SIZE_MAX - offset)
    return SMBX_STATUS_DISK_FULL;
  char pp[64];
  proc_path(pp, sizeof pp, o->pfd);
  size_t size = 0, end = (size_t)offset + len;
  uint32_t st = ST_OK;
  uint8_t *v = stream_load(pp, o->n->stream, end, &size, &st);
  if (!v) return st;
  memcpy(v + offset, buf, len);
  st = stream_store(pp, o->n->stream, v, end > size ? end : size,
                    XATTR_REPLACE);
  free(v);
  if (st == ST_OK) *nwritten = len;
  return st;
}

/* SET_INFO EndOfFile / Allocation below EOF on a stream. */
static uint32_t stream_truncate(open_s *o, uint64_t v, int alloc) {
  char pp[64];
  proc_path(pp, sizeof pp, o->pfd);
  if (v > STREAM_SIZE_MAX) return SMBX_STATUS_DISK_FULL;
  size_t size = 0;
  uint32_t st = ST_OK;
  uint8_t *val = stream_load(pp, o->n->stream, (size_t)v, &size, &st);
  if (!val) return st;
  if (!(alloc && v >= size))
    st = stream_store(pp, o->n->stream, val, (size_t)v, XATTR_REPLACE);
  free(val);
  return st;
}

uint32_t posixfs_read(posixfs *fs, smbx_smb2_fileid fid, uint64_t offset,
                      uint8_t *buf, uint32_t len, uint32_t *nread) {
  *nread = 0;
  open_s *o = fs ? lookup(fs, fid) : NULL;
  if (!o) return SMBX_STATUS_FILE_CLOSED;
  if (o->is_dir) return SMBX_STATUS_INVALID_DEVICE_REQUEST;
  if (!(o->access & (POSIXFS_READ_DATA | POSIXFS_EXECUTE)) ||
      (o->fd < 0 && !o->n->base))
    return SMBX_STATUS_ACCESS_DENIED;
  if (offset > INT64_MAX) return SMBX_STATUS_INVALID_PARAMETER;
  if (io_conflict(o->n, o, offset, len, 0))
    return SMBX_STATUS_FILE_LOCK_CONFLICT;
  if (o->n->base) return stream_read(o, offset, buf, len, nread);
  size_t got = 0;
  while (got < len) {
    ssize_t r = pread(o->fd, buf + got, len - got, (off_t)(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno_status(errno);
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  if (got == 0 && len > 0) return SMBX_STATUS_END_OF_FILE;
  o->pos = offset + got; /* FilePositionInformation follows reads (Samba) */
  *nread = (uint32_t)got;
  return ST_OK;
}

uint32_t posixfs_write(posixfs *fs, smbx_smb2_fileid fid, uint64_t offset,
                       const uint8_t *buf, uint32_t len, uint32_t *nwritten) {
  *nwritten = 0;
  open_s *o = fs ? lookup(fs, fid) : NULL;
  if (!o) return SMBX_STATUS_FILE_CLOSED;
  if (o->is_dir) return SMBX_STATUS_INVALID_DEVICE_REQUEST;
  if (!(o->access & (POSIXFS_WRITE_DATA | POSIXFS_APPEND_DATA)) ||
      (o->fd < 0 && !o->n->base))
    return SMBX_STATUS_ACCESS_DENIED;
  if (offset > INT64_MAX || len > INT64_MAX - offset)
    return SMBX_STATUS_INVALID_PARAMETER;
  if (io_conflict(o->n, o, offset, len, 1))
    return SMBX_STATUS_FILE_LOCK_CONFLICT;
  if (o->n->base) return stream_write(o, offset, buf, len, nwritten);
  size_t put = 0;
  while (put < len) {
    ssize_t r = pwrite(o->fd, buf + put, len - put, (off_t)(offset + put));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno_status(errno);
    }
    put += (size_t)r;
  }
  *nwritten = (uint32_t)put;
  return ST_OK;
}

uint32_t posixfs_flush(posixfs *fs, smbx_smb2_fileid fid) {
  open_s *o = fs ? lookup(fs, fid) : NULL;
  if (!o) return SMBX_STATUS_FILE_CLOSED;
  if (!o->is_dir &&
      !(o->access & (POSIXFS_WRITE_DATA | POSIXFS_APPEND_DATA)))
    return SMBX_STATUS_ACCESS_DENIED;
  if (o->fd >= 0 && fsync(o->fd) != 0 && errno != EINVAL)
    return errno_status(errno);
  return ST_OK;
}

/* ------------------------------------------------------------------ */
/* pattern matching (FsRtlIsNameInExpression-like, ASCII case-insensitive) */

static size_t u8len(const char *s) {
  unsigned char c = (unsigned char)*s;
  size_t l = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  for (size_t i = 1; i < l; i++)
    if (!s[i]) return i;
  return l;
}

static int lc(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Memoised on (pattern index, name index), so patterns with many stars
 * stay O(len(p) * len(n)) per name. */
typedef struct mctx {
  const char *p, *n;
  size_t pl, nl;
  const char *lastdot;
  uint8_t *memo; /* 0 unknown, 1 no, 2 yes */
} mctx;

static int m_at(mctx *c, size_t pi, size_t ni);

static int m_step(mctx *c, size_t pi, size_t ni) {
  const char *p = c->p + pi, *n = c->n + ni;
  if (!*p) return *n == '\0';
  char ch = *p;
  if (ch == '*' || ch == '<') { /* '<' = DOS_STAR: not past the last '.' */
    for (size_t k = ni;; k += u8len(c->n + k)) {
      if (m_at(c, pi + 1, k)) return 1;
      if (!c->n[k]) return 0;
      if (ch == '<' && c->lastdot && c->n + k == c->lastdot) return 0;
    }
  }
  if (ch == '>') { /* DOS_QM: one char, or none at '.' / end */
    if (!*n || *n == '.') return m_at(c, pi + 1, ni);
    return m_at(c, pi + 1, ni + u8len(n));
  }
  if (ch == '"') { /* DOS_DOT: '.' or none at the end */
    if (*n == '.') return m_at(c, pi + 1, ni + 1);
    return !*n && m_at(c, pi + 1, ni);
  }
  if (!*n) return 0;
  if (ch == '?') return m_at(c, pi + 1, ni + u8len(n));
  size_t pl = u8len(p), nl = u8len(n);
  if (pl == 1 && nl == 1) {
    if (lc((unsigned char)*p) != lc((unsigned char)*n)) return 0;
  } else if (pl != nl || memcmp(p, n, pl) != 0) {
    return 0;
  }
  return m_at(c, pi + pl, ni + nl);
}

static int m_at(mctx *c, size_t pi, size_t ni) {
  uint8_t *slot = &c->memo[pi * (c->nl + 1) + ni];
  if (!*slot) *slot = m_step(c, pi, ni) ? 2 : 1;
  return *slot == 2;
}

#define PATTERN_MAX 1024u
#define MEMO_SIZE ((PATTERN_MAX + 1) * 257u)

/* memo: MEMO_SIZE bytes; names are at most 255 bytes */
static int match(const char *p, const char *n, uint8_t *memo) {
  if (p[0] == '*' && p[1] == '\0') return 1;
  mctx c;
  c.p = p;
  c.n = n;
  c.pl = strlen(p);
  c.nl = strlen(n);
  if (c.pl > PATTERN_MAX || c.nl > 256) return 0;
  c.lastdot = strrchr(n, '.');
  c.memo = memo;
  memset(memo, 0, (c.pl + 1) * (c.nl + 1));
  return m_at(&c, 0, 0);
}

/* ------------------------------------------------------------------ */
/* QUERY_DIRECTORY */

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int snapshot(open_s *o) {
  for (size_t i = 0; i < o->nnames; i++) free(o->names[i]);
  free(o->names);
  o->names = NULL;
  o->nnames = 0;
  int dfd = openat(o->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return -1;
  DIR *d = fdopendir(dfd);
  if (!d) {
    close(dfd);
    return -1;
  }
  size_t cap = 64;
  char **v = malloc(cap * sizeof *v);
  size_t cnt = 0;
  if (v) {
    v[cnt++] = xstrdup(".");
    v[cnt++] = xstrdup("..");
  }
  struct dirent *de;
  while (v && (de = readdir(d)) != NULL) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (cnt == cap) {
      char **nv = realloc(v, cap * 2 * sizeof *nv);
      if (!nv) break;
      v = nv;
      cap *= 2;
    }
    v[cnt++] = xstrdup(de->d_name);
  }
  closedir(d);
  if (!v) return -1;
  qsort(v + 2, cnt - 2, sizeof *v, name_cmp);
  o->names = v;
  o->nnames = cnt;
  return 0;
}

uint32_t posixfs_query_directory(posixfs *fs, smbx_smb2_fileid fid,
                                 uint8_t info_class, uint8_t flags,
                                 const uint8_t *pattern, size_t pattern_len,
                                 uint8_t *out, uint32_t cap,
                                 uint32_t *out_len) {
  *out_len = 0;
  open_s *o = fs ? lookup(fs, fid) : NULL;
  if (!o) return SMBX_STATUS_FILE_CLOSED;
  if (!o->is_dir) return SMBX_STATUS_INVALID_PARAMETER;
  if (!(o->access & POSIXFS_READ_DATA)) return SMBX_STATUS_ACCESS_DENIED;
  size_t fixed = smbx_smb2_dir_entry_fixed_size(info_class);
  if (!fixed) return SMBX_STATUS_INVALID_INFO_CLASS;
  if (cap < fixed) return SMBX_STATUS_INFO_LENGTH_MISMATCH;
  if (!o->scanning ||
      (flags & (SMBX_SMB2_RESTART_SCANS | SMBX_SMB2_REOPEN))) {
    char *pat = NULL;
    if (pattern_len) {
      size_t n8 = 0;
      int rc = smbx_utf16le_to_utf8(pattern, pattern_len, NULL, 0, &n8);
      if (rc != 0 && rc != SMBX_ERR_NOBUF)
        return SMBX_STATUS_OBJECT_NAME_INVALID;
      pat = malloc(n8 + 1);
      if (!pat) return SMBX_STATUS_INSUFFICIENT_RESOURCES;
      smbx_utf16le_to_utf8(pattern, pattern_len, (uint8_t *)pat, n8, &n8);
      pat[n8] = '\0';
      if (n8 > PATTERN_MAX || memchr(pat, '\0', n8) || strchr(pat, '\\') ||
          strchr(pat, '/')) {
        free(pat);
        return SMBX_STATUS_OBJECT_NAME_INVALID;
      }
    } else if (!o->pattern) {
      pat = xstrdup("*");
      if (!pat) return SMBX_STATUS_INSUFFICIENT_RESOURCES;
    }
    if (pat) {
      free(o->pattern);
      o->pattern = pat;
    }
    if (snapshot(o) != 0) return errno_status(errno);
    o->cursor = 0;
    o->scanning = 1;
    o->queried = 0;
  }
  int first = !o->queried;
  o->queried = 1;
  smbx_smb2_dir_builder b;
  if (smbx_smb2_dir_builder_init(&b, info_class, out, cap) != 0)
    return SMBX_STATUS_INVALID_INFO_CLASS;
  int is_root = o->n->path[0] == '\0';
  uint8_t *memo = malloc(MEMO_SIZE);
  if (!memo) return SMBX_STATUS_INSUFFICIENT_RESOURCES;
  while (o->cursor < o->nnames) {
    const char *nm = o->names[o->cursor];
    if (strchr(nm, '\\') || !match(o->pattern, nm, memo)) {
      o->cursor++;
      continue;
    }
    struct stat sb;
    int at_root = !strcmp(nm, "..") && is_root; /* ".." of the root: itself */
    int rc = at_root ? fstat(o->fd, &sb)
                     : fstatat(o->fd, nm, &sb, AT_SYMLINK_NOFOLLOW);
    uint8_t *u16 = NULL;
    size_t u16l = 0;
    if (rc != 0 || utf8_to_16(nm, &u16, &u16l) != 0) {
      o->cursor++;
      continue;
    }
    smbx_smb2_file_network_open_info ni;
    attrs_of(&sb, o->fd, at_root ? NULL : nm, &ni);
    smbx_smb2_dir_entry e;
    memset(&e, 0, sizeof e);
    e.creation_time = ni.creation_time;
    e.last_access_time = ni.last_access_time;
    e.last_write_time = ni.last_write_time;
    e.change_time = ni.change_time;
    e.end_of_file = ni.end_of_file;
    e.allocation_size = ni.allocation_size;
    e.file_attributes = ni.file_attributes;
    e.file_id = (uint64_t)sb.st_ino;
    put64(e.file_id_128, (uint64_t)sb.st_ino);
    e.file_name.p = u16;
    e.file_name.len = u16l;
    rc = smbx_smb2_dir_builder_add(&b, &e);
    if (rc == SMBX_ERR_NOBUF && b.count == 0) {
      /* first entry does not fit: a truncated entry, BUFFER_OVERFLOW */
      size_t tcap = fixed + u16l + 8;
      uint8_t *tmp = malloc(tcap);
      smbx_smb2_dir_builder tb;
      if (tmp && smbx_smb2_dir_builder_init(&tb, info_class, tmp, tcap) == 0 &&
          smbx_smb2_dir_builder_add(&tb, &e) == 0) {
        memcpy(out, tmp, cap);
        *out_len = cap;
      }
      free(tmp);
      free(u16);
      free(memo);
      return SMBX_STATUS_BUFFER_OVERFLOW;
    }
    free(u16);
    if (rc != 0) break;
    o->cursor++;
    if (flags & SMBX_SMB2_RETURN_SINGLE_ENTRY) break;
  }
  free(memo);
  if (b.count == 0)
    return first ? SMBX_STATUS_NO_SUCH_FILE : SMBX_STATUS_NO_MORE_FILES;
  *out_len = (uint32_t)b.len;
  return ST_OK;
}

/* ------------------------------------------------------------------ */
/* QUERY_INFO */

/* Copy a built buffer to out: INFO_LENGTH_MISMATCH below the fixed size,
 * BUFFER_OVERFLOW (truncated) when the whole does not fit. */
static uint32_t emit(const uint8_t *tmp, size_t len, size_t fixed,
                     uint8_t *out, uint32_t cap, uint32_t *out_len) {
  if (cap < fixed) return SMBX_STATUS_INFO_LENGTH_MISMATCH;
  if (len > cap) {
    memcpy(out, tmp, cap);
    *out_len = cap;
    return SMBX_STATUS_BUFFER_OVERFLOW;
  }
  memcpy(out, tmp, len);
  *out_len = (uint32_t)len;
  return ST_OK;
}

static void fill_basic(const smbx_smb2_file_network_open_info *ni,
                       smbx_smb2_file_basic_info *b) {
  memset(b, 0, sizeof *b);
  b->creation_time = ni->creation_time;
  b->last_access_time = ni->last_access_time;
  b->last_write_time = ni->last_write_time;
  b->change_time = ni->change_time;
  b->file_attributes = ni->file_attributes;
}

static void fill_standard(const open_s *o,
                          const smbx_smb2_file_network_open_info *ni,
                          const struct stat *sb,
                          smbx_smb2_file_standard_info *s) {
  memset(s, 0, sizeof *s);
  s->allocation_size = ni->allocation_size;
  s->end_of_file = ni->end_of_file;
  s->number_of_links = (uint32_t)sb->st_nlink;
  s->delete_pending = (uint8_t)(o->n->delete_pending ||
                                FILE_OF(o->n)->delete_pending || o->doc);
  s->directory = (uint8_t)o->is_dir;
}

static uint32_t query_fs(posixfs *fs, open_s *o, uint8_t cls, uint8_t *out,
                         uint32_t cap, uint32_t *out_len) {
  uint8_t t[64];
  memset(t, 0, sizeof t);
  struct statvfs vf;
  struct stat rs;
  if (fstatvfs(o->pfd, &vf) != 0 || fstat(fs->rootfd, &rs) != 0)
    return errno_status(errno);
  uint64_t unit = vf.f_frsize ? vf.f_frsize : vf.f_bsize;
  uint32_t spu = (uint32_t)(unit / 512u ? unit / 512u : 1u);
  switch (cls) {
  case POSIXFS_FS_VOLUME_INFORMATION:
    put64(t, filetime(rs.st_ctim));
    put32(t + 8, (uint32_t)(rs.st_dev ^ (rs.st_dev >> 32) ^ rs.st_ino));
    put32(t + 12, 0); /* label length */
    return emit(t, 18, 18, out, cap, out_len);
  case POSIXFS_FS_SIZE_INFORMATION:
    put64(t, (uint64_t)vf.f_blocks);
    put64(t + 8, (uint64_t)vf.f_bavail);
    put32(t + 16, spu);
    put32(t + 20, 512);
    return emit(t, 24, 24, out, cap, out_len);
  case POSIXFS_FS_FULL_SIZE_INFORMATION:
    put64(t, (uint64_t)vf.f_blocks);
    put64(t + 8, (uint64_t)vf.f_bavail);
    put64(t + 16, (uint64_t)vf.f_bfree);
    put32(t + 24, spu);
    put32(t + 28, 512);
    return emit(t, 32, 32, out, cap, out_len);
  case POSIXFS_FS_DEVICE_INFORMATION:
    put32(t, 0x07);     /* FILE_DEVICE_DISK */
    put32(t + 4, 0x20); /* FILE_DEVICE_IS_MOUNTED */
    return emit(t, 8, 8, out, cap, out_len);
  case POSIXFS_FS_ATTRIBUTE_INFORMATION: {
    /* CASE_SENSITIVE_SEARCH | CASE_PRESERVED_NAMES | UNICODE_ON_DISK */
    put32(t, 0x7);
    put32(t + 4, 255);
    const char *nm = "NTFS";
    put32(t + 8, 8);
    for (size_t i = 0; i < 4; i++) put16(t + 12 + 2 * i, (uint8_t)nm[i]);
    return emit(t, 20, 12, out, cap, out_len);
  }
  case POSIXFS_FS_CONTROL_INFORMATION:
    /* no quotas: thresholds 0, default quota threshold/limit "none" */
    put64(t + 24, UINT64_MAX);
    put64(t + 32, UINT64_MAX);
    return emit(t, 48, 48, out, cap, out_len);
  case POSIXFS_FS_OBJECTID_INFORMATION:
    /* ObjectId: the root's st_dev and st_ino; no extended info */
    put64(t, (uint64_t)rs.st_dev);
    put64(t + 8, (uint64_t)rs.st_ino);
    return emit(t, 64, 64, out, cap, out_len);
  case POSIXFS_FS_SECTOR_SIZE_INFORMATION:
    put32(t, 512);
    put32(t + 4, 512);
    put32(t + 8, 512);
    put32(t + 12, 512);
    put32(t + 16, 0x3); /* ALIGNED_DEVICE | PARTITION_ALIGNED_ON_DEVICE */
    put32(t + 20, 0);
    put32(t + 24, 0);
    return emit(t, 28, 28, out, cap, out_len);
  default:
    return SMBX_STATUS_INVALID_INFO_CLASS;
  }
}

uint32_t posixfs_query_info(posixfs *fs, smbx_smb2_fileid fid,
                            uint8_t info_type, uint8_t info_class,
                            uint8_t *out, uint32_t cap, uint32_t *out_len) {
  *out_len = 0;
  open_s *o = fs ? lookup(fs, fid) : NULL;
  if (!o) return SMBX_STATUS_FILE_CLOSED;
  if (info_type == SMBX_SMB2_0_INFO_FILESYSTEM)
    return query_fs(fs, o, info_class, out, cap, out_len);
  if (info_type != SMBX_SMB2_0_INFO_FILE) return SMBX_STATUS_NOT_SUPPORTED;
  struct stat sb;
  if (fstat(o->pfd, &sb) != 0) return errno_status(errno);
  smbx_smb2_file_network_open_info ni;
  attrs_of(&sb, o->pfd, NULL, &ni);
  char pp[64];
  proc_path(pp, sizeof pp, o->pfd);
  if (o->n->base) { /* a stream: the file's times and attributes, its size */
    ssize_t size = stream_size(pp, o->n->stream);
    ni.end_of_file = size > 0 ? (uint64_t)size : 0;
    ni.allocation_size = stream_alloc(ni.end_of_file);
  }
  uint8_t t[128];
  memset(t, 0, sizeof t);
  smbx_ssize n;
  int need_attr = info_class == SMBX_SMB2_FILE_BASIC_INFORMATION ||
                  info_class == SMBX_SMB2_FILE_ALL_INFORMATION ||
                  info_class == SMBX_SMB2_FILE_NETWORK_OPEN_INFORMATION ||
                  info_class == POSIXFS_FILE_ATTRIBUTE_TAG_INFORMATION;
  if (need_attr && !(o->access & POSIXFS_READ_ATTRIBUTES))
    return SMBX_STATUS_ACCESS_DENIED;
  switch (info_class) {
  case SMBX_SMB2_FILE_BASIC_INFORMATION: {
    smbx_smb2_file_basic_info b;
    fill_basic(&ni, &b);
    n = smbx_smb2_file_basic_info_encode(&b, t, sizeof t, NULL);
    return emit(t, (size_t)n, 40, out, cap, out_len);
  }
  case SMBX_SMB2_FILE_STANDARD_INFORMATION: {
    smbx_smb2_file_standard_info s;
    fill_standard(o, &ni, &sb, &s);
    n = smbx_smb2_file_standard_info_encode(&s, t, sizeof t, NULL);
    return emit(t, (size_t)n, 24, out, cap, out_len);
  }
  case SMBX_SMB2_FILE_INTERNAL_INFORMATION: {
    smbx_smb2_file_internal_info in = {(uint64_t)sb.st_ino};
    n = smbx_smb2_file_internal_info_encode(&in, t, sizeof t, NULL);
    return emit(t, (size_t)n, 8, out, cap, out_len);
  }
  case POSIXFS_FILE_EA_INFORMATION: {
    size_t need = 0;
    uint32_t est = ea_list_build(o, NULL, 0, &need);
    if (est != ST_OK) return est;
    put32(t, (uint32_t)need); /* EaSize: the FULL_EA list's size */
    return emit(t, 4, 4, out, cap, out_len);
  }
  case POSIXFS_FILE_FULL_EA_INFORMATION: {
    if (!(o->access & POSIXFS_READ_EA)) return SMBX_STATUS_ACCESS_DENIED;
    size_t need = 0;
    uint32_t est = ea_list_build(o, out, cap, &need);
    if (est != ST_OK) return est;
    if (need == 0) return POSIXFS_STATUS_NO_EAS_ON_FILE;
    if (need > cap) {
      *out_len = (uint32_t)need;
      return SMBX_STATUS_BUFFER_TOO_SMALL;
    }
    *out_len = (uint32_t)need;
    return ST_OK;
  }
  case POSIXFS_FILE_ACCESS_INFORMATION:
    put32(t, o->access);
    return emit(t, 4, 4, out, cap, out_len);
  case POSIXFS_FILE_POSITION_INFORMATION:
    put64(t, o->pos);
    return emit(t, 8, 8, out, cap, out_len);
  case POSIXFS_FILE_MODE_INFORMATION:
    put32(t, o->options & 0x3Eu);
    return emit(t, 4, 4, out, cap, out_len);
  case POSIXFS_FILE_ALIGNMENT_INFORMATION:
    return emit(t, 4, 4, out, cap, out_len);
  case POSIXFS_FILE_ATTRIBUTE_TAG_INFORMATION:
    put32(t, ni.file_attributes);
    return emit(t, 8, 8, out, cap, out_len);
  case POSIXFS_FILE_COMPRESSION_INFORMATION:
    put64(t, ni.end_of_file);
    return emit(t, 16, 16, out, cap, out_len);
  case SMBX_SMB2_FILE_NETWORK_OPEN_INFORMATION:
    n = smbx_smb2_file_network_open_info_encode(&ni, t, sizeof t, NULL);
    return emit(t, (size_t)n, 56, out, cap, out_len);
  case POSIXFS_FILE_ALTERNATE_NAME_INFORMATION: {
    /* No 8.3 names are kept. MS-FSA fails a link without one with
       OBJECT_NAME_NOT_FOUND, which stops smbclient's allinfo and fails
       smbtorture's getinfo; answer as Samba does with "mangled names = no":
       the last component cut to 12 UTF-16 units (never half a pair). */
    const char *fp = FILE_OF(o->n)->path;
    const char *base = strrchr(fp, '/');
    base = base ? base + 1 : fp;
    uint8_t *u16 = NULL;
    size_t u16l = 0;
    if (utf8_to_16(base, &u16, &u16l) != 0)
      return SMBX_STATUS_INSUFFICIENT_RESOURCES;
    if (u16l > 24) {
      u16l = 24;
      if ((u16[23] & 0xFCu) == 0xD8u) /* a high surrogate: drop it */
        u16l = 22;
    }
    put32(t, (uint32_t)u16l);
    memcpy(t + 4, u16, u16l);
    free(u16);
    return emit(t, 4 + u16l, 8, out, cap, out_len);
  }
  case POSIXFS_FILE_STREAM_INFORMATION: {
    /* the unnamed data stream (files only) and every named stream; the
     * file's sizes for "::$DATA" even on a stream handle */
    uint64_t eof = 0, alloc = 0;
    if (o->n->base) {
      smbx_smb2_file_network_open_info fi;
      attrs_of(&sb, o->pfd, NULL, &fi);
      eof = fi.end_of_file;
      alloc = fi.allocation_size;
    } else {
      eof = ni.end_of_file;
      alloc = ni.allocation_size;
    }
    uint8_t *list = NULL;
    size_t ll = 0;
    uint32_t sst = stream_info_build(pp, S_ISDIR(sb.st_mode), eof, alloc,
                                     &list, &ll);
    if (sst != ST_OK) return sst;
    if (ll > cap && cap >= 32) {
      /* whole entries only, the last one that fits ends the list
       * (MS-FSA 2.1.5.12.29): never an entry cut short behind a
       * NextEntryOffset that points past the buffer */
      size_t at = 0, last = 0, end = 0;
      for (;;) {
        size_t elen = 24 + (size_t)get32(list + at + 4);
        if (at + elen > cap) break;
        last = at;
        end = at + elen;
        uint32_t next = get32(list + at);
        if (!next) break;
        at += next;
      }
      if (end) put32(list + last, 0);
      ll = end;
      memcpy(out, list, ll);
      *out_len = (uint32_t)ll;
      free(list);
      return SMBX_STATUS_BUFFER_OVERFLOW;
    }
    sst = ll ? emit(list, ll, 32, out, cap, out_len) : ST_OK; /* 32: as Windows */
    free(list);
    return sst;
  }
  case POSIXFS_FILE_NAME_INFORMATION:
  case POSIXFS_FILE_NORMALIZED_NAME_INFORMATION:
  case SMBX_SMB2_FILE_ALL_INFORMATION: {
    /* the normalized name is share-relative without the leading `\`
     * (empty for the root); lookups are exact, so it is the name */
    char *wp = win_path(FILE_OF(o->n)->path,
                        info_class != POSIXFS_FILE_NORMALIZED_NAME_INFORMATION);
    if (wp && o->n->base) { /* a stream: file:stream, as Windows */
      char *full = malloc(strlen(wp) + strlen(o->n->stream) + 2);
      if (full) sprintf(full, "%s:%s", wp, o->n->stream);
      free(wp);
      wp = full;
    }
    uint8_t *u16 = NULL;
    size_t u16l = 0;
    if (!wp || utf8_to_16(wp, &u16, &u16l) != 0) {
      free(wp);
      return SMBX_STATUS_INSUFFICIENT_RESOURCES;
    }
    free(wp);
    size_t tl = 100 + u16l;
    uint8_t *tmp = malloc(tl);
    uint32_t st = SMBX_STATUS_INSUFFICIENT_RESOURCES;
    if (tmp && info_class != SMBX_SMB2_FILE_ALL_INFORMATION) {
      put32(tmp, (uint32_t)u16l);
      memcpy(tmp + 4, u16, u16l);
      st = emit(tmp, 4 + u16l, 8, out, cap, out_len); /* MS-FSA: align(4+2,4) */
    } else if (tmp) {
      smbx_smb2_file_all_info a;
      memset(&a, 0, sizeof a);
      fill_basic(&ni, &a.basic);
      fill_standard(o, &ni, &sb, &a.standard);
      a.index_number = (uint64_t)sb.st_ino;
      a.access_flags = o->access;
      a.current_byte_offset = o->pos;
      a.mode = o->options & 0x3Eu;
      a.file_name.p = u16;
      a.file_name.len = u16l;
      n = smbx_smb2_file_all_info_encode(&a, tmp, tl, NULL);
      if (n > 0) st = emit(tmp, (size_t)n, 104, out, cap, out_len); /* align(100+2,8) */
    }
    free(tmp);
    free(u16);
    return st;
  }
  default:
    return SMBX_STATUS_INVALID_INFO_CLASS;
  }
}

/* ------------------------------------------------------------------ */
/* SET_INFO */

static uint32_t set_disposition(posixfs *fs, open_s *o, int del) {
  if (!(o->access & POSIXFS_DELETE)) return SMBX_STATUS_ACCESS_DENIED;
  if (!del) {
    o->n->delete_pending = 0;
    o->doc = 0;
    return ST_OK;
  }
  if (!o->n->base && o->n->path[0] == '\0')
    return SMBX_STATUS_ACCESS_DENIED; /* root */
  if (o->is_dir) {
    int dfd = openat(o->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
      if (dfd >= 0) close(dfd);
      return errno_status(errno);
    }
    struct dirent *de;
    int empty = 1;
    while ((de = readdir(d)) != NULL)
      if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) empty = 0;
    closedir(d);
    if (!empty) return SMBX_STATUS_DIRECTORY_NOT_EMPTY;
  } else {
    struct stat sb;
    if (fstat(o->pfd, &sb) == 0 && !(sb.st_mode & S_IWUSR))
      return POSIXFS_STATUS_CANNOT_DELETE;
  }
  set_delete_pending(fs, o->n);
  return ST_OK;
}

/* Rename of a stream handle to ":NEW[:$DATA]" of the same file: the
 * value moves to the new xattr name. */
static uint32_t stream_rename(posixfs *fs, open_s *o, const uint8_t *nm,
                              size_t nl, int replace) {
  node *n = o->n;
  size_t u8l = 0;
  int rc = smbx_utf16le_to_utf8(nm, nl, NULL, 0, &u8l);
  if (nl % 2 || (rc != 0 && rc != SMBX_ERR_NOBUF))
    return SMBX_STATUS_OBJECT_NAME_INVALID;
  char *to = malloc(u8l + 1);
  if (!to) return SMBX_STATUS_INSUFFICIENT_RESOURCES;
  if (u8l && smbx_utf16le_to_utf8(nm, nl, (uint8_t *)to, u8l, &u8l) != 0) {
    free(to);
    return SMBX_STATUS_OBJECT_NAME_INVALID;
  }
  to[u8l] = '\0';
  streamspec ss;
  memset(&ss, 0, sizeof ss);
  int is_stream = to[0] == ':' && !memchr(to, '\0', u8l) && !strchr(to, '\\');
  uint32_t st = is_stream ? parse_stream(to + 1, &ss)
                          : SMBX_STATUS_INVALID_PARAMETER; /* a file name */
  free(to);
  /* MS-FSA 2.1.5.15.11.1: a bad new stream name is INVALID_PARAMETER
   * (not OBJECT_NAME_INVALID as in CREATE), a type other than $DATA
   * OBJECT_TYPE_MISMATCH */
  if (st == SMBX_STATUS_OBJECT_NAME_INVALID) return SMBX_STATUS_INVALID_PARAMETER;
  if (is_stream && st == SMBX_STATUS_INVALID_PARAMETER)
    return POSIXFS_STATUS_OBJECT_TYPE_MISMATCH;
  if (st != ST_OK) return st;
  if (!ss.name) return SMBX_STATUS_INVALID_PARAMETER; /* to "::$DATA" */
  if (!strcmp(ss.name, n->stream)) {
    free(ss.name);
    return ST_OK;
  }
  char pp[64], found[STREAM_NAME_MAX + 1];
  proc_path(pp, sizeof pp, o->pfd);
  int exists = strcasecmp(ss.name, n->stream) ? stream_lookup(pp, ss.name,
                                                              found)
                                              : 0;
  if (exists < 0) st = SMBX_STATUS_INSUFFICIENT_RESOURCES;
  else if (exists && !replace) st = SMBX_STATUS_OBJECT_NAME_COLLISION;
  else if (exists && stream_node_find(fs, n->base, found))
    st = SMBX_STATUS_SHARING_VIOLATION; /* the target is open */
  size_t size = 0;
  uint8_t *v = st == ST_OK ? stream_load(pp, n->stream, 0, &size, &st) : NULL;
  char *nn = v ? xstrdup(ss.name) : NULL;
  if (v && !nn) st = SMBX_STATUS_INSUFFICIENT_RESOURCES;
  if (nn && exists) {
    char x[sizeof STREAM_XATTR + STREAM_NAME_MAX];
    stream_xname(x, found); /* the replaced one may differ in case */
    (void)removexattr(pp, x);
  }
  if (nn) st = stream_store(pp, nn, v, size, XATTR_CREATE);
  if (nn && st == ST_OK) {
    char x[sizeof STREAM_XATTR + STREAM_NAME_MAX];
    stream_xname(x, n->stream);
    if (strcmp(nn, n->stream)) (void)removexattr(pp, x);
    free(n->stream);
    n->stream = nn;
    nn = NULL;
  }
  free(nn);
  free(v);
  free(ss.name);
  return st;
}

static uint32_t set_rename(posixfs *fs, open_s *o, const uint8_t *buf,
                           size_t len) {
  smbx_smb2_file_rename_info ri;
  if (smbx_smb2_file_rename_info_decode(buf, len, &ri, NULL) != 0)
    return SMBX_STATUS_INFO_LENGTH_MISMATCH;
  if (!(o->access & POSIXFS_DELETE)) return SMBX_STATUS_ACCESS_DENIED;
  node *n = o->n;
  if (n->base)
    return stream_rename(fs, o, ri.file_name.p, ri.file_name.len,
                         ri.replace_if_exists);
  if (n->path[0] == '\0') return SMBX_STATUS_ACCESS_DENIED;
  const uint8_t *nm = ri.file_name.p;
  size_t nl = ri.file_name.len;
  if (nl >= 2 && nm[0] == '\\' && nm[1] == 0) { /* tolerate a leading '\' */
    nm += 2;
    nl -= 2;
  }
  char *to = NULL;
  uint32_t st = parse_name(nm, nl, &to);
  if (st != ST_OK) return st;
  if (to[0] == '\0') {
    free(to);
    return SMBX_STATUS_OBJECT_NAME_INVALID;
  }
  /* the target in its on-disk case, but a rename of the file onto itself
   * in another case changes the case of its last component only */
  char *fixed = xstrdup(to);
  if (!fixed) {
    free(to);
    return SMBX_STATUS_INSUFFICIENT_RESOURCES;
  }
  icase_fix(fs, fixed);
  int tfd = open_beneath(fs, fixed, O_PATH);
  struct stat fsb;
  int self = tfd >= 0 && fstat(tfd, &fsb) == 0 && fsb.st_dev == n->dev &&
             fsb.st_ino == n->ino;
  if (tfd >= 0) close(tfd);
  const char *tl = strrchr(to, '/');
  memcpy(to, fixed, self ? (tl ? (size_t)(tl - to) : 0) : strlen(to));
  free(fixed);
  if (!strcmp(to, n->path)) {
    free(to);
    return ST_OK;
  }
  /* a directory with opens below it cannot move */
  size_t pl = strlen(n->path);
  if (n->is_dir) {
    for (node *k = fs->nodes; k; k = k->next)
      if (k != n && !k->base && !strncmp(k->path, n->path, pl) &&
          k->path[pl] == '/') {
        free(to);
        return SMBX_STATUS_ACCESS_DENIED;
      }
  }
  const char *slast, *dlast;
  int sp = open_parent(fs, n->path, &slast);
  int dp = sp >= 0 ? open_parent(fs, to, &dlast) : -1;
  if (sp < 0 || dp < 0) {
    st = (errno == ENOENT || errno == ENOTDIR)
             ? SMBX_STATUS_OBJECT_PATH_NOT_FOUND
             : errno_status(errno);
    goto out;
  }
  /* an open of the source's directory with DELETE access blocks the
   * rename, as on Windows and Samba (smbtorture smb2.rename.*delete*) */
  struct stat psb;
  node *pn = fstat(sp, &psb) == 0 ? node_find(fs, psb.st_dev, psb.st_ino)
                                   : NULL;
  for (size_t i = 0; pn && i < fs->nslots; i++)
    if (fs->slots[i] && fs->slots[i]->n == pn &&
        (fs->slots[i]->access & POSIXFS_DELETE)) {
      st = SMBX_STATUS_SHARING_VIOLATION;
      goto out;
    }
  struct stat tsb;
  unsigned flags = RENAME_NOREPLACE;
  if (fstatat(dp, dlast, &tsb, AT_SYMLINK_NOFOLLOW) == 0) {
    int same = tsb.st_dev == n->dev && tsb.st_ino == n->ino;
    if (!same) {
      if (!ri.replace_if_exists) {
        st = SMBX_STATUS_OBJECT_NAME_COLLISION;
        goto out;
      }
      node *tn = node_find(fs, tsb.st_dev, tsb.st_ino);
      if (S_ISDIR(tsb.st_mode) || (tn && (tn->opens || tn->streams))) {
        st = SMBX_STATUS_ACCESS_DENIED;
        goto out;
      }
    }
    flags = 0;
  }
  if (renameat2(sp, slast, dp, dlast, flags) != 0) {
    st = errno == EEXIST ? SMBX_STATUS_OBJECT_NAME_COLLISION
                         : errno_status(errno);
    goto out;
  }
  free(n->path);
  n->path = to;
  to = NULL;
  st = ST_OK;
out:
  if (sp >= 0) close(sp);
  if (dp >= 0) close(dp);
  free(to);
  return st;
}

uint32_t posixfs_set_info(posixfs *fs, smbx_smb2_fileid fid,
                          uint8_t info_type, uint8_t info_class,
                          const uint8_t *buf, size_t len) {
  open_s *o = fs ? lookup(fs, fid) : NULL;
  if (!o) return SMBX_STATUS_FILE_CLOSED;
  if (info_type != SMBX_SMB2_0_INFO_FILE) return SMBX_STATUS_NOT_SUPPORTED;
  if (!buf && len) return SMBX_STATUS_INVALID_PARAMETER;
  char pp[64];
  proc_path(pp, sizeof pp, o->pfd);
  switch (info_class) {
  case SMBX_SMB2_FILE_BASIC_INFORMATION: {
    smbx_smb2_file_basic_info b;
    if (smbx_smb2_file_basic_info_decode(buf, len, &b, NULL) != 0)
      return SMBX_STATUS_INFO_LENGTH_MISMATCH;
    if (!(o->access & POSIXFS_WRITE_ATTRIBUTES))
      return SMBX_STATUS_ACCESS_DENIED;
    if (!o->is_dir && (b.file_attributes & POSIXFS_ATTR_DIRECTORY))
      return SMBX_STATUS_INVALID_PARAMETER;
    struct timespec ts[2];
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1].tv_nsec = UTIME_OMIT;
    ts[0].tv_sec = ts[1].tv_sec = 0;
    if (b.last_access_time && b.last_access_time != UINT64_MAX &&
        b.last_access_time != UINT64_MAX - 1)
      ts[0] = from_filetime(b.last_access_time);
    if (b.last_write_time && b.last_write_time != UINT64_MAX &&
        b.last_write_time != UINT64_MAX - 1)
      ts[1] = from_filetime(b.last_write_time);
    if (utimensat(AT_FDCWD, pp, ts, 0) != 0) return errno_status(errno);
    if (b.creation_time && b.creation_time < UINT64_MAX - 1) {
      uint8_t bt[8];
      put64(bt, b.creation_time);
      if (setxattr(pp, BTIME_XATTR, bt, sizeof bt, 0) != 0 && errno != ENOTSUP)
        return errno_status(errno);
    }
    if (b.file_attributes) {
      struct stat sb;
      if (fstat(o->pfd, &sb) != 0) return errno_status(errno);
      mode_t m = sb.st_mode & 07777;
      if (b.file_attributes & POSIXFS_ATTR_READONLY)
        m &= (mode_t)~(S_IWUSR | S_IWGRP | S_IWOTH);
      else
        m |= S_IWUSR;
      if (m != (sb.st_mode & 07777) && fchmodat(AT_FDCWD, pp, m, 0) != 0)
        return errno_status(errno);
      uint8_t kept[4];
      put32(kept, b.file_attributes & ATTR_KEPT);
      if (setxattr(pp, ATTR_XATTR, kept, sizeof kept, 0) != 0 &&
          errno != ENOTSUP)
        return errno_status(errno);
    }
    return ST_OK;
  }
  case SMBX_SMB2_FILE_END_OF_FILE_INFORMATION:
  case POSIXFS_FILE_ALLOCATION_INFORMATION: {
    if (len < 8) return SMBX_STATUS_INFO_LENGTH_MISMATCH;
    uint64_t v = get64(buf);
    if (o->is_dir) return SMBX_STATUS_INVALID_PARAMETER;
    if (!(o->access & POSIXFS_WRITE_DATA) || (o->fd < 0 && !o->n->base))
      return SMBX_STATUS_ACCESS_DENIED;
    if (v > INT64_MAX) return SMBX_STATUS_INVALID_PARAMETER;
    if (o->n->base)
      return stream_truncate(o, v,
                             info_class == POSIXFS_FILE_ALLOCATION_INFORMATION);
    struct stat sb;
    if (fstat(o->fd, &sb) != 0) return errno_status(errno);
    if (info_class == POSIXFS_FILE_ALLOCATION_INFORMATION) {
      if (v >= (uint64_t)sb.st_size) {
        if (v) (void)fallocate(o->fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)v);
        return ST_OK; /* best effort */
      }
    }
    if (ftruncate(o->fd, (off_t)v) != 0) return errno_status(errno);
    return ST_OK;
  }
  case SMBX_SMB2_FILE_DISPOSITION_INFORMATION:
    if (len < 1) return SMBX_STATUS_INFO_LENGTH_MISMATCH;
    return set_disposition(fs, o, buf[0] != 0);
  case POSIXFS_FILE_DISPOSITION_INFORMATION_EX:
    if (len < 4) return SMBX_STATUS_INFO_LENGTH_MISMATCH;
    return set_disposition(fs, o, (get32(buf) & 1u) != 0);
  case POSIXFS_FILE_POSITION_INFORMATION:
    if (len < 8) return SMBX_STATUS_INFO_LENGTH_MISMATCH;
    if (get64(buf) > INT64_MAX) return SMBX_STATUS_INVALID_PARAMETER;
    o->pos = get64(buf);
    return ST_OK;
  case SMBX_SMB2_FILE_RENAME_INFORMATION:
    return set_rename(fs, o, buf, len);
  default:
    return SMBX_STATUS_INVALID_INFO_CLASS;
  }
}

/* ------------------------------------------------------------------ */
/* security descriptors (MS-DTYP 2.4.6, self-relative) */

#define SD_XATTR "user.smbx.sd"
#define SD_MAX 65536u
#define SE_DACL_PRESENT 0x0004u
#define SE_SACL_PRESENT 0x0010u
#define SE_SELF_RELATIVE 0x8000u
#define SE_DACL_BITS 0x1408u /* DACL defaulted, auto-inherited, protected */
#define SE_SACL_BITS 0x2820u

/* The four parts of a descriptor; a NULL part is absent. */
typedef struct sdparts {
  const uint8_t *part[4]; /* owner, group, dacl, sacl (SECINFO bit order) */
  size_t len[4];
  uint16_t control;
} sdparts;

/* A SID at buf[off]: revision 1, at most 15 sub-authorities, in bounds. */
static size_t sid_len(const uint8_t *buf, size_t len, size_t off) {
  if (off > len || len - off < 8 || buf[off] != 1 || buf[off + 1] > 15)
    return 0;
  size_t n = 8 + 4u * buf[off + 1];
  return n <= len - off ? n : 0;
}

/* An ACL at buf[off]: revision 2 or 4, AclSize in bounds, every ACE header
 * inside it (4-aligned sizes of at least 8 bytes). */
static size_t acl_len(const uint8_t *buf, size_t len, size_t off) {
  if (off > len || len - off < 8 || (buf[off] != 2 && buf[off] != 4))
    return 0;
  size_t size = buf[off + 2] | (size_t)buf[off + 3] << 8;
  size_t count = buf[off + 4] | (size_t)buf[off + 5] << 8;
  if (size < 8 || size > len - off) return 0;
  size_t at = 8;
  for (size_t i = 0; i < count; i++) {
    if (size - at < 8) return 0;
    size_t ace = buf[off + at + 2] | (size_t)buf[off + at + 3] << 8;
    if (ace < 8 || ace % 4 || ace > size - at) return 0;
    at += ace;
  }
  return size;
}

static uint32_t sd_parse(const uint8_t *buf, size_t len, sdparts *p) {
  memset(p, 0, sizeof *p);
  if (len < 20 || buf[0] != 1) return POSIXFS_STATUS_INVALID_SECURITY_DESCR;
  p->control = (uint16_t)(buf[2] | buf[3] << 8);
  if (!(p->control & SE_SELF_RELATIVE))
    return POSIXFS_STATUS_INVALID_SECURITY_DESCR;
  static const int at[4] = {4, 8, 16, 12};
  for (int i = 0; i < 4; i++) {
    uint32_t off = get32(buf + at[i]);
    if (!off) continue;
    if (i >= 2 && !(p->control & (i == 2 ? SE_DACL_PRESENT : SE_SACL_PRESENT)))
      continue;
    size_t n = i < 2 ? sid_len(buf, len, off) : acl_len(buf, len, off);
    if (!n) return POSIXFS_STATUS_INVALID_SECURITY_DESCR;
    p->part[i] = buf + off;
    p->len[i] = n;
  }
  return ST_OK;
}

/* Self-relative encoding of the parts selected by secinfo; returns the
 * size (written only when it fits cap). */
static size_t sd_build(const sdparts *p, uint32_t secinfo, uint8_t *out,
                       size_t cap) {
  static const int at[4] = {4, 8, 16, 12};
  static const uint16_t bits[4] = {0, 0, SE_DACL_PRESENT | SE_DACL_BITS,
                                   SE_SACL_PRESENT | SE_SACL_BITS};
  size_t n = 20;
  uint16_t control = SE_SELF_RELATIVE;
  uint8_t hdr[20];
  memset(hdr, 0, sizeof hdr);
  hdr[0] = 1;
  for (int i = 0; i < 4; i++) {
    if (!(secinfo & (1u << i)) || !p->part[i]) continue;
    put32(hdr + at[i], (uint32_t)n);
    if (n + p->len[i] <= cap) memcpy(out + n, p->part[i], p->len[i]);
    n += p->len[i];
    control |= (uint16_t)(p->control & bits[i]);
    if (i >= 2) control |= i == 2 ? SE_DACL_PRESENT : SE_SACL_PRESENT;
  }
  put16(hdr + 2, control);
  if (n <= cap) memcpy(out, hdr, sizeof hdr);
  return n;
}

static size_t put_sid(uint8_t *p, uint32_t authority, const uint32_t *sub,
                      unsigned nsub) {
  memset(p, 0, 8);
  p[0] = 1;
  p[1] = (uint8_t)nsub;
  p[7] = (uint8_t)authority;
  for (unsigned i = 0; i < nsub; i++) put32(p + 8 + 4 * i, sub[i]);
  return 8 + 4u * nsub;
}

/* rwx bits -> file rights */
static uint32_t mode_rights(unsigned rwx) {
  uint32_t r = POSIXFS_SYNCHRONIZE | POSIXFS_READ_CONTROL |
               POSIXFS_READ_ATTRIBUTES | POSIXFS_READ_EA;
  if (rwx & 4) r |= POSIXFS_READ_DATA;
  if (rwx & 2)
    r |= POSIXFS_WRITE_DATA | POSIXFS_APPEND_DATA | POSIXFS_WRITE_EA |
         POSIXFS_WRITE_ATTRIBUTES | POSIXFS_DELETE_CHILD | POSIXFS_DELETE;
  if (rwx & 1) r |= POSIXFS_EXECUTE;
  return r;
}

/* The descriptor of a file without a stored one, from its POSIX owner,
 * group and mode as Samba maps them: owner S-1-22-1-uid, group
 * S-1-22-2-gid, one ALLOW ACE each for owner (plus WRITE_DAC/OWNER),
 * group and Everyone (S-1-1-0). */
static size_t sd_default(const struct stat *sb, uint8_t *buf) {
  uint8_t *p = buf + 20;
  uint32_t sub[2];
  memset(buf, 0, 20);
  buf[0] = 1;
  put16(buf + 2, SE_SELF_RELATIVE | SE_DACL_PRESENT);
  put32(buf + 4, (uint32_t)(p - buf));
  sub[0] = 1;
  sub[1] = (uint32_t)sb->st_uid;
  p += put_sid(p, 22, sub, 2);
  put32(buf + 8, (uint32_t)(p - buf));
  sub[0] = 2;
  sub[1] = (uint32_t)sb->st_gid;
  p += put_sid(p, 22, sub, 2);
  put32(buf + 16, (uint32_t)(p - buf));
  uint8_t *acl = p;
  p += 8;
  for (int i = 0; i < 3; i++) {
    uint8_t *ace = p;
    unsigned rwx = (unsigned)(sb->st_mode >> (6 - 3 * i)) & 7u;
    uint32_t mask = mode_rights(rwx);
    if (i == 0) mask |= POSIXFS_WRITE_DAC | POSIXFS_WRITE_OWNER;
    ace[0] = 0; /* ACCESS_ALLOWED */
    ace[1] = 0;
    put32(ace + 4, mask);
    size_t sl;
    if (i < 2) {
      sub[0] = (uint32_t)(i + 1);
      sub[1] = i == 0 ? (uint32_t)sb->st_uid : (uint32_t)sb->st_gid;
      sl = put_sid(ace + 8, 22, sub, 2);
    } else {
      sub[0] = 0;
      sl = put_sid(ace + 8, 1, sub, 1);
    }
    put16(ace + 2, (uint32_t)(8 + sl));
    p += 8 + sl;
  }
  acl[0] = 2;
  acl[1] = 0;
  put16(acl + 2, (uint32_t)(p - acl));
  put16(acl + 4, 3);
  put16(acl + 6, 0);
  return (size_t)(p - buf);
}

/* The stored descriptor (SD_XATTR) or the default one, in buf[SD_MAX]. */
static uint32_t sd_current(open_s *o, uint8_t *buf, size_t *len) {
  char pp[64];
  proc_path(pp, sizeof pp, o->pfd);
  ssize_t r = getxattr(pp, SD_XATTR, buf, SD_MAX);
  if (r >= 20) {
    *len = (size_t)r;
    return ST_OK;
  }
  struct stat sb;
  if (fstat(o->pfd, &sb) != 0) return errno_status(errno);
  *len = sd_default(&sb, buf);
  return ST_OK;
}

uint32_t posixfs_query_security(posixfs *fs, smbx_smb2_fileid fid,
                                uint32_t secinfo, uint8_t *out, uint32_t cap,
                                uint32_t *out_len) {
  *out_len = 0;
  open_s *o = fs ? lookup(fs, fid) : NULL;
  if (!o) return SMBX_STATUS_FILE_CLOSED;
  if (!(o->access & POSIXFS_READ_CONTROL) || (secinfo & POSIXFS_SECINFO_SACL))
    return SMBX_STATUS_ACCESS_DENIED; /* a SACL needs ACCESS_SYSTEM_SECURITY */
  uint8_t *buf = malloc(SD_MAX);
  if (!buf) return SMBX_STATUS_INSUFFICIENT_RESOURCES;
  size_t len = 0;
  sdparts p;
  uint32_t st = sd_current(o, buf, &len);
  if (st == ST_OK) st = sd_parse(buf, len, &p);
  if (st == ST_OK) {
    size_t n = sd_build(&p, secinfo & POSIXFS_SECINFO_MASK, out, cap);
    *out_len = (uint32_t)n;
    if (n > cap) st = SMBX_STATUS_BUFFER_TOO_SMALL;
  }
  free(buf);
  return st;
}

uint32_t posixfs_set_security(posixfs *fs, smbx_smb2_fileid fid,
                              uint32_t secinfo, const uint8_t *sd,
                              size_t len) {
  open_s *o = fs ? lookup(fs, fid) : NULL;
  if (!o) return SMBX_STATUS_FILE_CLOSED;
  if (secinfo & POSIXFS_SECINFO_SACL) return SMBX_STATUS_ACCESS_DENIED;
  secinfo &= POSIXFS_SECINFO_MASK;
  if (((secinfo & (POSIXFS_SECINFO_OWNER | POSIXFS_SECINFO_GROUP)) &&
       !(o->access & POSIXFS_WRITE_OWNER)) ||
      ((secinfo & POSIXFS_SECINFO_DACL) && !(o->access & POSIXFS_WRITE_DAC)))
    return SMBX_STATUS_ACCESS_DENIED;
  sdparts in, cur;
  uint32_t st = sd_parse(sd, len, &in);
  if (st != ST_OK || !secinfo) return st;
  uint8_t *buf = malloc(2 * (size_t)SD_MAX);
  if (!buf) return SMBX_STATUS_INSUFFICIENT_RESOURCES;
  size_t clen = 0;
  st = sd_current(o, buf, &clen);
  if (st == ST_OK) st = sd_parse(buf, clen, &cur);
  if (st == ST_OK) {
    for (int i = 0; i < 3; i++) {
      if (!(secinfo & (1u << i))) continue;
      cur.part[i] = in.part[i];
      cur.len[i] = in.len[i];
    }
    if (secinfo & POSIXFS_SECINFO_DACL)
      cur.control = (uint16_t)((cur.control & ~SE_DACL_BITS) |
                               (in.control & SE_DACL_BITS));
    size_t n = sd_build(&cur, POSIXFS_SECINFO_MASK, buf + SD_MAX, SD_MAX);
    char pp[64];
    proc_path(pp, sizeof pp, o->pfd);
    if (n > SD_MAX)
      st = POSIXFS_STATUS_INVALID_SECURITY_DESCR;
    else if (setxattr(pp, SD_XATTR, buf + SD_MAX, n, 0) != 0)
      st = errno == ENOTSUP ? SMBX_STATUS_NOT_SUPPORTED : errno_status(errno);
  }
  free(buf);
  return st;
}

/* ------------------------------------------------------------------ */
/* change notify */

static int watch_add(posixfs *fs, open_s *o, int dirfd, const char *rel) {
  if (fs->nw >= WATCH_MAX) return -1;
  char pp[64];
  proc_path(pp, sizeof pp, dirfd);
  int wd = inotify_add_watch(fs->inofd, pp, INOTIFY_MASK);
  if (wd < 0) return -1;
  if (fs->nw == fs->capw) {
    size_t nc = fs->capw ? fs->capw * 2 : 16;
    watchrec *nw = realloc(fs->w, nc * sizeof *nw);
    if (!nw) return -1;
    fs->w = nw;
    fs->capw = nc;
  }
  char *r = xstrdup(rel);
  if (!r) return -1;
  fs->w[fs->nw].wd = wd;
  fs->w[fs->nw].o = o;
  fs->w[fs->nw].rel = r;
  fs->nw++;
  return 0;
}

/* Watch dirfd's subdirectories (depth first), rel names relative to o. */
static void watch_tree(posixfs *fs, open_s *o, int dirfd, const char *rel,
                       int depth) {
  if (depth > 32) return;
  int dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d) {
    if (dfd >= 0) close(dfd);
    return;
  }
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    int sfd = openat(dirfd, de->d_name,
                     O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sfd < 0) continue;
    char *sub = join(rel, de->d_name);
    if (sub && watch_add(fs, o, sfd, sub) == 0)
      watch_tree(fs, o, sfd, sub, depth + 1);
    free(sub);
    close(sfd);
  }
  closedir(d);
}

uint32_t posixfs_notify_watch(posixfs *fs, smbx_smb2_fileid fid,
                              uint32_t completion_filter, int watch_tree_) {
  open_s *o = fs ? lookup(fs, fid) : NULL;
  if (!o) return SMBX_STATUS_FILE_CLOSED;
  if (!o->is_dir) return SMBX_STATUS_INVALID_PARAMETER;
  if (!(o->access & POSIXFS_READ_DATA)) return SMBX_STATUS_ACCESS_DENIED;
  o->filter = completion_filter;
  if (o->watching && (o->tree != 0) == (watch_tree_ != 0)) return ST_OK;
  if (o->watching) unwatch(fs, o);
  o->tree = watch_tree_ != 0;
  if (watch_add(fs, o, o->pfd, "") != 0)
    return SMBX_STATUS_INSUFFICIENT_RESOURCES;
  if (o->tree) watch_tree(fs, o, o->pfd, "", 0);
  o->watching = 1;
  return ST_OK;
}

static void queue_event(open_s *o, uint32_t action, const char *name) {
  if (o->overflow) return;
  if (o->nq >= NOTIFY_QUEUE_MAX) {
    o->overflow = 1;
    return;
  }
  if ((o->nq & (o->nq - 1)) == 0) { /* grow at powers of two */
    size_t nc = o->nq ? o->nq * 2 : 8;
    nevent *nq = realloc(o->q, nc * sizeof *nq);
    if (!nq) {
      o->overflow = 1;
      return;
    }
    o->q = nq;
  }
  char *nm = xstrdup(name);
  if (!nm) {
    o->overflow = 1;
    return;
  }
  o->q[o->nq].action = action;
  o->q[o->nq].name = nm;
  o->nq++;
}

/* A rename inside one directory: the other half of the move (same cookie)
 * is in this read buffer and on the same watch descriptor. A move between
 * directories is REMOVED + ADDED, as on Windows. */
static int move_paired(const char *buf, size_t len,
                       const struct inotify_event *ev, uint32_t other) {
  for (size_t off = 0; off < len;) {
    const struct inotify_event *e =
        (const struct inotify_event *)(const void *)(buf + off);
    off += sizeof *e + e->len;
    if (e != ev && (e->mask & other) && e->cookie == ev->cookie)
      return e->wd == ev->wd;
  }
  return 0;
}

int posixfs_notify_drain(posixfs *fs) {
  if (!fs) return -EINVAL;
  int count = 0;
  for (;;) {
    _Alignas(struct inotify_event) char buf[16384];
    ssize_t r = read(fs->inofd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return count;
      return -errno;
    }
    if (r == 0) return count;
    for (size_t off = 0; off < (size_t)r;) {
      const struct inotify_event *ev =
          (const struct inotify_event *)(const void *)(buf + off);
      off += sizeof *ev + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        for (size_t i = 0; i < fs->nslots; i++)
          if (fs->slots[i] && fs->slots[i]->watching)
            fs->slots[i]->overflow = 1;
        continue;
      }
      if (ev->mask & IN_IGNORED) {
        size_t w = 0;
        for (size_t i = 0; i < fs->nw; i++) {
          if (fs->w[i].wd == ev->wd) {
            if (!fs->w[i].rel[0]) fs->w[i].o->gone = 1; /* top removed */
            free(fs->w[i].rel);
            continue;
          }
          fs->w[w++] = fs->w[i];
        }
        fs->nw = w;
        continue;
      }
      if (!ev->len) continue;
      int isdir = (ev->mask & IN_ISDIR) != 0;
      uint32_t action, filt;
      if (ev->mask & IN_CREATE) action = SMBX_SMB2_ACTION_ADDED;
      else if (ev->mask & IN_DELETE) action = SMBX_SMB2_ACTION_REMOVED;
      else if (ev->mask & IN_MOVED_FROM)
        action = move_paired(buf, (size_t)r, ev, IN_MOVED_TO)
                     ? SMBX_SMB2_ACTION_RENAMED_OLD_NAME
                     : SMBX_SMB2_ACTION_REMOVED;
      else if (ev->mask & IN_MOVED_TO)
        action = move_paired(buf, (size_t)r, ev, IN_MOVED_FROM)
                     ? SMBX_SMB2_ACTION_RENAMED_NEW_NAME
                     : SMBX_SMB2_ACTION_ADDED;
      else action = SMBX_SMB2_ACTION_MODIFIED;
      if (action == SMBX_SMB2_ACTION_MODIFIED)
        filt = (ev->mask & IN_ATTRIB)
                   ? (SMBX_SMB2_NOTIFY_ATTRIBUTES | SMBX_SMB2_NOTIFY_SECURITY)
                   : (SMBX_SMB2_NOTIFY_LAST_WRITE | SMBX_SMB2_NOTIFY_SIZE);
      else
        filt = isdir ? SMBX_SMB2_NOTIFY_DIR_NAME : SMBX_SMB2_NOTIFY_FILE_NAME;
      /* records may be appended while iterating (new subdirectories) */
      size_t nw0 = fs->nw;
      for (size_t i = 0; i < nw0; i++) {
        if (fs->w[i].wd != ev->wd) continue;
        open_s *o = fs->w[i].o;
        char *full = join(fs->w[i].rel, ev->name);
        if (!full) continue;
        if (o->tree && isdir &&
            (action == SMBX_SMB2_ACTION_ADDED ||
             action == SMBX_SMB2_ACTION_RENAMED_NEW_NAME)) {
          int sfd = openat(o->pfd, full,
                           O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sfd >= 0) {
            if (watch_add(fs, o, sfd, full) == 0)
              watch_tree(fs, o, sfd, full, 1);
            close(sfd);
          }
        }
        if (o->filter & filt) {
          queue_event(o, action, full);
          count++;
        }
        free(full);
      }
    }
  }
}

uint32_t posixfs_notify_take(posixfs *fs, smbx_smb2_fileid fid, uint8_t *out,
                             uint32_t cap, uint32_t *out_len) {
  *out_len = 0;
  open_s *o = fs ? lookup(fs, fid) : NULL;
  if (!o) return SMBX_STATUS_FILE_CLOSED;
  if (!o->watching) return SMBX_STATUS_INVALID_PARAMETER;
  uint32_t st = ST_OK;
  size_t used = 0;
  if (o->gone) {
    o->gone = 0;
    unwatch(fs, o);
    for (size_t i = 0; i < o->nq; i++) free(o->q[i].name);
    free(o->q);
    o->q = NULL;
    o->nq = 0;
    o->overflow = 0;
    return SMBX_STATUS_DELETE_PENDING;
  }
  if (o->overflow) {
    st = SMBX_STATUS_NOTIFY_ENUM_DIR;
    used = o->nq;
  } else if (o->nq == 0) {
    return SMBX_STATUS_PENDING;
  } else {
    smbx_smb2_notify_builder b;
    smbx_smb2_notify_builder_init(&b, out, cap);
    for (; used < o->nq; used++) {
      char *wp = win_path(o->q[used].name, 0);
      uint8_t *u16 = NULL;
      size_t u16l = 0;
      int ok = wp && utf8_to_16(wp, &u16, &u16l) == 0;
      free(wp);
      if (!ok) continue;
      smbx_smb2_notify_entry e;
      memset(&e, 0, sizeof e);
      e.action = o->q[used].action;
      e.file_name.p = u16;
      e.file_name.len = u16l;
      int rc = smbx_smb2_notify_builder_add(&b, &e);
      free(u16);
      if (rc != 0) break;
    }
    /* MS-FSA 2.1.5.10: the queued changes that do not all fit the
     * buffer are dropped and the caller re-enumerates (ENUM_DIR) */
    if (used < o->nq || b.count == 0) {
      st = SMBX_STATUS_NOTIFY_ENUM_DIR;
      used = o->nq;
    } else {
      *out_len = (uint32_t)b.len;
    }
  }
  for (size_t i = 0; i < used; i++) free(o->q[i].name);
  memmove(o->q, o->q + used, (o->nq - used) * sizeof *o->q);
  o->nq -= used;
  o->overflow = 0;
  if (o->nq == 0) {
    free(o->q);
    o->q = NULL;
  }
  return st;
}
