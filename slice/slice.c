/*
 * slice/slice.c - libslice: Go-like refcounted slices for C.
 *
 * The semantics are Go's (include/sliceleak/slice.h), with an atomic reference
 * count in place of the garbage collector. This file knows nothing about
 * tracing; it only keeps the two promises a tracker relies on:
 *
 * CONTRACT with an allocation tracker (libsliceleak.so):
 *  1. Every backing block is ONE call to malloc(), made through the PLT, so an
 *     LD_PRELOAD interposer sees it. The `backing` member of a slice is
 *     exactly the address that malloc() returned, and the size requested is
 *     SL_HEADER + cap_bytes: a header of SL_HEADER bytes (16 on x86-64, at
 *     most 64) followed by the element array. The block is given back with
 *     free(backing), once, when its last reference is dropped.
 *  2. Each public sl_* function is one exported symbol and never calls
 *     another public one (only the static helpers below), so an interposer of
 *     the sl_* symbols sees exactly one event per call. tests/check_symbols.sh
 *     verifies it on the built library.
 *
 * Conventions of this implementation, where Go gives no direct answer:
 *  - The nil slice: ptr == NULL and backing == NULL. It may carry an element
 *    size (a "typed nil", SL_NIL_OF(T)). SL_NIL
 *    carries none, so sl_append(SL_NIL, elems, n > 0) cannot know how big an
 *    element is and aborts, naming the fix; guessing bytes would silently
 *    corrupt every non-byte caller. sl_append_slice(SL_NIL, t) takes t's size.
 *  - Every non-nil slice owns a backing block, even an empty one (make(0),
 *    []T{}, clone of an empty slice): such a block is the header alone, and
 *    ptr points just past it.
 *  - elem_size 0 is a programming error (C has no zero-sized objects).
 *  - sl_append and sl_append_slice consume s's reference on every path,
 *    failure included, so `s = sl_append(s, ...)` never leaks.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sliceleak/slice.h>

/* Only these definitions leave the library; the build hides everything else. */
#define SL_EXPORT __attribute__((visibility("default")))

/*
 * The header at the start of every backing block. Aligning the struct to
 * max_align_t pads its size to a multiple of that alignment, so the elements
 * that follow are aligned for any type, as malloc()'s own result is.
 */
struct sl_backing {
	alignas(max_align_t) atomic_size_t refs; /* slice values that own a reference */
	size_t cap_bytes;			 /* bytes of element storage after the header */
};

#define SL_HEADER sizeof(struct sl_backing)
/* C makes pointer differences above PTRDIFF_MAX undefined: no block is bigger. */
#define SL_MAX_DATA ((size_t)PTRDIFF_MAX - SL_HEADER)

_Static_assert(sizeof(struct sl_backing) <= 64, "slice.h: at most 64 bytes of overhead");
_Static_assert(sizeof(struct sl_backing) % alignof(max_align_t) == 0,
	       "the element array must be aligned like malloc()'s result");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && sizeof(size_t) == sizeof(long long),
	       "the reference count must be lock-free (no libatomic)");

/* Go's growslice threshold: below it capacity doubles, above it grows ~1.25x. */
#define GROW_THRESHOLD 256

/*
 * Prints "<fn>: <what>" on stderr in one write(2) and aborts: the programming
 * errors Go would panic on. One write keeps the line whole when several
 * threads fail at once, and avoids stdio state in a dying process.
 * Context: any thread.
 */
static _Noreturn __attribute__((cold, format(printf, 2, 3))) void die(const char *fn,
								      const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n, m;

	n = snprintf(msg, sizeof(msg), "%s: ", fn);
	va_start(ap, fmt);
	m = vsnprintf(msg + n, sizeof(msg) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0; /* an encoding error: the function name alone still says where */
	if (m > (int)(sizeof(msg) - (size_t)n - 2))
		m = (int)(sizeof(msg) - (size_t)n - 2); /* truncated: keep the newline */
	n += m;
	msg[n++] = '\n';
	if (write(STDERR_FILENO, msg, (size_t)n) < 0) {
		/* Nothing better to do: we are about to abort anyway. */
	}
	abort();
}

/* Element storage of a backing block. */
static inline unsigned char *backing_data(struct sl_backing *b)
{
	return (unsigned char *)b + SL_HEADER;
}

/* True for the nil slice (typed or not). */
static inline bool is_nil(sl_slice s)
{
	return s.backing == NULL;
}

/* Stores elem_size * n in *bytes; false when it does not fit a block. */
static bool elems_bytes(size_t elem_size, size_t n, size_t *bytes)
{
	if (elem_size && n > SL_MAX_DATA / elem_size)
		return false;
	*bytes = elem_size * n;
	return true;
}

/*
 * Mallocs a backing block for `bytes` bytes of elements, holding one
 * reference. The elements are left uninitialised. Returns NULL with
 * errno = ENOMEM when the size overflows or malloc() fails.
 */
static struct sl_backing *backing_new(size_t bytes)
{
	struct sl_backing *b;

	if (bytes > SL_MAX_DATA) {
		errno = ENOMEM;
		return NULL;
	}
	b = malloc(SL_HEADER + bytes); /* the one allocation a tracker sees: see CONTRACT */
	if (!b) {
		errno = ENOMEM; /* malloc() need not set it (ISO C) */
		return NULL;
	}
	atomic_init(&b->refs, 1);
	b->cap_bytes = bytes;
	return b;
}

/*
 * Adds a reference. Relaxed is enough: the caller already holds one, so the
 * block cannot be freed meanwhile, and nothing else is published by the
 * increment (the argument std::shared_ptr implementations make).
 */
static void backing_get(struct sl_backing *b)
{
	atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

/*
 * Drops a reference and frees the block with the last one. acq_rel: the
 * release half orders this thread's writes to the elements before the
 * decrement; the acquire half makes the thread that frees see every other
 * thread's writes, so no write can land after free().
 * Context: any thread.
 */
static void backing_put(struct sl_backing *b)
{
	if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
		free(b);
}

/* A view of the whole of a new block: element 0 at the start of its data. */
static sl_slice view_of(struct sl_backing *b, size_t elem_size, size_t len, size_t cap)
{
	return (sl_slice){
		.ptr = backing_data(b),
		.len = len,
		.cap = cap,
		.elem_size = elem_size,
		.backing = b,
	};
}

/*
 * A new slice of `cap` elements holding a copy of `len` elements of src (src
 * may be NULL when len is 0); the rest of the capacity is zeroed, as Go
 * clears the tail it hands out. Returns SL_NIL with errno = ENOMEM on
 * overflow or allocation failure.
 */
static sl_slice new_slice(size_t elem_size, const void *src, size_t len, size_t cap)
{
	struct sl_backing *b;
	size_t bytes, used;

	if (!elems_bytes(elem_size, cap, &bytes)) {
		errno = ENOMEM;
		return SL_NIL;
	}
	b = backing_new(bytes);
	if (!b)
		return SL_NIL;
	used = elem_size * len; /* len <= cap: cannot overflow */
	if (used)
		memcpy(backing_data(b), src, used);
	if (bytes > used)
		memset(backing_data(b) + used, 0, bytes - used);
	return view_of(b, elem_size, len, cap);
}

/*
 * Go 1.20's growslice rule, without the size-class rounding Go applies
 * afterwards: when more than double is needed take exactly that; below 256
 * elements double; from 256 on grow by (cap + 3*256) / 4 until enough, which
 * moves smoothly from 2x towards 1.25x. Returns a capacity >= needed; on
 * arithmetic overflow falls back to `needed` (Go's `newcap <= 0` case).
 */
static size_t grow_cap(size_t old_cap, size_t needed)
{
	size_t cap = old_cap;

	if (old_cap > SIZE_MAX / 2 || needed > 2 * old_cap)
		return needed;
	if (old_cap < GROW_THRESHOLD)
		return 2 * old_cap;
	while (cap < needed) {
		/* (cap + 3*256) / 4, written so that it cannot overflow */
		size_t step = cap / 4 + 3 * GROW_THRESHOLD / 4;

		if (cap > SIZE_MAX - step)
			return needed;
		cap += step;
	}
	return cap;
}

/*
 * append(s, elems[0:n]...) for both sl_append and sl_append_slice. Consumes
 * s's reference on every path. elems may point into s's own backing (append
 * of a slice to itself): in place it is moved with memmove, and on growth it
 * is copied before the old reference is dropped.
 */
static sl_slice append_elems(sl_slice s, size_t elem_size, const void *elems, size_t n)
{
	size_t needed, cap, bytes;
	sl_slice g;

	if (n == 0)
		return s; /* Go: append(s) is s, nil included */
	s.elem_size = elem_size; /* fills in the element size of a nil slice */
	if (s.len > SIZE_MAX - n)
		goto err_enomem;
	needed = s.len + n;
	if (needed <= s.cap) {
		/* Room left: write in place, like Go; other views of the block see it. */
		memmove((unsigned char *)s.ptr + s.len * elem_size, elems, n * elem_size);
		s.len = needed;
		return s;
	}

	cap = grow_cap(s.cap, needed);
	if (!elems_bytes(elem_size, cap, &bytes)) {
		cap = needed; /* the growth factor overflowed, exactly enough may not */
		if (!elems_bytes(elem_size, cap, &bytes))
			goto err_enomem;
	}
	g = new_slice(elem_size, s.ptr, s.len, cap);
	if (is_nil(g))
		goto err_release; /* errno is ENOMEM */
	memcpy((unsigned char *)g.ptr + s.len * elem_size, elems, n * elem_size);
	g.len = needed;
	if (!is_nil(s))
		backing_put(s.backing);
	return g;

err_enomem:
	errno = ENOMEM;
err_release:
	if (!is_nil(s))
		backing_put(s.backing);
	return SL_NIL;
}

/*
 * sl_make - make([]T, len, cap): a new backing of cap zeroed elements.
 * len > cap aborts like Go's makeslice; a size that overflows returns SL_NIL
 * with errno = ENOMEM.
 */
SL_EXPORT sl_slice sl_make(size_t elem_size, size_t len, size_t cap)
{
	sl_slice s;

	if (elem_size == 0)
		die(__func__, "element size is 0");
	if (len > cap)
		die(__func__, "makeslice: cap out of range");
	s = new_slice(elem_size, NULL, 0, cap); /* all of cap zeroed */
	if (!is_nil(s))
		s.len = len;
	return s;
}

/* sl_from - []T{...}: a new backing of exactly n elements copied from src. */
SL_EXPORT sl_slice sl_from(const void *src, size_t elem_size, size_t n)
{
	if (elem_size == 0)
		die(__func__, "element size is 0");
	if (!src && n)
		die(__func__, "src is NULL with n = %zu", n);
	return new_slice(elem_size, src, n, n);
}

/* sl_from_str - []byte(s): the bytes of s without its NUL; "" gives an empty non-nil slice. */
SL_EXPORT sl_slice sl_from_str(const char *s)
{
	size_t n;

	if (!s)
		die(__func__, "s is NULL");
	n = strlen(s);
	return new_slice(1, s, n, n);
}

/*
 * sl_sub - s[lo:hi]: a new reference to the same backing, capacity running to
 * the end of s's. Checked like Go: hi against cap first, then lo against hi.
 */
SL_EXPORT sl_slice sl_sub(sl_slice s, size_t lo, size_t hi)
{
	if (hi > s.cap)
		die(__func__, "slice bounds out of range [:%zu] with capacity %zu", hi, s.cap);
	if (lo > hi)
		die(__func__, "slice bounds out of range [%zu:%zu]", lo, hi);
	if (is_nil(s))
		return s; /* nil[0:0] is nil, and owns nothing */
	backing_get(s.backing);
	s.ptr = (unsigned char *)s.ptr + lo * s.elem_size;
	s.len = hi - lo;
	s.cap -= lo;
	return s;
}

/*
 * sl_sub3 - s[lo:hi:max]: as sl_sub with the capacity cut to max - lo, so
 * that a later append must copy instead of writing over s[max:]. Checked in
 * Go's order: max against cap, hi against max, lo against hi.
 */
SL_EXPORT sl_slice sl_sub3(sl_slice s, size_t lo, size_t hi, size_t max)
{
	if (max > s.cap)
		die(__func__, "slice bounds out of range [::%zu] with capacity %zu", max, s.cap);
	if (hi > max)
		die(__func__, "slice bounds out of range [:%zu:%zu]", hi, max);
	if (lo > hi)
		die(__func__, "slice bounds out of range [%zu:%zu:]", lo, hi);
	if (is_nil(s))
		return s;
	backing_get(s.backing);
	s.ptr = (unsigned char *)s.ptr + lo * s.elem_size;
	s.len = hi - lo;
	s.cap = max - lo;
	return s;
}

/* sl_retain - the same view with one more reference (nil stays nil). */
SL_EXPORT sl_slice sl_retain(sl_slice s)
{
	if (!is_nil(s))
		backing_get(s.backing);
	return s;
}

/*
 * sl_release - drops the reference *s owns and sets *s to SL_NIL. A nil slice
 * (or a NULL s) is a no-op, so releasing twice through the same variable is
 * harmless. Context: any thread.
 */
SL_EXPORT void sl_release(sl_slice *s)
{
	if (!s)
		return;
	if (!is_nil(*s))
		backing_put(s->backing);
	*s = SL_NIL;
}

/*
 * sl_append - append(s, elems[0:n]...). Takes over s's reference and returns
 * the result's (the same block when cap sufficed, else a new one; on failure
 * SL_NIL with errno = ENOMEM, s's reference dropped). The elements are
 * s.elem_size bytes each, so appending to nil needs a typed nil.
 */
SL_EXPORT sl_slice sl_append(sl_slice s, const void *elems, size_t n)
{
	if (n && !s.elem_size)
		die(__func__, "element size is 0 (append to a typed nil: SL_NIL_OF(T))");
	if (n && !elems)
		die(__func__, "elems is NULL with n = %zu", n);
	return append_elems(s, s.elem_size, elems, n);
}

/*
 * sl_append_slice - append(s, t...). Takes over s's reference, not t's. The
 * element sizes must match (Go would not compile it), unless one side is an
 * untyped nil; appending to SL_NIL adopts t's element size.
 */
SL_EXPORT sl_slice sl_append_slice(sl_slice s, sl_slice t)
{
	if (s.elem_size && t.elem_size && s.elem_size != t.elem_size)
		die(__func__, "element size mismatch: s has %zu-byte elements, t has %zu",
		    s.elem_size, t.elem_size);
	return append_elems(s, s.elem_size ? s.elem_size : t.elem_size, t.ptr, t.len);
}

/*
 * sl_clone - a new backing of exactly len elements holding a copy of s, so
 * the copy pins nothing of s's block. Like Go's slices.Clone, the clone of
 * nil is nil and the clone of an empty non-nil slice is empty and non-nil
 * (here: a block of the header alone, never a view of s's block).
 */
SL_EXPORT sl_slice sl_clone(sl_slice s)
{
	if (is_nil(s))
		return s;
	return new_slice(s.elem_size, s.ptr, s.len, s.len);
}

/*
 * sl_copy - copy(dst, src): copies min(dst.len, src.len) elements with
 * memmove (the two may overlap) and returns that count. Element sizes must
 * match unless one side is an untyped nil.
 */
SL_EXPORT size_t sl_copy(sl_slice dst, sl_slice src)
{
	size_t n = dst.len < src.len ? dst.len : src.len;

	if (dst.elem_size && src.elem_size && dst.elem_size != src.elem_size)
		die(__func__, "element size mismatch: dst has %zu-byte elements, src has %zu",
		    dst.elem_size, src.elem_size);
	if (n)
		memmove(dst.ptr, src.ptr, n * dst.elem_size);
	return n;
}

/* sl_at - &s[i]; i >= len aborts with Go's message. */
SL_EXPORT void *sl_at(sl_slice s, size_t i)
{
	if (i >= s.len)
		die(__func__, "index out of range [%zu] with length %zu", i, s.len);
	return (unsigned char *)s.ptr + i * s.elem_size;
}
