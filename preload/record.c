/*
 * preload/record.c - one event, from the hook to the buffer.
 *
 * The shape of every function here:
 *   1. capture the stack (slow, parallel) with no lock held;
 *   2. lock_and_intern(): take the writer lock, check we are still on
 *      (fini, a write error or a fork may have happened meanwhile), write
 *      the THREAD/TIME context and intern the stack;
 *   3. write the event, release the lock.
 * Everything a record refers to (stack edges, module map, context) is
 * written before it, so the one stream is always decodable in order. The
 * module map is synced with the lock released (modules.c says why). errno
 * is preserved: recording must not change what the program sees.
 *
 * Context for all: any thread (also a signal handler), the caller holds the
 * guard, the lock is not held.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static inline void lock(void)
{
	pthread_mutex_lock(&slp_st.lock);
}

static inline void unlock(void)
{
	pthread_mutex_unlock(&slp_st.lock);
}

/*
 * Takes the lock, writes the context and interns t (NULL: no stack, *stack
 * = 0). Returns false, with the lock released, when recording stopped.
 * A stack that reaches into an object the log has not described yet sends
 * us out of the lock once to write the module map first.
 */
static bool lock_and_intern(const struct slp_trace *t, uint32_t *stack)
{
	bool allow_unknown = false;

	for (;;) {
		if (SLP_UNLIKELY(slp_modules_dirty()))
			slp_modules_sync(false); /* a dlclose since the last map */
		lock();
		if (SLP_UNLIKELY(!slp_on())) {
			unlock();
			return false;
		}
		slp_writer_context(slp_current_tid(), slp_now_ns());
		*stack = t ? slp_stacks_intern(t, allow_unknown) : 0;
		if (SLP_LIKELY(*stack != SLP_STACK_NEED_MAP))
			return true;
		unlock();
		slp_modules_sync(false);
		allow_unknown = true; /* JIT code stays unknown: do not loop */
	}
}

/* Rare: an event before start-up finished, or while we are off. */
static SLP_COLD bool start_or_drop(void)
{
	return slp_ensure_started();
}

static inline bool recording(void)
{
	return SLP_LIKELY(slp_on()) || start_or_drop();
}

void slp_record_alloc(enum slf_alloc_fn fn, void *p, size_t size, size_t align)
{
	struct slp_trace t;
	int saved = errno;
	uint32_t stack;
	uint8_t *r;

	if (!recording())
		return;
	slp_unwind_capture(&t);
	if (lock_and_intern(&t, &stack)) {
		r = slp_rec_begin(SLF_REC_ALLOC, 1 + 4 * SLF_MAX_UV_LEN);
		r = slp_put_u8(r, (uint8_t)fn);
		r = slp_put_addr(r, (uintptr_t)p);
		r = slp_put_uv(r, size);
		r = slp_put_uv(r, align);
		slp_rec_end(slp_put_uv(r, stack));
		if (p)
			slp_writer_heap_span((uintptr_t)p, size);
		unlock();
	}
	errno = saved;
}

/* Free needs no stack: one short locked append, before libc gets the block. */
void slp_record_free(void *p)
{
	int saved = errno;
	uint32_t none;
	uint8_t *r;

	if (!recording())
		return;
	if (lock_and_intern(NULL, &none)) {
		r = slp_rec_begin(SLF_REC_FREE, SLF_MAX_UV_LEN);
		slp_rec_end(slp_put_addr(r, (uintptr_t)p));
		unlock();
	}
	errno = saved;
}

static void *call_realloc(enum slf_alloc_fn fn, void *old, size_t n, size_t size)
{
	return fn == SLF_FN_REALLOCARRAY ? slp_real.reallocarray(old, n, size) :
					   slp_real.realloc(old, size);
}

/*
 * The real realloc runs under the writer lock: otherwise another thread
 * could be handed `old` (freed inside realloc) and log its ALLOC before
 * our REALLOC. Returns what libc returned, with libc's errno.
 */
void *slp_record_realloc(enum slf_alloc_fn fn, void *old, size_t n, size_t size)
{
	size_t bytes = fn == SLF_FN_REALLOCARRAY ? n * size : size;
	struct slp_trace t;
	uint32_t stack;
	void *p;
	int err, saved = errno;
	uint8_t *r;

	if (!recording())
		return call_realloc(fn, old, n, size);
	slp_unwind_capture(&t);
	if (!lock_and_intern(&t, &stack)) {
		errno = saved;
		return call_realloc(fn, old, n, size);
	}
	errno = 0;
	p = call_realloc(fn, old, n, size);
	err = errno;
	if (p) {
		if (old) {
			r = slp_rec_begin(SLF_REC_REALLOC, 1 + 4 * SLF_MAX_UV_LEN);
			r = slp_put_u8(r, (uint8_t)fn);
			r = slp_put_addr(r, (uintptr_t)old);
			r = slp_put_addr(r, (uintptr_t)p);
			r = slp_put_uv(r, bytes);
		} else {
			r = slp_rec_begin(SLF_REC_ALLOC, 1 + 4 * SLF_MAX_UV_LEN);
			r = slp_put_u8(r, (uint8_t)fn);
			r = slp_put_addr(r, (uintptr_t)p);
			r = slp_put_uv(r, bytes);
			r = slp_put_uv(r, 0);
		}
		slp_rec_end(slp_put_uv(r, stack));
		slp_writer_heap_span((uintptr_t)p, bytes);
	} else if (old && bytes == 0 && err == 0) {
		/* realloc(p, 0) freed p (glibc) */
		r = slp_rec_begin(SLF_REC_FREE, SLF_MAX_UV_LEN);
		slp_rec_end(slp_put_addr(r, (uintptr_t)old));
	}
	unlock();
	errno = err ? err : saved;
	return p;
}

void slp_record_slice(unsigned kind, const void *block, const void *ptr, size_t len, size_t cap)
{
	struct slp_trace t;
	bool with_stack = kind == SLF_REC_SLICE_NEW;
	int saved = errno;
	uint32_t stack;
	uint8_t *r;

	if (!recording())
		return;
	if (with_stack)
		slp_unwind_capture(&t);
	if (lock_and_intern(with_stack ? &t : NULL, &stack)) {
		r = slp_rec_begin(kind, 5 * SLF_MAX_UV_LEN);
		r = slp_put_addr(r, (uintptr_t)block);
		r = slp_put_addr(r, (uintptr_t)ptr);
		r = slp_put_uv(r, len);
		if (with_stack) {
			r = slp_put_uv(r, cap);
			r = slp_put_uv(r, stack);
		}
		slp_rec_end(r);
		unlock();
	}
	errno = saved;
}

void slp_record_view_acquire(const void *owner, const void *ptr, size_t len)
{
	struct slp_trace t;
	int saved = errno;
	uint32_t stack;
	uint8_t *r;

	if (!recording())
		return;
	slp_unwind_capture(&t);
	if (lock_and_intern(&t, &stack)) {
		r = slp_rec_begin(SLF_REC_VIEW_ACQUIRE, 4 * SLF_MAX_UV_LEN);
		r = slp_put_uv(r, (uintptr_t)owner);
		r = slp_put_addr(r, (uintptr_t)ptr);
		r = slp_put_uv(r, len);
		slp_rec_end(slp_put_uv(r, stack));
		unlock();
	}
	errno = saved;
}

void slp_record_view_release(const void *owner)
{
	struct slp_trace t;
	int saved = errno;
	uint32_t stack;
	uint8_t *r;

	if (!recording())
		return;
	slp_unwind_capture(&t);
	if (lock_and_intern(&t, &stack)) {
		r = slp_rec_begin(SLF_REC_VIEW_RELEASE, 2 * SLF_MAX_UV_LEN);
		r = slp_put_uv(r, (uintptr_t)owner);
		slp_rec_end(slp_put_uv(r, stack));
		unlock();
	}
	errno = saved;
}

/*
 * A snapshot carries the exact time (CLOCK_MONOTONIC, not the coarse
 * clock of ordinary events) in a TIME record right before it, and flushes:
 * a snapshot is a point the user wants on disk even if the process dies
 * right after. It is an evaluation point: the pointer scan (scan.c)
 * follows it, under the same lock hold, so no event falls in between.
 */
void slp_record_snapshot(const char *label)
{
	struct slp_trace t;
	struct timespec ts;
	int saved = errno;
	size_t n = label ? strnlen(label, SLF_MAX_STR - 1) : 0;
	uint32_t stack;
	uint64_t now;
	uint8_t *r;

	if (!recording())
		return;
	slp_unwind_capture(&t);
	if (slp_opt.scan)
		slp_modules_sync(false); /* a dlopen'd object's globals are roots too */
	if (lock_and_intern(&t, &stack)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		now = now > slp_st.start_mono_ns ? now - slp_st.start_mono_ns : 0;
		if (now <= slp_st.w.time_ns)
			now = slp_st.w.time_ns + 1; /* a TIME record right before, always */
		slp_writer_context(slp_current_tid(), now);
		r = slp_rec_begin(SLF_REC_SNAPSHOT, 2 * SLF_MAX_UV_LEN + n);
		r = slp_put_str(r, label ? label : "", n);
		slp_rec_end(slp_put_uv(r, stack));
		if (slp_opt.scan)
			slp_scan_locked(NULL); /* the evaluation point's facts, right after it */
		slp_writer_flush();
		unlock();
	}
	errno = saved;
}
