/*
 * analyzer/tests/gen_log.c - writes synthetic .sllog files.
 *
 *   gen_log golden OUT      the tiny log of the golden test (tests/golden/)
 *   gen_log bench N OUT [STACKS]
 *                           about N records of churn over STACKS distinct
 *                           allocation stacks (default 4096), for records/s
 *
 * Both are deterministic: the same arguments give the same bytes.
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

int main(int argc, char **argv)
{
	FILE *f;

	if (argc < 3 || (strcmp(argv[1], "golden") && strcmp(argv[1], "bench")) ||
	    (!strcmp(argv[1], "bench") && argc < 4)) {
		fprintf(stderr, "usage: gen_log golden OUT | gen_log bench N [STACKS] OUT\n");
		return 2;
	}
	f = fopen(argv[argc - 1], "wb");
	if (!f) {
		perror(argv[argc - 1]);
		return 1;
	}
	if (!strcmp(argv[1], "golden"))
		golden(f);
	else
		bench(f, strtoull(argv[2], NULL, 10),
		      argc > 4 && strtoull(argv[3], NULL, 10) ? strtoull(argv[3], NULL, 10) : 4096);
	if (fclose(f)) {
		perror("gen_log: close");
		return 1;
	}
	return 0;
}
