/*
 * preload/sample.c - the sampler's draws and the set of recorded blocks
 * (sample.h says how both work).
 */
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "internal.h"
#include "sample.h"

struct slp_sampling slp_samp;

_Thread_local int64_t slp_sample_left __attribute__((tls_model("initial-exec")));
static _Thread_local uint64_t rng __attribute__((tls_model("initial-exec")));

/* Writers' side of the set: apart from the line readers read. */
static struct {
	atomic_flag lock;
	struct slp_sample_table *spare;
	size_t live, used; /* addresses; addresses + tombstones */
	atomic_uint threads; /* threads that drew so far (seeds) */
	struct slp_range tables[64]; /* every table ever made: the scan leaves them out */
	size_t ntables;
} __attribute__((aligned(64))) w = { .lock = ATOMIC_FLAG_INIT };

/* This thread holds w.lock (a signal handler must not wait for it). */
static _Thread_local bool holding __attribute__((tls_model("initial-exec")));

#define MIN_SLOTS 1024u

void slp_sample_setup(void)
{
	slp_samp.mean = slp_opt.sample_bytes;
	slp_samp.exact = slp_opt.exact_bytes;
}

void slp_sample_fork_child(void)
{
	atomic_flag_clear(&w.lock); /* its holder, if any, is not in the child */
	holding = false;
	rng = 0; /* draws of its own, not a copy of the parent's */
}

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ln(u) for u in (0, 1], without libm: u = m 2^e, ln m = 2 atanh((m-1)/(m+1)). */
static double ln(double u)
{
	uint64_t bits;
	double m, z, z2, term, sum = 0;
	int e;

	memcpy(&bits, &u, sizeof(bits));
	e = (int)((bits >> 52) & 0x7ff) - 1023;
	bits = (bits & ~(0x7ffull << 52)) | (1023ull << 52);
	memcpy(&m, &bits, sizeof(m)); /* [1, 2) */
	if (m > 1.4142135623730951) {
		m /= 2;
		e++;
	}
	z = (m - 1) / (m + 1); /* |z| < 0.172 */
	z2 = z * z;
	term = z;
	for (int k = 1; k < 24; k += 2) {
		sum += term / k;
		term *= z2;
	}
	return e * 0.6931471805599453 + 2 * sum;
}

/* Bytes to the next point of the process: exponential, mean sample_bytes. */
static int64_t draw(void)
{
	double u = (double)((splitmix(&rng) >> 11) + 1) * 0x1p-53; /* (0, 1] */
	double x = -ln(u) * (double)slp_samp.mean;

	return x < 1 ? 1 : x > 0x1p62 ? (int64_t)1 << 62 : (int64_t)x;
}

static SLP_COLD void seed(void)
{
	unsigned n = atomic_fetch_add(&w.threads, 1);
	struct timespec ts;

	if (slp_opt.sample_seed) {
		rng = slp_opt.sample_seed * 0x2545f4914f6cdd1dull + n; /* thread n of the run */
	} else {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		rng = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
		      ((uint64_t)slp_current_tid() << 20) ^ (uint64_t)(uintptr_t)&ts;
	}
	if (!rng)
		rng = 1;
	slp_sample_left = draw();
}

bool slp_sample_hit(size_t size)
{
	if (SLP_UNLIKELY(!rng)) {
		seed();
		if ((int64_t)size < slp_sample_left) {
			slp_sample_left -= (int64_t)size;
			return false;
		}
	}
	slp_sample_left = draw(); /* memoryless: the next point after this block */
	return true;
}

/* ---- the set --------------------------------------------------------- */

static bool lock(bool try)
{
	if (holding)
		return false; /* a handler that interrupted this thread inside the set */
	while (atomic_flag_test_and_set_explicit(&w.lock, memory_order_acquire)) {
		if (try)
			return false;
		__builtin_ia32_pause();
	}
	holding = true;
	return true;
}

static void unlock(void)
{
	holding = false;
	atomic_flag_clear_explicit(&w.lock, memory_order_release);
}

static struct slp_sample_table *table_new(size_t slots)
{
	size_t bytes = sizeof(struct slp_sample_table) + slots * sizeof(uint64_t);
	struct slp_sample_table *t;

	if (w.ntables == SLP_ARRAY_SIZE(w.tables))
		return NULL;
	t = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return NULL;
	w.tables[w.ntables++] = (struct slp_range){ (uintptr_t)t, (uintptr_t)t + bytes };
	t->mask = slots - 1;
	t->shift = 64 - (unsigned)__builtin_ctzl(slots);
	return t;
}

static void put(struct slp_sample_table *t, uint64_t key)
{
	size_t j = slp_sample_home(t, key);

	while (t->slot[j])
		j = (j + 1) & t->mask;
	__atomic_store_n(&t->slot[j], key, __ATOMIC_RELAXED);
}

/*
 * Rewrites the spare table (of the size `live` needs, a new one if it is
 * too small) with the live addresses and publishes it. Tables never shrink:
 * a set whose size hovers at a power of two would otherwise map a new one
 * at every rebuild. Context: lock held.
 */
static bool rebuild(void)
{
	struct slp_sample_table *cur = slp_samp.tab, *t = w.spare;
	size_t slots = cur ? cur->mask + 1 : MIN_SLOTS;

	while (slots < 8 * (w.live + 1))
		slots *= 2;
	if (!t || t->mask + 1 != slots)
		t = table_new(slots); /* an outgrown spare stays mapped: never unmapped */
	if (!t)
		return false;
	atomic_store_explicit(&slp_samp.gen, slp_samp.gen + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release); /* readers of t see gen move first */
	for (size_t j = 0; j <= t->mask; j++)
		__atomic_store_n(&t->slot[j], 0, __ATOMIC_RELAXED);
	w.used = 0;
	for (size_t j = 0; cur && j <= cur->mask; j++) {
		if (cur->slot[j] > SLP_SAMPLE_TOMB) {
			put(t, cur->slot[j]);
			w.used++;
		}
	}
	atomic_store_explicit(&slp_samp.tab, t, memory_order_release);
	w.spare = cur;
	return true;
}

bool slp_sample_add(const void *p, bool try)
{
	uint64_t key = (uint64_t)(uintptr_t)p;
	struct slp_sample_table *t;
	size_t j, free_at = SIZE_MAX;

	if (!lock(try))
		return false;
	t = slp_samp.tab;
	/* at most a quarter used, tombstones included: a miss probes ~1.3 slots */
	if ((!t || 4 * (w.used + 1) > t->mask + 1) && !rebuild()) {
		unlock();
		return false;
	}
	t = slp_samp.tab;
	for (j = slp_sample_home(t, key);; j = (j + 1) & t->mask) {
		uint64_t v = t->slot[j];

		if (v == key)
			goto out; /* already there (an event dropped earlier) */
		if (v == SLP_SAMPLE_TOMB && free_at == SIZE_MAX)
			free_at = j;
		if (!v)
			break;
	}
	if (free_at == SIZE_MAX) {
		free_at = j;
		w.used++;
	}
	__atomic_store_n(&t->slot[free_at], key, __ATOMIC_RELEASE);
	w.live++;
out:
	unlock();
	return true;
}

int slp_sample_del(const void *p, bool try)
{
	uint64_t key = (uint64_t)(uintptr_t)p;
	struct slp_sample_table *t;
	int found = 0;

	if (!lock(try))
		return -1;
	t = slp_samp.tab;
	for (size_t j = t ? slp_sample_home(t, key) : 0; t; j = (j + 1) & t->mask) {
		if (t->slot[j] == key) {
			__atomic_store_n(&t->slot[j], SLP_SAMPLE_TOMB, __ATOMIC_RELAXED);
			w.live--;
			found = 1;
			break;
		}
		if (!t->slot[j])
			break;
	}
	unlock();
	return found;
}

void slp_sample_ranges(void (*fn)(uintptr_t lo, uintptr_t hi))
{
	bool locked = lock(false);

	for (size_t i = 0; i < w.ntables; i++)
		fn(w.tables[i].lo, w.tables[i].hi);
	if (locked)
		unlock();
}
