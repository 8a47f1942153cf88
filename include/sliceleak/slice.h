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

/*
 * Opaque: the refcounted backing block. CONTRACT with allocation trackers
 * (libsliceleak.so relies on it; slice/slice.c keeps it):
 *  - `backing` is exactly the pointer malloc() returned for the block, called
 *    through the PLT from libslice.so; the size requested is a header of at
 *    most 64 bytes (16 on x86-64) plus cap * elem_size bytes of elements,
 *    aligned to alignof(max_align_t). free(backing) happens once, when the
 *    last reference is dropped.
 *  - Every non-nil slice owns a block, even an empty one (a header-only block),
 *    and ptr may be the block's end (a zero-length view such as s[cap:cap]):
 *    find the block by `backing`, never by ptr.
 */
struct sl_backing;

typedef struct sl_slice {
	void *ptr;		    /* element 0 of this view; NULL for the nil slice */
	size_t len;		    /* elements visible */
	size_t cap;		    /* elements from ptr to the end of the backing array */
	size_t elem_size;	    /* bytes per element */
	struct sl_backing *backing; /* opaque, refcounted; NULL for the nil slice */
} sl_slice;

/*
 * The nil slice. It carries no element size; a "typed nil" does,
 * SL_NIL_OF(T), and is what sl_append() needs to start a slice from nothing
 * (Go knows T statically; C cannot, so sl_append(SL_NIL, elems, n > 0)
 * aborts with a message instead of guessing).
 */
#define SL_NIL ((sl_slice){0})
#define SL_NIL_OF(T) ((sl_slice){.elem_size = sizeof(T)})

/* make([]T, len, cap): a new zeroed backing of cap elements; len > cap aborts. */
sl_slice sl_make(size_t elem_size, size_t len, size_t cap);
/* []T{...}: a new backing holding a copy of n elements of src. */
sl_slice sl_from(const void *src, size_t elem_size, size_t n);
/* []byte(s): the bytes of s, without the terminating NUL ("" gives an empty non-nil slice). */
sl_slice sl_from_str(const char *s);
/* s[lo:hi]: a new reference to the same backing. */
sl_slice sl_sub(sl_slice s, size_t lo, size_t hi);
/* s[lo:hi:max]: as sl_sub, with the capacity cut to max - lo. */
sl_slice sl_sub3(sl_slice s, size_t lo, size_t hi, size_t max);
/* The same view, one more reference. */
sl_slice sl_retain(sl_slice s);
/* Drops the reference *s owns (nothing for the nil slice); *s becomes SL_NIL. */
void sl_release(sl_slice *s);
/*
 * append(s, elems...): takes over s's reference, returns the result's. In
 * place when cap suffices (other views of the block see the write, as in
 * Go); otherwise a new block grown by Go 1.20's rule (double below 256
 * elements, then += (cap + 768) / 4 until enough; no size-class rounding) and
 * the old reference is dropped. On failure returns SL_NIL with errno = ENOMEM
 * and s's reference is dropped too, so `s = sl_append(s, ...)` never leaks.
 */
sl_slice sl_append(sl_slice s, const void *elems, size_t n);
/* append(s, t...): as sl_append; takes over s's reference (not t's). Element
 * sizes must match; appending to SL_NIL takes t's. */
sl_slice sl_append_slice(sl_slice s, sl_slice t);
/* A new backing of exactly len elements holding a copy of s; like Go's
 * slices.Clone, nil gives nil and empty gives empty non-nil. Never shares s's
 * block, so it is the fix for a small view pinning a big one. */
sl_slice sl_clone(sl_slice s);
/* copy(dst, src): copies min(dst.len, src.len) elements, returns that count. */
size_t sl_copy(sl_slice dst, sl_slice src);
/* &s[i], bounds-checked against len. */
void *sl_at(sl_slice s, size_t i);

#ifdef __cplusplus
}
#endif
