/*
 * analyzer/fuzz/seeds.c - the seed logs (see seeds.h).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "logbuf.h"
#include "seeds.h"

#define EXE_BIAS 0x555555554000ull
#define LIB_BIAS 0x7ffff7a00000ull
#define DL_BIAS	 0x7ffff7400000ull

/* The common start: process, module map, thread, time, a two-frame stack. */
static uint64_t prologue(struct logbuf *b)
{
	uint64_t s;

	lb_process(b, 4242, 1, "/usr/bin/seed");
	lb_modules_reset(b);
	lb_module(b, EXE_BIAS, "/usr/bin/seed", 0x1000, 0x4000);
	lb_module(b, LIB_BIAS, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x28000, 0x150000);
	lb_thread(b, 4242);
	lb_time(b, 1000);
	s = lb_stack(b, 0, LIB_BIAS + 0x29d90);
	return lb_stack(b, s, EXE_BIAS + 0x1234);
}

/* Every record kind once or more, balanced: nothing live at the end but a leak. */
static void seed_all_kinds(struct logbuf *b)
{
	uint64_t s = prologue(b), s2 = lb_stack(b, s, EXE_BIAS + 0x1300);

	lb_alloc(b, 0x5555555a0000ull, 100, s);
	lb_alloc(b, 0x5555555a1000ull, 4096, s2);
	lb_time(b, 2000);
	lb_realloc(b, 0x5555555a0000ull, 0x5555555b0000ull, 300, s2);
	lb_slice_new(b, 0x5555555a1000ull, 0x5555555a1010ull, 16, 4080, s);
	lb_view_acquire(b, 0x7ffffffde000ull, 0x5555555a1100ull, 32, s2);
	lb_snapshot(b, "after-setup", s);
	lb_slice_drop(b, 0x5555555a1000ull, 0x5555555a1010ull, 16);
	lb_view_release(b, 0x7ffffffde000ull, s2);
	lb_free_rec(b, 0x5555555a1000ull);
	lb_time(b, 3000);
	lb_end(b, 0);
}

/* The headline pattern: 1 MiB messages kept alive by 5-byte slices. */
static void seed_slice_pin(struct logbuf *b)
{
	uint64_t s = prologue(b), sv = lb_stack(b, s, EXE_BIAS + 0x1400);

	for (uint64_t i = 0; i < 8; i++) {
		uint64_t blk = 0x7fffe0000000ull + i * 0x110000;

		lb_time(b, 10000 + i * 1000);
		lb_alloc(b, blk, 1 << 20, s);
		lb_slice_new(b, blk, blk, 1 << 20, 1 << 20, s);
		lb_slice_new(b, blk, blk, 5, 1 << 20, sv);
		lb_slice_drop(b, blk, blk, 1 << 20);
	}
	lb_snapshot(b, "pinned", sv);
	lb_end(b, 0);
}

/* Annotation views: interior pointers, replacement, zero-length views. */
static void seed_views(struct logbuf *b)
{
	uint64_t s = prologue(b);

	lb_alloc(b, 0x555555600000ull, 65536, s);
	lb_view_acquire(b, 1, 0x555555600010ull, 16, s);
	lb_view_acquire(b, 2, 0x555555608000ull, 0, s);
	lb_view_acquire(b, 1, 0x555555600100ull, 64, s); /* replaces owner 1's view */
	lb_alloc(b, 0x555555700000ull, 128, s);
	lb_view_acquire(b, 3, 0x555555700000ull, 128, s);
	lb_view_release(b, 3, s);
	lb_free_rec(b, 0x555555700000ull);
	lb_end(b, 0);
}

/* Threads switching, a dlopen (module map replaced), a deep stack, many edges. */
static void seed_threads_modules(struct logbuf *b)
{
	uint64_t s = prologue(b), deep = s;

	for (unsigned i = 0; i < 40; i++)
		deep = lb_stack(b, deep, EXE_BIAS + 0x1000 + 16 * i);
	for (unsigned t = 0; t < 4; t++) {
		lb_thread(b, 5000 + t);
		lb_time(b, 20000 + t);
		lb_alloc(b, 0x7fffd0000000ull + t * 0x1000, 64 + t, t & 1 ? deep : s);
	}
	lb_modules_reset(b);
	lb_module(b, EXE_BIAS, "/usr/bin/seed", 0x1000, 0x4000);
	lb_module(b, LIB_BIAS, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x28000, 0x150000);
	lb_module(b, DL_BIAS, "/usr/lib/plugin.so", 0x1000, 0x2000);
	s = lb_stack(b, deep, DL_BIAS + 0x1800);
	lb_thread(b, 5001);
	lb_free_rec(b, 0x7fffd0000000ull); /* freed on another thread */
	lb_alloc(b, 0x7fffd0100000ull, 1000, s);
	lb_end(b, 0);
}

/* Things a correct log never contains, which replay must count, not trip on. */
static void seed_anomalies(struct logbuf *b)
{
	uint64_t s = prologue(b);

	lb_free_rec(b, 0x1000);				     /* free of unknown */
	lb_alloc(b, 0x2000, 16, s);
	lb_alloc(b, 0x2000, 16, s);			     /* alloc on live */
	lb_free_rec(b, 0x2000);
	lb_free_rec(b, 0x2000);				     /* double free */
	lb_realloc(b, 0x3000, 0x4000, 32, s);		     /* realloc of unknown */
	lb_slice_new(b, 0x9000, 0x9000, 4, 4, s);	     /* slice on no block */
	lb_slice_drop(b, 0x9000, 0x9000, 4);		     /* drop unknown */
	lb_view_release(b, 77, s);			     /* release without acquire */
	lb_alloc(b, 0x5000, 64, s);
	lb_view_acquire(b, 8, 0x5030, 1000, s);		     /* reaching outside */
	lb_slice_new(b, 0x5000, 0x5000, 64, 64, s);
	lb_free_rec(b, 0x5000);				     /* freed with views */
	lb_time(b, 500);				     /* time going backwards */
	lb_process(b, 4243, 1, "/usr/bin/again");	     /* a second PROCESS */
	lb_end(b, 0);
}

/* A killed process: no END, the last record cut in the middle. */
static void seed_truncated(struct logbuf *b)
{
	uint64_t s = prologue(b);

	for (uint64_t i = 0; i < 10; i++)
		lb_alloc(b, 0x600000 + 64 * i, 48, s);
	lb_snapshot(b, "about-to-die", s);
	b->len -= 3;
}

/* A newer minor version: an unknown record kind, skipped by its length. */
static void seed_newer_minor(struct logbuf *b)
{
	uint64_t s;

	lb_init_version(b, 1, 2); /* a 1.x minor after 1.1 */
	s = prologue(b);
	lb_alloc(b, 0x700000, 32, s);
	p_uv(b, 12345);
	p_str(b, "future", 6);
	lb_emit(b, 200); /* a kind from the future */
	lb_free_rec(b, 0x700000);
	lb_end(b, 0);
}

/*
 * Format 1.1: a pointer array cut to its first two elements, scanned after a
 * snapshot and at the end (every region kind, several SCAN_PTRS records).
 */
static void seed_scan(struct logbuf *b)
{
	uint64_t s = prologue(b), arr = 0x5555555c0000ull, locs[8], vals[8];

	lb_alloc(b, arr, 64, s);
	for (uint64_t i = 0; i < 8; i++) {
		lb_alloc(b, 0x5555555d0000ull + i * 0x100, 0x80, s);
		locs[i] = arr + 8 * i;
		vals[i] = 0x5555555d0000ull + i * 0x100;
	}
	lb_slice_new(b, arr, arr, 16, 64, s);
	for (unsigned pass = 0; pass < 2; pass++) {
		if (pass == 0)
			lb_snapshot(b, "pinned", s); /* the label one_input.c evaluates at */
		lb_scan_begin(b, arr, 0x5555555d0780ull);
		lb_scan_region(b, SLF_REGION_GLOBALS, EXE_BIAS + 0x5000, 0x100);
		lb_scan_ptr(b, EXE_BIAS + 0x5010, arr);
		lb_scan_region(b, SLF_REGION_HEAP, 0x5555555c0000ull, 0x20000);
		lb_scan_ptrs(b, 4, locs, vals);
		lb_scan_ptrs(b, 4, locs + 4, vals + 4);
		lb_scan_region(b, SLF_REGION_STACK, 0x7ffffffde000ull, 0x1000);
		lb_scan_region(b, SLF_REGION_ANON, 0x7ffff7000000ull, 0x2000);
		lb_scan_ptr(b, 0x7ffff7000ff8ull, 0x5555555d0780ull);
		lb_scan_end(b, pass);
	}
	lb_end(b, 0);
}

/*
 * Format 1.1: the heap graph of the owner analysis at the end: four 24-byte
 * views each the only way to a header and a 64 KiB buffer (an owner
 * finding), a list of nodes each owning a buffer, a cycle of two blocks
 * pointing into each other, a block pointing into itself, a buffer shared
 * by two views held from globals, and an unreachable pair (a leak).
 */
static void seed_owners(struct logbuf *b)
{
	uint64_t s = prologue(b), small = 0x555555580000ull, big = 0x555555600000ull;
	uint64_t l[3], v[3];

	for (uint64_t i = 0; i < 16; i++)
		lb_alloc(b, small + i * 0x40, i < 12 ? 24 : 48, s);
	for (uint64_t i = 0; i < 10; i++)
		lb_alloc(b, big + i * 0x20000, 65536, s);
	lb_scan_begin(b, small, big + 10 * 0x20000);
	lb_scan_region(b, SLF_REGION_GLOBALS, EXE_BIAS + 0x5000, 0x100);
	for (uint64_t i = 0; i < 4; i++) /* the views */
		lb_scan_ptr(b, EXE_BIAS + 0x5000 + 8 * i, small + i * 0x40);
	lb_scan_ptr(b, EXE_BIAS + 0x5040, small + 8 * 0x40); /* the list head */
	lb_scan_ptr(b, EXE_BIAS + 0x5048, small + 11 * 0x40); /* a sharing view */
	lb_scan_ptr(b, EXE_BIAS + 0x5050, small + 12 * 0x40); /* the cycle */
	lb_scan_region(b, SLF_REGION_HEAP, small, 0x100000);
	for (uint64_t i = 0; i < 4; i++) { /* view -> buffer + 4096, view -> header -> buffer */
		l[0] = small + i * 0x40;
		v[0] = big + i * 0x20000 + 4096;
		l[1] = small + i * 0x40 + 16;
		v[1] = small + (4 + i) * 0x40;
		lb_scan_ptrs(b, 2, l, v);
	}
	for (uint64_t i = 4; i < 8; i++)
		lb_scan_ptr(b, small + i * 0x40 + 8, big + (i - 4) * 0x20000);
	for (uint64_t i = 8; i < 11; i++) { /* list nodes: next, buffer */
		l[0] = small + i * 0x40;
		v[0] = i < 10 ? small + (i + 1) * 0x40 : 0;
		l[1] = small + i * 0x40 + 8;
		v[1] = big + (i - 4) * 0x20000 + 256;
		lb_scan_ptrs(b, i < 10 ? 2 : 1, i < 10 ? l : l + 1, i < 10 ? v : v + 1);
	}
	lb_scan_ptr(b, small + 11 * 0x40, big + 7 * 0x20000); /* shared with node 8's... */
	l[0] = small + 12 * 0x40; /* the cycle, and a self-loop */
	v[0] = small + 13 * 0x40 + 8;
	l[1] = small + 12 * 0x40 + 8;
	v[1] = small + 12 * 0x40 + 16;
	lb_scan_ptrs(b, 2, l, v);
	lb_scan_ptr(b, small + 13 * 0x40, small + 12 * 0x40);
	lb_scan_ptr(b, small + 14 * 0x40, small + 15 * 0x40); /* the unreachable pair */
	lb_scan_ptr(b, small + 15 * 0x40, small + 14 * 0x40);
	lb_scan_end(b, 0);
	lb_end(b, 0);
}

/*
 * Format 2.0: three threads' chunks interleaved by seq, stack ids defined out
 * of numeric order (each before its first use in the file too, so that every
 * truncation stays readable), a moving realloc (FREE + REALLOC flags 1) whose
 * old address another thread gets in between, slices, views, a snapshot, a
 * module map sharing one seq, and the exit scan spanning two chunks of its
 * thread at the end of the file.
 */
static void seed_v2_threads(struct logbuf *b)
{
	uint64_t s1, s4, s3, s2, loc[2] = { 0x555555560010ull, 0x555555560018ull };
	uint64_t val[2] = { 0x5555555a0000ull, 0x5555555a1000ull };

	lb_init_v2(b);
	lb_process(b, 4242, 1, "/usr/bin/seed");
	lb_chunk_begin(b, 4242, 1);
	b->seq_step = 0; /* the module map: one seq */
	lb_modules_reset(b);
	lb_module(b, EXE_BIAS, "/usr/bin/seed", 0x1000, 0x4000);
	lb_module(b, LIB_BIAS, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x28000, 0x150000);
	b->seq_step = 1;
	lb_seq(b, 2);
	lb_time(b, 1000);
	s1 = lb_stack_id(b, 1, 0, LIB_BIAS + 0x29d90);
	s3 = lb_stack_id(b, 3, s1, EXE_BIAS + 0x1234); /* 3 before 2 */
	lb_alloc(b, 0x5555555a0000ull, 100, s3);
	lb_chunk_end(b);
	lb_chunk_begin(b, 4243, 10);
	lb_seq(b, 10);
	lb_time(b, 1500);
	s2 = lb_stack_id(b, 2, s3, EXE_BIAS + 0x1300);
	lb_alloc(b, 0x5555555a1000ull, 4096, s2);
	lb_slice_new(b, 0x5555555a1000ull, 0x5555555a1010ull, 16, 4080, s1);
	lb_chunk_end(b);
	lb_chunk_begin(b, 4242, 19);
	lb_seq(b, 19);
	lb_time(b, 2000);
	lb_free_rec(b, 0x5555555a0000ull); /* the moving realloc's FREE (seq 20) ... */
	lb_seq(b, 22);
	lb_realloc_flags(b, 0x5555555a0000ull, 0x5555555b0000ull, 300, s2,
			 SLF_REALLOC_OLD_FREED); /* ... and its REALLOC */
	lb_view_acquire(b, 0x7ffffffde000ull, 0x5555555a1100ull, 32, s2);
	lb_chunk_end(b);
	lb_chunk_begin(b, 4244, 17);
	lb_seq(b, 17);
	s4 = lb_stack_id(b, 4, s2, EXE_BIAS + 0x1400);
	lb_seq(b, 21);
	b->seq_step = 0;
	lb_time(b, 1900); /* this thread's clock read trails thread 4242's */
	lb_alloc(b, 0x5555555a0000ull, 24, s4); /* old_addr, handed out in between */
	b->seq_step = 1;
	lb_seq(b, 30);
	lb_snapshot(b, "pinned", s4);
	lb_slice_drop(b, 0x5555555a1000ull, 0x5555555a1010ull, 16);
	lb_chunk_end(b);
	lb_chunk_begin(b, 4242, 40);
	lb_seq(b, 40);
	lb_time(b, 3000);
	lb_view_release(b, 0x7ffffffde000ull, s2);
	lb_seq(b, 50);
	b->seq_step = 0; /* the exit scan: one seq, over two chunks */
	lb_scan_begin(b, 0x5555555a0000ull, 0x5555555b1000ull);
	lb_scan_region(b, SLF_REGION_GLOBALS, 0x555555560000ull, 0x100);
	lb_chunk_end(b);
	lb_chunk_begin(b, 4242, 50);
	lb_scan_ptrs(b, 2, loc, val);
	lb_scan_end(b, 0);
	lb_chunk_end(b);
	lb_end(b, 0);
}

/*
 * A killed process's 2.x streams: `threads` threads taking turns chunk by
 * chunk; with `sync` (2.1), each chunk starts with a SYNC a few seqs back.
 */
static void killed_streams(struct logbuf *b, unsigned threads, unsigned chunks, bool sync,
			   bool dense)
{
	uint64_t seq = 1, s;

	lb_process(b, 4242, 1, "/usr/bin/seed");
	lb_chunk_begin(b, 4242, seq);
	lb_seq(b, seq);
	lb_time(b, 1000);
	s = lb_stack(b, 0, EXE_BIAS + 0x1234);
	seq = b->seq;
	lb_chunk_end(b);
	for (uint64_t i = 0; i < chunks; i++) {
		lb_chunk_begin(b, 4242 + i % threads, seq);
		lb_seq(b, seq);
		if (sync) {
			lb_rec_sync(b, seq > 4 ? seq - 4 : 1); /* complete below */
			lb_seq(b, seq);
		}
		if (dense) { /* 3.0 */
			lb_dense_alloc(b, SLF_FN_MALLOC, 0x600000 + 64 * i, 48, 0, s);
			lb_dense_free(b, 0x600000 + 64 * i);
			lb_dense_realloc(b, SLF_FN_REALLOC, 0x600100, 0x700000 + 64 * i, 48 + i, s,
					 1);
		} else {
			lb_alloc(b, 0x600000 + 64 * i, 48, s);
			lb_free_rec(b, 0x600000 + 64 * i);
			lb_alloc(b, 0x700000 + 64 * i, 48, s);
		}
		seq = b->seq;
		lb_chunk_end(b);
	}
}

/* Format 2.0 killed: two threads, the last chunk cut in the middle. */
static void seed_v2_truncated(struct logbuf *b)
{
	lb_init_v2(b);
	killed_streams(b, 2, 6, false, false);
	b->len -= 3;
}

/* Format 2.1 killed: three threads whose streams end at different seqs; the reader cuts at the largest SYNC. */
static void seed_v2_sync_cut(struct logbuf *b)
{
	lb_init_version(b, 2, 1);
	b->v2 = 1;
	b->seq_step = 1;
	killed_streams(b, 3, 9, true, false);
}

/*
 * Format 3.0: the dense forms of ALLOC, FREE and REALLOC (records.def,
 * SLF_DENSE) between ordinary records, over two threads' chunks: every
 * coding, seq_deltas in the head and after it, a FREE of a recent block
 * and one of an explicit block, a moving realloc, an unaligned ALLOC in
 * its ordinary form, and the exit scan.
 */
static void seed_v3_dense(struct logbuf *b)
{
	uint64_t s1, s2, loc[1] = { 0x555555560010ull }, val[1] = { 0x5555555a1000ull };

	lb_init_v3(b);
	lb_process(b, 4242, 1, "/usr/bin/seed");
	lb_chunk_begin(b, 4242, 1);
	b->seq_step = 0;
	lb_modules_reset(b);
	lb_module(b, EXE_BIAS, "/usr/bin/seed", 0x1000, 0x4000);
	b->seq_step = 1;
	lb_seq(b, 2);
	lb_time(b, 1000);
	s1 = lb_stack_id(b, 1, 0, EXE_BIAS + 0x1234);
	s2 = lb_stack_id(b, 2, s1, EXE_BIAS + 0x1300);
	lb_dense_alloc(b, SLF_FN_MALLOC, 0x5555555a0000ull, 100, 0, s2);
	lb_dense_alloc(b, SLF_FN_POSIX_MEMALIGN, 0x5555555a1000ull, 4096, 4096, s2);
	lb_seq(b, 8);
	lb_dense_alloc(b, SLF_FN_CALLOC, 0x5555555a2000ull, 64, 0, s1);
	lb_alloc(b, 0x5555555a3008ull, 8, s1);
	lb_chunk_end(b);
	lb_chunk_begin(b, 4243, 9);
	lb_seq(b, 9);
	lb_time(b, 1500);
	lb_dense_alloc(b, SLF_FN_MALLOC, 0x5555555b0000ull, 24, 0, s1);
	lb_dense_free(b, 0x5555555b0000ull);
	lb_seq(b, 40);
	lb_dense_free(b, 0x5555555a2000ull); /* another thread's block: explicit */
	lb_chunk_end(b);
	lb_chunk_begin(b, 4242, 41);
	lb_seq(b, 41);
	lb_dense_free(b, 0x5555555a0000ull); /* ... and the same thread's: recent */
	lb_seq(b, 43);
	lb_dense_realloc(b, SLF_FN_REALLOCARRAY, 0x5555555a0000ull, 0x5555555c0000ull, 300, s2,
			 SLF_REALLOC_OLD_FREED);
	lb_dense_realloc(b, SLF_FN_REALLOC, 0x5555555c0000ull, 0x5555555c0000ull, 200, s2, 0);
	lb_seq(b, 50);
	b->seq_step = 0;
	lb_scan_begin(b, 0x5555555a0000ull, 0x5555555c1000ull);
	lb_scan_region(b, SLF_REGION_GLOBALS, 0x555555560000ull, 0x100);
	lb_scan_ptrs(b, 1, loc, val);
	lb_scan_end(b, 0);
	lb_chunk_end(b);
	lb_end(b, 0);
}

/* Format 3.0 killed: dense records after each SYNC; the reader counts what it cuts. */
static void seed_v3_sync_cut(struct logbuf *b)
{
	lb_init_v3(b);
	killed_streams(b, 3, 9, true, true);
}

static const struct {
	const char *name;
	void (*build)(struct logbuf *b);
	bool ended;
	bool own_header; /* build() writes its own file header */
} seeds[] = {
	{ "all_kinds", seed_all_kinds, true, false },
	{ "slice_pin", seed_slice_pin, true, false },
	{ "views", seed_views, true, false },
	{ "threads_modules", seed_threads_modules, true, false },
	{ "anomalies", seed_anomalies, true, false },
	{ "truncated", seed_truncated, false, false },
	{ "newer_minor", seed_newer_minor, true, true },
	{ "scan", seed_scan, true, false },
	{ "owners", seed_owners, true, false },
	{ "v2_threads", seed_v2_threads, true, true },
	{ "v2_truncated", seed_v2_truncated, false, true },
	{ "v2_sync_cut", seed_v2_sync_cut, false, true },
	{ "v3_dense", seed_v3_dense, true, true },
	{ "v3_sync_cut", seed_v3_sync_cut, false, true },
};

size_t fuzz_seed_count(void)
{
	return sizeof(seeds) / sizeof(seeds[0]);
}

struct fuzz_seed fuzz_seed_build(size_t i)
{
	struct logbuf b;

	if (seeds[i].own_header)
		memset(&b, 0, sizeof(b));
	else
		lb_init(&b);
	seeds[i].build(&b);
	free(b.cdata); /* a 2.x seed's chunk buffer: the log is b.data */
	return (struct fuzz_seed){
		.name = seeds[i].name,
		.data = b.data,
		.size = b.len,
		.ended = seeds[i].ended,
	};
}

void fuzz_seed_free(struct fuzz_seed *s)
{
	free(s->data);
	s->data = NULL;
}
