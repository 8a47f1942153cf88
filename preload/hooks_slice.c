/*
 * preload/hooks_slice.c - the libslice entry points that create, move or
 * drop a reference.
 *
 * Each wrapper calls the real function (found lazily with
 * dlsym(RTLD_NEXT), so a program without libslice never pays) WITHOUT the
 * guard: the malloc/free inside libslice are the program's and must be
 * recorded. Then it records the view:
 *   SLICE_NEW  after a call that returned a reference (its ALLOC, if any,
 *              is already in the log);
 *   SLICE_DROP before a call that drops one (sl_release may free the
 *              block inside; the drop must precede that FREE).
 * block is s.backing: the contract with libslice (include/sliceleak/slice.h) is
 * that `backing` is exactly the address malloc returned for the backing
 * block. Offsets and lengths are in bytes. Nil slices record nothing.
 */
#include <sliceleak/slice.h>

#include "guard.h"
#include "internal.h"

static struct {
	sl_slice (*make)(size_t, size_t, size_t);
	sl_slice (*from)(const void *, size_t, size_t);
	sl_slice (*from_str)(const char *);
	sl_slice (*sub)(sl_slice, size_t, size_t);
	sl_slice (*sub3)(sl_slice, size_t, size_t, size_t);
	sl_slice (*retain)(sl_slice);
	void (*release)(sl_slice *);
	sl_slice (*append)(sl_slice, const void *, size_t);
	sl_slice (*append_slice)(sl_slice, sl_slice);
	sl_slice (*clone)(sl_slice);
	atomic_bool resolved;
} real;

/* Context: first slice call of the process (racing callers resolve twice, harmlessly). */
static SLP_COLD void resolve_slice(void)
{
	bool entered = slp_guard_enter(); /* dlsym may allocate */
	bool ok = slp_resolve_next(&real.make, "sl_make") &&
		  slp_resolve_next(&real.from, "sl_from") &&
		  slp_resolve_next(&real.from_str, "sl_from_str") &&
		  slp_resolve_next(&real.sub, "sl_sub") &&
		  slp_resolve_next(&real.sub3, "sl_sub3") &&
		  slp_resolve_next(&real.retain, "sl_retain") &&
		  slp_resolve_next(&real.release, "sl_release") &&
		  slp_resolve_next(&real.append, "sl_append") &&
		  slp_resolve_next(&real.append_slice, "sl_append_slice") &&
		  slp_resolve_next(&real.clone, "sl_clone");

	if (!ok)
		slp_die("a libslice function was called but libslice is not loaded after us");
	atomic_store(&real.resolved, true);
	if (entered)
		slp_guard_leave();
}

static inline void ensure_real(void)
{
	if (SLP_UNLIKELY(!atomic_load_explicit(&real.resolved, memory_order_acquire)))
		resolve_slice();
}

#define REAL(fn) (ensure_real(), real.fn)

/* One SLICE_NEW/SLICE_DROP for the view s (byte offsets and lengths); nil: nothing. */
static void record(unsigned kind, const sl_slice *s)
{
	if (!s->backing || !slp_guard_enter())
		return;
	slp_record_slice(kind, s->backing, s->ptr, s->len * s->elem_size, s->cap * s->elem_size);
	slp_guard_leave();
}

static inline sl_slice made(sl_slice r)
{
	record(SLF_REC_SLICE_NEW, &r);
	return r;
}

SLP_EXPORT sl_slice sl_make(size_t elem_size, size_t len, size_t cap)
{
	return made(REAL(make)(elem_size, len, cap));
}

SLP_EXPORT sl_slice sl_from(const void *src, size_t elem_size, size_t n)
{
	return made(REAL(from)(src, elem_size, n));
}

SLP_EXPORT sl_slice sl_from_str(const char *s)
{
	return made(REAL(from_str)(s));
}

SLP_EXPORT sl_slice sl_sub(sl_slice s, size_t lo, size_t hi)
{
	return made(REAL(sub)(s, lo, hi));
}

SLP_EXPORT sl_slice sl_sub3(sl_slice s, size_t lo, size_t hi, size_t max)
{
	return made(REAL(sub3)(s, lo, hi, max));
}

SLP_EXPORT sl_slice sl_retain(sl_slice s)
{
	return made(REAL(retain)(s));
}

SLP_EXPORT sl_slice sl_clone(sl_slice s)
{
	return made(REAL(clone)(s));
}

SLP_EXPORT void sl_release(sl_slice *s)
{
	if (s)
		record(SLF_REC_SLICE_DROP, s);
	REAL(release)(s);
}

SLP_EXPORT sl_slice sl_append(sl_slice s, const void *elems, size_t n)
{
	record(SLF_REC_SLICE_DROP, &s);
	return made(REAL(append)(s, elems, n));
}

SLP_EXPORT sl_slice sl_append_slice(sl_slice s, sl_slice t)
{
	record(SLF_REC_SLICE_DROP, &s);
	return made(REAL(append_slice)(s, t));
}
