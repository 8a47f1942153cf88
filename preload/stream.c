/*
 * preload/stream.c - one record stream per thread (format.h 2.x).
 *
 * A thread appends its records to a buffer of its own, which goes to the
 * log as one CHUNK when it is full, when flush_ms passed, at snapshots, at
 * fork, at the thread's exit and at the process's exit. The order across
 * threads is carried by the sequence number each event takes from one
 * counter (slp_next_seq); the analyzer merges the streams by it. So the hot
 * path touches only this thread's cache lines, the counter and the read-mostly
 * stack cache: with one writer lock, two threads spent most of their time
 * handing the lock and the buffer's cache lines to each other.
 *
 * Each stream has a lock, taken by its owner for the length of one event
 * and by a thread that flushes it from outside (exit, timed flush): an
 * uncontended exchange in the common case. Streams are never freed: a
 * finished thread's stream is flushed and goes back to the pool for the
 * next new thread.
 *
 * The chunk header (kind, length, tid, base seq) is only known when the
 * chunk is complete, so HDR_RESERVE bytes are kept free in front of the
 * records and the header is encoded right-aligned into them.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "guard.h"
#include "internal.h"

/* a SYNC record first in a chunk: kind, seq_delta 0, length, payload */
#define SYNC_MAX (1 + 1 + 1 + SLF_MAXLEN_SYNC)
/* CHUNK kind + its length (slp_writer_frame's room) + tid + base seq + a SYNC */
#define HDR_RESERVE (1 + SLF_MAX_UV_LEN + SLF_MAX_UV_LEN + SLF_MAX_UV_LEN + SYNC_MAX)
/* seq_delta + kind + a length up to SLF_MAX_PAYLOAD */
#define REC_HDR_MAX (SLF_MAX_UV_LEN + 1 + 3)
/* a thread this long without an event has its buffer written by the next flusher */
#define QUIET_NS (20 * 1000000ull)
/* a TIME record that rec_begin may put first in a new chunk */
#define TIME_MAX (REC_HDR_MAX + SLF_MAX_UV_LEN)

static _Thread_local struct slp_stream *my_stream __attribute__((tls_model("initial-exec")));
static struct slp_stream *_Atomic registry;
static pthread_key_t exit_key;
static bool have_exit_key;

static void lock_stream(struct slp_stream *s)
{
	/* seq_cst: complete_below() orders a stream's lock before its next seq */
	for (unsigned spins = 0; atomic_exchange(&s->lock, 1);) {
		/* a flusher holds it across a write(2): do not burn its core */
		while (atomic_load_explicit(&s->lock, memory_order_relaxed))
			if (++spins % 128 == 0)
				sched_yield();
			else
				__builtin_ia32_pause();
	}
}

static bool trylock_stream(struct slp_stream *s)
{
	return !atomic_load_explicit(&s->lock, memory_order_relaxed) && !atomic_exchange(&s->lock, 1);
}

static void unlock_stream(struct slp_stream *s)
{
	atomic_store_explicit(&s->lock, 0, memory_order_release);
}

/* An empty chunk: the decoding state starts afresh (format.h). */
static void chunk_reset(struct slp_stream *s)
{
	s->used = HDR_RESERVE;
	s->records = 0;
	s->prev_addr = 0;
	s->dense = (struct slf_dense_state){ 0 };
	s->chunk_time = 0;
}

/* A new stream from mmap, pushed onto the registry. NULL when out of memory. */
static struct slp_stream *make_stream(void)
{
	size_t head = (sizeof(struct slp_stream) + 63) & ~(size_t)63;
	size_t size = slp_opt.buffer_kib * 1024;
	struct slp_stream *s;
	void *mem = mmap(NULL, head + size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);

	if (mem == MAP_FAILED)
		return NULL;
	s = mem;
	s->buf = (uint8_t *)mem + head;
	s->size = size;
	s->heap_lo = UINT64_MAX;
	s->marked_lo = UINT64_MAX; /* none marked */
	atomic_store_explicit(&s->in_use, true, memory_order_relaxed);
	chunk_reset(s);
	s->next = atomic_load_explicit(&registry, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&registry, &s->next, s, memory_order_release,
						      memory_order_relaxed))
		;
	return s;
}

/* This thread's stream: a pooled one if any is free, else a new one. */
static SLP_COLD struct slp_stream *acquire(void)
{
	struct slp_stream *s;

	for (s = atomic_load_explicit(&registry, memory_order_acquire); s; s = s->next) {
		bool f = false;

		if (!atomic_load_explicit(&s->in_use, memory_order_relaxed) &&
		    atomic_compare_exchange_strong(&s->in_use, &f, true))
			break;
	}
	if (!s && !(s = make_stream())) {
		__atomic_fetch_add(&slp_st.dropped, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	s->tid = slp_current_tid();
	s->now_ns = 0;
	s->flush_due = 0;
	my_stream = s;
	if (have_exit_key) {
		unsigned char was = slp_callout_begin(); /* may allocate its key block */

		pthread_setspecific(exit_key, s);
		slp_callout_end(was);
	}
	return s;
}

struct slp_stream *slp_stream_own(void)
{
	struct slp_stream *s = my_stream;

	if (SLP_UNLIKELY(!s) && !(s = acquire()))
		return NULL;
	lock_stream(s);
	return s;
}

struct slp_stream *slp_stream_mine(void)
{
	return my_stream;
}

struct slp_stream *slp_stream_enter(void)
{
	struct slp_stream *s = slp_stream_own();

	if (SLP_UNLIKELY(!s))
		return NULL;
	if (SLP_UNLIKELY(!slp_on())) {
		unlock_stream(s);
		return NULL;
	}
	return s;
}

void slp_stream_leave(struct slp_stream *s)
{
	unlock_stream(s);
}

/*
 * The seq below which every thread's records will be in the log once s's
 * chunk is written (format.h, SYNC); 0 when nothing is known yet. Read
 * without taking any lock, from what each stream shows:
 *  - every event takes its seq and writes its records holding its stream's
 *    lock, and a thread's seqs only grow;
 *  - a stream with records unwritten holds nothing below its chunk's base
 *    seq; a stale (smaller) value read in a race only lowers the answer;
 *  - a locked stream with an empty buffer may be inside an event whose seq
 *    is taken but not written: its last event's seq (cur_seq, perhaps
 *    stale, so smaller) bounds it;
 *  - an unlocked stream with an empty buffer is idle and holds nothing
 *    back: its next event locks first, then takes a seq above the
 *    counter read here (both are sequentially consistent), and a stream
 *    made after the counter was read takes larger seqs too;
 *  - a thread that went quiet with records in its buffer (a main thread
 *    waiting for its workers) would hold the answer back until the next
 *    timed flush: its chunk is written here, before s's;
 *  - events of a signal handler waiting in a stream's pending ring (also
 *    s's own) hold it back at the oldest one's seq (slp_pending_floor).
 * s's own event under way, if any, is at s->cur_seq.
 * Context: s is this thread's stream, locked.
 */
static uint64_t complete_below(struct slp_stream *s)
{
	uint64_t w = atomic_load(&slp_st.seq);

	if (s->cur_seq < w)
		w = s->cur_seq;
	for (struct slp_stream *t = atomic_load(&registry); t; t = t->next) {
		bool busy = atomic_load(&t->lock);
		uint64_t held = slp_pending_floor(t); /* a signal handler's events, not yet in */

		/* an abandoned stream's records are lost for good (warned): nothing to wait for */
		if (atomic_load_explicit(&t->abandoned, memory_order_relaxed))
			continue;
		if (t == s) {
			/* its records go out with this chunk */
		} else if (__atomic_load_n(&t->records, __ATOMIC_ACQUIRE)) {
			if (!busy && __atomic_load_n(&t->now_ns, __ATOMIC_RELAXED) + QUIET_NS < s->now_ns &&
			    trylock_stream(t)) {
				slp_stream_flush(t);
				unlock_stream(t);
			} else if (__atomic_load_n(&t->base_seq, __ATOMIC_RELAXED) < held) {
				held = __atomic_load_n(&t->base_seq, __ATOMIC_RELAXED);
			}
		} else if (busy && __atomic_load_n(&t->cur_seq, __ATOMIC_RELAXED) < held) {
			held = __atomic_load_n(&t->cur_seq, __ATOMIC_RELAXED);
		}
		if (held < w)
			w = held;
	}
	return w;
}

/*
 * Writes s's chunk. A chunk its own thread writes starts with a SYNC record
 * when complete_below() has an answer: a reader of a log cut short by a
 * kill analyses up to the largest one (format.h). Not when the chunk
 * continues a scan, which admits no other kind between its records.
 */
void slp_stream_flush(struct slp_stream *s)
{
	size_t len = s->used - HDR_RESERVE, n;
	uint8_t tmp[HDR_RESERVE], *h, first;
	uint64_t w = 0;
	int cancel;

	if (!s->records)
		return;
	first = s->buf[HDR_RESERVE]; /* its kind, or a dense form's head (never a scan's) */
	if (s == my_stream && (first < SLF_REC_SCAN_REGION || first > SLF_REC_SCAN_END))
		w = complete_below(s);
	/* payload = tid, base seq, [SYNC,] records; encoded, then placed before the records */
	n = slf_put_uv(tmp, s->tid);
	n += slf_put_uv(tmp + n, s->base_seq);
	if (w) {
		uint64_t none = 0;
		uint8_t *end;

		tmp[n++] = SLF_REC_SYNC;
		tmp[n++] = 0; /* seq_delta: at the base seq */
		end = slf_encode_sync(tmp + n + 1, &none, SLF_VERSION_MAJOR, w);
		tmp[n] = (uint8_t)(end - (tmp + n + 1)); /* a one-byte length */
		n = (size_t)(end - tmp);
	}
	h = s->buf + HDR_RESERVE - n;
	memcpy(h, tmp, n);
	h = slp_writer_frame(SLF_REC_CHUNK, h, len + n);
	/* write() is a cancellation point: never die holding the file lock */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	pthread_mutex_lock(&slp_st.file_lock);
	slp_st.w.records += s->records;
	slp_st.w.chunks++; /* END's check; a failed write stops the log before END */
	slp_writer_write(h, (size_t)(s->buf + s->used - h));
	pthread_mutex_unlock(&slp_st.file_lock);
	pthread_setcancelstate(cancel, NULL);
	chunk_reset(s);
}

/*
 * Locks another thread's stream: its owner is inside one event, which
 * ends quickly, unless the thread is stopped for good (a signal handler
 * that never returns): then after limit_ms we give up on it.
 */
static bool wait_stream(struct slp_stream *s, uint64_t limit_ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; !trylock_stream(s); i++) {
		sched_yield();
		if (i % 256 == 255) {
			long long ms;

			clock_gettime(CLOCK_MONOTONIC, &t);
			ms = (long long)(t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
			if (ms >= (long long)limit_ms)
				return false;
		}
	}
	return true;
}

static bool wait_to_flush(struct slp_stream *s)
{
	if (wait_stream(s, 2000))
		return true;
	slp_warn("thread %u stays inside sliceleak; its last records are lost", (unsigned)s->tid);
	return false;
}

void slp_streams_flush_all(struct slp_stream *own, bool wait)
{
	for (struct slp_stream *s = atomic_load_explicit(&registry, memory_order_acquire); s;
	     s = s->next) {
		if (s == own) {
			slp_stream_flush(s);
		} else if (atomic_load_explicit(&s->abandoned, memory_order_relaxed)) {
			continue;
		} else if (wait ? wait_to_flush(s) : trylock_stream(s)) {
			slp_pending_drain(s, UINT64_MAX);
			slp_stream_flush(s);
			unlock_stream(s);
		}
	}
}

/* TIME for this chunk, with the thread's clock. Context: room was made. */
static void put_time(struct slp_stream *s)
{
	uint8_t *p = s->buf + s->used;

	*p++ = SLF_REC_TIME;
	p += slf_put_uv(p, s->cur_seq - s->last_seq);
	s->last_seq = s->cur_seq;
	p[0] = (uint8_t)slf_put_uv(p + 1, s->now_ns);
	s->used = (size_t)(p + 1 + p[0] - s->buf);
	s->records++;
	s->chunk_time = s->now_ns;
}

void slp_stream_event(struct slp_stream *s, uint64_t seq, uint64_t now_ns)
{
	uint64_t due;

	s->cur_seq = seq; /* slp_rec_begin() writes a handler's older events first */
	if (now_ns > s->now_ns)
		s->now_ns = now_ns;
	if (SLP_UNLIKELY(now_ns >= s->flush_due) && slp_opt.flush_ms) {
		/*
		 * A quiet process (a server between requests) must not keep
		 * minutes of events in memory, where SIGKILL would lose them:
		 * this thread's buffer, and every idle thread's once per period.
		 */
		uint64_t period = slp_opt.flush_ms * 1000000u;

		if (s->flush_due)
			slp_stream_flush(s);
		s->flush_due = now_ns + period;
		due = atomic_load_explicit(&slp_st.flush_due, memory_order_relaxed);
		if (now_ns >= due && atomic_compare_exchange_strong(&slp_st.flush_due, &due,
								     now_ns + period))
			slp_streams_flush_all(s, false);
	}
	if (s->now_ns > s->chunk_time) {
		uint8_t *p = slp_rec_begin(s, SLF_REC_TIME, SLF_MAX_UV_LEN);

		slp_rec_end(s, slp_put_uv(p, s->now_ns));
		s->chunk_time = s->now_ns;
	}
}

/*
 * Makes room for a record of kind that takes at most max bytes and returns
 * where it starts. A record that starts a chunk is preceded by the
 * thread's TIME (format.h: each chunk decodes alone), unless it continues
 * a scan.
 */
static uint8_t *rec_room(struct slp_stream *s, unsigned kind, size_t max)
{
	/* internal.h: s locked, one record open at a time */
	SLP_ASSERT(atomic_load_explicit(&s->lock, memory_order_relaxed) == 1);
	SLP_ASSERT(s->rec_open == NULL);
	/*
	 * A signal handler's events that took their seqs before this record's
	 * go first (a thread's seqs never go back): besides events, stack and
	 * module definitions take seqs of their own, after a handler may have.
	 */
	if (SLP_UNLIKELY(slp_pending_any(s)))
		slp_pending_drain(s, s->cur_seq);
	if (SLP_UNLIKELY(s->size - s->used < max + REC_HDR_MAX + TIME_MAX))
		slp_stream_flush(s);
	if (s->used == HDR_RESERVE) {
		s->base_seq = s->last_seq = s->cur_seq;
		/* not inside a scan, which admits no other kind (it spans chunks) */
		if (s->now_ns && kind != SLF_REC_TIME &&
		    (kind < SLF_REC_SCAN_REGION || kind > SLF_REC_SCAN_END))
			put_time(s);
	}
	return s->buf + s->used;
}

/*
 * Opens a record of kind with room for max_payload bytes and returns where
 * the payload goes: kind, seq_delta, then the payload at rec_open + 2,
 * assuming a one-byte length; slp_rec_end() moves it when it turned out
 * longer.
 */
uint8_t *slp_rec_begin(struct slp_stream *s, unsigned kind, size_t max_payload)
{
	uint8_t *p = rec_room(s, kind, max_payload);
	size_t n = slf_put_uv(p + 1, s->cur_seq - s->last_seq);

	p[0] = (uint8_t)kind;
	s->last_seq = s->cur_seq;
	s->rec_open = p + n; /* rec_open[1] is the length's byte */
	return p + n + 2;
}

uint8_t *slp_rec_dense(struct slp_stream *s, unsigned kind, size_t max, uint64_t *seq_delta)
{
	uint8_t *p = rec_room(s, kind, max);

	*seq_delta = s->cur_seq - s->last_seq;
	s->last_seq = s->cur_seq;
	return p;
}

void slp_rec_dense_end(struct slp_stream *s, uint8_t *end)
{
	SLP_ASSERT(end > s->buf + s->used && end <= s->buf + s->size);
	s->used = (size_t)(end - s->buf);
	s->records++;
}

void slp_rec_end(struct slp_stream *s, uint8_t *end)
{
	uint8_t *rec = s->rec_open;
	size_t len = (size_t)(end - (rec + 2));

	SLP_ASSERT(rec != NULL && end >= rec + 2 && end <= s->buf + s->size);
#ifndef NDEBUG
	s->rec_open = NULL; /* for slp_rec_begin()'s check */
#endif

	if (SLP_LIKELY(len < 0x80)) {
		rec[1] = (uint8_t)len;
		s->used = (size_t)(rec + 2 + len - s->buf);
	} else {
		uint8_t tmp[SLF_MAX_UV_LEN];
		size_t n = slf_put_uv(tmp, len);

		memmove(rec + 1 + n, rec + 2, len);
		memcpy(rec + 1, tmp, n);
		s->used = (size_t)(rec + 1 + n + len - s->buf);
	}
	s->records++;
}

uint8_t *slp_put_str(uint8_t *p, const void *s, size_t n)
{
	p = slp_put_uv(p, n);
	memcpy(p, s, n);
	return p + n;
}

void slp_streams_ranges(void (*fn)(uintptr_t lo, uintptr_t hi))
{
	for (struct slp_stream *s = atomic_load_explicit(&registry, memory_order_acquire); s;
	     s = s->next) {
		uint64_t *g = __atomic_load_n(&s->granules, __ATOMIC_RELAXED);

		fn((uintptr_t)s, (uintptr_t)(s->buf + s->size));
		if (g) /* racy: a set that grows meanwhile holds small numbers, not addresses */
			fn((uintptr_t)g, (uintptr_t)(g + __atomic_load_n(&s->granules_mask,
									 __ATOMIC_RELAXED) + 1));
	}
}

/* ---- granules: which 64 KiB of address space ever held a block ---------- */

#define GRANULES_INITIAL 512u	 /* slots of a thread's first set (4 KiB) */
#define GRANULES_MAX_RUN 65536u	 /* a block over 4 GiB: stop filtering rather than mark it */

static uint64_t *map_slots(size_t n)
{
	void *p = mmap(NULL, n * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Adds key to the set; true if it was new. */
static bool put_key(uint64_t *slot, size_t mask, uint64_t key)
{
	size_t j;

	for (j = slp_granule_slot(key) & mask; slot[j]; j = (j + 1) & mask)
		if (slot[j] == key)
			return false;
	slot[j] = key;
	return true;
}

static bool grow_granules(struct slp_stream *s)
{
	size_t slots = s->granules ? (s->granules_mask + 1) * 2 : GRANULES_INITIAL;
	uint64_t *t = map_slots(slots);

	if (!t)
		return false;
	for (size_t i = 0; s->granules && i <= s->granules_mask; i++)
		if (s->granules[i])
			put_key(t, slots - 1, s->granules[i]);
	if (s->granules)
		munmap(s->granules, (s->granules_mask + 1) * sizeof(uint64_t));
	s->granules = t;
	s->granules_mask = slots - 1;
	return true;
}

/* Puts granules first .. last into s's set. False: out of memory. */
static bool mark_run(struct slp_stream *s, uint64_t first, uint64_t last)
{
	for (uint64_t g = first; g <= last; g++) {
		if ((!s->granules || (s->granules_used + 1) * 2 > s->granules_mask + 1) &&
		    !grow_granules(s))
			return false;
		s->granules_used += put_key(s->granules, s->granules_mask, g + 1);
	}
	return true;
}

/*
 * Marks granules first .. last. The run known to be marked (marked_lo ..
 * marked_hi) grows when the new one touches it, and only the granules
 * outside it are put in the set: a block that grows in place, or blocks
 * laid out one after the other, cost no more than their new granules.
 */
void slp_stream_mark_granules(struct slp_stream *s, uint64_t first, uint64_t last)
{
	bool touches = s->marked_lo <= s->marked_hi && first <= s->marked_hi + 1 &&
		       last + 1 >= s->marked_lo;
	bool ok;

	if (s->granules_lost)
		return;
	if (last - first >= GRANULES_MAX_RUN) {
		s->granules_lost = true;
		return;
	}
	if (touches) {
		ok = (first >= s->marked_lo || mark_run(s, first, s->marked_lo - 1)) &&
		     (last <= s->marked_hi || mark_run(s, s->marked_hi + 1, last));
		if (first < s->marked_lo)
			s->marked_lo = first;
		if (last > s->marked_hi)
			s->marked_hi = last;
	} else {
		ok = mark_run(s, first, last);
		s->marked_lo = first;
		s->marked_hi = last;
	}
	s->granules_lost = !ok;
}

static struct slp_granule_set *make_set(size_t slots)
{
	size_t bytes = sizeof(struct slp_granule_set) + slots * sizeof(uint64_t);
	struct slp_granule_set *g = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (g == MAP_FAILED)
		return NULL;
	g->mask = slots - 1;
	g->bytes = bytes;
	return g;
}

void slp_granules_free(struct slp_granule_set *g)
{
	if (g)
		munmap(g, g->bytes);
}

/* Adds s's granules to *u, doubling it when needed. False: out of memory. */
static bool unite(struct slp_granule_set **u, size_t *used, const struct slp_stream *s)
{
	for (size_t i = 0; s->granules && i <= s->granules_mask; i++) {
		if (!s->granules[i])
			continue;
		if ((*used + 1) * 2 > (*u)->mask + 1) {
			struct slp_granule_set *n = make_set(((*u)->mask + 1) * 2);

			if (!n)
				return false;
			for (size_t k = 0; k <= (*u)->mask; k++)
				if ((*u)->slot[k])
					put_key(n->slot, n->mask, (*u)->slot[k]);
			slp_granules_free(*u);
			*u = n;
		}
		*used += put_key((*u)->slot, (*u)->mask, s->granules[i]);
	}
	return true;
}

/*
 * Each other stream is locked in turn (its set changes under its lock);
 * one that stays busy for 100 ms (its thread may be waiting for the scan
 * we are part of: a snapshot in another thread) makes us give up on
 * filtering rather than wait.
 */
struct slp_granule_set *slp_streams_granules(struct slp_stream *own)
{
	struct slp_granule_set *u = make_set(4096);
	size_t used = 0;

	for (struct slp_stream *s = atomic_load_explicit(&registry, memory_order_acquire);
	     s && u; s = s->next) {
		bool ok;

		if (atomic_load_explicit(&s->abandoned, memory_order_relaxed))
			continue;
		if (s != own && !wait_stream(s, 100)) {
			slp_granules_free(u);
			return NULL;
		}
		ok = !s->granules_lost && unite(&u, &used, s);
		if (s != own)
			unlock_stream(s);
		if (!ok) {
			slp_granules_free(u);
			return NULL;
		}
	}
	return u;
}

void slp_streams_heap_span(uint64_t *lo, uint64_t *hi)
{
	*lo = UINT64_MAX;
	*hi = 0;
	for (struct slp_stream *s = atomic_load_explicit(&registry, memory_order_acquire); s;
	     s = s->next) {
		/* racy reads of other threads' spans: they only ever widen */
		uint64_t l = __atomic_load_n(&s->heap_lo, __ATOMIC_RELAXED);
		uint64_t h = __atomic_load_n(&s->heap_hi, __ATOMIC_RELAXED);

		if (l < *lo)
			*lo = l;
		if (h > *hi)
			*hi = h;
	}
}

/*
 * A thread ends (pthread key destructor): its records go out and its
 * stream back to the pool. Events of destructors that run after this one
 * take a stream again (and glibc calls us once more). A thread that left
 * our code for good in the middle of an event (pthread_exit or longjmp
 * out of a signal handler that interrupted it) still holds its stream's
 * lock: that stream is abandoned (its records are lost, with a warning)
 * rather than waited for.
 */
static void thread_exit(void *arg)
{
	struct slp_stream *s = arg;
	bool entered = slp_guard_enter();

	if (entered) {
		lock_stream(s);
	} else if (!wait_stream(s, 100)) {
		atomic_store(&s->abandoned, true);
		if (my_stream == s)
			my_stream = NULL;
		slp_warn("thread %u ended inside sliceleak; its last records are lost",
			 (unsigned)s->tid);
		return;
	}
	slp_pending_drain(s, UINT64_MAX);
	slp_stream_flush(s);
	s->now_ns = 0;
	unlock_stream(s);
	if (my_stream == s)
		my_stream = NULL;
	atomic_store_explicit(&s->in_use, false, memory_order_release);
	if (entered)
		slp_guard_leave();
}

/* Context: start-up, guard held. */
void slp_streams_setup(void)
{
	if (!have_exit_key)
		have_exit_key = pthread_key_create(&exit_key, thread_exit) == 0;
}

/*
 * A fork child has one thread: the other streams' records are the
 * parent's to write (their owners do not exist here, and may have held
 * their locks at the fork), so they are emptied and pooled. own (the
 * forking thread's, flushed by the prepare handler) is kept for it.
 */
void slp_streams_fork_child(struct slp_stream *own)
{
	for (struct slp_stream *s = atomic_load_explicit(&registry, memory_order_relaxed); s;
	     s = s->next) {
		atomic_store(&s->lock, 0);
		atomic_store(&s->abandoned, false);
		atomic_store(&s->pend_head, 0); /* the parent's */
		atomic_store(&s->pend_tail, 0);
		atomic_store(&s->pend_busy, false);
		chunk_reset(s);
		s->rec_open = NULL; /* a record being written at the fork went with the chunk */
		s->heap_lo = UINT64_MAX; /* a new log: only its own blocks count */
		s->heap_hi = 0;
		if (s->granules)
			memset(s->granules, 0, (s->granules_mask + 1) * sizeof(uint64_t));
		s->granules_used = 0;
		s->granules_lost = false;
		s->marked_lo = UINT64_MAX;
		s->marked_hi = 0;
		s->now_ns = 0;
		s->flush_due = 0;
		if (s != own)
			atomic_store(&s->in_use, false);
		else
			s->tid = slp_current_tid();
	}
	if (own != my_stream)
		my_stream = NULL;
}
