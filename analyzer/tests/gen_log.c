/*
 * analyzer/tests/gen_log.c - writes synthetic .sllog files.
 *
 *   gen_log golden OUT      the tiny log of the golden test (tests/golden/)
 *   gen_log bench N OUT [STACKS]
 *                           about N records of churn over STACKS distinct
 *                           allocation stacks (default 4096), for records/s
 *   gen_log --v2 [--threads T] bench N OUT [STACKS]
 *                           the same churn as format 2.0: T threads (default
 *                           1) taking turns every 16 allocations, each
 *                           writing 64 KiB chunks, one seq counter: the
 *                           reader's merge at speed
 *   gen_log dead N OUT      the Go "pointer elements" leak at scale (format 1.1):
 *                           N foos owning 1 MiB payloads, cut to [:2], plus N
 *                           list nodes reachable from a global, and the end's
 *                           pointer scan: dead-region analysis time
 *   gen_log heap N OUT      a heap of N live 48-byte blocks and about 4N
 *                           edges (format 1.1): a binary tree, two forward
 *                           and one backward pseudo-random edge per block,
 *                           and every 1000th block the only holder of a
 *                           64 KiB payload (N/1000 owners); the owner and
 *                           dead-region analyses on one heap graph
 *   gen_log huge OUT        two live blocks of 8 EiB + 39 bytes at exit: in
 *                           64-bit arithmetic they add up to 78 bytes
 *
 * All are deterministic: the same arguments give the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logbuf.h"

#define EXE_BIAS 0x555555554000ull
#define LIB_BIAS 0x7ffff7a00000ull

static void write_out(struct logbuf *b, FILE *f)
{
	if (fwrite(b->data, 1, b->len, f) != b->len) {
		perror("gen_log: write");
		exit(1);
	}
	b->len = 0;
}

/*
 * The golden scenario: three 1 MiB messages each kept by a 5-byte slice, an
 * annotated 16-byte view inside a 64 KiB buffer, a healthy full view, a
 * leak, temporaries, a snapshot, a realloc chain and a few anomalies.
 */
static void golden(FILE *f)
{
	struct logbuf b;
	uint64_t s_main, s_msg, s_hdr, s_leak, s_tmp, s_buf, s_own, s_ok, s_grow;
	uint64_t t = 0;

	lb_init_version(&b, 1, 0); /* the golden log stays 1.0: a 1.1 reader reads 1.0 logs */
	lb_process(&b, 1000, 1, "/usr/bin/golden");
	lb_modules_reset(&b);
	lb_module(&b, EXE_BIAS, "/usr/bin/golden", 0x1000, 0x10000);
	lb_module(&b, LIB_BIAS, "/usr/lib/libc.so.6", 0x20000, 0x100000);
	lb_thread(&b, 1000);
	lb_time(&b, t);
	s_main = lb_stack(&b, 0, LIB_BIAS + 0x23456);		  /* __libc_start_main */
	s_main = lb_stack(&b, s_main, EXE_BIAS + 0x1100);	  /* main */
	s_msg = lb_stack(&b, s_main, EXE_BIAS + 0x1200);	  /* read_message */
	s_hdr = lb_stack(&b, s_main, EXE_BIAS + 0x1300);	  /* keep_header */
	s_leak = lb_stack(&b, s_main, EXE_BIAS + 0x1400);	  /* leak_config */
	s_tmp = lb_stack(&b, s_main, EXE_BIAS + 0x1500);	  /* format_line */
	s_buf = lb_stack(&b, s_main, EXE_BIAS + 0x1600);	  /* recv_buffer */
	s_own = lb_stack(&b, s_main, EXE_BIAS + 0x1700);	  /* parse_token */
	s_ok = lb_stack(&b, s_main, EXE_BIAS + 0x1800);		  /* full_copy */
	s_grow = lb_stack(&b, s_main, EXE_BIAS + 0x1900);	  /* grow_table */

	for (uint64_t i = 0; i < 3; i++) {
		uint64_t blk = 0x7f0000000000ull + i * 0x200000;

		lb_time(&b, t += 1000000);
		lb_alloc(&b, blk, 1 << 20, s_msg);
		lb_slice_new(&b, blk, blk, 1 << 20, 1 << 20, s_msg);
		lb_slice_new(&b, blk, blk, 5, 1 << 20, s_hdr);
		lb_slice_drop(&b, blk, blk, 1 << 20);
		/* a temporary: freed before any other allocation */
		lb_alloc(&b, 0x600000001000ull, 64, s_tmp);
		lb_free_rec(&b, 0x600000001000ull);
	}
	lb_time(&b, t += 1000000);
	lb_alloc(&b, 0x600000002000ull, 100, s_leak);
	lb_alloc(&b, 0x600000010000ull, 65536, s_buf);
	lb_view_acquire(&b, 0xabc0, 0x600000010000ull + 100, 16, s_own);
	lb_alloc(&b, 0x600000030000ull, 8192, s_ok);
	lb_slice_new(&b, 0x600000030000ull, 0x600000030000ull, 8192, 8192, s_ok);
	lb_alloc(&b, 0x600000040000ull, 1000, s_grow);
	lb_realloc(&b, 0x600000040000ull, 0x600000050000ull, 3000, s_grow);
	lb_time(&b, t += 500000000);
	lb_snapshot(&b, "mid", s_main);
	/* anomalies: a free of an address never allocated, then a double free */
	lb_free_rec(&b, 0x500000000000ull);
	lb_free_rec(&b, 0x600000050000ull);
	lb_free_rec(&b, 0x600000050000ull);
	lb_view_release(&b, 0x9999, s_main);
	lb_time(&b, t += 1500000000);
	lb_end(&b, 0);
	write_out(&b, f);
	lb_free(&b);
}

/*
 * Churn for the benchmark: `nstacks` stacks (a 4-ary tree of edges), a
 * rolling window of 16384 live blocks, one slice reference on every block,
 * TIME every 16 allocations.
 */
static void bench(FILE *f, uint64_t n, uint64_t nstacks)
{
	struct logbuf b;
	uint64_t *stacks = calloc(nstacks, sizeof(*stacks)), t = 0, done = 0, seed = 12345;
	enum { WINDOW = 16384 };
	static uint64_t live[WINDOW];

	lb_init(&b);
	lb_process(&b, 2000, 1, "/usr/bin/bench");
	lb_modules_reset(&b);
	lb_module(&b, EXE_BIAS, "/usr/bin/bench", 0x1000, 0x100000);
	lb_thread(&b, 2000);
	if (!stacks)
		abort();
	stacks[0] = lb_stack(&b, 0, EXE_BIAS + 0x1000);
	for (uint64_t i = 1; i < nstacks; i++) {
		stacks[i] = lb_stack(&b, stacks[(i - 1) / 4], EXE_BIAS + 0x1000 + (i % 4096) * 16);
		if (b.len > (1 << 20))
			write_out(&b, f);
	}
	for (uint64_t i = 0; done < n; i++) {
		uint64_t slot = i % WINDOW, size, st;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		size = 16 + ((seed >> 33) % 4096);
		st = stacks[(seed >> 20) % nstacks];
		if (live[slot]) {
			lb_slice_drop(&b, live[slot], live[slot], 8);
			lb_free_rec(&b, live[slot]);
			done += 2;
		}
		/* unique per slot, alternating between two addresses like a reused heap */
		live[slot] = 0x7f0000000000ull + slot * 0x4000 + (i / WINDOW % 2) * 0x2000;
		if (i % 16 == 0)
			lb_time(&b, t += 1000), done++;
		lb_alloc(&b, live[slot], size, st);
		lb_slice_new(&b, live[slot], live[slot], 8, size, st);
		done += 2;
		if (b.len > (1 << 20))
			write_out(&b, f);
	}
	lb_end(&b, 0);
	write_out(&b, f);
	lb_free(&b);
	free(stacks);
}

/*
 * The same churn in format 2.0, spread over `nthreads` threads that take
 * turns every 16 allocations. Each thread fills its own chunk (a logbuf used
 * as a chunk buffer) and writes it out at 64 KiB, so chunks of different
 * threads overlap in seq like a real process's; every chunk starts with TIME.
 */
static void bench_v2(FILE *f, uint64_t n, uint64_t nstacks, unsigned nthreads)
{
	struct logbuf b, *tb = calloc(nthreads, sizeof(*tb));
	uint64_t *stacks = calloc(nstacks, sizeof(*stacks)), t = 0, done = 0, seed = 12345, seq = 1;
	enum { WINDOW = 16384, CHUNK = 64 << 10 };
	static uint64_t live[WINDOW];

	if (!stacks || !tb)
		abort();
	lb_init_v2(&b);
	lb_process(&b, 2000, 1, "/usr/bin/bench");
	for (unsigned k = 0; k < nthreads; k++) {
		tb[k].v2 = 1;
		tb[k].seq_step = 1;
		tb[k].next_stack = 1;
	}
	/* thread 0 maps the modules and defines every stack first */
	lb_chunk_begin(&tb[0], 2000, seq);
	lb_seq(&tb[0], seq);
	tb[0].seq_step = 0;
	lb_time(&tb[0], t);
	lb_modules_reset(&tb[0]);
	lb_module(&tb[0], EXE_BIAS, "/usr/bin/bench", 0x1000, 0x100000);
	tb[0].seq_step = 1;
	tb[0].seq = ++seq;
	stacks[0] = lb_stack(&tb[0], 0, EXE_BIAS + 0x1000);
	for (uint64_t i = 1; i < nstacks; i++) {
		stacks[i] = lb_stack(&tb[0], stacks[(i - 1) / 4], EXE_BIAS + 0x1000 + (i % 4096) * 16);
		if (tb[0].clen > CHUNK) {
			seq = tb[0].seq;
			lb_chunk_end_into(&tb[0], &b);
			lb_chunk_begin(&tb[0], 2000, seq);
			lb_time(&tb[0], t);
		}
	}
	seq = tb[0].seq;
	for (unsigned k = 1; k < nthreads; k++) {
		lb_chunk_begin(&tb[k], 2000 + k, seq);
		tb[k].seq = seq++;
		lb_time(&tb[k], t);
	}
	for (uint64_t i = 0; done < n; i++) {
		uint64_t slot = i % WINDOW, size, st;
		struct logbuf *w = &tb[(i / 16) % nthreads];

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		size = 16 + ((seed >> 33) % 4096);
		st = stacks[(seed >> 20) % nstacks];
		w->seq = seq;
		if (live[slot]) {
			lb_slice_drop(w, live[slot], live[slot], 8);
			lb_free_rec(w, live[slot]);
			done += 2;
		}
		live[slot] = 0x7f0000000000ull + slot * 0x4000 + (i / WINDOW % 2) * 0x2000;
		if (i % 16 == 0)
			lb_time(w, t += 1000), done++;
		lb_alloc(w, live[slot], size, st);
		lb_slice_new(w, live[slot], live[slot], 8, size, st);
		done += 2;
		seq = w->seq;
		if (w->clen > CHUNK) {
			lb_chunk_end_into(w, &b);
			lb_chunk_begin(w, w->ctid, seq);
			w->seq = seq++;
			lb_time(w, t);
			if (b.len > (1 << 20))
				write_out(&b, f);
		}
	}
	for (unsigned k = 0; k < nthreads; k++) {
		lb_chunk_end_into(&tb[k], &b);
		lb_free(&tb[k]);
	}
	lb_end(&b, 0);
	write_out(&b, f);
	lb_free(&b);
	free(stacks);
	free(tb);
}

/*
 * N foos (40-byte slices) each owning a 1 MiB payload, the array cut to a
 * 2-element view; N list nodes of 64 bytes chained from a global. The scan
 * at the end holds each foo's two pointers, each node's next pointer, the
 * global and the stack slot of the cut view: 3N + 2 candidate pointers.
 */
static void dead(FILE *f, uint64_t n)
{
	const uint64_t arr = 0x10000000ull, node0 = 0x20000000ull, pay0 = 0x100000000ull;
	uint64_t s_foos, s_pay, s_cut, s_node, t = 0;
	struct logbuf b;

	lb_init(&b);
	lb_process(&b, 3000, 1, "/usr/bin/dead");
	lb_modules_reset(&b);
	lb_module(&b, EXE_BIAS, "/usr/bin/dead", 0x1000, 0x10000);
	lb_thread(&b, 3000);
	s_foos = lb_stack(&b, 0, EXE_BIAS + 0x1100);
	s_pay = lb_stack(&b, 0, EXE_BIAS + 0x1200);
	s_cut = lb_stack(&b, 0, EXE_BIAS + 0x1300);
	s_node = lb_stack(&b, 0, EXE_BIAS + 0x1400);
	lb_time(&b, t += 1000);
	lb_alloc(&b, arr, 64 + n * 40, s_foos);
	lb_slice_new(&b, arr, arr + 64, n * 40, n * 40, s_foos);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t p = pay0 + i * 0x110000;

		lb_alloc(&b, p, 1 << 20, s_pay);
		lb_slice_new(&b, p, p + 64, (1 << 20) - 64, (1 << 20) - 64, s_pay);
		lb_alloc(&b, node0 + i * 64, 64, s_node);
		if (b.len > (1 << 20))
			write_out(&b, f);
	}
	lb_slice_new(&b, arr, arr + 64, 80, n * 40, s_cut);
	lb_slice_drop(&b, arr, arr + 64, n * 40);
	lb_time(&b, t += 1000);
	lb_scan_begin(&b, arr, pay0 + n * 0x110000);
	lb_scan_region(&b, SLF_REGION_GLOBALS, EXE_BIAS + 0x20000, 0x1000);
	lb_scan_ptr(&b, EXE_BIAS + 0x20008, node0);
	lb_scan_region(&b, SLF_REGION_HEAP, arr, 0x10000000ull + n * 64);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t l[2] = { arr + 64 + i * 40, arr + 64 + i * 40 + 32 };
		uint64_t v[2] = { pay0 + i * 0x110000 + 64, pay0 + i * 0x110000 };

		lb_scan_ptrs(&b, 2, l, v);
		if (b.len > (1 << 20))
			write_out(&b, f);
	}
	for (uint64_t i = 0; i + 1 < n; i++) {
		lb_scan_ptr(&b, node0 + i * 64, node0 + (i + 1) * 64);
		if (b.len > (1 << 20))
			write_out(&b, f);
	}
	lb_scan_region(&b, SLF_REGION_STACK, 0x7ffffff00000ull, 0x1000);
	lb_scan_ptr(&b, 0x7ffffff00100ull, arr + 64);
	lb_scan_end(&b, 0);
	lb_end(&b, 0);
	write_out(&b, f);
	lb_free(&b);
}

/*
 * A big live heap for the owner analysis (see the usage above). Block i
 * lives at node0 + 64 i; its words: children 2i+1 and 2i+2, two random
 * blocks after it, one random block before it (interior pointers, at
 * offset 8 * k), and for every 1000th block a payload pointer at +40.
 */
static void heap(FILE *f, uint64_t n)
{
	const uint64_t node0 = 0x10000000ull, pay0 = 0x400000000ull;
	uint64_t s_node, s_pay, t = 0, rng = 0x9e3779b97f4a7c15ull;
	struct logbuf b;

	lb_init_version(&b, 1, 1);
	lb_process(&b, 4000, 1, "/usr/bin/heap");
	lb_modules_reset(&b);
	lb_module(&b, EXE_BIAS, "/usr/bin/heap", 0x1000, 0x10000);
	lb_thread(&b, 4000);
	s_node = lb_stack(&b, 0, EXE_BIAS + 0x1100);
	s_pay = lb_stack(&b, 0, EXE_BIAS + 0x1200);
	lb_time(&b, t += 1000);
	for (uint64_t i = 0; i < n; i++) {
		lb_alloc(&b, node0 + i * 64, 48, s_node);
		if (i % 1000 == 0)
			lb_alloc(&b, pay0 + (i / 1000) * 0x20000, 65536, s_pay);
		if (b.len > (1 << 20))
			write_out(&b, f);
	}
	lb_time(&b, t += 1000);
	lb_scan_begin(&b, node0, pay0 + (n / 1000 + 1) * 0x20000);
	lb_scan_region(&b, SLF_REGION_GLOBALS, EXE_BIAS + 0x20000, 0x1000);
	lb_scan_ptr(&b, EXE_BIAS + 0x20008, node0);
	lb_scan_region(&b, SLF_REGION_HEAP, node0, n * 64);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t l[6], v[6];
		unsigned k = 0;

		for (uint64_t c = 2 * i + 1; c <= 2 * i + 2; c++)
			if (c < n) {
				l[k] = node0 + i * 64 + 8 * k;
				v[k++] = node0 + c * 64;
			}
		for (int j = 0; j < 3; j++) {
			uint64_t r, to;

			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			r = rng >> 33;
			to = j < 2 ? (i + 1 < n ? i + 1 + r % (n - i - 1) : i) : (i ? r % i : 0);
			if (to == i)
				continue;
			l[k] = node0 + i * 64 + 8 * k;
			v[k++] = node0 + to * 64 + 8 * j;
		}
		if (i % 1000 == 0) {
			l[k] = node0 + i * 64 + 40;
			v[k++] = pay0 + (i / 1000) * 0x20000 + 4096;
		}
		lb_scan_ptrs(&b, k, l, v);
		if (b.len > (1 << 20))
			write_out(&b, f);
	}
	lb_scan_end(&b, 0);
	lb_end(&b, 0);
	write_out(&b, f);
	lb_free(&b);
}

static void huge(FILE *f)
{
	struct logbuf b;
	uint64_t size = (1ull << 63) + 39, s_main;

	lb_init(&b);
	lb_process(&b, 1000, 1, "/usr/bin/huge");
	lb_modules_reset(&b);
	lb_module(&b, EXE_BIAS, "/usr/bin/huge", 0x1000, 0x10000);
	lb_thread(&b, 1000);
	lb_time(&b, 0);
	s_main = lb_stack(&b, 0, EXE_BIAS + 0x1100);
	lb_alloc(&b, 0x100000, size, s_main);
	lb_alloc(&b, 0x200000, size, s_main);
	lb_end(&b, 0);
	write_out(&b, f);
	lb_free(&b);
}

int main(int argc, char **argv)
{
	FILE *f;
	unsigned threads = 1;
	int v2 = 0;

	while (argc > 1 && !strncmp(argv[1], "--", 2)) {
		if (!strcmp(argv[1], "--v2")) {
			v2 = 1;
		} else if (!strcmp(argv[1], "--threads") && argc > 2) {
			threads = (unsigned)strtoul(argv[2], NULL, 10);
			argv++, argc--;
		} else {
			fprintf(stderr, "gen_log: unknown option %s\n", argv[1]);
			return 2;
		}
		argv++, argc--;
	}
	if (threads < 1 || threads > 4096) {
		fprintf(stderr, "gen_log: --threads must be 1..4096\n");
		return 2;
	}

	if (argc < 3 || (strcmp(argv[1], "golden") && strcmp(argv[1], "bench") &&
			 strcmp(argv[1], "dead") && strcmp(argv[1], "heap") &&
			 strcmp(argv[1], "huge")) ||
	    (strcmp(argv[1], "golden") && strcmp(argv[1], "huge") && argc < 4)) {
		fprintf(stderr, "usage: gen_log golden OUT | gen_log [--v2 [--threads T]] bench N [STACKS] OUT"
				" | gen_log dead N OUT | gen_log heap N OUT | gen_log huge OUT\n");
		return 2;
	}
	f = fopen(argv[argc - 1], "wb");
	if (!f) {
		perror(argv[argc - 1]);
		return 1;
	}
	if (!strcmp(argv[1], "golden"))
		golden(f);
	else if (!strcmp(argv[1], "huge"))
		huge(f);
	else if (!strcmp(argv[1], "dead"))
		dead(f, strtoull(argv[2], NULL, 10));
	else if (!strcmp(argv[1], "heap"))
		heap(f, strtoull(argv[2], NULL, 10));
	else if (v2)
		bench_v2(f, strtoull(argv[2], NULL, 10),
			 argc > 4 && strtoull(argv[3], NULL, 10) ? strtoull(argv[3], NULL, 10) : 4096,
			 threads);
	else
		bench(f, strtoull(argv[2], NULL, 10),
		      argc > 4 && strtoull(argv[3], NULL, 10) ? strtoull(argv[3], NULL, 10) : 4096);
	if (fclose(f)) {
		perror("gen_log: close");
		return 1;
	}
	return 0;
}
