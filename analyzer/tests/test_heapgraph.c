/*
 * analyzer/tests/test_heapgraph.c - the heap graph replay builds from a
 * pointer scan (heapgraph.h), checked pair by pair on a crafted scan:
 *   - the blocks, allocated out of address order, become nodes in address
 *     order, their views still theirs;
 *   - one pair per (source, target) however many words, with the flags of
 *     a pinned source's words (inside a view, outside, before its end) and
 *     the offsets into the target (one, or the smallest and largest);
 *   - sources out of address order (the shim never writes them so, a log
 *     may) are regrouped, offsets with them;
 *   - roots: globals, anonymous memory (also in a window that may be a
 *     thread arena's, decided at the end), not the brk heap;
 *   - a change of the heap after the scan drops the graph;
 *   - many sources with several targets each: every pair kept, each once
 *     (a source's table of targets is emptied for the next one).
 */
#include <sliceleak/format.h>

#include "check.h"
#include "heapgraph.h"
#include "replay_util.h"

#define A 0x1000ull /* 64 bytes */
#define B 0x2000ull /* 64 bytes */
#define C 0x3000ull /* 4096 bytes, one slice view [C, C + 16) */
#define D 0x5000ull /* 32 bytes */
#define E 0x6000ull /* 64 bytes, pointed to only from an anonymous region near the blocks */
#define GLOBALS 0x600000ull
#define ANON_NEAR 0x3000000ull	     /* anonymous memory in the blocks' 64 MiB window */
#define ANON_FAR 0x7f0000000000ull   /* anonymous memory far from them */

/* A state that replayed the whole buffer, collecting its scans (the evaluation state). */
static struct sla_state *replay_scans(struct logbuf *b)
{
	struct sla_state *st = sla_state_new("mem");
	struct sla_reader r;

	st->collect_scans = true;
	CHECK(sla_reader_init_mem(&r, b->data, b->len, "mem") == 0);
	CHECK(sla_replay_run(st, &r, UINT64_MAX) == 0);
	sla_reader_close(&r);
	return st;
}

/* The pair of node src with target dst, or SIZE_MAX. */
static size_t pair(const struct sla_heapgraph *g, uint32_t src, uint32_t dst)
{
	for (size_t e = g->first[src]; e < g->first[src + 1]; e++)
		if (g->dst[e] == dst)
			return e;
	return SIZE_MAX;
}

static void test_graph(void)
{
	struct logbuf b;
	uint64_t s[2];
	struct sla_state *st;
	struct sla_heapgraph *g;
	uint64_t min, max;
	size_t p;
	uint32_t na, nb, nc, nd, ne;

	start_log(&b, s, 1);
	lb_alloc(&b, C, 4096, s[1]); /* out of address order */
	lb_alloc(&b, E, 64, s[1]);
	lb_alloc(&b, A, 64, s[1]);
	lb_alloc(&b, D, 32, s[1]);
	lb_alloc(&b, B, 64, s[1]);
	lb_slice_new(&b, C, C, 16, 4096, s[1]);
	lb_scan_begin(&b, A, E + 64);
	lb_scan_region(&b, SLF_REGION_HEAP, A, 0x10000);
	lb_scan_ptr(&b, C + 8, A);	    /* inside C's view */
	lb_scan_ptr(&b, C + 0x100, B + 16); /* outside it, after its end, interior */
	lb_scan_ptr(&b, C + 0x108, B);	    /* the same pair */
	lb_scan_ptr(&b, C + 0x10, D);	    /* outside, right at the view's end */
	lb_scan_ptr(&b, A, B);
	lb_scan_ptr(&b, A + 8, B);	    /* the same pair */
	lb_scan_ptr(&b, B, A);		    /* B after C: out of order */
	lb_scan_ptr(&b, A + 16, D + 8);	    /* A again, after B */
	lb_scan_ptr(&b, D, D);		    /* into itself: nothing */
	lb_scan_ptr(&b, 0x8000, D);	    /* brk heap outside blocks: nothing */
	lb_scan_region(&b, SLF_REGION_GLOBALS, GLOBALS, 0x1000);
	lb_scan_ptr(&b, GLOBALS + 8, D);
	lb_scan_region(&b, SLF_REGION_ANON, ANON_NEAR, 0x1000);
	lb_scan_ptr(&b, ANON_NEAR, E);	    /* no block in anonymous memory there: a root */
	lb_scan_region(&b, SLF_REGION_ANON, ANON_FAR, 0x1000);
	lb_scan_ptr(&b, ANON_FAR + 8, C + 5);
	lb_scan_end(&b, 0);
	st = replay_scans(&b);
	g = st->graph;
	CHECK(g && g->complete);
	if (!g || !g->complete)
		return;
	CHECK_EQ_U(g->n, 5);
	na = 0, nb = 1, nc = 2, nd = 3, ne = 4;
	CHECK_EQ_U(sla_hg_block(st, na)->addr, A);
	CHECK_EQ_U(sla_hg_block(st, nb)->addr, B);
	CHECK_EQ_U(sla_hg_block(st, nc)->addr, C);
	CHECK_EQ_U(sla_hg_block(st, nd)->addr, D);
	CHECK_EQ_U(sla_hg_block(st, ne)->addr, E);
	/* the view moved with its block */
	CHECK_EQ_U(sla_block_nviews(st, sla_hg_block(st, nc)), 1);
	CHECK(sla_block_views(st, sla_hg_block(st, nc))->block == sla_hg_block(st, nc));
	CHECK(sla_state_find_block(st, C) == sla_hg_block(st, nc));
	CHECK_EQ_U(g->words, 13);
	/* A: B and D; B: A; C: A, B, D */
	CHECK_EQ_U(g->npairs, 6);
	CHECK_EQ_U(g->first[na + 1] - g->first[na], 2);
	CHECK_EQ_U(g->first[nb + 1] - g->first[nb], 1);
	CHECK_EQ_U(g->first[nc + 1] - g->first[nc], 3);
	CHECK_EQ_U(g->first[nd + 1] - g->first[nd], 0);
	CHECK_EQ_U(g->first[ne + 1] - g->first[ne], 0);
	CHECK(pair(g, na, nb) != SIZE_MAX && pair(g, na, nd) != SIZE_MAX);
	CHECK(pair(g, nb, na) != SIZE_MAX);
	p = pair(g, nc, na);
	CHECK(p != SIZE_MAX && g->pf[p] == SLA_HG_P_IN);
	p = pair(g, nc, nb);
	CHECK(p != SIZE_MAX && g->pf[p] == (SLA_HG_P_OUT | SLA_HG_P_OFFS));
	if (p != SIZE_MAX) {
		sla_heapgraph_offsets(g, p, &min, &max);
		CHECK_EQ_U(min, 0);
		CHECK_EQ_U(max, 16);
	}
	p = pair(g, nc, nd);
	CHECK(p != SIZE_MAX && g->pf[p] == SLA_HG_P_OUT); /* at the view's end: not before it */
	p = pair(g, na, nd); /* regrouped with its offset, its only one */
	CHECK(p != SIZE_MAX && !(g->pf[p] & SLA_HG_P_OFFS));
	if (p != SIZE_MAX) {
		sla_heapgraph_offsets(g, p, &min, &max);
		CHECK_EQ_U(min, 8);
		CHECK_EQ_U(max, 8);
	}
	CHECK_EQ_U(g->flags[na], 0);
	CHECK_EQ_U(g->flags[nb], 0);
	CHECK_EQ_U(g->flags[nc], SLA_HG_PINNED | SLA_HG_ROOTED);
	CHECK_EQ_U(g->flags[nd], SLA_HG_ROOTED);
	CHECK_EQ_U(g->flags[ne], SLA_HG_ROOTED);

	/* a block allocated after the scan: the graph no longer describes the heap */
	lb_alloc(&b, 0x9000, 8, s[1]);
	{
		struct sla_state *st2 = replay_scans(&b);

		CHECK(st2->graph == NULL);
		CHECK(sla_state_find_block(st2, 0x9000) != NULL);
		CHECK(sla_state_find_block(st2, D) != NULL);
		sla_state_free(st2);
	}
	sla_state_free(st);
	lb_free(&b);
}

/* Words of an anonymous region in a thread arena's window are not roots (heapgraph.h). */
static void test_arena_window(void)
{
	struct logbuf b;
	uint64_t s[2], arena = 0x7f0004000000ull; /* 64 MiB aligned */
	struct sla_state *st;

	start_log(&b, s, 1);
	lb_alloc(&b, arena + 0x1000, 64, s[1]); /* a small block in anonymous memory */
	lb_alloc(&b, arena + 0x2000, 64, s[1]);
	lb_scan_begin(&b, arena, arena + 0x3000);
	/* the arena's own state, before the region with its blocks is seen */
	lb_scan_region(&b, SLF_REGION_ANON, arena + 0x10, 0x100);
	lb_scan_ptr(&b, arena + 0x20, arena + 0x2000);
	lb_scan_region(&b, SLF_REGION_ANON, arena + 0x1000, 0x2000);
	lb_scan_ptr(&b, arena + 0x1800, arena + 0x1000); /* outside blocks, in the arena */
	lb_scan_end(&b, 0);
	st = replay_scans(&b);
	CHECK(st->graph && st->graph->complete);
	if (st->graph) {
		CHECK_EQ_U(st->graph->flags[0], 0);
		CHECK_EQ_U(st->graph->flags[1], 0);
	}
	sla_state_free(st);
	lb_free(&b);
}

static void test_many_sources(void)
{
	enum { N = 2000, K = 7 };
	struct logbuf b;
	uint64_t s[2];
	struct sla_state *st;
	struct sla_heapgraph *g;
	size_t bad = 0;

	start_log(&b, s, 1);
	for (uint64_t i = 0; i < N; i++)
		lb_alloc(&b, A + i * 0x100, 0x100, s[1]);
	lb_scan_begin(&b, A, A + N * 0x100);
	lb_scan_region(&b, SLF_REGION_HEAP, A, N * 0x100);
	for (uint64_t i = 0; i < N; i++) {
		uint64_t locs[2 * K], vals[2 * K];

		for (uint64_t k = 0; k < 2 * K; k++) { /* each target twice */
			locs[k] = A + i * 0x100 + 8 * k;
			vals[k] = A + (i + 1 + (k % K) * 37) % N * 0x100;
		}
		lb_scan_ptrs(&b, 2 * K, locs, vals);
	}
	lb_scan_end(&b, 0);
	st = replay_scans(&b);
	g = st->graph;
	CHECK(g && g->complete);
	if (g) {
		CHECK_EQ_U(g->npairs, (uint64_t)N * K);
		for (uint32_t i = 0; i < N; i++)
			for (uint32_t k = 0; k < K; k++)
				bad += pair(g, i, (uint32_t)((i + 1 + k * 37) % N)) == SIZE_MAX;
		CHECK_EQ_U(bad, 0);
	}
	sla_state_free(st);
	lb_free(&b);
}

int main(void)
{
	test_graph();
	test_many_sources();
	test_arena_window();
	return check_result();
}
