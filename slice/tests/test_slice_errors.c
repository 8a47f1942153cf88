/*
 * slice/tests/test_slice_errors.c - every error path of libslice.
 *
 * Programming errors must print Go's wording on stderr and abort(): each is
 * run in a forked child whose stderr goes to a pipe, and the parent checks
 * the signal and the exact message. Size overflow and allocation failure
 * must return SL_NIL with errno = ENOMEM (and appends must still drop the
 * reference they took over).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sliceleak/slice.h>

#include "alloc_count.h"
#include "check.h"

/* The argument every abort case works on: an 8-byte slice of len 3, cap 8. */
static sl_slice fx;

/*
 * Runs bad() in a child with stderr captured. True when the child died of
 * SIGABRT and printed exactly want (plus a newline); otherwise says why.
 */
static bool aborts_with(void (*bad)(void), const char *want)
{
	char got[512];
	size_t n = 0;
	ssize_t r;
	int fds[2], status;
	pid_t pid;

	if (pipe(fds) != 0)
		return false;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		bad();
		_exit(0); /* returned: the error went unnoticed */
	}
	close(fds[1]);
	while (n < sizeof(got) - 1 && (r = read(fds[0], got + n, sizeof(got) - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
	}
	got[n] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
		fprintf(stderr, "  child did not abort (status %#x) for: %s\n", status, want);
		return false;
	}
	if (n == 0 || got[n - 1] != '\n' || strlen(want) != n - 1 ||
	    memcmp(got, want, n - 1) != 0) {
		fprintf(stderr, "  want: %s\n  got:  %s\n", want, got);
		return false;
	}
	return true;
}

static void sub_hi_past_cap(void)
{
	(void)sl_sub(fx, 0, 9);
}

static void sub_lo_past_hi(void)
{
	(void)sl_sub(fx, 5, 3);
}

static void sub_nil_past_cap(void)
{
	(void)sl_sub(SL_NIL, 0, 1);
}

static void sub3_max_past_cap(void)
{
	(void)sl_sub3(fx, 0, 2, 9);
}

static void sub3_hi_past_max(void)
{
	(void)sl_sub3(fx, 0, 6, 5);
}

static void sub3_lo_past_hi(void)
{
	(void)sl_sub3(fx, 4, 3, 5);
}

static void at_past_len(void)
{
	(void)sl_at(fx, 5);
}

static void at_len(void)
{
	(void)sl_at(fx, 3); /* within cap, but not within len */
}

static void at_nil(void)
{
	(void)sl_at(SL_NIL, 0);
}

static void make_len_past_cap(void)
{
	(void)sl_make(4, 5, 3);
}

static void make_zero_elem(void)
{
	(void)sl_make(0, 1, 1);
}

static void from_zero_elem(void)
{
	(void)sl_from("x", 0, 1);
}

static void from_null_src(void)
{
	(void)sl_from(NULL, 4, 2);
}

static void from_str_null(void)
{
	(void)sl_from_str(NULL);
}

static void append_null_elems(void)
{
	(void)sl_append(fx, NULL, 2);
}

static void append_untyped_nil(void)
{
	(void)sl_append(SL_NIL, "ab", 2);
}

static void append_slice_mismatch(void)
{
	sl_slice t = sl_make(4, 1, 1);

	(void)sl_append_slice(fx, t);
}

static void copy_mismatch(void)
{
	sl_slice t = sl_make(2, 1, 1);

	(void)sl_copy(fx, t);
}

/* Each abort case: the signal and Go's exact wording, prefixed by the function. */
static void test_aborts(void)
{
	fx = sl_make(8, 3, 8);
	CHECK(aborts_with(sub_hi_past_cap, "sl_sub: slice bounds out of range [:9] with capacity 8"));
	CHECK(aborts_with(sub_lo_past_hi, "sl_sub: slice bounds out of range [5:3]"));
	CHECK(aborts_with(sub_nil_past_cap,
			  "sl_sub: slice bounds out of range [:1] with capacity 0"));
	CHECK(aborts_with(sub3_max_past_cap,
			  "sl_sub3: slice bounds out of range [::9] with capacity 8"));
	CHECK(aborts_with(sub3_hi_past_max, "sl_sub3: slice bounds out of range [:6:5]"));
	CHECK(aborts_with(sub3_lo_past_hi, "sl_sub3: slice bounds out of range [4:3:]"));
	CHECK(aborts_with(at_past_len, "sl_at: index out of range [5] with length 3"));
	CHECK(aborts_with(at_len, "sl_at: index out of range [3] with length 3"));
	CHECK(aborts_with(at_nil, "sl_at: index out of range [0] with length 0"));
	CHECK(aborts_with(make_len_past_cap, "sl_make: makeslice: cap out of range"));
	CHECK(aborts_with(make_zero_elem, "sl_make: element size is 0"));
	CHECK(aborts_with(from_zero_elem, "sl_from: element size is 0"));
	CHECK(aborts_with(from_null_src, "sl_from: src is NULL with n = 2"));
	CHECK(aborts_with(from_str_null, "sl_from_str: s is NULL"));
	CHECK(aborts_with(append_null_elems, "sl_append: elems is NULL with n = 2"));
	CHECK(aborts_with(append_untyped_nil, "sl_append: element size is 0 (append to a typed "
						  "nil: SL_NIL_OF(T))"));
	CHECK(aborts_with(append_slice_mismatch,
			  "sl_append_slice: element size mismatch: s has 8-byte elements, t has 4"));
	CHECK(aborts_with(copy_mismatch,
			  "sl_copy: element size mismatch: dst has 8-byte elements, src has 2"));
	sl_release(&fx);
}

/* True for SL_NIL returned with errno = ENOMEM. */
static bool is_enomem(sl_slice s)
{
	return s.ptr == NULL && s.backing == NULL && s.len == 0 && s.cap == 0 && errno == ENOMEM;
}

/* Sizes that overflow are refused before malloc() is asked. */
static void test_overflow(void)
{
	size_t mallocs = alloc_count_mallocs();
	char c = 0;

	errno = 0;
	CHECK(is_enomem(sl_make(8, 0, SIZE_MAX / 4))); /* elem_size * cap wraps */
	errno = 0;
	CHECK(is_enomem(sl_make(1, 0, SIZE_MAX))); /* header + bytes wraps */
	errno = 0;
	CHECK(is_enomem(sl_make(1, 0, (size_t)PTRDIFF_MAX))); /* bigger than any C object */
	errno = 0;
	CHECK(is_enomem(sl_from(&c, 16, SIZE_MAX / 8))); /* src is never read */
	CHECK(alloc_count_mallocs() == mallocs);

	/* len + n wraps: SL_NIL, and the reference s handed over is dropped. */
	sl_slice s = sl_make(1, 1, 1);
	void *b = s.backing;

	alloc_count_watch(b);
	errno = 0;
	CHECK(is_enomem(sl_append(s, &c, SIZE_MAX)));
	CHECK(alloc_count_freed(b) == 1);

	/* The grown capacity in bytes wraps. */
	s = sl_make(8, 4, 4);
	b = s.backing;
	alloc_count_watch(b);
	errno = 0;
	CHECK(is_enomem(sl_append(s, &c, SIZE_MAX / 16)));
	CHECK(alloc_count_freed(b) == 1);
}

/* malloc() failing: every allocating function returns SL_NIL with ENOMEM. */
static void test_alloc_failure(void)
{
	char c = 'c';

	alloc_count_fail_next(1);
	errno = 0;
	CHECK(is_enomem(sl_make(4, 1, 1)));
	alloc_count_fail_next(1);
	errno = 0;
	CHECK(is_enomem(sl_from(&c, 1, 1)));
	alloc_count_fail_next(1);
	errno = 0;
	CHECK(is_enomem(sl_from_str("abc")));

	sl_slice s = sl_from_str("abc");

	alloc_count_fail_next(1);
	errno = 0;
	CHECK(is_enomem(sl_clone(s)));
	CHECK(s.len == 3 && memcmp(s.ptr, "abc", 3) == 0); /* clone left s alone */

	/* Growing append fails: the old reference is dropped, like on success. */
	sl_slice keep = sl_retain(s);
	void *b = s.backing;

	alloc_count_watch(b);
	alloc_count_fail_next(1);
	errno = 0;
	CHECK(is_enomem(sl_append(s, &c, 1)));
	CHECK(alloc_count_freed(b) == 0); /* keep still holds it */
	sl_release(&keep);
	CHECK(alloc_count_freed(b) == 1);

	sl_slice t = sl_from_str("t");

	alloc_count_fail_next(1);
	errno = 0;
	CHECK(is_enomem(sl_append_slice(SL_NIL, t)));
	sl_release(&t);
	alloc_count_fail_next(0);

	/* The real allocator refusing a size it cannot map (not a wrap-around). */
	errno = 0;
	CHECK(is_enomem(sl_make(1, 0, (size_t)PTRDIFF_MAX - 4096)));
}

int main(void)
{
	RUN(test_aborts);
	RUN(test_overflow);
	RUN(test_alloc_failure);
	return check_summary();
}
