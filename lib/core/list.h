/* SPDX-License-Identifier: MIT */
/* Intrusive doubly-linked circular list with a sentinel head.
 *
 * Embed an smbx__list node in each object and get the object back with
 * SMBX__CONTAINER_OF. The head is an smbx__list too; an empty head points
 * to itself. Nothing allocates. A removed node points to itself, so
 * smbx__list_linked() tells whether a node is on a list and removing a node
 * twice is harmless (nodes must be initialized with smbx__list_init before
 * their first use for that to hold). */
#ifndef SMBX_CORE_LIST_H
#define SMBX_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct smbx__list {
  struct smbx__list *next;
  struct smbx__list *prev;
} smbx__list;

/* The object of type `type` whose member `member` is at ptr. */
#define SMBX__CONTAINER_OF(ptr, type, member) \
  ((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define SMBX__CONTAINER_OF_CONST(ptr, type, member) \
  ((const type *)(const void *)((const char *)(ptr) - offsetof(type, member)))

/* Iterates over the nodes of head; the body must not remove `it`. */
#define SMBX__LIST_FOREACH(it, head) \
  for (smbx__list *it = (head)->next; it != (head); it = it->next)

/* Iterates allowing the body to remove (or move) `it`, but no other node. */
#define SMBX__LIST_FOREACH_SAFE(it, tmp, head)                              \
  for (smbx__list *it = (head)->next, *tmp = it->next; it != (head);        \
       it = tmp, tmp = it->next)

/* Same, from the back. */
#define SMBX__LIST_FOREACH_REVERSE_SAFE(it, tmp, head)                      \
  for (smbx__list *it = (head)->prev, *tmp = it->prev; it != (head);        \
       it = tmp, tmp = it->prev)

/* Makes an empty head, or an unlinked node. */
static inline void smbx__list_init(smbx__list *l)
{
  l->next = l;
  l->prev = l;
}

static inline bool smbx__list_empty(const smbx__list *head)
{
  return head->next == head;
}

/* True when the node is on a list (false after init or remove). */
static inline bool smbx__list_linked(const smbx__list *n)
{
  return n->next != n;
}

/* Links n between prev and next (n must not be on a list). */
static inline void smbx__list_link(smbx__list *n, smbx__list *prev,
                                   smbx__list *next)
{
  n->prev = prev;
  n->next = next;
  prev->next = n;
  next->prev = n;
}

static inline void smbx__list_insert_head(smbx__list *head, smbx__list *n)
{
  smbx__list_link(n, head, head->next);
}

static inline void smbx__list_insert_tail(smbx__list *head, smbx__list *n)
{
  smbx__list_link(n, head->prev, head);
}

/* Inserts n right after / before pos (pos may be the head). */
static inline void smbx__list_insert_after(smbx__list *pos, smbx__list *n)
{
  smbx__list_link(n, pos, pos->next);
}

static inline void smbx__list_insert_before(smbx__list *pos, smbx__list *n)
{
  smbx__list_link(n, pos->prev, pos);
}

/* Unlinks n; n then points to itself. No-op on an unlinked node. */
static inline void smbx__list_remove(smbx__list *n)
{
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->next = n;
  n->prev = n;
}

/* Moves n (linked or not) to the tail of head (LRU touch). */
static inline void smbx__list_move_tail(smbx__list *head, smbx__list *n)
{
  smbx__list_remove(n);
  smbx__list_insert_tail(head, n);
}

/* First / last node, or NULL when empty. */
static inline smbx__list *smbx__list_first(const smbx__list *head)
{
  return head->next == head ? NULL : head->next;
}

static inline smbx__list *smbx__list_last(const smbx__list *head)
{
  return head->prev == head ? NULL : head->prev;
}

/* The node after / before n on head's list, or NULL at the end. */
static inline smbx__list *smbx__list_next(const smbx__list *head,
                                          const smbx__list *n)
{
  return n->next == head ? NULL : n->next;
}

static inline smbx__list *smbx__list_prev(const smbx__list *head,
                                          const smbx__list *n)
{
  return n->prev == head ? NULL : n->prev;
}

/* Removes and returns the first node, or NULL when empty. */
static inline smbx__list *smbx__list_pop_head(smbx__list *head)
{
  smbx__list *n = smbx__list_first(head);
  if (n)
    smbx__list_remove(n);
  return n;
}

/* Appends all of src's nodes to dst's tail in order; src becomes empty. */
static inline void smbx__list_splice_tail(smbx__list *dst, smbx__list *src)
{
  if (smbx__list_empty(src))
    return;
  smbx__list *first = src->next, *last = src->prev;
  first->prev = dst->prev;
  dst->prev->next = first;
  last->next = dst;
  dst->prev = last;
  smbx__list_init(src);
}

/* Number of nodes: O(n), for checks and tests. */
static inline size_t smbx__list_len(const smbx__list *head)
{
  size_t n = 0;
  for (const smbx__list *it = head->next; it != head; it = it->next)
    n++;
  return n;
}

#endif
