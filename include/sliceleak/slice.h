/*
 * include/sliceleak/slice.h - Go-like refcounted slices for C (libslice).
 *
 * Link with -lslice (pkg-config: slice). The semantics are Go's, with
 * reference counting in place of a garbage collector:
 *
 *  - A slice is a value. Every slice value returned by a function below owns
 *    one reference to its backing block; drop it with sl_release().
 *  - The backing block is one heap block obtained with malloc(), so any
 *    allocation tracker sees it. Several slices may share it; it is freed
 *    when the last reference is dropped.
 *  - Out-of-range indices are programming errors: a Go-style message on
 *    stderr, then abort(). Size overflow and allocation failure return
 *    SL_NIL with errno = ENOMEM.
 *  - Reference counts are atomic: a slice may be released on any thread.
 *    (Writing the elements concurrently is the caller's business, as in Go.)
 *
 * libslice knows nothing about tracing. Each function is one exported
 * symbol and never calls the others through the dynamic symbol table, so an
 * interposer (libsliceleak.so) sees exactly one event per call.
 */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sl_backing; /* opaque: the refcounted backing block */

typedef struct sl_slice {
	void *ptr;		    /* element 0 of this view; NULL for the nil slice */
	size_t len;		    /* elements visible */
	size_t cap;		    /* elements from ptr to the end of the backing array */
	size_t elem_size;	    /* bytes per element */
	struct sl_backing *backing; /* opaque, refcounted; NULL for the nil slice */
} sl_slice;

#define SL_NIL ((sl_slice){0})

/* make([]T, len, cap): a new zeroed backing of cap elements. */
sl_slice sl_make(size_t elem_size, size_t len, size_t cap);
/* []T{...}: a new backing holding a copy of n elements of src. */
sl_slice sl_from(const void *src, size_t elem_size, size_t n);
/* []byte(s): the bytes of s, without the terminating NUL. */
sl_slice sl_from_str(const char *s);
/* s[lo:hi]: a new reference to the same backing. */
sl_slice sl_sub(sl_slice s, size_t lo, size_t hi);
/* s[lo:hi:max]: as sl_sub, with the capacity cut to max - lo. */
sl_slice sl_sub3(sl_slice s, size_t lo, size_t hi, size_t max);
/* The same view, one more reference. */
sl_slice sl_retain(sl_slice s);
/* Drops the reference *s owns (nothing for the nil slice); *s becomes SL_NIL. */
void sl_release(sl_slice *s);
/* append(s, elems...): takes over s's reference, returns the result's. */
sl_slice sl_append(sl_slice s, const void *elems, size_t n);
/* append(s, t...): takes over s's reference (not t's). */
sl_slice sl_append_slice(sl_slice s, sl_slice t);
/* A new backing of exactly len elements holding a copy of s. */
sl_slice sl_clone(sl_slice s);
/* copy(dst, src): copies min(dst.len, src.len) elements, returns that count. */
size_t sl_copy(sl_slice dst, sl_slice src);
/* &s[i], bounds-checked against len. */
void *sl_at(sl_slice s, size_t i);

#ifdef __cplusplus
}
#endif
