/*
 * preload/stacks.c - stack interning.
 *
 * A stack goes into the log once, as edges of a tree (format.h,
 * SLF_REC_STACK); events name it by the id of its innermost edge. Two
 * tables, both open addressing in mmap'd memory (never the program's malloc
 * path), both under the writer lock:
 *
 *   cache  128-bit hash of the whole ip array -> leaf id. A repeated
 *          stack, the common case, costs one probe (unwind.c says why 128
 *          bits stand in for comparing the frames: walking 20 parent links
 *          per event cost ~25 ns).
 *   edges  (parent id, ip) -> id, for the misses: shared prefixes are found
 *          here and only new edges are written.
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

/* Doubles the whole-stack cache (or creates it). Returns false when out of memory. */
static bool grow_cache(void)
{
	struct slp_stacks *s = &slp_st.stacks;
	size_t slots = s->cache ? (s->cache_mask + 1) * 2 : INITIAL_SLOTS;
	struct slp_hit *c = map_zeroed(slots * sizeof(*c));

	if (!c)
		return false;
	for (size_t i = 0; s->cache && i <= s->cache_mask; i++) {
		size_t j;

		if (!s->cache[i].hash)
			continue;
		for (j = s->cache[i].hash & (slots - 1); c[j].hash; j = (j + 1) & (slots - 1))
			;
		c[j] = s->cache[i];
	}
	if (s->cache)
		munmap(s->cache, (s->cache_mask + 1) * sizeof(*c));
	s->cache = c;
	s->cache_mask = slots - 1;
	return true;
}

/*
 * The id of edge (parent, ip), defining it (and writing its STACK record)
 * if new. Returns 0 when out of memory.
 */
static uint32_t edge_intern(uint32_t parent, uint64_t ip, bool allow_unknown)
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
	p = slp_rec_begin(SLF_REC_STACK, 2 * SLF_MAX_UV_LEN);
	p = slp_put_uv(p, parent);
	slp_rec_end(slp_put_uv(p, ip));
	return id;
}

uint32_t slp_stacks_intern(const struct slp_trace *t, bool allow_unknown)
{
	struct slp_stacks *s = &slp_st.stacks;
	void *const *frames = t->ip + t->first;
	uint32_t id = 0;
	size_t j;

	if (t->n == 0)
		return 0;
	if (s->cache) {
		for (j = t->hash & s->cache_mask; s->cache[j].hash; j = (j + 1) & s->cache_mask) {
			const struct slp_hit *h = &s->cache[j];

			if (h->hash == t->hash && h->hash2 == t->hash2 && h->n == t->n)
				return h->id;
		}
	}
	/* Miss: outermost frame first, so each edge extends a known parent. */
	for (unsigned i = t->n; i-- > 0;) {
		uint64_t ip = (uint64_t)(uintptr_t)frames[i];

		if (!ip)
			break;
		id = edge_intern(id, ip, allow_unknown);
		if (id == SLP_STACK_NEED_MAP)
			return id; /* the edges written so far stay valid */
		if (!id) {
			warn_oom();
			return 0;
		}
	}
	if ((!s->cache || s->cache_used * 2 >= s->cache_mask + 1) && !grow_cache())
		return id; /* still correct, only slower next time */
	for (j = t->hash & s->cache_mask; s->cache[j].hash; j = (j + 1) & s->cache_mask)
		;
	s->cache[j] = (struct slp_hit){ .hash = t->hash, .hash2 = t->hash2, .id = id, .n = t->n };
	s->cache_used++;
	return id;
}

/*
 * Forgets every stack: a new log (fork child) starts its ids at 1 again.
 * The memory is kept. Context: single-threaded (fork child) or lock held.
 */
void slp_stacks_forget(void)
{
	struct slp_stacks *s = &slp_st.stacks;

	if (s->edges)
		memset(s->edges, 0, (s->edges_mask + 1) * sizeof(*s->edges));
	if (s->cache)
		memset(s->cache, 0, (s->cache_mask + 1) * sizeof(*s->cache));
	s->edges_used = 0;
	s->cache_used = 0;
}

void slp_stacks_reset(void)
{
	struct slp_stacks *s = &slp_st.stacks;

	slp_stacks_forget();
	s->next_id = 1;
}
