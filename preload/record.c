/*
 * preload/record.c - one event, from the hook to the thread's stream.
 *
 * The shape of every function here:
 *   1. capture the stack (slow, parallel) with no lock held;
 *   2. enter_and_intern(): lock this thread's stream (stream.c), check we
 *      are still on (fini, a write error or a fork may have happened
 *      meanwhile) and intern the stack;
 *   3. take the event's seq (format.h, "Order"), write the event, leave.
 * Everything a record refers to (stack edges, module map) is defined at a
 * smaller seq, so the merged streams are always decodable in order. The
 * module map is synced with the stream unlocked (modules.c says why).
 * errno is preserved: recording must not change what the program sees.
 *
 * Context for all: any thread (also a signal handler), the caller holds the
 * guard, no stream is locked.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "guard.h"
#include "internal.h"
#include "sample.h"

/*
 * Enters this thread's stream and interns t (NULL: no stack, *stack = 0).
 * Returns the stream, locked, or NULL when recording stopped. A stack that
 * reaches into an object the log has not described yet sends us out once
 * to write the module map first.
 */
static struct slp_stream *enter_and_intern(const struct slp_trace *t, uint32_t *stack)
{
	bool allow_unknown = false;
	struct slp_stream *s;

	for (;;) {
		if (SLP_UNLIKELY(slp_modules_dirty()))
			slp_modules_sync(NULL, false); /* a dlclose since the last map */
		s = slp_stream_enter();
		if (SLP_UNLIKELY(!s))
			return NULL;
		*stack = t ? slp_stacks_intern(s, t, allow_unknown) : 0;
		if (SLP_LIKELY(*stack != SLP_STACK_NEED_MAP))
			return s;
		slp_stream_leave(s);
		slp_modules_sync(NULL, false);
		allow_unknown = true; /* JIT code stays unknown: do not loop */
	}
}

/* The event's place in the order: a seq taken now, and this thread's clock. */
static inline void event_now(struct slp_stream *s)
{
	slp_stream_event(s, slp_next_seq(), slp_now_ns());
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

_Thread_local uintptr_t slp_last_alloc __attribute__((tls_model("initial-exec")));

void slp_record_alloc(enum slf_alloc_fn fn, void *p, size_t size, size_t align)
{
	struct slp_stream *s;
	struct slp_trace t;
	int saved = errno;
	uint32_t stack;

	slp_last_alloc = SLP_DISGUISE(p);
	if (!recording() || (slp_samp.mean && !slp_sample_add(p, false)))
		return;
	slp_unwind_capture(&t);
	if ((s = enter_and_intern(&t, &stack))) {
		event_now(s); /* after libc returned the block */
		slp_put_alloc(s, (uint8_t)fn, (uintptr_t)p, size, align, stack);
		if (p)
			slp_stream_heap_span(s, (uintptr_t)p, size);
		slp_stream_leave(s);
	}
	errno = saved;
}

static void put_free(struct slp_stream *s, const void *p)
{
	slp_put_free(s, (uintptr_t)p);
}

/* Free needs no stack: one short append, before libc gets the block. */
void slp_record_free(void *p)
{
	struct slp_stream *s;
	int saved = errno;
	uint32_t none;

	if (!recording() || (slp_samp.mean && (!slp_sample_has(p) || slp_sample_del(p, false) != 1)))
		return;
	if ((s = enter_and_intern(NULL, &none))) {
		event_now(s);
		put_free(s, p);
		slp_stream_leave(s);
	}
	errno = saved;
}

/* glibc's reallocarray calls realloc through the PLT, ours: a call out (guard.h). */
static void *call_realloc(enum slf_alloc_fn fn, void *old, size_t n, size_t size)
{
	unsigned char was;
	void *p;

	if (fn != SLF_FN_REALLOCARRAY)
		return slp_real.realloc(old, size);
	was = slp_callout_begin();
	p = slp_real.reallocarray(old, n, size);
	slp_callout_end(was);
	return p;
}

/* The realloc call between two seqs (below); *err: libc's errno. */
static void *realloc_between(enum slf_alloc_fn fn, void *old, size_t n, size_t size,
			     uint64_t seq[2], int *err)
{
	void *p;

	seq[0] = slp_next_seq();
	errno = 0;
	p = call_realloc(fn, old, n, size);
	*err = errno;
	seq[1] = slp_next_seq();
	return p;
}

/* Whether realloc released old: it moved, or realloc(old, 0) freed it (glibc). */
static bool old_released(const void *old, const void *p, size_t bytes, int err)
{
	return old && (p ? p != old : bytes == 0 && err == 0);
}

static SLP_COLD void count_dropped(void)
{
	__atomic_fetch_add(&slp_st.dropped, 1, __ATOMIC_RELAXED);
}

/*
 * With sampling on, a realloc decides anew for its new size (sample.h):
 * `known`, whether the log has old (taken out of the set before libc may
 * hand it to another thread), and `chosen`, whether the new block is
 * recorded. Returns false when neither: nothing to record. `try`: from a
 * signal handler; a set it cannot enter drops the event.
 */
static bool realloc_plan(const void *old, size_t bytes, bool try, bool *known, bool *chosen)
{
	*known = old != NULL;
	*chosen = true;
	if (!slp_samp.mean)
		return true;
	*known = old && slp_sample_has(old);
	*chosen = !slp_sample_skip(bytes);
	if (*known && slp_sample_del(old, try) != 1) {
		if (try)
			count_dropped();
		return false;
	}
	return *known || *chosen;
}

/* What the log says of old: it ended (moved, freed, or no longer recorded). */
static bool old_ends(bool known, bool chosen, const void *old, const void *p, size_t bytes,
		     int err)
{
	return known && (old_released(old, p, bytes, err) || (p && !chosen));
}

/*
 * libc releases a moved block inside realloc, so another thread may be
 * handed `old` before realloc returns, and the new block may be one that
 * another thread freed after realloc began: a moving realloc is recorded
 * as FREE(old) at a seq taken before the call and REALLOC (flags
 * OLD_FREED) at one taken after it (format.h). Sampled: an old block the
 * log has that the new one does not replace in it is a FREE, a new one
 * the log did not have is an ALLOC, as if realloc were malloc and free.
 * Returns what libc returned, with libc's errno.
 */
void *slp_record_realloc(enum slf_alloc_fn fn, void *old, size_t n, size_t size)
{
	size_t bytes = fn == SLF_FN_REALLOCARRAY ? n * size : size;
	struct slp_stream *s;
	struct slp_trace t;
	uint64_t seq[2], now;
	uint32_t stack, flags = 0;
	bool known, chosen;
	void *p;
	int err, saved = errno;

	if (!recording() || !realloc_plan(old, bytes, false, &known, &chosen))
		return call_realloc(fn, old, n, size);
	slp_unwind_capture(&t);
	if (!(s = enter_and_intern(&t, &stack))) {
		errno = saved;
		return call_realloc(fn, old, n, size);
	}
	p = realloc_between(fn, old, n, size, seq, &err);
	now = slp_now_ns();
	if (old_ends(known, chosen, old, p, bytes, err)) {
		slp_stream_event(s, seq[0], now);
		put_free(s, old);
		flags = SLF_REALLOC_OLD_FREED;
	} else if (known && !p && slp_samp.mean) {
		slp_sample_add(old, false); /* it failed: old is still the program's */
	}
	if (p && chosen && (!slp_samp.mean || slp_sample_add(p, false))) {
		slp_stream_event(s, seq[1], now);
		if (known)
			slp_put_realloc(s, (uint8_t)fn, (uintptr_t)old, (uintptr_t)p, bytes, stack,
					flags);
		else
			slp_put_alloc(s, (uint8_t)fn, (uintptr_t)p, bytes, 0, stack);
		slp_stream_heap_span(s, (uintptr_t)p, bytes);
	}
	slp_stream_leave(s);
	errno = err ? err : saved;
	return p;
}

void slp_record_slice(unsigned kind, const void *block, const void *ptr, size_t len, size_t cap)
{
	struct slp_stream *s;
	struct slp_trace t;
	bool with_stack = kind == SLF_REC_SLICE_NEW;
	int saved = errno;
	uint32_t stack;

	if (!recording() || (slp_samp.mean && !slp_sample_has(block)))
		return; /* the log never saw the block */
	if (with_stack)
		slp_unwind_capture(&t);
	if ((s = enter_and_intern(with_stack ? &t : NULL, &stack))) {
		event_now(s);
		if (with_stack)
			slp_put_rec(s, SLICE_NEW, slice_new, (uintptr_t)block, (uintptr_t)ptr, len,
				    cap, stack);
		else
			slp_put_rec(s, SLICE_DROP, slice_drop, (uintptr_t)block, (uintptr_t)ptr,
				    len);
		slp_stream_leave(s);
	}
	errno = saved;
}

/* VIEW_ACQUIRE (ptr, len) or VIEW_RELEASE of owner, with the caller's stack. */
static void record_view(unsigned kind, const void *owner, const void *ptr, size_t len)
{
	struct slp_stream *s;
	struct slp_trace t;
	int saved = errno;
	uint32_t stack;

	if (!recording())
		return;
	slp_unwind_capture(&t);
	if ((s = enter_and_intern(&t, &stack))) {
		event_now(s);
		if (kind == SLF_REC_VIEW_ACQUIRE)
			slp_put_rec(s, VIEW_ACQUIRE, view_acquire, (uintptr_t)owner, (uintptr_t)ptr,
				    len, stack);
		else
			slp_put_rec(s, VIEW_RELEASE, view_release, (uintptr_t)owner, stack);
		slp_stream_leave(s);
	}
	errno = saved;
}

void slp_record_view_acquire(const void *owner, const void *ptr, size_t len)
{
	record_view(SLF_REC_VIEW_ACQUIRE, owner, ptr, len);
}

void slp_record_view_release(const void *owner)
{
	record_view(SLF_REC_VIEW_RELEASE, owner, NULL, 0);
}

/*
 * A snapshot carries the exact time (CLOCK_MONOTONIC, not the coarse
 * clock of ordinary events) in a TIME record right before it, and flushes
 * every thread's records that are not busy right now: a snapshot is a
 * point the user wants on disk even if the process dies right after. It is
 * an evaluation point: the pointer scan (scan.c) follows it at the same
 * seq, so no other thread's event falls in between in the log's order.
 * `from_signal`: taken in a signal handler (snapshot_signal), which may
 * have interrupted libc's malloc: no stack is captured (the unwinder's
 * fallback may allocate), the snapshot's stack is the empty one.
 */
void slp_record_snapshot(const char *label, bool from_signal)
{
	struct slp_stream *s;
	struct slp_trace t;
	struct timespec ts;
	int saved = errno;
	size_t n = label ? strnlen(label, SLF_MAX_STR - 1) : 0;
	uint32_t stack;
	uint64_t now;
	uint8_t *r;

	if (!recording())
		return;
	if (!from_signal)
		slp_unwind_capture(&t);
	if (slp_opt.scan)
		slp_modules_sync(NULL, false); /* a dlopen'd object's globals are roots too */
	if ((s = enter_and_intern(from_signal ? NULL : &t, &stack))) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		now = now > slp_st.start_mono_ns ? now - slp_st.start_mono_ns : 0;
		if (now <= s->now_ns)
			now = s->now_ns + 1; /* a TIME record right before, always */
		slp_stream_event(s, slp_next_seq(), now);
		r = slp_rec_begin(s, SLF_REC_SNAPSHOT, SLF_MAXLEN_SNAPSHOT + n);
		slp_rec_end(s, slf_encode_snapshot(r, &s->prev_addr, SLF_VERSION_MAJOR,
						   label ? label : "", n, stack));
		if (slp_opt.scan)
			slp_scan_locked(s, NULL); /* the evaluation point's facts, right after it */
		slp_streams_flush_all(s, false);
		slp_stream_leave(s);
	}
	errno = saved;
}

/* ---- the reentrant path (internal.h) ------------------------------------ */

/* Room for `need` entries in s's ring: the first one's slot, else NULL. */
static struct slp_pending *pend_room(struct slp_stream *s, uint32_t need)
{
	uint32_t h = atomic_load_explicit(&s->pend_head, memory_order_relaxed);

	if (h - atomic_load_explicit(&s->pend_tail, memory_order_acquire) > SLP_PENDING - need)
		return NULL;
	return &s->pend[h % SLP_PENDING];
}

static void pend_put(struct slp_stream *s, unsigned kind, enum slf_alloc_fn fn, uint64_t seq,
		     const void *p, const void *old, size_t size, size_t align, unsigned flags)
{
	uint32_t h = atomic_load_explicit(&s->pend_head, memory_order_relaxed);
	struct slp_pending *e = &s->pend[h % SLP_PENDING];

	e->kind = (uint8_t)kind;
	e->fn = (uint8_t)fn;
	e->flags = (uint8_t)flags;
	e->seq = seq;
	e->addr = (uintptr_t)p;
	e->old = (uintptr_t)old;
	e->size = size;
	e->align = align;
	atomic_store_explicit(&s->pend_head, h + 1, memory_order_release);
}

/*
 * This thread's stream, marked busy (pend_busy: a nested handler's event
 * is dropped, and slp_pending_floor() sees the seq about to be taken), if
 * the event can wait in it; else NULL, and it counts as dropped.
 */
static struct slp_stream *pend_stream(uint32_t need)
{
	struct slp_stream *s;

	if (!slp_on())
		return NULL; /* not recording: nothing is lost */
	s = slp_stream_mine();
	if (!s || atomic_exchange(&s->pend_busy, true)) {
		count_dropped();
		return NULL;
	}
	if (!pend_room(s, need)) {
		atomic_store(&s->pend_busy, false);
		count_dropped();
		return NULL;
	}
	return s;
}

uint64_t slp_pending_floor(struct slp_stream *s)
{
	uint32_t t = atomic_load(&s->pend_tail);

	if (atomic_load(&s->pend_busy)) /* its seq is not taken yet, or not shown */
		return __atomic_load_n(&s->cur_seq, __ATOMIC_RELAXED);
	return atomic_load(&s->pend_head) != t ? s->pend[t % SLP_PENDING].seq : UINT64_MAX;
}

void slp_record_interrupted(unsigned kind, enum slf_alloc_fn fn, void *p, size_t size,
			    size_t align)
{
	struct slp_stream *s;
	int del;

	if (slp_samp.mean && kind == SLF_REC_FREE && (del = slp_sample_del(p, true)) != 1) {
		if (del < 0)
			count_dropped();
		return; /* not recorded, or the set is busy under us */
	}
	if (!(s = pend_stream(1)))
		return;
	if (slp_samp.mean && kind == SLF_REC_ALLOC && !slp_sample_add(p, true)) {
		atomic_store(&s->pend_busy, false);
		count_dropped();
		return;
	}
	pend_put(s, kind, fn, slp_next_seq(), p, NULL, size, align, 0);
	atomic_store(&s->pend_busy, false);
}

void *slp_record_realloc_interrupted(enum slf_alloc_fn fn, void *old, size_t n, size_t size)
{
	size_t bytes = fn == SLF_FN_REALLOCARRAY ? n * size : size;
	struct slp_stream *s;
	uint64_t seq[2];
	bool known, chosen, ends;
	int err, saved = errno;
	void *p;

	if (!realloc_plan(old, bytes, true, &known, &chosen))
		return call_realloc(fn, old, n, size);
	if (!(s = pend_stream(2))) {
		if (known && slp_samp.mean)
			slp_sample_add(old, true); /* dropped: the log keeps old as it was */
		return call_realloc(fn, old, n, size);
	}
	p = realloc_between(fn, old, n, size, seq, &err);
	if ((ends = old_ends(known, chosen, old, p, bytes, err)))
		pend_put(s, SLF_REC_FREE, fn, seq[0], old, NULL, 0, 0, 0);
	else if (known && !p && slp_samp.mean)
		slp_sample_add(old, true);
	if (p && chosen && slp_samp.mean && !slp_sample_add(p, true))
		count_dropped();
	else if (p && chosen && known)
		pend_put(s, SLF_REC_REALLOC, fn, seq[1], p, old, bytes, 0,
			 ends ? SLF_REALLOC_OLD_FREED : 0);
	else if (p && chosen)
		pend_put(s, SLF_REC_ALLOC, fn, seq[1], p, NULL, bytes, 0, 0);
	atomic_store(&s->pend_busy, false);
	errno = err ? err : saved;
	return p;
}

void slp_pending_drain(struct slp_stream *s, uint64_t below)
{
	uint32_t t = atomic_load_explicit(&s->pend_tail, memory_order_relaxed);
	uint32_t h = atomic_load_explicit(&s->pend_head, memory_order_acquire);
	uint64_t cur = s->cur_seq;

	for (; t != h; atomic_store_explicit(&s->pend_tail, ++t, memory_order_release)) {
		const struct slp_pending *e = &s->pend[t % SLP_PENDING];

		if (e->seq >= below)
			break;
		s->cur_seq = e->seq;
		if (e->kind == SLF_REC_FREE) {
			put_free(s, (void *)(uintptr_t)e->addr);
			continue;
		}
		if (e->kind == SLF_REC_REALLOC) /* no stack: 0 */
			slp_put_realloc(s, e->fn, e->old, e->addr, e->size, 0, e->flags);
		else
			slp_put_alloc(s, e->fn, e->addr, e->size, e->align, 0);
		slp_stream_heap_span(s, e->addr, e->size);
	}
	s->cur_seq = cur;
}
