/*
 * preload/bootstrap.c - finding libc's allocator, and living without it.
 *
 * glibc's dlsym() may allocate (its dlerror state), which re-enters our
 * malloc()/calloc() before slp_real is filled in. Those calls are served
 * from a static arena. 64 KiB is far more than glibc needs; running out
 * means a libc we do not understand, and failing loudly beats corrupting a
 * heap. Arena blocks carry a size header so realloc() can copy them out;
 * free() of an arena block does nothing (the arena is never reused).
 */
#include <dlfcn.h>
#include <stdalign.h>
#include <stddef.h>
#include <string.h>

#include "internal.h"

struct slp_real slp_real;

#define ARENA_SIZE SLP_BOOT_ARENA_SIZE
#define HDR ((size_t)alignof(max_align_t)) /* size header, keeps alignment */

alignas(4096) unsigned char slp_boot_arena[ARENA_SIZE];

static struct {
	atomic_size_t used;
	atomic_int resolve_state; /* 0 idle, 1 running, 2 done */
} arena;

/*
 * POSIX lets a dlsym() result become a function pointer; ISO C does not,
 * so the conversion is spelled out once, here.
 */
bool slp_resolve_next(void *slot, const char *name)
{
	void *sym = dlsym(RTLD_NEXT, name);

	if (!sym)
		return false;
	memcpy(slot, &sym, sizeof(sym));
	return true;
}

static void resolve_one(void *slot, const char *name)
{
	if (!slp_resolve_next(slot, name))
		slp_die("libc symbol not found (a statically linked allocator?)");
}

/*
 * Fills slp_real once. Context: any thread, first call wins; concurrent and
 * recursive callers return at once and use the arena meanwhile.
 */
void slp_resolve(void)
{
	int idle = 0;

	if (!atomic_compare_exchange_strong(&arena.resolve_state, &idle, 1))
		return; /* done, or running further up this very stack */

	resolve_one(&slp_real.free, "free");
	resolve_one(&slp_real.calloc, "calloc");
	resolve_one(&slp_real.realloc, "realloc");
	resolve_one(&slp_real.reallocarray, "reallocarray");
	resolve_one(&slp_real.posix_memalign, "posix_memalign");
	resolve_one(&slp_real.aligned_alloc, "aligned_alloc");
	resolve_one(&slp_real.memalign, "memalign");
	resolve_one(&slp_real.valloc, "valloc");
	resolve_one(&slp_real.pvalloc, "pvalloc");
	resolve_one(&slp_real.dlclose, "dlclose");
	resolve_one(&slp_real.dl_iterate_phdr, "dl_iterate_phdr");
	/* Last: a non-NULL malloc is what opens the fast path in hooks.c. */
	resolve_one(&slp_real.malloc, "malloc");
	atomic_store(&arena.resolve_state, 2);
}

/*
 * Context: any thread, typically inside dlsym() during resolution. Returns
 * real memory once libc is resolved, arena memory before. align is 0 or a
 * power of two of at most 4096.
 */
void *slp_boot_alloc(size_t size, size_t align, bool zero)
{
	size_t a = align > HDR ? align : HDR;
	size_t need, off, start;

	slp_resolve();
	if (slp_real.malloc) {
		void *p = NULL;

		if (align)
			return slp_real.posix_memalign(&p, a, size) ? NULL : p;
		return zero ? slp_real.calloc(1, size) : slp_real.malloc(size);
	}
	if (a > 4096 || size > ARENA_SIZE)
		slp_die("bootstrap arena: request too large");
	need = size + HDR + a;
	off = atomic_fetch_add(&arena.used, need);
	if (off + need > ARENA_SIZE)
		slp_die("bootstrap arena exhausted");
	start = (off + HDR + a - 1) & ~(a - 1);
	memcpy(slp_boot_arena + start - HDR, &size, sizeof(size));
	return slp_boot_arena + start; /* static storage, never reused: already zero */
}

/* realloc() of an arena block (or any block before libc is resolved). */
void *slp_boot_realloc(void *old, size_t size)
{
	size_t old_size = 0;
	void *p;

	if (old && !slp_boot_owns(old)) {
		/* A libc block while we are resolving: only libc can resize it. */
		slp_resolve();
		return slp_real.realloc ? slp_real.realloc(old, size) : NULL;
	}
	p = slp_boot_alloc(size, 0, false);
	if (p && old) {
		memcpy(&old_size, (unsigned char *)old - HDR, sizeof(old_size));
		memcpy(p, old, old_size < size ? old_size : size);
	}
	return p;
}
