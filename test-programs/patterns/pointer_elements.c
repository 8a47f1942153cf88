/*
 * pointer_elements - the Go "slices and pointers" leak ("100 Go Mistakes", 3.10.2): a
 * slice of 1000 structs that each hold a 1 MB slice is cut to its first two
 * elements (keepFirstTwoElementsOnly), and the 998 elements past len keep
 * their 1 MB payloads alive.
 *
 * Here, as for Go's garbage collector, a slot of the foos array owns the
 * reference it holds: keep_first_two() takes over the caller's reference to
 * the array and hands back the two elements that are wanted.
 *
 * Variants:
 *   leaky    return foos[:2]: the array (count*40 bytes) is pinned by a
 *            2-element view, and its dead slots keep count-2 payloads alive.
 *   copy     copy the two elements into a new 2-element array, then drop the
 *            original with all its elements: nothing is pinned.
 *   release  the Go original's second fix: set foos[i].v = nil for i >= 2, return
 *            foos[:2]. The payloads are freed; the array itself stays pinned
 *            on purpose (the Go original keeps its capacity), so the array-block
 *            finding remains.
 *
 * What sliceleak must say. The array block is a view-pinned block of
 * header + count*40 bytes, 80 of them used (the view_pinned finding). In
 * the leaky variant its dead region (the slots past the view) still holds
 * the count-2 payload references: the payloads are kept alive through it
 * (a dead_region finding: holder allocated in make_foos, viewed in
 * keep_first_two, the kept payloads allocated in load_payloads). release
 * and copy leave no payload behind the view, so no dead_region finding;
 * the payload blocks still allocated at exit are the leaks.
 *
 * USAGE: pointer_elements leaky|copy|release [count] [size]
 * PARAMS: count=1000 size=1048576
 * DEFINE: foo=40
 * EXPECT leaky,release: finding blocks=1 views=1 used_bytes=2*foo \
 *	block_bytes~count*foo retained_bytes~count*foo-2*foo \
 *	view_function=keep_first_two view_site=first-two alloc_function=make_foos \
 *	alloc_site=foos
 * EXPECT leaky: leak function=load_payloads blocks=count bytes~count*size
 * EXPECT release,copy: leak function=load_payloads blocks=2 bytes~2*size
 * EXPECT copy: findings=0
 * EXPECT copy: leak function=make_foos blocks=0
 * EXPECT leaky: finding kind=dead_region blocks=count-2 \
 *	block_bytes~(count-2)*size retained_bytes~(count-2)*size holder_blocks=1 \
 *	holder_bytes>=count*foo holder_bytes<=count*foo+64 holder_view_bytes=2*foo \
 *	view_function=keep_first_two view_site=first-two alloc_function=load_payloads \
 *	holder_function=make_foos holder_site=foos
 * EXPECT leaky: findings=2
 * EXPECT release,copy: finding kind=dead_region blocks=0
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sliceleak/slice.h>

#include "pattern_args.h"

#define USAGE "pointer_elements leaky|copy|release [count] [size]"

enum variant { V_LEAKY, V_COPY, V_RELEASE };

static const char *const variant_names[] = { "leaky", "copy", "release", NULL };

/* The Go original's Foo: a struct holding a byte slice. */
struct foo {
	sl_slice v; /* owns one reference to its payload */
};

/* The header's DEFINE foo=40 must stay true, or the EXPECT figures lie. */
_Static_assert(sizeof(struct foo) == 40, "DEFINE foo=40 in the header is out of date");

/* &foos[i], typed. */
static struct foo *foo_at(sl_slice foos, size_t i)
{
	return sl_at(foos, i);
}

/* foos := make([]Foo, count) */
static sl_slice make_foos(size_t count)
{
	sl_slice foos = sl_make(sizeof(struct foo), count, count); /* ALLOC-SITE foos */

	if (!foos.ptr)
		pattern_die("sl_make");
	return foos;
}

/* foos[i] = Foo{v: make([]byte, size)} for every element. */
static void load_payloads(sl_slice foos, size_t size)
{
	for (size_t i = 0; i < foos.len; i++) {
		struct foo *f = foo_at(foos, i);

		f->v = sl_make(1, size, size);
		if (!f->v.ptr)
			pattern_die("sl_make");
		((unsigned char *)f->v.ptr)[0] = (unsigned char)i;
	}
}

/*
 * The Go original's keepFirstTwoElementsOnly, in three versions. Takes over the
 * caller's reference to foos and returns a 2-element slice of foos.
 */
static sl_slice keep_first_two(sl_slice foos, enum variant v)
{
	sl_slice two;

	if (v == V_COPY) {
		two = sl_make(sizeof(struct foo), 2, 2);
		if (!two.ptr)
			pattern_die("sl_make");
		for (size_t i = 0; i < 2; i++)
			foo_at(two, i)->v = sl_retain(foo_at(foos, i)->v);
		/* What the garbage collector does once foos is unreachable. */
		for (size_t i = 0; i < foos.len; i++)
			sl_release(&foo_at(foos, i)->v);
	} else {
		if (v == V_RELEASE)
			for (size_t i = 2; i < foos.len; i++)
				sl_release(&foo_at(foos, i)->v); /* foos[i].v = nil */
		two = sl_sub(foos, 0, 2); /* VIEW-SITE first-two */
	}
	sl_release(&foos);
	return two;
}

int main(int argc, char **argv)
{
	enum variant v = (enum variant)pattern_variant(argc, argv, variant_names, USAGE);
	size_t count = pattern_size(argc, argv, 2, 1000, USAGE);
	size_t size = pattern_size(argc, argv, 3, 1048576, USAGE);
	sl_slice foos, two;

	if (count < 2)
		pattern_usage(USAGE);
	foos = make_foos(count);
	load_payloads(foos, size);
	two = keep_first_two(foos, v);
	printf("kept %zu of %zu foos, payload bytes %zu and %zu, first bytes %u %u\n", two.len,
	       count, foo_at(two, 0)->v.len, foo_at(two, 1)->v.len,
	       ((unsigned char *)foo_at(two, 0)->v.ptr)[0],
	       ((unsigned char *)foo_at(two, 1)->v.ptr)[0]);
	/* runtime.KeepAlive(two): exit while two is held. */
	return 0;
}
