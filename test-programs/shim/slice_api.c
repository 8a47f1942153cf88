/*
 * slice_api.c - every libslice entry point that creates, moves or drops a
 * reference, once.
 *
 * Expected under the shim: the log's SLICE_NEW/SLICE_DROP records, in
 * order, are exactly the "NEW block ptr len cap" / "DROP block ptr len"
 * lines printed here (byte lengths; block = the backing's malloc address),
 * one record per call; sl_copy and sl_at record nothing. Exit 0.
 */
#include <stdio.h>
#include <string.h>

#include <sliceleak/slice.h>

static void new_(const char *what, sl_slice s)
{
	printf("NEW %p %p %zu %zu %s\n", (void *)s.backing, s.ptr, s.len * s.elem_size,
	       s.cap * s.elem_size, what);
}

static void drop(const char *what, sl_slice s)
{
	printf("DROP %p %p %zu %s\n", (void *)s.backing, s.ptr, s.len * s.elem_size, what);
}

int main(void)
{
	int nums[5] = { 1, 2, 3, 4, 5 };
	sl_slice big, sub, sub3, ret, str, from, from2, clone, grown, joined, copy;

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	big = sl_make(1, 1000, 4096);
	new_("make", big);
	sub = sl_sub(big, 10, 15);
	new_("sub", sub);
	sub3 = sl_sub3(big, 100, 110, 120);
	new_("sub3", sub3);
	ret = sl_retain(sub);
	new_("retain", ret);
	str = sl_from_str("hello, slices");
	new_("from_str", str);
	from = sl_from(nums, sizeof(int), 5);
	new_("from", from);
	clone = sl_clone(sub);
	new_("clone", clone);

	/* append in place (cap suffices): drop of the argument, new of the result */
	drop("append-arg", sub3);
	grown = sl_append(sub3, "abc", 3);
	new_("append", grown);
	/* append that must grow: new backing */
	from2 = sl_from(nums + 1, sizeof(int), 2);
	new_("from", from2);
	drop("append_slice-arg", from);
	joined = sl_append_slice(from, from2);
	new_("append_slice", joined);

	copy = sl_make(1, 5, 5);
	new_("make", copy);
	if (sl_copy(copy, sub) != 5 || memcmp(sl_at(copy, 0), sl_at(sub, 0), 5) != 0)
		return 1;

	drop("release", from2);
	sl_release(&from2);
	drop("release", copy);
	sl_release(&copy);
	drop("release", joined);
	sl_release(&joined);
	drop("release", grown);
	sl_release(&grown);
	drop("release", clone);
	sl_release(&clone);
	drop("release", str);
	sl_release(&str);
	drop("release", ret);
	sl_release(&ret);
	drop("release", sub);
	sl_release(&sub);
	drop("release", big);
	sl_release(&big);
	sl_release(&big); /* nil now: records nothing */
	return 0;
}
