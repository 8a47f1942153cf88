/* analyzer/stacks.c - stacks shared by all the logs of one analysis. */
#include <string.h>

#include <uthash.h>

#include "stacks.h"
#include "xalloc.h"

/* One canonical stack. */
struct canon {
	uint8_t *key;		  /* frames as (path NUL offset) or (NUL ip) */
	size_t keylen;
	uint32_t gid;
	struct sla_state *st;	  /* a representative: the first log seen with it */
	uint32_t id;		  /* its id there */
	struct sla_frame *frames; /* symbolized on first print */
	size_t nframes;
	bool symbolized;
	UT_hash_handle hh;
};

/* Per log: local stack id -> gid + 1 (0: not interned yet). */
struct per_log {
	struct sla_state *st;
	uint32_t *gids;
	size_t cap;
};

struct sla_stackset {
	struct canon *by_key;
	struct canon **by_gid; /* [gid] */
	size_t ngid, gid_cap;
	struct per_log *logs;
	size_t nlogs, logs_cap;
	uint64_t trimmed;
	uint8_t *buf; /* key being built */
	size_t buf_cap;
};

struct sla_stackset *sla_stackset_new(void)
{
	struct sla_stackset *set = sla_xcalloc(1, sizeof(*set));
	struct canon *empty = sla_xcalloc(1, sizeof(*empty));

	/* gid 0: the empty stack, with an empty key */
	empty->key = sla_xmalloc(1);
	empty->symbolized = true;
	sla_xgrow(&set->by_gid, &set->gid_cap, 1, sizeof(*set->by_gid));
	set->by_gid[0] = empty;
	set->ngid = 1;
	HASH_ADD_KEYPTR(hh, set->by_key, empty->key, 0, empty);
	return set;
}

void sla_stackset_free(struct sla_stackset *set)
{
	struct canon *c, *tmp;

	if (!set)
		return;
	HASH_ITER(hh, set->by_key, c, tmp) {
		HASH_DELETE(hh, set->by_key, c);
		free(c->key);
		free(c->frames);
		free(c);
	}
	for (size_t i = 0; i < set->nlogs; i++)
		free(set->logs[i].gids);
	free(set->logs);
	free(set->by_gid);
	free(set->buf);
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
static const struct sla_mod *module_of(const struct sla_state *st, const struct sla_stack_node *n)
{
	return sla_state_find_module(st, n->gen, n->ip ? n->ip - 1 : 0);
}

static void put_key(struct sla_stackset *set, size_t *len, const void *p, size_t n)
{
	sla_xgrow(&set->buf, &set->buf_cap, *len + n, 1);
	memcpy(set->buf + *len, p, n);
	*len += n;
}

static struct per_log *log_of(struct sla_stackset *set, struct sla_state *st)
{
	for (size_t i = 0; i < set->nlogs; i++)
		if (set->logs[i].st == st)
			return &set->logs[i];
	sla_xgrow(&set->logs, &set->logs_cap, set->nlogs + 1, sizeof(*set->logs));
	set->logs[set->nlogs] = (struct per_log){ .st = st };
	return &set->logs[set->nlogs++];
}

uint32_t sla_stackset_intern(struct sla_stackset *set, struct sla_state *st, uint32_t id)
{
	struct per_log *pl = log_of(set, st);
	struct canon *c;
	size_t len = 0;

	if (id == 0)
		return 0;
	if (id < pl->cap && pl->gids[id])
		return pl->gids[id] - 1;
	for (uint32_t s = id; s; s = st->stacks[s].parent) {
		const struct sla_stack_node *n = &st->stacks[s];
		const struct sla_mod *m = module_of(st, n);

		if (m && is_own_module(m->path)) {
			set->trimmed++;
			continue;
		}
		if (m) {
			uint64_t off = n->ip - m->m.bias;

			put_key(set, &len, m->path, strlen(m->path) + 1);
			put_key(set, &len, &off, sizeof(off));
		} else {
			put_key(set, &len, "", 1);
			put_key(set, &len, &n->ip, sizeof(n->ip));
		}
	}
	if (len == 0) {
		c = set->by_gid[0]; /* every frame trimmed: the empty stack */
		goto out_cache;
	}
	HASH_FIND(hh, set->by_key, set->buf, len, c);
	if (!c) {
		c = sla_xcalloc(1, sizeof(*c));
		c->key = sla_xmalloc(len);
		memcpy(c->key, set->buf, len);
		c->keylen = len;
		c->gid = (uint32_t)set->ngid;
		c->st = st;
		c->id = id;
		HASH_ADD_KEYPTR(hh, set->by_key, c->key, c->keylen, c);
		sla_xgrow(&set->by_gid, &set->gid_cap, set->ngid + 1, sizeof(*set->by_gid));
		set->by_gid[set->ngid++] = c;
	}
out_cache:
	if (id >= pl->cap) {
		size_t old = pl->cap;

		sla_xgrow(&pl->gids, &pl->cap, (size_t)id + 1, sizeof(*pl->gids));
		memset(pl->gids + old, 0, (pl->cap - old) * sizeof(*pl->gids));
	}
	pl->gids[id] = c->gid + 1;
	return c->gid;
}

size_t sla_stackset_frames(struct sla_stackset *set, uint32_t gid, struct sla_symbolizer *sym,
			   const struct sla_frame **frames)
{
	struct canon *c = set->by_gid[gid];
	size_t cap = 0;

	if (!c->symbolized) {
		const struct sla_state *st = c->st;

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
