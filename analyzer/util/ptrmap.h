/*
 * analyzer/util/ptrmap.h - an open-addressing hash map of items by a 64-bit hash.
 *
 * Why not uthash for the per-record tables (blocks, views): uthash chains
 * its nodes and lets a bucket hold about ten of them before it expands, so a
 * lookup among a few thousand live blocks walks several scattered nodes,
 * one cache miss each; on the benchmark log it was 70% of the replay time.
 * Here a slot is {hash, item} in one flat array, linear probing, at most
 * half full: a lookup usually touches one slot and then the item itself.
 *
 * The map stores pointers to caller-owned items; the caller gives the hash
 * of the key (sla_hash64()) and an equality test of an item against a key.
 * Deletion shifts the following entries back (no tombstones), so the
 * probe sequences stay short however many items come and go.
 * Header-only so that the equality tests inline into the lookups.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct sla_ptrmap_slot {
	uint64_t hash; /* of the item's key */
	void *item;    /* NULL: empty */
};

struct sla_ptrmap {
	struct sla_ptrmap_slot *slots; /* mask + 1 of them, or NULL before the first insert */
	size_t mask;
	size_t count;
};

/* The equality of an item and a key, given by each table's user. */
typedef bool (*sla_ptrmap_eq_fn)(const void *item, const void *key);

/* A 64-bit finalizer (murmur3's): addresses differ in few, low bits. */
static inline uint64_t sla_hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static inline void *sla_ptrmap_find(const struct sla_ptrmap *m, uint64_t hash,
				    sla_ptrmap_eq_fn eq, const void *key)
{
	if (!m->slots)
		return NULL;
	for (size_t i = hash & m->mask;; i = (i + 1) & m->mask) {
		const struct sla_ptrmap_slot *s = &m->slots[i];

		if (!s->item)
			return NULL;
		if (s->hash == hash && eq(s->item, key))
			return s->item;
	}
}

/* Doubles the table (or creates it) and reinserts every item. */
static inline void sla_ptrmap_grow(struct sla_ptrmap *m)
{
	size_t n = m->slots ? (m->mask + 1) * 2 : 64;
	struct sla_ptrmap_slot *old = m->slots;
	size_t old_n = old ? m->mask + 1 : 0;

	m->slots = sla_xcalloc(n, sizeof(*m->slots));
	m->mask = n - 1;
	for (size_t j = 0; j < old_n; j++) {
		size_t i;

		if (!old[j].item)
			continue;
		for (i = old[j].hash & m->mask; m->slots[i].item; i = (i + 1) & m->mask)
			;
		m->slots[i] = old[j];
	}
	free(old);
}

/* Inserts an item whose key is not in the map yet. */
static inline void sla_ptrmap_insert(struct sla_ptrmap *m, uint64_t hash, void *item)
{
	size_t i;

	if (!m->slots || (m->count + 1) * 2 > m->mask + 1)
		sla_ptrmap_grow(m);
	for (i = hash & m->mask; m->slots[i].item; i = (i + 1) & m->mask)
		;
	m->slots[i] = (struct sla_ptrmap_slot){ hash, item };
	m->count++;
	sla_assert(m->count * 2 <= m->mask + 1); /* at most half full: every probe ends */
}

/* Removes this very item (found by pointer along its probe sequence); false if absent. */
static inline bool sla_ptrmap_remove(struct sla_ptrmap *m, uint64_t hash, const void *item)
{
	size_t i, j;

	if (!m->slots)
		return false;
	for (i = hash & m->mask; m->slots[i].item != item; i = (i + 1) & m->mask)
		if (!m->slots[i].item)
			return false;
	/* backward shift: pull later entries of the cluster into the hole when allowed */
	for (j = (i + 1) & m->mask; m->slots[j].item; j = (j + 1) & m->mask) {
		size_t home = m->slots[j].hash & m->mask;

		/* the entry at j may move to i only if its home is not in (i, j] cyclically */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i] = (struct sla_ptrmap_slot){ 0, NULL };
	sla_assert(m->count > 0);
	m->count--;
	return true;
}

static inline void sla_ptrmap_free(struct sla_ptrmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/* Iteration: for (size_t i = 0; i < sla_ptrmap_size(m); i++) if (m->slots[i].item) ... */
static inline size_t sla_ptrmap_size(const struct sla_ptrmap *m)
{
	return m->slots ? m->mask + 1 : 0;
}
