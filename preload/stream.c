/*
 * preload/stream.c - one record stream per thread (format.h 2.x, 3.x).
 *
 * A thread appends its records to a stretch of memory of its own. Where
 * the log is mapped (writer.c), that is a REGION of the file, reserved for
 * the stream and written in place: each event's records are committed
 * (the region's head says how many bytes hold whole records) when the
 * event ends, and while an event is under way the head shows its first
 * seq (inflight), so a reader of a killed log knows exactly which events
 * can be missing (format.h, "End of a log"). Nothing is written at an
 * event but the records and two words of the head: no system call, no
 * background thread, and an idle process has nothing unwritten. A full
 * region gets a successor at the end of the file, which starts right
 * after its last record when it ends the file; a stream's regions grow
 * from 4 KiB to buffer_kib / 4 (16 KiB), so a short thread costs little of
 * the log, and a pooled stream's next thread continues after the last
 * record of its region (the region is split in two). A full region of that
 * size is recycled: its records are copied to a CHUNK at the end of the
 * file and it starts over (fresh pages of a shared mapping cost a fault
 * each, some microseconds, more than the copy); so the unused tail that a
 * clean exit leaves in the middle of the file is at most 16 KiB per
 * stream.
 *
 * Elsewhere (mmap=0, or a file that cannot be mapped), the stream is a
 * private buffer, which goes to the log as one CHUNK when it is full, when
 * flush_ms passed, at snapshots, at fork, at the thread's exit and at the
 * process's exit. The order across
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
#include <linux/membarrier.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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
/* a stream's first region, in bytes; each next one doubles, up to buffer_kib / 4 */
#define REGION_FIRST 4096u
/* a REGION's frame and head: its body starts this far from the record */
#define REGION_HEAD (SLF_REGION_FRAME + sizeof(struct slf_region_head))

static _Thread_local struct slp_stream *my_stream __attribute__((tls_model("initial-exec")));
static struct slp_stream *_Atomic registry;
static pthread_key_t exit_key;
static bool have_exit_key;

/*
 * The stream lock. Its owner takes it for every event; another thread
 * takes it rarely (the exit, a snapshot, a scan, a timed flush of the
 * write(2) layout). Where the kernel has membarrier(2)'s private expedited
 * command, the owner's side is a plain store and load (`lock` is the
 * owner's, `want` the other thread's: the other thread announces itself,
 * then membarrier() runs a full barrier on every CPU that runs one of our
 * threads, after which either the owner's `lock` is visible to it or the
 * owner's next look at `want` sees it); the owner pays no atomic
 * instruction for it. Elsewhere both sides exchange `lock`.
 */
static bool asym;

static int membarrier(int cmd)
{
	return (int)syscall(SYS_membarrier, cmd, 0, 0);
}

/*
 * The other side's barrier. False if the kernel refuses it now (a seccomp
 * filter the program installed later): then the stream is not taken.
 */
static bool barrier(void)
{
	int saved = errno;
	bool ok = membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0;

	errno = saved;
	return ok;
}

static void spin(unsigned *spins)
{
	/* a flusher holds it across a write(2): do not burn its core */
	if (++*spins % 128 == 0)
		sched_yield();
	else
		__builtin_ia32_pause();
}

/* Another thread wants s: step back until it is done. */
static SLP_COLD void lock_stream_slow(struct slp_stream *s)
{
	for (unsigned spins = 0;;) {
		atomic_store_explicit(&s->lock, 0, memory_order_release);
		while (atomic_load_explicit(&s->want, memory_order_acquire))
			spin(&spins);
		atomic_store_explicit(&s->lock, 1, memory_order_relaxed);
		atomic_signal_fence(memory_order_seq_cst);
		if (!atomic_load_explicit(&s->want, memory_order_acquire))
			return;
	}
}

/* The owner's lock. */
static inline void lock_stream(struct slp_stream *s)
{
	if (SLP_LIKELY(asym)) {
		atomic_store_explicit(&s->lock, 1, memory_order_relaxed);
		atomic_signal_fence(memory_order_seq_cst); /* the other side's membarrier() does the rest */
		if (SLP_UNLIKELY(atomic_load_explicit(&s->want, memory_order_acquire)))
			lock_stream_slow(s);
		return;
	}
	/* seq_cst: complete_below() orders a stream's lock before its next seq */
	for (unsigned spins = 0; atomic_exchange(&s->lock, 1);)
		while (atomic_load_explicit(&s->lock, memory_order_relaxed))
			spin(&spins);
}

static inline void unlock_stream(struct slp_stream *s)
{
	atomic_store_explicit(&s->lock, 0, memory_order_release);
}

/* Another thread's stream, if its owner is not inside an event (drop_stream() gives it back). */
static bool grab_stream(struct slp_stream *s)
{
	int free = 0;

	if (!asym)
		return !atomic_load_explicit(&s->lock, memory_order_relaxed) &&
		       !atomic_exchange(&s->lock, 1);
	if (!atomic_compare_exchange_strong(&s->want, &free, 1))
		return false;
	if (barrier() && !atomic_load(&s->lock))
		return true;
	atomic_store_explicit(&s->want, 0, memory_order_release);
	return false;
}

static void drop_stream(struct slp_stream *s)
{
	atomic_store_explicit(asym ? &s->want : &s->lock, 0, memory_order_release);
}

/* An empty chunk: the decoding state starts afresh (format.h). */
static void chunk_reset(struct slp_stream *s)
{
	s->used = HDR_RESERVE;
	s->records = 0;
	s->counted = 0;
	s->prev_addr = 0;
	s->dense = (struct slf_dense_state){ 0 };
	s->chunk_time = 0;
}

/*
 * The records written so far are whole: the region's head says so, after
 * them (release: a kill leaves the bytes before the count). Context: s locked.
 */
static inline void commit(struct slp_stream *s)
{
	__atomic_store_n(&s->hdr->committed, s->used - HDR_RESERVE, __ATOMIC_RELEASE);
}

/* The exit message's count: the records of s's region not counted yet. */
static void count_records(struct slp_stream *s)
{
	__atomic_fetch_add(&slp_st.w.records, s->records - s->counted, __ATOMIC_RELAXED);
	s->counted = s->records;
}

/*
 * No region (yet): in a mapped log the first record reserves one (room
 * for nothing); else the private buffer. Also where a stream's records go
 * when tracking stopped at a failed reservation: the private buffer, and
 * nowhere from there.
 */
static void no_region(struct slp_stream *s, bool sink)
{
	s->map = NULL;
	__atomic_store_n(&s->hdr, &s->own_head, __ATOMIC_RELEASE);
	s->buf = s->pbuf;
	s->size = slp_st.w.mapped && !sink ? HDR_RESERVE : s->psize;
	s->reg_split = false;
	chunk_reset(s);
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/*
 * A full region of the largest size is recycled rather than followed by a
 * new one: its records are copied to a CHUNK at the end of the file (its
 * head names the copy first, so that a reader takes them once whenever a
 * kill comes), then it starts over. Its pages stay mapped: a long log
 * costs the page faults of a few regions, not one per page of the log.
 * False: the copy failed (warned, tracking stopped).
 * Context: s locked, its records committed.
 */
static bool recycle(struct slp_stream *s)
{
	/* the frame (kind, length) goes in front of the fields (tid, base seq) */
	uint8_t head[1 + 3 * SLF_MAX_UV_LEN], *fields = head + 1 + SLF_MAX_UV_LEN, *h;
	size_t body = s->used - HDR_RESERVE, f;
	bool ok;
	int cancel;

	f = slf_put_uv(fields, s->tid);
	f += slf_put_uv(fields + f, s->base_seq);
	h = slp_writer_frame(SLF_REC_CHUNK, fields, f + body);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	pthread_mutex_lock(&slp_st.file_lock);
	__atomic_store_n(&s->hdr->copy, slp_st.w.end, __ATOMIC_RELEASE);
	ok = slp_writer_write2(h, (size_t)(fields + f - h), s->buf + HDR_RESERVE, body);
	slp_st.w.chunks += ok;
	pthread_mutex_unlock(&slp_st.file_lock);
	pthread_setcancelstate(cancel, NULL);
	if (!ok)
		return false;
	__atomic_store_n(&s->hdr->committed, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->hdr->copy, 0, __ATOMIC_RELEASE);
	chunk_reset(s);
	return true;
}

/*
 * Moves s to a new region with room for `need` bytes of records: in the
 * unused tail of its region when another thread's records are there (a
 * pooled stream), else at the end of the file. The old region is committed
 * first and keeps its records; the new one's head takes over what the
 * stream shows in flight (inflight, pending) before the old one's is
 * cleared. A handler that puts an event in the ring meanwhile is dropped
 * (pend_busy), since it could show it in the old head. If the file cannot
 * grow (tracking stopped, warned), the records go to the private buffer.
 * Context: s locked; slp_st.w.mapped.
 */
static SLP_COLD void region_next(struct slp_stream *s, size_t need)
{
	struct slf_region_head *cur = s->hdr, *h;
	uint64_t at = 0, off, len, map_off;
	size_t map_len, cap = slp_opt.buffer_kib * 1024 / 4; /* 16 KiB: what a clean exit leaves unused */
	uint8_t *map, *old_map = s->map;
	bool got;
	int cancel;

	if (cap > SLF_MAX_PAYLOAD)
		cap = SLF_MAX_PAYLOAD;
	if (s->map) {
		commit(s);
		count_records(s);
		/*
		 * Not while the region holds nothing but one seq's records (a
		 * scan larger than it): the run that follows would have the same
		 * base seq, and a reader orders such runs by file position, which
		 * a region that starts over would break.
		 */
		if (!s->reg_split && s->reg_len >= cap && need <= s->size - HDR_RESERVE &&
		    s->cur_seq != s->base_seq) {
			if (!recycle(s))
				no_region(s, true);
			return;
		}
		if (s->reg_split) {
			at = align8(s->reg_off + REGION_HEAD + s->used - HDR_RESERVE);
			if (at + REGION_HEAD + need > s->reg_off + s->reg_len)
				at = 0; /* too little left: a region of its own */
		}
	}
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel); /* fallocate is a cancellation point */
	pthread_mutex_lock(&slp_st.file_lock);
	if (at) {
		off = at;
		len = s->reg_off + s->reg_len - at;
		map = s->map;
		map_len = s->map_len;
		map_off = s->map_off;
	} else {
		uint64_t from = slp_st.w.end;

		/* the region ends the file: the next one starts after its last record */
		if (s->map && s->reg_off + s->reg_len == from)
			from = at = align8(s->reg_off + REGION_HEAD + s->used - HDR_RESERVE);
		len = s->reg_next > REGION_HEAD + need ? s->reg_next : align8(REGION_HEAD + need);
		off = slp_writer_reserve(from, len, &map, &map_len, &map_off);
		if (off != UINT64_MAX) {
			slp_st.w.tail = s;
			s->reg_next = s->reg_next * 2 <= cap ? s->reg_next * 2 : cap;
		}
	}
	if (off != UINT64_MAX) {
		uint8_t *f = map + (off - map_off);

		h = (struct slf_region_head *)(f + SLF_REGION_FRAME);
		*h = (struct slf_region_head){ .tid = s->tid };
		f[0] = SLF_REC_REGION;
		slf_put_uv_fixed(f + 1, len - SLF_REGION_FRAME, SLF_REGION_FRAME - 1);
		if (at) /* the old region ends where the new one starts (its unused tail) */
			slf_put_uv_fixed(s->map + (s->reg_off - s->map_off) + 1,
					 at - s->reg_off - SLF_REGION_FRAME, SLF_REGION_FRAME - 1);
		slp_st.w.chunks++;
	}
	pthread_mutex_unlock(&slp_st.file_lock);
	pthread_setcancelstate(cancel, NULL);
	if (off == UINT64_MAX) {
		no_region(s, true);
		return;
	}
	/* the owner's handlers cannot be inside their ring's code now; another thread's can */
	got = !atomic_exchange(&s->pend_busy, true);
	for (unsigned i = 0; !got && i < 1000; i++) {
		sched_yield();
		got = !atomic_exchange(&s->pend_busy, true);
	}
	h->inflight = s->inflight ? cur->inflight : 0;
	h->pending = __atomic_load_n(&cur->pending, __ATOMIC_ACQUIRE);
	__atomic_store_n(&s->hdr, h, __ATOMIC_RELEASE);
	__atomic_store_n(&cur->inflight, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&cur->pending, 0, __ATOMIC_RELEASE);
	if (got)
		atomic_store(&s->pend_busy, false);
	/* another thread's handler may still hold the old head: only the owner unmaps */
	if (old_map && old_map != map && s == my_stream)
		munmap(old_map, s->map_len);
	s->map = map;
	s->map_len = map_len;
	s->map_off = map_off;
	s->reg_off = off;
	s->reg_len = len;
	s->reg_split = false;
	s->buf = (uint8_t *)(h + 1) - HDR_RESERVE;
	s->size = HDR_RESERVE + len - REGION_HEAD;
	chunk_reset(s);
}

/* rec_begin() needs more room than s has. Context: s locked. */
static SLP_COLD void make_room(struct slp_stream *s, size_t need)
{
	if (!slp_st.w.mapped)
		slp_stream_flush(s);
	else if (s->map || s->size == HDR_RESERVE)
		region_next(s, need);
	else
		chunk_reset(s); /* tracking stopped: the private buffer absorbs what is left */
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
	s->pbuf = (uint8_t *)mem + head;
	s->psize = size;
	s->reg_next = REGION_FIRST;
	s->heap_lo = UINT64_MAX;
	s->marked_lo = UINT64_MAX; /* none marked */
	atomic_store_explicit(&s->in_use, true, memory_order_relaxed);
	no_region(s, false);
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
	s->flush_due = slp_st.w.mapped ? UINT64_MAX : 0; /* timed flushes: write(2) only */
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

	if (SLP_LIKELY(s)) {
		lock_stream(s);
		return s;
	}
	if (!(s = acquire()))
		return NULL;
	lock_stream(s);
	/* a pooled stream's region holds its last thread's records: not under this tid */
	if (s->map && s->used > HDR_RESERVE) {
		s->reg_split = true;
		s->size = s->used; /* the next record moves to a new region */
	} else {
		__atomic_store_n(&s->hdr->tid, s->tid, __ATOMIC_RELAXED);
	}
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

/* The event's records are whole: committed, and nothing is in flight any more. */
void slp_stream_leave(struct slp_stream *s)
{
	commit(s);
	if (s->inflight) {
		s->inflight = false;
		__atomic_store_n(&s->hdr->inflight, 0, __ATOMIC_RELEASE);
	}
	unlock_stream(s);
}

void slp_stream_commit(struct slp_stream *s)
{
	commit(s);
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
			    grab_stream(t)) {
				slp_stream_flush(t);
				drop_stream(t);
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

	if (slp_st.w.mapped) {
		commit(s); /* the records are in the file already */
		if (s->map)
			count_records(s);
		return;
	}
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
	bool wanted = false;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0;; i++) {
		if (!asym) {
			if (grab_stream(s))
				return true;
		} else if (!wanted) {
			int free = 0;

			/* announced once: the owner steps back at its next event */
			wanted = atomic_compare_exchange_strong(&s->want, &free, 1);
			if (wanted && !barrier()) {
				drop_stream(s);
				return false;
			}
		}
		if (wanted && !atomic_load(&s->lock))
			return true;
		sched_yield();
		if (i % 256 == 255) {
			long long ms;

			clock_gettime(CLOCK_MONOTONIC, &t);
			ms = (long long)(t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
			if (ms >= (long long)limit_ms) {
				if (wanted)
					drop_stream(s);
				return false;
			}
		}
	}
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
		} else if (wait ? wait_to_flush(s) : grab_stream(s)) {
			slp_pending_drain(s, UINT64_MAX);
			slp_stream_flush(s);
			drop_stream(s);
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
	slp_stream_inflight(s, seq);
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
	SLP_ASSERT(atomic_load_explicit(&s->lock, memory_order_relaxed) == 1 ||
		   atomic_load_explicit(&s->want, memory_order_relaxed) == 1);
	SLP_ASSERT(s->rec_open == NULL);
	/*
	 * A signal handler's events that took their seqs before this record's
	 * go first (a thread's seqs never go back): besides events, stack and
	 * module definitions take seqs of their own, after a handler may have.
	 */
	if (SLP_UNLIKELY(slp_pending_any(s)))
		slp_pending_drain(s, s->cur_seq);
	if (SLP_UNLIKELY(s->size - s->used < max + REC_HDR_MAX + TIME_MAX))
		make_room(s, max + REC_HDR_MAX + TIME_MAX);
	if (s->used == HDR_RESERVE) {
		s->base_seq = s->last_seq = s->cur_seq;
		s->hdr->seq = s->base_seq; /* before any of its records is committed */
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

		fn((uintptr_t)s, (uintptr_t)(s->pbuf + s->psize)); /* regions are shared: not scanned */
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
			drop_stream(s);
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
		/* its event in flight never ends: a reader must not cut the log there */
		__atomic_store_n(&s->hdr->inflight, 0, __ATOMIC_RELEASE);
		if (my_stream == s)
			my_stream = NULL;
		slp_warn("thread %u ended inside sliceleak; its last records are lost",
			 (unsigned)s->tid);
		return;
	}
	slp_pending_drain(s, UINT64_MAX);
	slp_stream_flush(s);
	s->now_ns = 0;
	if (entered)
		unlock_stream(s);
	else
		drop_stream(s);
	if (my_stream == s)
		my_stream = NULL;
	atomic_store_explicit(&s->in_use, false, memory_order_release);
	if (entered)
		slp_guard_leave();
}

/*
 * The asymmetric lock where the kernel has it. Registered again in a fork
 * child (one thread, every lock reset: it may change mode there).
 */
static void lock_setup(void)
{
	int saved = errno, q = membarrier(MEMBARRIER_CMD_QUERY);

	asym = q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	       membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
	errno = saved;
}

/* Context: start-up, guard held. */
void slp_streams_setup(void)
{
	if (!have_exit_key)
		have_exit_key = pthread_key_create(&exit_key, thread_exit) == 0;
	lock_setup();
}

/*
 * The child of a fork inherits the parent's shared mappings of its log:
 * each one is replaced by private memory at the same address, so that
 * whatever the child still writes there (an event that a fork from a
 * signal handler interrupted) never reaches the parent's file.
 */
void slp_streams_leave_parent(void)
{
	for (struct slp_stream *s = atomic_load_explicit(&registry, memory_order_relaxed); s;
	     s = s->next)
		if (s->map)
			mmap(s->map, s->map_len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

void slp_streams_log_opened(void)
{
	for (struct slp_stream *s = atomic_load_explicit(&registry, memory_order_relaxed); s;
	     s = s->next) {
		s->reg_next = REGION_FIRST;
		s->flush_due = slp_st.w.mapped ? UINT64_MAX : 0;
		no_region(s, false);
	}
}

/*
 * The region at the end of the file gives back its unused tail: its frame
 * is rewritten to end after its last record, the file is cut there, and
 * the stream writes nowhere from now on (it is past the last event).
 * A stream busy right now (a late thread exit) keeps its tail.
 */
void slp_streams_trim(void)
{
	struct slp_stream *s = slp_st.w.tail;
	uint64_t at;

	if (!slp_st.w.mapped || !s || !s->map || s->reg_off + s->reg_len != slp_st.w.end ||
	    !grab_stream(s))
		return;
	commit(s);
	at = align8(s->reg_off + REGION_HEAD + s->used - HDR_RESERVE);
	slf_put_uv_fixed(s->map + (s->reg_off - s->map_off) + 1,
			 at - s->reg_off - SLF_REGION_FRAME, SLF_REGION_FRAME - 1);
	s->reg_len = at - s->reg_off;
	no_region(s, true);
	slp_writer_truncate(at);
	drop_stream(s);
}

/*
 * A fork child has one thread: the other streams' records are the
 * parent's to write (their owners do not exist here, and may have held
 * their locks at the fork), so they are emptied and pooled. own (the
 * forking thread's, flushed by the prepare handler) is kept for it. Their
 * regions are the parent's (slp_streams_leave_parent made them private):
 * the child's log gives them new ones.
 */
void slp_streams_fork_child(struct slp_stream *own)
{
	lock_setup();
	for (struct slp_stream *s = atomic_load_explicit(&registry, memory_order_relaxed); s;
	     s = s->next) {
		if (s->map)
			munmap(s->map, s->map_len);
		s->inflight = false;
		no_region(s, false);
		s->own_head = (struct slf_region_head){ 0 };
		atomic_store(&s->lock, 0);
		atomic_store(&s->want, 0);
		atomic_store(&s->abandoned, false);
		atomic_store(&s->pend_head, 0); /* the parent's */
		atomic_store(&s->pend_tail, 0);
		atomic_store(&s->pend_busy, false);
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
