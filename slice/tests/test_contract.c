/*
 * slice/tests/test_contract.c - the promise libslice.so makes to an
 * allocation tracker, checked the way the tracker sees it: this executable
 * defines malloc() and free(), so the shared library's calls bind to them
 * exactly as they would to an LD_PRELOAD interposer.
 *
 *  - each backing block is one malloc() call made from libslice.so;
 *  - `backing` is exactly the pointer malloc() returned, and the size asked
 *    for is the header (at most 64 bytes, data aligned to max_align_t) plus
 *    cap * elem_size;
 *  - the block is freed once, with that same pointer, when its last
 *    reference is dropped; views and retains allocate nothing.
 *
 * Not built under the sanitizers: ASan owns malloc() there.
 */
#include <dlfcn.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sliceleak/slice.h>

#include "check.h"

/* glibc's own entry points, exported for exactly this use. */
void *__libc_malloc(size_t size);
void __libc_free(void *p);

/* What the interposer saw while `on`. Single-threaded test. */
static struct {
	bool on;
	int mallocs, frees;
	void *last_ptr, *last_freed;
	size_t last_size;
} seen;

void *malloc(size_t size)
{
	void *p = __libc_malloc(size);

	if (seen.on) {
		seen.mallocs++;
		seen.last_ptr = p;
		seen.last_size = size;
	}
	return p;
}

void free(void *p)
{
	if (seen.on && p) {
		seen.frees++;
		seen.last_freed = p;
	}
	__libc_free(p);
}

static void watch(void)
{
	memset(&seen, 0, sizeof(seen));
	seen.on = true;
}

static size_t head_bytes(sl_slice s)
{
	return (size_t)((const unsigned char *)s.ptr - (const unsigned char *)s.backing);
}

/* The calls below really go to libslice.so, not to a copy linked in. */
static void test_is_the_shared_library(void)
{
	Dl_info info;
	void *fn;
	sl_slice (*make)(size_t, size_t, size_t) = sl_make;

	memcpy(&fn, &make, sizeof(fn));
	CHECK(dladdr(fn, &info) != 0 && info.dli_fname && strstr(info.dli_fname, "libslice.so"));
}

static void test_backing_is_the_malloc_block(void)
{
	watch();
	sl_slice s = sl_make(8, 2, 10);

	CHECK(seen.mallocs == 1 && seen.frees == 0);
	CHECK((void *)s.backing == seen.last_ptr);
	CHECK(head_bytes(s) > 0 && head_bytes(s) <= 64);
	CHECK(head_bytes(s) % alignof(max_align_t) == 0);
	CHECK(seen.last_size == head_bytes(s) + 10 * 8); /* header + cap bytes, nothing else */

	sl_slice t = sl_sub(s, 1, 3), r = sl_retain(s), u = sl_sub3(t, 0, 1, 1);

	CHECK(seen.mallocs == 1); /* views cost no allocation */
	sl_release(&s);
	sl_release(&r);
	sl_release(&u);
	CHECK(seen.frees == 0);
	void *b = t.backing;

	sl_release(&t);
	CHECK(seen.frees == 1 && seen.last_freed == b);
	seen.on = false;
}

static void test_each_constructor(void)
{
	int v[3] = { 1, 2, 3 };
	int x = 4;

	watch();
	sl_slice a = sl_from(v, sizeof(int), 3);

	CHECK(seen.mallocs == 1 && (void *)a.backing == seen.last_ptr &&
	      seen.last_size == head_bytes(a) + 3 * sizeof(int));
	sl_slice s = sl_from_str("abc");

	CHECK(seen.mallocs == 2 && (void *)s.backing == seen.last_ptr &&
	      seen.last_size == head_bytes(s) + 3);
	sl_slice c = sl_clone(a);

	CHECK(seen.mallocs == 3 && (void *)c.backing == seen.last_ptr &&
	      seen.last_size == head_bytes(c) + 3 * sizeof(int));

	/* A growing append: one new block (cap 6 by the growth rule), the old one freed. */
	void *old = a.backing;

	a = sl_append(a, &x, 1);
	CHECK(seen.mallocs == 4 && (void *)a.backing == seen.last_ptr);
	CHECK(seen.last_size == head_bytes(a) + 6 * sizeof(int));
	CHECK(seen.frees == 1 && seen.last_freed == old);

	sl_release(&a);
	sl_release(&s);
	sl_release(&c);
	CHECK(seen.frees == 4);
	seen.on = false;
}

int main(void)
{
	RUN(test_is_the_shared_library);
	RUN(test_backing_is_the_malloc_block);
	RUN(test_each_constructor);
	return check_summary();
}
