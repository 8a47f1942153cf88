/*
 * slice/tests/test_slice.c - the normal behaviour of every libslice function:
 * values, len, cap, sharing between views, in-place and growing appends, and
 * when exactly each backing block is allocated and freed (counted through
 * alloc_count.h).
 */
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sliceleak/slice.h>

#include "alloc_count.h"
#include "check.h"

/* Bytes from the start of s's block to its element 0 (the header for a fresh slice). */
static size_t head_bytes(sl_slice s)
{
	return (size_t)((const unsigned char *)s.ptr - (const unsigned char *)s.backing);
}

static int int_at(sl_slice s, size_t i)
{
	return *(int *)sl_at(s, i);
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		if (b[i])
			return false;
	}
	return true;
}

/* make: one malloc of header + cap bytes, returned as `backing`; zeroed up to cap. */
static void test_make(void)
{
	size_t before = alloc_count_mallocs();
	sl_slice s = sl_make(sizeof(long), 3, 10);

	CHECK(s.backing != NULL && s.ptr != NULL);
	CHECK(s.len == 3 && s.cap == 10 && s.elem_size == sizeof(long));
	CHECK(alloc_count_mallocs() == before + 1);
	CHECK((void *)s.backing == alloc_count_last_ptr());
	CHECK(head_bytes(s) > 0 && head_bytes(s) <= 64);
	CHECK(alloc_count_last_size() == head_bytes(s) + 10 * sizeof(long));
	CHECK((uintptr_t)s.ptr % alignof(max_align_t) == 0);
	CHECK(all_zero(s.ptr, s.cap * s.elem_size));

	alloc_count_watch(s.backing);
	sl_release(&s);
	CHECK(s.ptr == NULL && s.backing == NULL && s.len == 0 && s.cap == 0);
	CHECK(alloc_count_freed(alloc_count_last_ptr()) == 1);
}

/* make(0): an empty but non-nil slice that owns a header-only block. */
static void test_make_empty(void)
{
	size_t before = alloc_count_mallocs();
	sl_slice s = sl_make(4, 0, 0);
	void *b = s.backing;

	CHECK(s.backing != NULL && s.ptr != NULL && s.len == 0 && s.cap == 0);
	CHECK(alloc_count_mallocs() == before + 1);
	CHECK(alloc_count_last_size() == head_bytes(s));
	alloc_count_watch(b);
	sl_release(&s);
	CHECK(alloc_count_freed(b) == 1);
}

/* from: an independent copy of exactly n elements. */
static void test_from(void)
{
	int src[4] = { 1, 2, 3, 4 };
	sl_slice s = sl_from(src, sizeof(int), 4);

	CHECK(s.len == 4 && s.cap == 4 && s.elem_size == sizeof(int));
	CHECK(s.ptr != src && memcmp(s.ptr, src, sizeof(src)) == 0);
	CHECK(alloc_count_last_size() == head_bytes(s) + sizeof(src));
	src[0] = 99;
	CHECK(int_at(s, 0) == 1);
	sl_release(&s);

	s = sl_from(src, sizeof(int), 0); /* []int{}: empty, non-nil */
	CHECK(s.backing != NULL && s.len == 0 && s.cap == 0);
	sl_release(&s);
}

/* from_str: the bytes without the NUL; "" is empty and non-nil. */
static void test_from_str(void)
{
	sl_slice s = sl_from_str("hello");

	CHECK(s.len == 5 && s.cap == 5 && s.elem_size == 1);
	CHECK(memcmp(s.ptr, "hello", 5) == 0);
	CHECK(alloc_count_last_size() == head_bytes(s) + 5); /* no room for a NUL */
	sl_release(&s);

	s = sl_from_str("");
	CHECK(s.backing != NULL && s.len == 0 && s.cap == 0);
	sl_release(&s);
}

/* sub: shares the backing, one more reference, cap runs to the end of the block. */
static void test_sub_shares(void)
{
	int v[6] = { 0, 1, 2, 3, 4, 5 };
	sl_slice s = sl_from(v, sizeof(int), 6);
	size_t mallocs = alloc_count_mallocs();
	sl_slice t = sl_sub(s, 2, 4);
	void *b = s.backing;

	CHECK(alloc_count_mallocs() == mallocs); /* a view allocates nothing */
	CHECK(t.backing == s.backing && t.ptr == sl_at(s, 2));
	CHECK(t.len == 2 && t.cap == 4 && t.elem_size == sizeof(int));
	CHECK(int_at(t, 0) == 2 && int_at(t, 1) == 3);

	*(int *)sl_at(t, 1) = 33; /* a write through one view ... */
	CHECK(int_at(s, 3) == 33); /* ... is seen through the other */
	*(int *)sl_at(s, 2) = 22;
	CHECK(int_at(t, 0) == 22);

	/* Re-slicing past len, up to cap, is allowed and shows the hidden elements. */
	sl_slice u = sl_sub(t, 0, 4);
	CHECK(u.len == 4 && int_at(u, 3) == 5);

	alloc_count_watch(b);
	sl_release(&s);
	sl_release(&u);
	CHECK(alloc_count_freed(b) == 0); /* t still holds the block */
	CHECK(int_at(t, 1) == 33);
	sl_release(&t);
	CHECK(alloc_count_freed(b) == 1);
}

/* sub of the full range and the empty views at both ends. */
static void test_sub_edges(void)
{
	sl_slice s = sl_make(2, 4, 8);
	void *b = s.backing;
	sl_slice all = sl_sub(s, 0, 8);
	sl_slice head = sl_sub(s, 0, 0);
	sl_slice tail = sl_sub(s, 8, 8); /* s[cap:cap]: ptr is the end of the block */

	CHECK(all.len == 8 && all.cap == 8);
	CHECK(head.len == 0 && head.cap == 8 && head.ptr == s.ptr);
	CHECK(tail.len == 0 && tail.cap == 0 && tail.backing == b);
	CHECK((unsigned char *)tail.ptr == (unsigned char *)s.ptr + 16);

	alloc_count_watch(b);
	sl_release(&s);
	sl_release(&all);
	sl_release(&head);
	CHECK(alloc_count_freed(b) == 0); /* a zero-length view still pins the block */
	sl_release(&tail);
	CHECK(alloc_count_freed(b) == 1);

	sl_slice nil = SL_NIL;
	sl_slice n2 = sl_sub(nil, 0, 0);
	CHECK(n2.ptr == NULL && n2.backing == NULL && n2.len == 0);
}

/* sub3 limits cap, so append must copy; plain sub lets append overwrite the parent (Go). */
static void test_sub3_and_aliasing_append(void)
{
	int v[5] = { 10, 11, 12, 13, 14 };
	int x = 99;
	sl_slice s = sl_from(v, sizeof(int), 5);
	sl_slice a = sl_sub(s, 0, 2);	   /* cap 5: append writes into s[2] */
	sl_slice b = sl_sub3(s, 0, 2, 2); /* cap 2: append must move */

	CHECK(b.len == 2 && b.cap == 2 && b.ptr == s.ptr && b.backing == s.backing);
	a = sl_append(a, &x, 1);
	CHECK(a.backing == s.backing && a.len == 3);
	CHECK(int_at(s, 2) == 99); /* Go's aliasing: the parent sees it */

	x = 77;
	b = sl_append(b, &x, 1);
	CHECK(b.backing != s.backing && b.len == 3);
	CHECK(int_at(b, 0) == 10 && int_at(b, 1) == 11 && int_at(b, 2) == 77);
	CHECK(int_at(s, 2) == 99); /* untouched by b's append */

	sl_slice c = sl_sub3(s, 1, 3, 4);
	CHECK(c.len == 2 && c.cap == 3 && int_at(c, 0) == 11);

	sl_release(&a);
	sl_release(&b);
	sl_release(&c);
	sl_release(&s);
}

/* retain: the same view; the block lives until both references are gone. */
static void test_retain_release(void)
{
	sl_slice s = sl_make(1, 8, 8);
	void *b = s.backing;
	sl_slice r = sl_retain(s);

	CHECK(r.ptr == s.ptr && r.len == s.len && r.cap == s.cap && r.backing == s.backing);
	alloc_count_watch(b);
	sl_release(&s);
	CHECK(alloc_count_freed(b) == 0);
	sl_release(&s); /* s is nil now: a no-op */
	CHECK(alloc_count_freed(b) == 0);
	sl_release(&r);
	CHECK(alloc_count_freed(b) == 1);

	sl_slice nil = SL_NIL;
	size_t frees = alloc_count_frees();
	sl_slice rn = sl_retain(nil);

	CHECK(rn.backing == NULL);
	sl_release(&rn);
	sl_release(NULL);
	CHECK(alloc_count_frees() == frees);
}

/* append with room: in place, no allocation, visible to other views. */
static void test_append_in_place(void)
{
	sl_slice s = sl_make(sizeof(int), 2, 4);
	sl_slice whole = sl_sub(s, 0, 4);
	void *b = s.backing;
	int add[2] = { 7, 8 };
	size_t mallocs = alloc_count_mallocs();

	s = sl_append(s, add, 2);
	CHECK(alloc_count_mallocs() == mallocs);
	CHECK(s.backing == b && s.len == 4 && s.cap == 4);
	CHECK(int_at(whole, 2) == 7 && int_at(whole, 3) == 8);
	CHECK(int_at(s, 0) == 0 && int_at(s, 1) == 0);

	s = sl_append(s, add, 0); /* append(s) is s */
	CHECK(s.backing == b && s.len == 4);

	alloc_count_watch(b);
	sl_release(&whole);
	sl_release(&s);
	CHECK(alloc_count_freed(b) == 1);
}

/* append past cap: a new block; the old views keep the old contents and the old block. */
static void test_append_grows(void)
{
	int v[3] = { 1, 2, 3 };
	int x = 4;
	sl_slice s = sl_from(v, sizeof(int), 3);
	sl_slice old = sl_retain(s);
	void *ob = s.backing;
	size_t mallocs = alloc_count_mallocs();

	alloc_count_watch(ob);
	s = sl_append(s, &x, 1);
	CHECK(alloc_count_mallocs() == mallocs + 1);
	CHECK(s.backing != ob && (void *)s.backing == alloc_count_last_ptr());
	CHECK(s.len == 4 && s.cap == 6); /* Go doubles below 256 elements */
	CHECK(alloc_count_last_size() == head_bytes(s) + 6 * sizeof(int));
	CHECK(int_at(s, 0) == 1 && int_at(s, 2) == 3 && int_at(s, 3) == 4);
	CHECK(all_zero((int *)s.ptr + 4, 2 * sizeof(int))); /* the new tail is cleared */

	*(int *)sl_at(s, 0) = 100;
	CHECK(old.len == 3 && int_at(old, 0) == 1); /* the old view is not affected */
	CHECK(alloc_count_freed(ob) == 0);	    /* old still holds the old block */
	sl_release(&old);
	CHECK(alloc_count_freed(ob) == 1);

	/* Sole owner: growing drops the old block at once. */
	void *b2 = s.backing;

	alloc_count_watch(b2);
	for (int i = 0; i < 3; i++)
		s = sl_append(s, &x, 1);
	CHECK(s.len == 7 && s.cap == 12 && alloc_count_freed(b2) == 1);
	sl_release(&s);
}

/* The documented growth rule (Go 1.20 growslice, no size-class rounding). */
static void test_growth_rule(void)
{
	/* Caps seen while appending one byte at a time to nil, by hand from the rule. */
	static const size_t want[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 832, 1232 };
	size_t seen[sizeof(want) / sizeof(want[0])];
	size_t nseen = 0, last = 0;
	sl_slice s = { .elem_size = 1 };
	char c = 'x';

	while (nseen < sizeof(want) / sizeof(want[0])) {
		s = sl_append(s, &c, 1);
		if (s.cap != last)
			seen[nseen++] = last = s.cap;
	}
	CHECK(memcmp(seen, want, sizeof(want)) == 0);
	CHECK(s.elem_size == 1 && s.len == 833);
	sl_release(&s);

	/* More than double needed: exactly that much. */
	s = sl_make(8, 4, 4);
	char big[10 * 8] = { 0 };
	s = sl_append(s, big, 10);
	CHECK(s.len == 14 && s.cap == 14);
	sl_release(&s);

	/* Just under the threshold still doubles. */
	s = sl_make(1, 255, 255);
	s = sl_append(s, &c, 1);
	CHECK(s.cap == 510);
	sl_release(&s);

	/* Appending a lot to a big slice: 1024 -> 1024 + (1024 + 768) / 4 = 1472. */
	s = sl_make(1, 1024, 1024);
	s = sl_append(s, big, 10);
	CHECK(s.cap == 1472);
	sl_release(&s);
}

/* Appending to a typed nil allocates, with the nil's element size; append(nil) is nil. */
static void test_append_nil(void)
{
	sl_slice s = SL_NIL;
	size_t mallocs = alloc_count_mallocs();
	long vals[2] = { 5, 6 };

	s = sl_append(s, "ab", 0);
	CHECK(s.backing == NULL && alloc_count_mallocs() == mallocs);

	s = SL_NIL_OF(long);
	s = sl_append(s, vals, 2);
	CHECK(alloc_count_mallocs() == mallocs + 1);
	CHECK(s.backing != NULL && s.elem_size == sizeof(long) && s.len == 2 && s.cap == 2);
	CHECK(*(long *)sl_at(s, 0) == 5 && *(long *)sl_at(s, 1) == 6);
	sl_release(&s);
}

/* append_slice: copies t's elements; takes over s's reference, not t's. */
static void test_append_slice(void)
{
	int a[2] = { 1, 2 }, b[3] = { 3, 4, 5 };
	sl_slice s = sl_from(a, sizeof(int), 2);
	sl_slice t = sl_from(b, sizeof(int), 3);
	void *tb = t.backing;

	alloc_count_watch(tb);
	s = sl_append_slice(s, t);
	CHECK(s.len == 5 && s.cap == 5);
	for (int i = 0; i < 5; i++)
		CHECK(int_at(s, (size_t)i) == i + 1);
	CHECK(alloc_count_freed(tb) == 0 && int_at(t, 0) == 3); /* t is still ours */
	sl_release(&t);
	CHECK(alloc_count_freed(tb) == 1);

	sl_slice nil = SL_NIL;
	void *sb = s.backing;

	s = sl_append_slice(s, nil); /* append(s, nil...) is s */
	CHECK(s.backing == sb && s.len == 5);
	sl_release(&s);

	/* Appending to SL_NIL takes t's element size. */
	t = sl_from(b, sizeof(int), 3);
	s = sl_append_slice(SL_NIL, t);
	CHECK(s.elem_size == sizeof(int) && s.len == 3 && s.backing != t.backing);
	CHECK(int_at(s, 2) == 5);
	sl_release(&s);
	sl_release(&t);
}

/* append(s, s...) with and without room: the source is read before it is overwritten or freed. */
static void test_append_self(void)
{
	sl_slice s = sl_make(1, 0, 8);

	s = sl_append(s, "abc", 3);
	s = sl_append_slice(s, s); /* in place: cap 8 >= 6 */
	CHECK(s.len == 6 && memcmp(s.ptr, "abcabc", 6) == 0);
	sl_release(&s);

	s = sl_from_str("xyz");
	void *ob = s.backing;

	alloc_count_watch(ob);
	s = sl_append_slice(s, s); /* grows: copy first, then drop the old block */
	CHECK(s.len == 6 && memcmp(s.ptr, "xyzxyz", 6) == 0);
	CHECK(alloc_count_freed(ob) == 1);
	sl_release(&s);

	/* Overlapping in-place append of a sub-view of itself. */
	s = sl_make(1, 0, 8);
	s = sl_append(s, "0123", 4);
	sl_slice mid = sl_sub(s, 1, 4);
	s = sl_append_slice(s, mid);
	CHECK(s.len == 7 && memcmp(s.ptr, "0123123", 7) == 0);
	sl_release(&mid);
	sl_release(&s);
}

/* clone: exact len, a new block, and the big block can go while the clone lives. */
static void test_clone(void)
{
	sl_slice big = sl_make(1, 1 << 20, 1 << 20);
	void *bb = big.backing;

	memcpy(big.ptr, "hello", 5);
	sl_slice head = sl_sub(big, 0, 5);
	sl_slice c = sl_clone(head);

	CHECK(c.len == 5 && c.cap == 5 && c.backing != bb);
	CHECK(alloc_count_last_size() == head_bytes(c) + 5);
	CHECK(memcmp(c.ptr, "hello", 5) == 0);
	*(char *)sl_at(c, 0) = 'j';
	CHECK(*(char *)sl_at(head, 0) == 'h'); /* independent copy */

	alloc_count_watch(bb);
	sl_release(&big);
	sl_release(&head);
	CHECK(alloc_count_freed(bb) == 1); /* the fix for the capacity leak works */
	CHECK(memcmp(c.ptr, "jello", 5) == 0);
	sl_release(&c);

	/* Like slices.Clone: nil gives nil, empty gives empty non-nil (never a view of s). */
	size_t mallocs = alloc_count_mallocs();
	sl_slice n = sl_clone(SL_NIL);

	CHECK(n.backing == NULL && alloc_count_mallocs() == mallocs);
	sl_slice e = sl_make(4, 0, 100);
	sl_slice ec = sl_clone(e);

	CHECK(ec.backing != NULL && ec.backing != e.backing && ec.len == 0 && ec.cap == 0);
	CHECK(ec.elem_size == 4);
	sl_release(&e);
	sl_release(&ec);
}

/* copy: min(len), returns the count, overlap allowed (memmove semantics). */
static void test_copy(void)
{
	int a[5] = { 1, 2, 3, 4, 5 }, b[2] = { 8, 9 };
	sl_slice s = sl_from(a, sizeof(int), 5);
	sl_slice t = sl_from(b, sizeof(int), 2);

	CHECK(sl_copy(s, t) == 2);
	CHECK(int_at(s, 0) == 8 && int_at(s, 1) == 9 && int_at(s, 2) == 3);
	CHECK(sl_copy(t, s) == 2); /* dst shorter: only 2 */

	sl_slice r = sl_sub(s, 1, 5);

	CHECK(sl_copy(r, s) == 4); /* shift right by one over itself */
	CHECK(int_at(s, 0) == 8 && int_at(s, 1) == 8 && int_at(s, 2) == 9 &&
	      int_at(s, 3) == 3 && int_at(s, 4) == 4);
	CHECK(sl_copy(s, SL_NIL) == 0 && sl_copy(SL_NIL, s) == 0);
	sl_release(&r);
	sl_release(&s);
	sl_release(&t);
}

/* at: &s[i] for every valid i. */
static void test_at(void)
{
	double v[3] = { 0.5, 1.5, 2.5 };
	sl_slice s = sl_from(v, sizeof(double), 3);

	for (size_t i = 0; i < 3; i++)
		CHECK(sl_at(s, i) == (double *)s.ptr + i && *(double *)sl_at(s, i) == v[i]);
	sl_release(&s);
}

int main(void)
{
	RUN(test_make);
	RUN(test_make_empty);
	RUN(test_from);
	RUN(test_from_str);
	RUN(test_sub_shares);
	RUN(test_sub_edges);
	RUN(test_sub3_and_aliasing_append);
	RUN(test_retain_release);
	RUN(test_append_in_place);
	RUN(test_append_grows);
	RUN(test_growth_rule);
	RUN(test_append_nil);
	RUN(test_append_slice);
	RUN(test_append_self);
	RUN(test_clone);
	RUN(test_copy);
	RUN(test_at);
	return check_summary();
}
