/*
 * analyzer/replay/stacks.c - stacks shared by all the logs of one analysis.
 *
 * Canonical stacks form a tree like the logs' own stacks: a canonical stack
 * is (canonical parent, module, offset), interned in a hash map. Interning a
 * log's stack therefore costs one module lookup and one map probe per edge,
 * once per edge, whatever the depth: the tracker interns every stack that
 * allocated, which for a large program is hundreds of thousands of edges.
 */
#include <string.h>

#include "hash.h"

#include "ptrmap.h"
#include "stacks.h"
#include "xalloc.h"

/* One canonical stack: its last (innermost) frame on top of its parent. */
struct canon {
	uint32_t parent;	  /* canonical parent, 0 = root */
	uint32_t mod;		  /* module path id, 0 = no module */
	uint64_t offset;	  /* in that module, or the address without one */
	uint32_t gid;
	struct sla_state *st;	  /* a representative: the first log seen with it */
	uint32_t id;		  /* its id there */
	struct sla_frame *frames; /* symbolized on first print */
	size_t nframes;
	bool symbolized;
};

/* A module path, interned: the same library in several logs is one module. */
struct modname {
	char *path;
	uint32_t id;
	UT_hash_handle hh;
};

/* Per log: local stack id -> gid + 1 (0: not interned yet). */
struct per_log {
	struct sla_state *st;
	uint32_t *gids;
	size_t cap;
};

struct sla_stackset {
	struct sla_ptrmap by_key; /* struct canon by (parent, mod, offset) */
	struct canon **by_gid;	  /* [gid]; [0] is the empty stack */
	size_t ngid, gid_cap;
	struct modname *mods;
	uint32_t nmods;
	struct per_log *logs;
	size_t nlogs, logs_cap;
	uint64_t trimmed;
	uint32_t *walk; /* scratch: ids on the way up to an interned ancestor */
	size_t walk_cap;
};

struct sla_stackset *sla_stackset_new(void)
{
	struct sla_stackset *set = sla_xcalloc(1, sizeof(*set));

	sla_xgrow(&set->by_gid, &set->gid_cap, 1, sizeof(*set->by_gid));
	set->by_gid[0] = sla_xcalloc(1, sizeof(struct canon));
	set->by_gid[0]->symbolized = true;
	set->ngid = 1;
	return set;
}

void sla_stackset_free(struct sla_stackset *set)
{
	struct modname *m, *tmp;

	if (!set)
		return;
	for (size_t i = 0; i < set->ngid; i++) {
		free(set->by_gid[i]->frames);
		free(set->by_gid[i]);
	}
	HASH_ITER(hh, set->mods, m, tmp) {
		HASH_DELETE(hh, set->mods, m);
		free(m->path);
		free(m);
	}
	for (size_t i = 0; i < set->nlogs; i++)
		free(set->logs[i].gids);
	sla_ptrmap_free(&set->by_key);
	free(set->logs);
	free(set->by_gid);
	free(set->walk);
	free(set);
}

uint64_t sla_stackset_trimmed(const struct sla_stackset *set)
{
	return set->trimmed;
}

/* True for a module whose frames never belong in a report: the runtime and the shim. */
static bool is_own_module(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libslice.so", 11) || !strncmp(base, "libsliceleak.so", 15);
}

/* Return addresses point after the call: look up ip - 1 (any byte of the call). */
static const struct sla_mod *module_of(struct sla_state *st, const struct sla_stack_node *n)
{
	return sla_state_find_module(st, n->gen, n->ip ? n->ip - 1 : 0);
}

static uint32_t module_id(struct sla_stackset *set, const char *path)
{
	struct modname *m;

	HASH_FIND_STR(set->mods, path, m);
	if (!m) {
		m = sla_xcalloc(1, sizeof(*m));
		m->path = sla_xstrndup(path, strlen(path));
		m->id = ++set->nmods;
		HASH_ADD_KEYPTR(hh, set->mods, m->path, strlen(m->path), m);
	}
	return m->id;
}

static struct per_log *log_of(struct sla_stackset *set, struct sla_state *st)
{
	struct per_log *pl;

	for (size_t i = 0; i < set->nlogs; i++)
		if (set->logs[i].st == st)
			return &set->logs[i];
	sla_xgrow(&set->logs, &set->logs_cap, set->nlogs + 1, sizeof(*set->logs));
	pl = &set->logs[set->nlogs++];
	*pl = (struct per_log){ .st = st };
	/* every stack of the log gets an entry, zeroed: "not interned yet" */
	pl->cap = st->nstacks;
	pl->gids = sla_xcalloc(pl->cap, sizeof(*pl->gids));
	return pl;
}

static bool canon_eq(const void *item, const void *key)
{
	const struct canon *c = item, *k = key;

	return c->parent == k->parent && c->mod == k->mod && c->offset == k->offset;
}

static uint64_t canon_hash(const struct canon *k)
{
	return sla_hash64(((uint64_t)k->parent << 32 | k->mod) ^ sla_hash64(k->offset));
}

/* The canonical id of edge `id` whose parent's canonical id is `parent_gid`. */
static uint32_t intern_edge(struct sla_stackset *set, struct sla_state *st, uint32_t id,
			    uint32_t parent_gid)
{
	const struct sla_stack_node *n = &st->stacks[id];
	const struct sla_mod *m = module_of(st, n);
	struct canon key = { .parent = parent_gid }, *c;
	uint64_t hash;

	if (m && is_own_module(m->path)) {
		set->trimmed++;
		return parent_gid; /* the frame vanishes: same stack as its parent */
	}
	key.mod = m ? module_id(set, m->path) : 0;
	key.offset = m ? n->ip - m->m.bias : n->ip;
	hash = canon_hash(&key);
	c = sla_ptrmap_find(&set->by_key, hash, canon_eq, &key);
	if (!c) {
		c = sla_xmalloc(sizeof(*c));
		*c = key;
		c->gid = (uint32_t)set->ngid;
		c->st = st;
		c->id = id;
		sla_ptrmap_insert(&set->by_key, hash, c);
		sla_xgrow(&set->by_gid, &set->gid_cap, set->ngid + 1, sizeof(*set->by_gid));
		set->by_gid[set->ngid++] = c;
	}
	return c->gid;
}

uint32_t sla_stackset_intern(struct sla_stackset *set, struct sla_state *st, uint32_t id)
{
	struct per_log *pl = log_of(set, st);
	size_t n = 0;
	uint32_t gid = 0, s;

	if (id == 0 || id >= st->nstacks)
		return 0; /* ids the log never defined cannot come from replay */
	if (id >= pl->cap) { /* the state grew since: cover its new stacks */
		size_t old = pl->cap;

		sla_xgrow(&pl->gids, &pl->cap, st->nstacks, sizeof(*pl->gids));
		memset(pl->gids + old, 0, (pl->cap - old) * sizeof(*pl->gids));
	}
	/* climb to the nearest interned ancestor, then intern on the way down */
	for (s = id; s && !pl->gids[s]; s = st->stacks[s].parent) {
		sla_xgrow(&set->walk, &set->walk_cap, n + 1, sizeof(*set->walk));
		set->walk[n++] = s;
	}
	gid = s ? pl->gids[s] - 1 : 0;
	while (n--) {
		gid = intern_edge(set, st, set->walk[n], gid);
		pl->gids[set->walk[n]] = gid + 1;
	}
	return gid;
}

size_t sla_stackset_frames(struct sla_stackset *set, uint32_t gid, struct sla_symbolizer *sym,
			   const struct sla_frame **frames)
{
	struct canon *c = set->by_gid[gid];
	size_t cap = 0;

	if (!c->symbolized) {
		struct sla_state *st = c->st;

		for (uint32_t s = c->id; s; s = st->stacks[s].parent) {
			const struct sla_stack_node *n = &st->stacks[s];
			const struct sla_mod *m = module_of(st, n);
			struct sla_frame tmp[16];
			size_t got;

			if (m && is_own_module(m->path))
				continue;
			got = sla_symbolize(sym, m ? &m->m : NULL, n->ip, true, tmp, 16);
			sla_xgrow(&c->frames, &cap, c->nframes + got, sizeof(*c->frames));
			memcpy(c->frames + c->nframes, tmp, got * sizeof(*tmp));
			c->nframes += got;
		}
		c->symbolized = true;
	}
	*frames = c->frames;
	return c->nframes;
}

size_t sla_stackset_count(const struct sla_stackset *set)
{
	return set->ngid;
}

uint32_t sla_stackset_parent(const struct sla_stackset *set, uint32_t gid)
{
	return set->by_gid[gid]->parent;
}

size_t sla_stackset_leaf(struct sla_stackset *set, uint32_t gid, struct sla_symbolizer *sym,
			 const struct sla_module **mod, struct sla_frame *frames, size_t max)
{
	const struct canon *c = set->by_gid[gid];
	const struct sla_stack_node *n;
	const struct sla_mod *m;

	*mod = NULL;
	if (!gid)
		return 0;
	n = &c->st->stacks[c->id];
	m = module_of(c->st, n);
	*mod = m ? &m->m : NULL;
	return sla_symbolize(sym, *mod, n->ip, true, frames, max);
}
