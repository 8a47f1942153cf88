/*
 * slice/tests/alloc_count.c - the --wrap=malloc/--wrap=free counters behind
 * alloc_count.h.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "alloc_count.h"

void *__real_malloc(size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void __wrap_free(void *p);
const char *__asan_default_options(void);

#define WATCH_MAX 1024

/* All of this file's state: counters and the watched blocks. */
static struct {
	atomic_size_t mallocs;		 /* successful malloc() calls */
	atomic_size_t frees;		 /* free() calls with a non-NULL pointer */
	atomic_int fail;		 /* malloc() calls still to fail */
	_Atomic(void *) last_ptr;	 /* last block malloc() returned */
	atomic_size_t last_size;	 /* size asked for it */
	atomic_int nwatch;		 /* used entries of watch[] */
	struct {
		_Atomic(const void *) p; /* watched block */
		atomic_int frees;	 /* free(p) calls since watched */
	} watch[WATCH_MAX];
} ac;

/*
 * The allocation-failure tests ask for sizes no allocator can serve; under
 * ASan that must return NULL as glibc does, not end the process. Read by the
 * ASan runtime when it is there, ignored otherwise.
 */
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

void *__wrap_malloc(size_t size)
{
	int left = atomic_load(&ac.fail);
	void *p;

	while (left > 0) {
		if (atomic_compare_exchange_weak(&ac.fail, &left, left - 1))
			return NULL;
	}
	p = __real_malloc(size);
	if (p) {
		atomic_fetch_add(&ac.mallocs, 1);
		atomic_store(&ac.last_ptr, p);
		atomic_store(&ac.last_size, size);
	}
	return p;
}

void __wrap_free(void *p)
{
	int n = atomic_load(&ac.nwatch);

	if (p) {
		atomic_fetch_add(&ac.frees, 1);
		for (int i = 0; i < n; i++) {
			if (atomic_load(&ac.watch[i].p) == p)
				atomic_fetch_add(&ac.watch[i].frees, 1);
		}
	}
	__real_free(p);
}

size_t alloc_count_mallocs(void)
{
	return atomic_load(&ac.mallocs);
}

size_t alloc_count_frees(void)
{
	return atomic_load(&ac.frees);
}

void *alloc_count_last_ptr(void)
{
	return atomic_load(&ac.last_ptr);
}

size_t alloc_count_last_size(void)
{
	return atomic_load(&ac.last_size);
}

void alloc_count_fail_next(int n)
{
	atomic_store(&ac.fail, n);
}

/* Reuses p's entry if p was watched before (addresses are recycled). */
void alloc_count_watch(const void *p)
{
	int n = atomic_load(&ac.nwatch);

	for (int i = 0; i < n; i++) {
		if (atomic_load(&ac.watch[i].p) == p) {
			atomic_store(&ac.watch[i].frees, 0);
			return;
		}
	}
	if (n == WATCH_MAX)
		abort(); /* a test watches more blocks than this file was sized for */
	atomic_store(&ac.watch[n].p, p);
	atomic_store(&ac.watch[n].frees, 0);
	atomic_store(&ac.nwatch, n + 1);
}

int alloc_count_freed(const void *p)
{
	int n = atomic_load(&ac.nwatch);

	for (int i = 0; i < n; i++) {
		if (atomic_load(&ac.watch[i].p) == p)
			return atomic_load(&ac.watch[i].frees);
	}
	return -1; /* not watched: a test bug, and CHECK(... == 1) will say so */
}

void alloc_count_unwatch_all(void)
{
	atomic_store(&ac.nwatch, 0);
}
