/*
 * preload/scan.c - the pointer scan at an evaluation point (format.h 1.1).
 *
 * At exit (before END) and after each SNAPSHOT the shim writes down every
 * aligned 8-byte word of the process's writable memory whose value lies in
 * the span of addresses the allocator has returned so far (heap_lo ..
 * heap_hi, kept by the writer at two compares per ALLOC/REALLOC). The
 * analyzer turns these facts into "kept alive only through a dead region"
 * (docs/design.md, section 2); the shim judges nothing.
 *
 * What is read, region by region:
 *   GLOBALS  every writable PT_LOAD segment of the module map (not ours);
 *   HEAP     "[heap]" of /proc/self/maps;
 *   STACK    "[stack]"; the scanning thread's stack (whichever mapping
 *            holds it) from the live frames up: at a snapshot from our own
 *            frame (the caller's registers spilled into it), at exit from
 *            the frame that called exit/_exit/exec (_start when main
 *            returned), plus the slots where exit()'s frames saved that
 *            frame's callee-saved registers: exit()'s own frames hold only
 *            dead values and stale copies of the program's pointers;
 *   ANON     other private writable anonymous mappings (thread stacks,
 *            malloc arenas, mmap'd blocks, the program's own mmaps).
 * Left out: what is not rw-p, file-backed mappings (their writable part is
 * a module's segment, read as GLOBALS), the vDSO/vvar, ranges already read
 * as GLOBALS (the anonymous .bss tail), and the shim's own memory (write
 * buffer, stack tables, scratch, this file's buffers, its .data/.bss): it
 * holds addresses that are not the program's references.
 *
 * Safety. Other threads run on during the scan and may unmap memory under
 * it. Program memory is therefore never dereferenced: it is copied with
 * process_vm_readv() on the calling thread's tid into a bounce buffer,
 * which fails cleanly (EFAULT, or a short count) where a mapping went away;
 * the rest of that region is then dropped, and the region record says how
 * far it was read. The thread's own tid and /proc/thread-self work from any
 * thread: the process's pid names the main thread, and once main has called
 * pthread_exit (the last thread's return then ends the process) neither it
 * nor /proc/self gives access to the memory any more. Where
 * process_vm_readv is refused (a seccomp filter such as Docker's default
 * profile, ENOSYS) the same copy is made with pread() on
 * /proc/thread-self/mem (EIO where a mapping went away). What neither can
 * read is counted in SCAN_END's `unread`, and a memory map that cannot be
 * listed sets its `no_maps`: the analyzer then calls the scan partial.
 * Pages that /proc/self/pagemap shows neither present nor swapped
 * were never written (zero, or still the file's bytes) and hold no heap
 * address: they count as scanned without being read, which keeps a 64-MiB
 * thread stack or a sparse reservation cheap. No stdio, no malloc: the
 * buffers are mmap'd once, at the first scan.
 *
 * The scan's records go into the scanning thread's stream at one seq, so
 * they stay contiguous in the log's order (format.h). Other threads keep
 * running and allocating meanwhile: the scan is not an atomic snapshot of
 * memory, and another thread's registers are not seen. One scan at a time
 * (scan_lock): its buffers are shared.
 *
 * Bounded by scan_max_mib bytes read per evaluation point: past it the
 * scan stops, SCAN_END says capped=1, and stderr says it once.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "sample.h"

#define CHUNK (256u * 1024)	/* bytes per process_vm_readv: stays in L2 */
#define WINDOW (16u << 20)	/* address space per pagemap read (4096 pages) */
#define MAX_PAIRS 2048u		/* pairs per SCAN_PTRS: <= 41 KB of payload */
#define MAX_EXCL (SLP_MAX_RANGES + 16) /* GLOBALS + our own ranges */
#define MAPS_MAX (64u << 20)	/* /proc/self/maps larger than this is cut */
#define PM_PRESENT (1ull << 63) /* /proc/self/pagemap: page in RAM */
#define PM_SWAPPED (1ull << 62) /* page in swap */

_Static_assert(MAX_PAIRS * 2 * SLF_MAX_UV_LEN + SLF_MAX_UV_LEN + 128 < 64 * 1024,
	       "a SCAN_PTRS record must fit the smallest stream buffer (buffer_kib)");

/* Our buffers, one mapping, made at the first scan and kept. */
struct scan_mem {
	uint64_t bounce[CHUNK / 8];	    /* program memory, copied */
	uint64_t pagemap[WINDOW / 4096];    /* one entry per page of a window */
	uint64_t loc[MAX_PAIRS];	    /* the open piece's pairs */
	uint64_t val[MAX_PAIRS];
	struct slp_range excl[MAX_EXCL];    /* sorted, merged: never read by ANON etc. */
};

/* One scan's state. Context: scan_lock held. */
static struct scan {
	struct slp_stream *out; /* the scanning thread's stream, locked */
	struct scan_mem *mem;
	char *maps;		/* /proc/self/maps, read whole */
	size_t maps_size;	/* bytes mapped for it */
	size_t nexcl;
	uint64_t lo, span;	/* candidate: value - lo < span */
	struct slp_granule_set *granules; /* and its granule held a block (NULL: any) */
	uint64_t budget;	/* bytes we may still read */
	uint64_t bytes;		/* region bytes written (SCAN_END) */
	uint64_t read;		/* bytes actually copied */
	uint64_t pointers;	/* pairs written (SCAN_END) */
	uint64_t regions;
	bool capped;
	bool stop;		/* capped, or the writer stopped */
	int pagemap_fd;		/* -1: treat every page as present */
	int mem_fd;		/* /proc/thread-self/mem once process_vm_readv is refused */
	int read_errno;		/* first failed read, for verbose */
	bool refused;		/* the last copy failed for a reason other than unmapping */
	bool no_maps;		/* the memory map could not be read: globals only */
	uint64_t unread;	/* bytes meant to be read that could not be (SCAN_END) */
	unsigned kind;		/* enum slf_region_kind of the open piece */
	uint64_t piece_lo;	/* start of the open piece (its SCAN_REGION is pending) */
	size_t npairs;
} sc;

static bool warned_cap, warned_mem, warned_unread;

/* A write failed (the phase alone does not say: the exit scan runs with it off). */
static bool writer_stopped(void)
{
	return __atomic_load_n(&slp_st.w.fd, __ATOMIC_RELAXED) < 0;
}
static pthread_mutex_t scan_lock = PTHREAD_MUTEX_INITIALIZER;

/* Allocates our buffers once. Context: scan_lock held. */
static bool ensure_mem(void)
{
	void *p;

	if (sc.mem)
		return true;
	p = mmap(NULL, sizeof(*sc.mem), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		 0);
	if (p == MAP_FAILED)
		return false;
	sc.mem = p;
	return true;
}

/*
 * Reads /proc/self/maps whole into sc.maps (mmap'd, grown by doubling).
 * Returns its length, 0 when it cannot be read. Context: scan_lock held.
 */
static size_t read_maps(void)
{
	size_t n = 0;
	int fd = slp_proc_open("maps");

	if (fd < 0)
		return 0;
	for (;;) {
		ssize_t k;

		if (n + 4096 > sc.maps_size) {
			size_t size = sc.maps_size ? sc.maps_size * 2 : 64 * 1024;
			void *p = size > MAPS_MAX ? MAP_FAILED :
				  sc.maps ? mremap(sc.maps, sc.maps_size, size, MREMAP_MAYMOVE) :
					    mmap(NULL, size, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p == MAP_FAILED)
				break; /* what we have is whole lines up to a point */
			sc.maps = p;
			sc.maps_size = size;
		}
		k = read(fd, sc.maps + n, sc.maps_size - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	while (n && sc.maps[n - 1] != '\n') /* never parse half a line */
		n--;
	return n;
}

/* ---- records ---------------------------------------------------------- */

/*
 * Writes the open piece [piece_lo, end) of the current region: its
 * SCAN_REGION, then its pairs in one SCAN_PTRS. A region is written as
 * several pieces when it holds more than MAX_PAIRS candidates or its read
 * stopped early; each piece's size is exactly what was accounted for.
 */
static void emit_piece(uint64_t end)
{
	struct scan_mem *m = sc.mem;
	uint64_t loc, val;
	uint8_t *p;

	if (end <= sc.piece_lo || sc.stop)
		return;
	p = slp_rec_begin(sc.out, SLF_REC_SCAN_REGION, 3 * SLF_MAX_UV_LEN);
	p = slp_put_uv(p, sc.kind);
	p = slp_put_uv(p, sc.piece_lo);
	slp_rec_end(sc.out, slp_put_uv(p, end - sc.piece_lo));
	if (sc.npairs) {
		p = slp_rec_begin(sc.out, SLF_REC_SCAN_PTRS, (1 + 2 * sc.npairs) * SLF_MAX_UV_LEN);
		p = slp_put_uv(p, sc.npairs);
		loc = sc.piece_lo;
		val = sc.lo;
		for (size_t i = 0; i < sc.npairs; i++) {
			p = slp_put_uv(p, (m->loc[i] - loc) / 8);
			p = slp_put_uv(p, slf_zigzag((int64_t)(m->val[i] - val)));
			loc = m->loc[i];
			val = m->val[i];
		}
		slp_rec_end(sc.out, p);
	}
	sc.bytes += end - sc.piece_lo;
	sc.pointers += sc.npairs;
	sc.regions++;
	sc.piece_lo = end;
	sc.npairs = 0;
	if (writer_stopped())
		sc.stop = true; /* a write failed: the writer already warned */
}

/*
 * The hot loop: n bytes copied from addr. One subtract and compare per
 * word; memory bandwidth bound.
 */
static void scan_words(uint64_t addr, const uint64_t *w, size_t n)
{
	struct scan_mem *m = sc.mem;
	uint64_t lo = sc.lo, span = sc.span;

	for (size_t i = 0; i < n / 8; i++) {
		if (SLP_LIKELY(w[i] - lo >= span))
			continue;
		if (sc.granules && !slp_granules_has(sc.granules, w[i] >> SLP_GRANULE_SHIFT))
			continue;
		m->loc[sc.npairs] = addr + 8 * i;
		m->val[sc.npairs] = w[i];
		if (++sc.npairs == MAX_PAIRS)
			emit_piece(addr + 8 * i + 8);
	}
}

/* ---- reading ---------------------------------------------------------- */

/* process_vm_readv() refused for good (seccomp, ENOSYS): /proc/thread-self/mem from then on. */
static bool vm_readv_refused;

static void read_failed(int err)
{
	if (!sc.read_errno)
		sc.read_errno = err;
}

/*
 * [addr, addr + n) through /proc/thread-self/mem. Returns bytes copied;
 * sc.refused when the file cannot be had or read (EIO: unmapped meanwhile).
 */
static size_t pread_in(uint64_t addr, size_t n)
{
	ssize_t k;

	if (sc.mem_fd < 0)
		sc.mem_fd = slp_proc_open("mem");
	if (sc.mem_fd < 0 || addr > INT64_MAX) {
		read_failed(sc.mem_fd < 0 ? errno : EOVERFLOW);
		sc.refused = true;
		return 0;
	}
	do
		k = pread(sc.mem_fd, sc.mem->bounce, n, (off_t)addr);
	while (k < 0 && errno == EINTR);
	if (k < 0) {
		read_failed(errno);
		sc.refused = errno != EIO;
		return 0;
	}
	return (size_t)k & ~(size_t)7;
}

/*
 * Copies [addr, addr + n) of our own memory; returns bytes copied. A short
 * count or 0 with sc.refused false: the memory went away meanwhile.
 */
static size_t copy_in(uint64_t addr, size_t n)
{
	struct iovec local = { sc.mem->bounce, n };
	struct iovec remote = { (void *)(uintptr_t)addr, n };
	ssize_t k;

	sc.refused = false;
	if (__atomic_load_n(&vm_readv_refused, __ATOMIC_RELAXED))
		return pread_in(addr, n);
	do
		k = process_vm_readv((pid_t)slp_current_tid(), &local, 1, &remote, 1, 0);
	while (k < 0 && errno == EINTR);
	if (k >= 0)
		return (size_t)k & ~(size_t)7;
	if (errno == EFAULT) {
		read_failed(errno);
		return 0;
	}
	read_failed(errno); /* EPERM, ENOSYS, ESRCH: not the memory's fault */
	__atomic_store_n(&vm_readv_refused, true, __ATOMIC_RELAXED);
	return pread_in(addr, n);
}

/*
 * Fills sc.mem->pagemap for the pages of [lo, hi) (one window). Returns
 * false when pagemap cannot be read: every page then counts as present.
 */
static bool read_pagemap(uint64_t lo, uint64_t hi)
{
	size_t ps = slp_st.page_size;
	uint64_t first = lo / ps, n = (hi - 1) / ps - first + 1;
	ssize_t k;

	if (sc.pagemap_fd < 0 || n > SLP_ARRAY_SIZE(sc.mem->pagemap))
		return false;
	do
		k = pread(sc.pagemap_fd, sc.mem->pagemap, n * 8, (off_t)(first * 8));
	while (k < 0 && errno == EINTR);
	return k == (ssize_t)(n * 8);
}

/* Was page i of the last pagemap read ever written (in RAM or in swap)? */
static inline bool page_used(bool pm, uint64_t i)
{
	return !pm || (sc.mem->pagemap[i] & (PM_PRESENT | PM_SWAPPED));
}

/*
 * Copies and scans [*cur, run) within the budget. Returns false when the
 * region ends here: a short copy (the mapping changed under us, or the
 * read was refused: sc.refused), or the cap; the piece read so far is
 * written either way.
 */
static bool read_run(uint64_t *cur, uint64_t run)
{
	size_t want = (size_t)(run - *cur), got;

	if (want > sc.budget) {
		want = (size_t)sc.budget;
		sc.capped = true;
	}
	got = want ? copy_in(*cur, want) : 0;
	scan_words(*cur, sc.mem->bounce, got);
	sc.budget -= got;
	sc.read += got;
	*cur += got;
	if (got == want && !sc.capped)
		return true;
	emit_piece(*cur);
	sc.stop |= sc.capped;
	return false;
}

/*
 * Scans [lo, hi) (8-aligned) as one region of `kind`, a pagemap window
 * at a time: runs of untouched pages are accounted for without reading,
 * the others are copied in and scanned a chunk at a time. A failed or
 * short copy ends the region there (the mapping changed under us); the
 * budget ends the whole scan.
 */
static void scan_region(unsigned kind, uint64_t lo, uint64_t hi)
{
	size_t ps = slp_st.page_size;
	uint64_t cur = lo;

	if (sc.stop || lo >= hi)
		return;
	sc.kind = kind;
	sc.piece_lo = lo;
	sc.npairs = 0;
	while (cur < hi && !sc.stop) {
		uint64_t end = (cur & ~(uint64_t)(WINDOW - 1)) + WINDOW;
		uint64_t first = cur / ps; /* page of pagemap[0] */
		bool pm;

		end = end < hi ? end : hi;
		pm = read_pagemap(cur, end);
		while (cur < end && !sc.stop) {
			bool present = page_used(pm, cur / ps - first);
			uint64_t run = (cur / ps + 1) * ps; /* extend over pages alike */

			while (run < end && page_used(pm, run / ps - first) == present &&
			       (!present || run - cur < CHUNK))
				run += ps;
			run = run < end ? run : end;
			if (!present) {
				cur = run; /* never written: zero or the file's bytes */
				continue;
			}
			if (run - cur > CHUNK)
				run = cur + CHUNK;
			if (!read_run(&cur, run)) {
				if (sc.refused)
					sc.unread += hi - cur; /* the rest: not gone, unreadable */
				return;
			}
		}
	}
	emit_piece(cur);
}

/* ---- what to scan ----------------------------------------------------- */

static void add_excl(uint64_t lo, uint64_t hi)
{
	if (lo < hi && sc.nexcl < MAX_EXCL)
		sc.mem->excl[sc.nexcl++] = (struct slp_range){ lo, hi };
}

/*
 * Sorts the exclusions by start and merges overlaps, so that both ends
 * increase. Shell sort in place: qsort() may allocate, and there are at
 * most a few thousand.
 */
static void sort_excl(void)
{
	struct slp_range *e = sc.mem->excl;
	size_t n = sc.nexcl, k = 0;

	for (size_t gap = n / 2; gap > 0; gap = gap == 2 ? 1 : gap * 5 / 11) {
		for (size_t i = gap; i < n; i++) {
			struct slp_range t = e[i];
			size_t j = i;

			for (; j >= gap && e[j - gap].lo > t.lo; j -= gap)
				e[j] = e[j - gap];
			e[j] = t;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (k && e[i].lo <= e[k - 1].hi) {
			if (e[i].hi > e[k - 1].hi)
				e[k - 1].hi = e[i].hi;
		} else {
			e[k++] = e[i];
		}
	}
	sc.nexcl = k;
}

/*
 * Everything that is ours or already read as GLOBALS: the threads' stream
 * buffers, the stack tables (a table another thread outgrows meanwhile is
 * still ours: old tables stay mapped), our scratch and data.
 */
static void collect_excl(void)
{
	struct slp_range r = slp_modules_scratch();
	uint64_t pg = slp_st.page_size - 1;

	sc.nexcl = 0;
	slp_streams_ranges(add_excl);
	slp_stacks_ranges(add_excl);
	slp_sample_ranges(add_excl);
	if (slp_st.cmdline)
		add_excl((uintptr_t)slp_st.cmdline, (uintptr_t)slp_st.cmdline + SLF_MAX_STR);
	add_excl(r.lo, r.hi);
	add_excl((uintptr_t)sc.mem, (uintptr_t)sc.mem + sizeof(*sc.mem));
	if (sc.granules)
		add_excl((uintptr_t)sc.granules, (uintptr_t)sc.granules + sc.granules->bytes);
	add_excl((uintptr_t)sc.maps, (uintptr_t)sc.maps + sc.maps_size);
	/* our .data/.bss, to the page: the .bss tail is an anonymous mapping */
	add_excl(slp_st.mods.self_data.lo & ~pg, (slp_st.mods.self_data.hi + pg) & ~pg);
	for (size_t i = 0; i < slp_st.mods.ndata; i++)
		add_excl(slp_st.mods.data[i].lo, slp_st.mods.data[i].hi);
	sort_excl();
}

/* Scans [lo, hi) minus the exclusions (sorted, disjoint). */
static void scan_minus_excl(unsigned kind, uint64_t lo, uint64_t hi)
{
	const struct slp_range *e = sc.mem->excl;
	size_t a = 0, b = sc.nexcl;

	while (a < b) { /* first exclusion ending after lo */
		size_t mid = a + (b - a) / 2;

		if (e[mid].hi <= lo)
			a = mid + 1;
		else
			b = mid;
	}
	for (; a < sc.nexcl && e[a].lo < hi && lo < hi; a++) {
		if (e[a].lo > lo)
			scan_region(kind, lo, e[a].lo & ~7ull);
		if (e[a].hi > lo)
			lo = (e[a].hi + 7) & ~7ull;
	}
	if (lo < hi)
		scan_region(kind, lo, hi);
}

static uint64_t parse_hex(const char **s, const char *end)
{
	uint64_t v = 0;

	for (; *s < end; (*s)++) {
		char c = **s;
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') :
			     c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;

		if (d == 16)
			break;
		v = v << 4 | d;
	}
	return v;
}

static const char *skip_field(const char *s, const char *end)
{
	while (s < end && *s != ' ')
		s++;
	while (s < end && *s == ' ')
		s++;
	return s;
}

/*
 * One line of /proc/self/maps: "lo-hi perms offset dev inode   path".
 * Returns the region kind to scan it as, or -1 to leave it out.
 */
static int classify(const char *s, const char *end, uint64_t *lo, uint64_t *hi)
{
	const char *perms, *path;
	uint64_t inode;

	*lo = parse_hex(&s, end);
	if (s >= end || *s++ != '-')
		return -1;
	*hi = parse_hex(&s, end);
	perms = skip_field(s, end);
	if (end - perms < 4 || memcmp(perms, "rw", 2) || perms[3] != 'p')
		return -1; /* not writable, or shared */
	s = skip_field(skip_field(skip_field(perms, end), end), end); /* offset, dev */
	inode = 0;
	while (s < end && *s >= '0' && *s <= '9')
		inode = inode * 10 + (uint64_t)(*s++ - '0');
	if (inode)
		return -1; /* file-backed: its writable part is a module's segment */
	path = skip_field(s, end);
	if (path >= end)
		return SLF_REGION_ANON;
	if ((size_t)(end - path) == 6 && !memcmp(path, "[heap]", 6))
		return SLF_REGION_HEAP;
	if ((size_t)(end - path) == 7 && !memcmp(path, "[stack]", 7))
		return SLF_REGION_STACK;
	if (end - path >= 2 && !memcmp(path, "[v", 2))
		return -1; /* [vvar], [vdso], [vsyscall]: the kernel's */
	return SLF_REGION_ANON; /* [anon:name], [stack:tid] of old kernels */
}

/*
 * The save slots of the exit frame's callee-saved registers that lie in
 * [lo, frame): each one word, as its own region, in address order.
 */
static void scan_saved(unsigned kind, uint64_t lo, uint64_t frame,
		       const struct slp_exit_frame *ex)
{
	uint64_t prev = 0;

	for (;;) {
		uint64_t next = UINT64_MAX;

		for (unsigned i = 0; ex && i < ex->nsaved; i++)
			if (ex->saved[i] > prev && ex->saved[i] >= lo && ex->saved[i] + 8 <= frame &&
			    ex->saved[i] < next)
				next = ex->saved[i];
		if (next == UINT64_MAX)
			return;
		scan_region(kind, next, next + 8);
		prev = next;
	}
}

/*
 * The regions of /proc/self/maps. The mapping that holds `frame` (the
 * scanning thread's stack) is read from `frame` up: below it lie our own
 * frames, exit()'s, and dead ones, all but the exit frame's saved registers.
 */
static void scan_maps(uint64_t frame, const struct slp_exit_frame *ex)
{
	size_t n = read_maps();
	const char *s = sc.maps, *end = sc.maps + n;

	sc.no_maps = n == 0;

	collect_excl(); /* after read_maps(): its buffer may have moved */
	while (s < end && !sc.stop) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		uint64_t lo, hi;
		int kind = classify(s, nl, &lo, &hi);

		if (kind >= 0 && lo < hi) {
			if (frame >= lo && frame < hi) {
				scan_saved((unsigned)kind, lo, frame & ~7ull, ex);
				lo = frame & ~7ull;
			}
			scan_minus_excl((unsigned)kind, (lo + 7) & ~7ull, hi & ~7ull);
		}
		s = nl + 1;
	}
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The scan proper. The scanning thread's stack is read from this frame up
 * at a snapshot (the caller's, whose registers __builtin_unwind_init()
 * spilled there, and the program's; our deeper frames are not), and from
 * the exit frame up at the end (ex, found before the lock).
 */
static __attribute__((noinline)) void scan_all(const struct slp_exit_frame *ex)
{
	uint64_t frame = (uintptr_t)__builtin_frame_address(0);
	const struct slp_modules *m = &slp_st.mods;

	if (ex && ex->sp > frame)
		frame = ex->sp;
	else
		ex = NULL; /* not found: from here, as at a snapshot */
	for (size_t i = 0; i < m->ndata && !sc.stop; i++)
		scan_region(SLF_REGION_GLOBALS, (m->data[i].lo + 7) & ~7ull, m->data[i].hi & ~7ull);
	if (!sc.stop)
		scan_maps(frame, ex);
}

/* SCAN_BEGIN with the span; resets the scan's counters. */
static void begin(void)
{
	uint64_t lo, hi;
	uint8_t *p;

	slp_streams_heap_span(&lo, &hi);
	if (lo >= hi)
		lo = hi = 0; /* nothing allocated yet: an empty span */
	sc.lo = lo;
	sc.span = hi - lo;
	sc.budget = slp_opt.scan_max_mib > (UINT64_MAX >> 20) ? UINT64_MAX :
									 slp_opt.scan_max_mib << 20;
	sc.bytes = sc.read = sc.pointers = sc.regions = 0;
	sc.capped = sc.stop = sc.no_maps = false;
	sc.unread = 0;
	sc.read_errno = 0;
	p = slp_rec_begin(sc.out, SLF_REC_SCAN_BEGIN, 2 * SLF_MAX_UV_LEN);
	p = slp_put_uv(p, lo);
	slp_rec_end(sc.out, slp_put_uv(p, hi));
}

static void end(void)
{
	uint8_t *p = slp_rec_begin(sc.out, SLF_REC_SCAN_END, 5 * SLF_MAX_UV_LEN);

	p = slp_put_uv(p, sc.bytes);
	p = slp_put_uv(p, sc.pointers);
	p = slp_put_uv(p, sc.capped);
	p = slp_put_uv(p, sc.unread);
	slp_rec_end(sc.out, slp_put_uv(p, sc.no_maps));
}

/* slp_scan_locked() without the register spill and the cancellation state. */
static __attribute__((noinline)) void scan_locked(const struct slp_exit_frame *ex)
{
	uint64_t t0 = mono_ns();

	if (!ensure_mem()) {
		if (!warned_mem)
			slp_warn("no memory for the pointer scan; this log has none");
		warned_mem = true;
		return;
	}
	begin();
	if (sc.span) {
		sc.granules = slp_streams_granules(sc.out);
		sc.pagemap_fd = slp_proc_open("pagemap");
		sc.mem_fd = -1;
		scan_all(ex);
		if (sc.pagemap_fd >= 0)
			close(sc.pagemap_fd);
		if (sc.mem_fd >= 0)
			close(sc.mem_fd);
		sc.pagemap_fd = sc.mem_fd = -1;
		slp_granules_free(sc.granules);
		sc.granules = NULL;
	}
	if (writer_stopped())
		return;
	end();
	if (sc.capped && !warned_cap && !slp_opt.quiet)
		slp_warn("pointer scan stopped at scan_max_mib=%lu MiB; its results are partial",
			 slp_opt.scan_max_mib);
	warned_cap |= sc.capped;
	if ((sc.unread || sc.no_maps) && !warned_unread && !slp_opt.quiet)
		slp_warn("pointer scan could not read %s (%s); its results are partial",
			 sc.no_maps ? "the memory map" : "all the memory it meant to",
			 strerrorname_np(sc.read_errno ? sc.read_errno : EACCES));
	warned_unread |= sc.unread || sc.no_maps;
	if (slp_opt.verbose)
		slp_warn("pointer scan: %lu regions, %lu KiB, %lu KiB read, %lu pointers, %lu us%s%s",
			 (unsigned long)sc.regions, (unsigned long)(sc.bytes >> 10),
			 (unsigned long)(sc.read >> 10), (unsigned long)sc.pointers,
			 (unsigned long)((mono_ns() - t0) / 1000),
			 sc.read_errno ? ", a read failed: " : "",
			 sc.read_errno ? strerrorname_np(sc.read_errno) : "");
}

/*
 * The evaluation point's scan: SCAN_BEGIN, the regions, SCAN_END, into
 * the caller's stream at its current seq. With nothing allocated yet there
 * is nothing a word could point to, and nothing is read.
 * Context: any thread, its stream locked, guard held, recording on.
 */
void slp_scan_locked(struct slp_stream *s, const struct slp_exit_frame *ex)
{
	int saved = errno, cancel;

	__builtin_unwind_init(); /* the caller's registers, onto our frame */
	/* open/read/pread/close are cancellation points: never die holding a lock */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	pthread_mutex_lock(&scan_lock);
	sc.out = s;
	scan_locked(ex);
	pthread_mutex_unlock(&scan_lock);
	pthread_setcancelstate(cancel, NULL);
	errno = saved;
}

/* Fork child: another thread may have been scanning at the fork. */
void slp_scan_fork_child(void)
{
	pthread_mutex_init(&scan_lock, NULL);
}
