/*
 * preload/stacks.c - stack interning.
 *
 * A stack goes into the log once, as edges of a tree (format.h,
 * SLF_REC_STACK); events name it by the id of its innermost edge. Two
 * tables, both open addressing in mmap'd memory (never the program's malloc
 * path):
 *
 *   cache  128-bit hash of the whole ip array -> leaf id. A repeated
 *          stack, the common case, costs one probe, without a lock: every
 *          thread reads it at every event, so it must not bounce a lock's
 *          cache line between cores. Entries are published with a release
 *          store of their hash, which readers check again after reading
 *          the rest (unwind.c says why 128 bits stand in for comparing the
 *          frames: walking 20 parent links per event cost ~25 ns).
 *   edges  (parent id, ip) -> id, for the misses, under the dict lock:
 *          shared prefixes are found here and only new edges are written.
 *
 * A miss writes its new edges into the calling thread's stream at a seq
 * taken under the dict lock, before the cache entry is published: any
 * thread that then finds the entry takes a larger seq for its event, so
 * in the log's order the definition comes first (format.h, "Order").
 *
 * After an unload (dlclose) both tables are forgotten and edges are written
 * again under new ids: the same ip may now be code of another object, and
 * an id must keep meaning what the module map said when it was defined.
 */
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define INITIAL_SLOTS 4096u

static bool warned_oom;

static void *map_zeroed(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void warn_oom(void)
{
	if (!warned_oom)
		slp_warn("out of memory for the stack table; new stacks are recorded as empty");
	warned_oom = true;
}

static inline size_t edge_slot(uint32_t parent, uint64_t ip)
{
	uint64_t h = (ip * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)parent * 0xc2b2ae3d27d4eb4full);

	return (size_t)(h ^ (h >> 29));
}

/* Doubles the edge table (or creates it). Returns false when out of memory. */
static bool grow_edges(void)
{
	struct slp_stacks *s = &slp_st.stacks;
	size_t slots = s->edges ? (s->edges_mask + 1) * 2 : INITIAL_SLOTS;
	struct slp_edge *e = map_zeroed(slots * sizeof(*e));

	if (!e)
		return false;
	for (size_t i = 0; s->edges && i <= s->edges_mask; i++) {
		const struct slp_edge *old = &s->edges[i];
		size_t j;

		if (!old->ip)
			continue;
		j = edge_slot(old->parent, old->ip) & (slots - 1);
		while (e[j].ip)
			j = (j + 1) & (slots - 1);
		e[j] = *old;
	}
	if (s->edges)
		munmap(s->edges, (s->edges_mask + 1) * sizeof(*e));
	s->edges = e;
	s->edges_mask = slots - 1;
	return true;
}

static size_t table_bytes(size_t slots)
{
	return sizeof(struct slp_hit_table) + slots * sizeof(struct slp_hit);
}

/*
 * Doubles the whole-stack cache (or creates it) and publishes the new one.
 * The old one stays mapped: a reader may still be probing it (it finds
 * nothing newer there, and misses cost only a lock). Returns false when
 * out of memory or out of retirement slots. Context: dict lock held.
 */
static bool grow_cache(void)
{
	struct slp_stacks *s = &slp_st.stacks;
	struct slp_hit_table *old = atomic_load_explicit(&s->cache, memory_order_relaxed);
	size_t slots = old ? (old->mask + 1) * 2 : INITIAL_SLOTS;
	struct slp_hit_table *c;

	if (old && s->nretired == SLP_ARRAY_SIZE(s->retired))
		return false;
	c = map_zeroed(table_bytes(slots));
	if (!c)
		return false;
	c->mask = slots - 1;
	for (size_t i = 0; old && i <= old->mask; i++) {
		const struct slp_hit *h = &old->slot[i];
		uint64_t hash = atomic_load_explicit(&h->hash, memory_order_relaxed);
		size_t j;

		if (!hash)
			continue;
		for (j = hash & c->mask; atomic_load_explicit(&c->slot[j].hash, memory_order_relaxed);
		     j = (j + 1) & c->mask)
			;
		c->slot[j] = (struct slp_hit){ hash, atomic_load(&h->hash2), atomic_load(&h->id),
					       atomic_load(&h->n) };
		c->used++;
	}
	if (old)
		s->retired[s->nretired++] =
			(struct slp_range){ (uintptr_t)old, (uintptr_t)old + table_bytes(old->mask + 1) };
	atomic_store_explicit(&s->cache, c, memory_order_release);
	return true;
}

/* One lock-free probe: the id of t's stack, or 0. Context: any thread. */
static uint32_t cache_find(const struct slp_trace *t)
{
	const struct slp_hit_table *c =
		atomic_load_explicit(&slp_st.stacks.cache, memory_order_acquire);

	if (!c)
		return 0;
	for (size_t j = t->hash & c->mask;; j = (j + 1) & c->mask) {
		const struct slp_hit *h = &c->slot[j];
		uint64_t hash = atomic_load_explicit(&h->hash, memory_order_acquire);
		uint64_t hash2;
		uint32_t id, n;

		if (!hash)
			return 0;
		if (hash != t->hash)
			continue;
		hash2 = atomic_load_explicit(&h->hash2, memory_order_relaxed);
		id = atomic_load_explicit(&h->id, memory_order_relaxed);
		n = atomic_load_explicit(&h->n, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		/* a slot cleared (forget) and refilled meanwhile changes its hash first */
		if (atomic_load_explicit(&h->hash, memory_order_relaxed) == hash &&
		    hash2 == t->hash2 && n == t->n)
			return id;
	}
}

/* Publishes t -> id. Context: dict lock held. */
static void cache_put(const struct slp_trace *t, uint32_t id)
{
	struct slp_stacks *s = &slp_st.stacks;
	struct slp_hit_table *c = atomic_load_explicit(&s->cache, memory_order_relaxed);
	struct slp_hit *h;
	size_t j;

	if ((!c || c->used * 2 >= c->mask + 1) && !grow_cache())
		return; /* still correct, only slower next time */
	c = atomic_load_explicit(&s->cache, memory_order_relaxed);
	for (j = t->hash & c->mask; atomic_load_explicit(&c->slot[j].hash, memory_order_relaxed);
	     j = (j + 1) & c->mask)
		;
	h = &c->slot[j];
	atomic_store_explicit(&h->hash2, t->hash2, memory_order_relaxed);
	atomic_store_explicit(&h->id, id, memory_order_relaxed);
	atomic_store_explicit(&h->n, t->n, memory_order_relaxed);
	atomic_store_explicit(&h->hash, t->hash, memory_order_release);
	c->used++;
}

/*
 * The id of edge (parent, ip), defining it (and writing its STACK record)
 * if new. Returns 0 when out of memory.
 */
static uint32_t edge_intern(struct slp_stream *out, uint32_t parent, uint64_t ip,
			    bool allow_unknown)
{
	struct slp_stacks *s = &slp_st.stacks;
	size_t j;
	uint8_t *p;
	uint32_t id;

	if (SLP_UNLIKELY(!s->edges || s->edges_used * 2 >= s->edges_mask + 1) && !grow_edges())
		return 0;
	for (j = edge_slot(parent, ip) & s->edges_mask; s->edges[j].ip;
	     j = (j + 1) & s->edges_mask) {
		if (s->edges[j].ip == ip && s->edges[j].parent == parent)
			return s->edges[j].id;
	}
	if (SLP_UNLIKELY(s->next_id == UINT32_MAX))
		return 0;
	/*
	 * A new ip from an object we have not described yet (dlopen since the
	 * last map): the map must precede the first stack that uses it.
	 */
	if (!allow_unknown && !slp_modules_knows((uintptr_t)ip))
		return SLP_STACK_NEED_MAP;
	id = s->next_id++;
	s->edges[j] = (struct slp_edge){ .ip = ip, .parent = parent, .id = id };
	s->edges_used++;
	p = slp_rec_begin(out, SLF_REC_STACK, 3 * SLF_MAX_UV_LEN);
	p = slp_put_uv(p, id);
	p = slp_put_uv(p, parent);
	slp_rec_end(out, slp_put_uv(p, ip));
	return id;
}

/* The miss path of slp_stacks_intern(). Context: dict lock held. */
static uint32_t intern_locked(struct slp_stream *out, const struct slp_trace *t,
			      bool allow_unknown)
{
	void *const *frames = t->ip + t->first;
	uint32_t id = cache_find(t);

	if (id)
		return id; /* another thread interned it meanwhile */
	out->cur_seq = slp_stream_seq(out);
	/* outermost frame first, so each edge extends a known parent */
	for (unsigned i = t->n; i-- > 0;) {
		uint64_t ip = (uint64_t)(uintptr_t)frames[i];

		if (!ip)
			break;
		id = edge_intern(out, id, ip, allow_unknown);
		if (id == SLP_STACK_NEED_MAP)
			return id; /* the edges written so far stay valid */
		if (!id) {
			warn_oom();
			return 0;
		}
	}
	cache_put(t, id);
	return id;
}

uint32_t slp_stacks_intern(struct slp_stream *out, const struct slp_trace *t, bool allow_unknown)
{
	uint32_t id;

	if (t->n == 0)
		return 0;
	id = cache_find(t);
	if (SLP_LIKELY(id))
		return id;
	pthread_mutex_lock(&slp_st.dict_lock);
	id = intern_locked(out, t, allow_unknown);
	pthread_mutex_unlock(&slp_st.dict_lock);
	return id;
}

/*
 * Forgets every stack: a new log (fork child) starts its ids at 1 again.
 * The memory is kept. Context: single-threaded (fork child) or dict lock
 * held; cache readers see cleared slots as misses.
 */
void slp_stacks_forget(void)
{
	struct slp_stacks *s = &slp_st.stacks;
	struct slp_hit_table *c = atomic_load_explicit(&s->cache, memory_order_relaxed);

	if (s->edges)
		memset(s->edges, 0, (s->edges_mask + 1) * sizeof(*s->edges));
	for (size_t i = 0; c && i <= c->mask; i++)
		atomic_store_explicit(&c->slot[i].hash, 0, memory_order_relaxed);
	if (c)
		c->used = 0;
	s->edges_used = 0;
}

void slp_stacks_reset(void)
{
	struct slp_stacks *s = &slp_st.stacks;

	slp_stacks_forget();
	s->next_id = 1;
}

void slp_stacks_ranges(void (*fn)(uintptr_t lo, uintptr_t hi))
{
	const struct slp_stacks *s = &slp_st.stacks;
	const struct slp_hit_table *c = atomic_load_explicit(&s->cache, memory_order_acquire);

	if (s->edges)
		fn((uintptr_t)s->edges, (uintptr_t)(s->edges + s->edges_mask + 1));
	if (c)
		fn((uintptr_t)c, (uintptr_t)c + table_bytes(c->mask + 1));
	for (size_t i = 0; i < s->nretired; i++)
		fn(s->retired[i].lo, s->retired[i].hi);
}
