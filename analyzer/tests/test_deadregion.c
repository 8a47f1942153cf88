/*
 * analyzer/tests/test_deadregion.c - memory kept alive through dead regions
 * (deadregion.h), on synthetic logs with pointer scans, through the whole
 * analysis (files, passes, evaluation points):
 *   - the Go "pointer elements" leak cut to [:2]: 998 payloads kept through
 *     the array's tail, and the false-positive guards (the same payloads
 *     also held by a global, by a live view, by a reachable plain block);
 *   - delete-by-append's stale slot (one rule kept);
 *   - a transitive chain, a cycle, an unreachable cycle that is a leak;
 *   - words in the brk heap outside blocks are ignored (ANON ones are roots);
 *   - leaks classified direct/indirect from the end's scan, as LSan does;
 *   - a capped scan is partial; no scan, a truncated log, --at peak and a
 *     1.0 log say why there is no analysis; a snapshot's scan at --at LABEL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "check.h"
#include "logbuf.h"

static char dir[] = "/tmp/sla-test-deadregion.XXXXXX";

/* Stacks of the synthetic program. */
enum { S_FOOS = 1, S_CUT, S_PAYLOAD, S_PAYVIEW, S_OTHER, S_A, S_B, S_NSTACKS };
static uint64_t stk[S_NSTACKS];

#define ARR	  0x10000000ull /* the foos array (header + count * 40) */
#define HDR	  64		/* libslice's block header */
#define FOO	  40		/* sizeof(struct foo): an sl_slice */
#define PAY(i)	  (0x20000000ull + (uint64_t)(i) * 0x20000)
#define PAY_SIZE  65536ull
#define HEAP_LO	  0x08000000ull
#define HEAP_HI	  0x40000000ull
#define GLOBALS	  0x00601000ull
#define STACK_TOP 0x7ffffff00000ull

static void start(struct logbuf *b, uint16_t minor)
{
	lb_init_version(b, 1, minor); /* the flat 1.x layout */
	lb_process(b, 100, 1, "/bin/t");
	lb_modules_reset(b);
	lb_module(b, 0x400000, "/bin/t", 0, 0x100000);
	lb_thread(b, 100);
	for (int i = 1; i < S_NSTACKS; i++)
		stk[i] = lb_stack(b, 0, 0x401000 + (uint64_t)i * 0x10);
	lb_time(b, 1000);
}

/* The guards: who else holds the payloads past the view. */
enum guard {
	G_NONE,
	G_GLOBAL,     /* a global array points to every payload */
	G_VIEW,	      /* a second live view covers the whole array */
	G_PLAIN,      /* a plain block reachable from the stack points to them */
	G_HEAP_WORDS, /* brk-heap words outside blocks point to them (ignored) */
	G_ANON_WORDS, /* the same words in anonymous memory (roots) */
};

/*
 * The Go "pointer elements" leak: `count` foos, each owning a 64 KiB payload
 * (a full view on it), the array cut to a 2-element (80-byte) view that a
 * stack slot holds. Each slot holds the payload's element pointer (interior)
 * and its backing pointer (the block). No END when `end` is false.
 */
static void pointer_elements(struct logbuf *b, size_t count, enum guard g, unsigned capped,
			     bool end)
{
	uint64_t *locs = calloc(2 * count + 2, sizeof(*locs)), *vals = calloc(2 * count + 2, 8);
	uint64_t plain = 0x30000000ull;
	size_t n = 0;

	if (!locs || !vals)
		abort();
	start(b, 1);
	lb_alloc(b, ARR, HDR + count * FOO, stk[S_FOOS]);
	lb_slice_new(b, ARR, ARR + HDR, count * FOO, count * FOO, stk[S_FOOS]);
	for (size_t i = 0; i < count; i++) {
		lb_alloc(b, PAY(i), PAY_SIZE, stk[S_PAYLOAD]);
		lb_slice_new(b, PAY(i), PAY(i) + HDR, PAY_SIZE - HDR, PAY_SIZE - HDR, stk[S_PAYVIEW]);
	}
	lb_slice_new(b, ARR, ARR + HDR, 2 * FOO, count * FOO, stk[S_CUT]);
	lb_slice_drop(b, ARR, ARR + HDR, count * FOO);
	if (g == G_VIEW)
		lb_slice_new(b, ARR, ARR, HDR + count * FOO, HDR + count * FOO, stk[S_OTHER]);
	if (g == G_PLAIN)
		lb_alloc(b, plain, count * 8, stk[S_OTHER]);
	lb_time(b, 2000000000);

	lb_scan_begin(b, ARR, plain + count * 8); /* above every block and value */
	lb_scan_region(b, SLF_REGION_GLOBALS, GLOBALS, 0x10000);
	if (g == G_GLOBAL) {
		for (size_t i = 2; i < count; i++) {
			locs[n] = GLOBALS + 8 * i;
			vals[n++] = PAY(i);
		}
		lb_scan_ptrs(b, n, locs, vals);
	}
	/* the brk heap: the array, the plain block, and free memory after them */
	lb_scan_region(b, SLF_REGION_HEAP, HEAP_LO, 0x30000000ull);
	n = 0;
	for (size_t i = 0; i < count; i++) {
		locs[n] = ARR + HDR + i * FOO;
		vals[n++] = PAY(i) + HDR;
		locs[n] = ARR + HDR + i * FOO + 32;
		vals[n++] = PAY(i);
	}
	lb_scan_ptrs(b, n, locs, vals);
	n = 0;
	if (g == G_PLAIN || g == G_HEAP_WORDS) {
		/* G_HEAP_WORDS: the same words, but no block is there */
		for (size_t i = 2; i < count; i++) {
			locs[n] = plain + 8 * i;
			vals[n++] = PAY(i);
		}
		lb_scan_ptrs(b, n, locs, vals);
	}
	lb_scan_region(b, SLF_REGION_STACK, STACK_TOP - 0x1000, 0x1000);
	locs[0] = STACK_TOP - 0x100;
	vals[0] = ARR + HDR; /* `two`, the 2-element slice */
	n = 1;
	if (g == G_PLAIN) {
		locs[1] = STACK_TOP - 0xf8;
		vals[1] = plain;
		n = 2;
	}
	lb_scan_ptrs(b, n, locs, vals);
	if (g == G_ANON_WORDS) {
		lb_scan_region(b, SLF_REGION_ANON, 0x7f0000000000ull, count * 8);
		n = 0;
		for (size_t i = 2; i < count; i++) {
			locs[n] = 0x7f0000000000ull + 8 * i;
			vals[n++] = PAY(i);
		}
		lb_scan_ptrs(b, n, locs, vals);
	}
	lb_scan_end(b, capped);
	if (end)
		lb_end(b, 0);
	free(locs);
	free(vals);
}

static char *write_log(const char *name, struct logbuf *b)
{
	char *path;
	FILE *f;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	f = fopen(path, "wb");
	if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f))
		abort();
	lb_free(b);
	return path;
}

/* Analyses one log at `at` (a label for SLA_AT_LABEL); the test frees `an`. */
static int analyse(struct sla_analysis *an, const char *path, enum sla_at at, const char *label)
{
	struct sla_analysis_opts o = {
		.at = at,
		.label = label,
		.th = SLA_THRESHOLDS_DEFAULT,
	};
	char *paths[1] = { (char *)path }, err[256];
	int ret = sla_analysis_run(an, &o, paths, 1, err, sizeof(err));

	if (ret)
		fprintf(stderr, "analysis: %s\n", err);
	return ret;
}

/* The sums of the dead_region findings. */
struct dead_sum {
	size_t findings;
	uint64_t blocks, bytes, retained, holders, holder_bytes, holder_view_bytes;
	bool tail;
};

static struct dead_sum dead(const struct sla_analysis *an)
{
	struct dead_sum s = { .tail = true };

	for (size_t i = 0; i < an->res.nfindings; i++) {
		const struct sla_finding *f = &an->res.findings[i];

		if (f->kind != SLA_FINDING_DEAD_REGION)
			continue;
		s.findings++;
		s.blocks += f->blocks;
		s.bytes += f->block_bytes;
		s.retained += f->retained_bytes;
		s.holders += f->holder_blocks;
		s.holder_bytes += f->holder_bytes;
		s.holder_view_bytes += f->holder_used_bytes;
		s.tail &= f->holder_tail;
	}
	return s;
}

/* The view_pinned findings' retained bytes. */
static uint64_t pinned_retained(const struct sla_analysis *an)
{
	uint64_t r = 0;

	for (size_t i = 0; i < an->res.nfindings; i++)
		if (an->res.findings[i].kind == SLA_FINDING_VIEW_PINNED)
			r += an->res.findings[i].retained_bytes;
	return r;
}

static void test_pointer_elements(void)
{
	struct logbuf b;
	struct sla_analysis an;
	struct dead_sum s;
	char *path;

	pointer_elements(&b, 1000, G_NONE, 0, true);
	path = write_log("pe.sllog", &b);
	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	s = dead(&an);
	CHECK_EQ_U(s.findings, 1);
	CHECK_EQ_U(s.blocks, 998);
	CHECK_EQ_U(s.bytes, 998 * PAY_SIZE);
	CHECK_EQ_U(s.retained, 998 * PAY_SIZE);
	CHECK_EQ_U(s.holders, 1);
	CHECK_EQ_U(s.holder_bytes, HDR + 1000 * FOO);
	CHECK_EQ_U(s.holder_view_bytes, 2 * FOO);
	CHECK(s.tail);
	/* the array itself is the view_pinned finding; both count toward the gate */
	CHECK_EQ_U(pinned_retained(&an), HDR + 1000 * FOO - 2 * FOO);
	CHECK_EQ_U(an.res.retained_bytes, HDR + 1000 * FOO - 2 * FOO + 998 * PAY_SIZE);
	CHECK_EQ_U(an.res.dead_region, SLA_DR_COMPLETE);
	CHECK(!strcmp(an.res.dead_region_text, "complete"));
	/* nothing is unreachable: the array from the stack, the payloads through it */
	CHECK(an.res.leaks_classified);
	CHECK_EQ_U(an.res.direct_blocks + an.res.indirect_blocks, 0);
	/* the group's stacks: payloads', the cut view's, the array's */
	for (size_t i = 0; i < an.res.nfindings; i++) {
		const struct sla_finding *f = &an.res.findings[i];

		if (f->kind != SLA_FINDING_DEAD_REGION)
			continue;
		CHECK(f->alloc_gid != f->holder_gid && f->view_gid != f->holder_gid);
		CHECK_EQ_U(f->view_kind, SLA_VIEW_SLICE);
		CHECK_EQ_U(f->min_size, PAY_SIZE);
	}
	sla_analysis_free(&an);
	free(path);
}

/* The same tail targets, also held by the program: nothing kept through dead memory. */
static void test_guards(void)
{
	static const enum guard guards[] = { G_GLOBAL, G_VIEW, G_PLAIN, G_ANON_WORDS };

	for (size_t g = 0; g < sizeof(guards) / sizeof(guards[0]); g++) {
		struct logbuf b;
		struct sla_analysis an;
		char *path;

		pointer_elements(&b, 100, guards[g], 0, true);
		path = write_log("guard.sllog", &b);
		CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
		CHECK_EQ_U(dead(&an).findings, 0);
		if (dead(&an).findings)
			fprintf(stderr, "  guard %d reported\n", guards[g]);
		CHECK_EQ_U(an.res.dead_region, SLA_DR_COMPLETE);
		sla_analysis_free(&an);
		free(path);
	}
}

/* Words of the brk heap outside any block are freed memory or malloc's: not roots. */
static void test_heap_words_ignored(void)
{
	struct logbuf b;
	struct sla_analysis an;
	char *path;

	pointer_elements(&b, 100, G_HEAP_WORDS, 0, true);
	path = write_log("heapwords.sllog", &b);
	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	CHECK_EQ_U(dead(&an).blocks, 98);
	sla_analysis_free(&an);
	free(path);
}

/*
 * Delete-by-append: a table of 8 rule handles (40-byte slices) whose live
 * view covers 7; the slot past len still points to the deleted last rule.
 */
static void test_stale_slot(void)
{
	const uint64_t table = 0x10000000ull, rule0 = 0x20000000ull, rsize = 16384;
	uint64_t locs[8], vals[8];
	struct logbuf b;
	struct sla_analysis an;
	struct dead_sum s;
	char *path;

	start(&b, 1);
	lb_alloc(&b, table, HDR + 8 * FOO, stk[S_FOOS]);
	for (uint64_t i = 0; i < 8; i++) {
		lb_alloc(&b, rule0 + i * 0x10000, rsize, stk[S_PAYLOAD]);
		lb_slice_new(&b, rule0 + i * 0x10000, rule0 + i * 0x10000 + HDR, rsize - HDR,
			     rsize - HDR, stk[S_PAYVIEW]);
		locs[i] = table + HDR + i * FOO;
		vals[i] = rule0 + i * 0x10000 + HDR;
	}
	lb_slice_new(&b, table, table + HDR, 7 * FOO, 8 * FOO, stk[S_CUT]);
	lb_scan_begin(&b, table, rule0 + 8 * 0x10000);
	lb_scan_region(&b, SLF_REGION_HEAP, table, 0x20000000ull);
	lb_scan_ptrs(&b, 8, locs, vals);
	lb_scan_region(&b, SLF_REGION_GLOBALS, GLOBALS, 0x100);
	lb_scan_ptr(&b, GLOBALS + 8, table + HDR);
	lb_scan_end(&b, 0);
	lb_end(&b, 0);
	path = write_log("stale.sllog", &b);
	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	s = dead(&an);
	CHECK_EQ_U(s.findings, 1);
	CHECK_EQ_U(s.blocks, 1);
	CHECK_EQ_U(s.bytes, rsize);
	CHECK_EQ_U(s.holder_view_bytes, 7 * FOO);
	CHECK(s.tail);
	/* the table is mostly used: no view_pinned finding, the rule is all there is */
	CHECK_EQ_U(an.res.retained_bytes, rsize);
	sla_analysis_free(&an);
	free(path);
}

/*
 * Plain blocks behind a dead slot: the slot -> A -> B, and A <-> B as a
 * cycle; C <-> D is a cycle nothing points to (a leak, not kept through a
 * dead region), E -> F a leaked pair. Everything through one 16 KiB array
 * with a 40-byte view. The leaks' classes: E direct, C, D and F indirect
 * (LeakSanitizer's: a cycle nothing else points to is indirect).
 */
static void chain(bool cycle)
{
	const uint64_t arr = 0x10000000ull, a = 0x20000000ull, bb = 0x21000000ull;
	const uint64_t c = 0x22000000ull, d = 0x23000000ull, e = 0x23100000ull, ff = 0x23200000ull;
	struct logbuf b;
	struct sla_analysis an;
	struct dead_sum s;
	char *path;
	size_t nf = 0;

	start(&b, 1);
	lb_alloc(&b, arr, 16384, stk[S_FOOS]);
	lb_slice_new(&b, arr, arr + HDR, FOO, 16384 - HDR, stk[S_CUT]);
	lb_alloc(&b, a, 8192, stk[S_A]);
	lb_alloc(&b, bb, 4096, stk[S_B]);
	lb_alloc(&b, c, 8192, stk[S_OTHER]);
	lb_alloc(&b, d, 8192, stk[S_OTHER]);
	lb_alloc(&b, e, 8192, stk[S_PAYLOAD]);
	lb_alloc(&b, ff, 4096, stk[S_PAYLOAD]);
	lb_scan_begin(&b, arr, ff + 4096);
	lb_scan_region(&b, SLF_REGION_HEAP, arr, 0x14000000ull);
	lb_scan_ptr(&b, arr + HDR + 5 * FOO, a + 16); /* a dead slot, interior pointer */
	{
		uint64_t l[2] = { a + 8, a + 4096 }, v[2] = { bb, bb + 100 };

		lb_scan_ptrs(&b, 2, l, v); /* A -> B twice */
	}
	if (cycle)
		lb_scan_ptr(&b, bb + 64, a);
	lb_scan_ptr(&b, c, d);
	lb_scan_ptr(&b, d, c);
	lb_scan_ptr(&b, e + 8, ff);
	lb_scan_region(&b, SLF_REGION_STACK, STACK_TOP - 0x1000, 0x1000);
	lb_scan_ptr(&b, STACK_TOP - 8, arr + HDR);
	lb_scan_end(&b, 0);
	lb_end(&b, 0);
	path = write_log("chain.sllog", &b);
	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	s = dead(&an);
	CHECK_EQ_U(s.findings, 2); /* A's stack and B's stack, one holder */
	CHECK_EQ_U(s.blocks, 2);
	CHECK_EQ_U(s.bytes, 8192 + 4096);
	CHECK_EQ_U(s.holders, 2); /* the same holder, counted once in each group */
	CHECK_EQ_U(s.holder_bytes, 2 * 16384);
	for (size_t i = 0; i < an.res.nfindings; i++) {
		const struct sla_finding *f = &an.res.findings[i];

		if (f->kind != SLA_FINDING_DEAD_REGION)
			continue;
		CHECK_EQ_U(f->blocks, 1);
		CHECK(f->block_bytes == 8192 || f->block_bytes == 4096);
		nf++;
	}
	CHECK_EQ_U(nf, 2);
	/* 7 blocks live at exit; E is a direct leak, C, D and F indirect ones: 4 leaked */
	CHECK_EQ_U(an.res.exit_blocks, 7);
	CHECK_EQ_U(an.res.leak_blocks, 4);
	CHECK_EQ_U(an.res.leak_bytes, 8192 + 8192 + 8192 + 4096);
	CHECK(an.res.leaks_classified);
	CHECK_EQ_U(an.res.direct_blocks, 1);
	CHECK_EQ_U(an.res.direct_bytes, 8192);
	CHECK_EQ_U(an.res.indirect_blocks, 3);
	CHECK_EQ_U(an.res.indirect_bytes, 8192 + 8192 + 4096);
	for (size_t i = 0; i < an.res.nleaks; i++) {
		const struct sla_group *g = &an.res.leaks[i];

		if (g->bytes == 8192 + 4096) { /* E and F share a stack */
			CHECK_EQ_U(g->direct_blocks, 1);
			CHECK_EQ_U(g->indirect_blocks, 1);
		} else if (g->bytes == 2 * 8192 && g->blocks == 2) { /* C and D */
			CHECK_EQ_U(g->indirect_blocks, 2);
		} else {
			CHECK_EQ_U(g->direct_blocks + g->indirect_blocks, 0);
		}
	}
	sla_analysis_free(&an);
	free(path);
}

static void test_chain(void)
{
	chain(false);
	chain(true);
}

/* Why there is no analysis, or only a partial one. */
static void test_status(void)
{
	struct logbuf b;
	struct sla_analysis an;
	char *path;

	/* capped: the findings are there, flagged partial */
	pointer_elements(&b, 100, G_NONE, 1, true);
	path = write_log("capped.sllog", &b);
	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	CHECK_EQ_U(dead(&an).blocks, 98);
	CHECK_EQ_U(an.res.dead_region, SLA_DR_PARTIAL);
	CHECK(!strncmp(an.res.dead_region_text, "partial: ", 9));
	CHECK(an.res.logs[0].scan_capped);
	CHECK(!an.res.leaks_classified); /* a capped scan may have missed roots */
	sla_analysis_free(&an);

	/* --at peak: no scan there */
	CHECK(analyse(&an, path, SLA_AT_PEAK, NULL) == 0);
	CHECK_EQ_U(dead(&an).findings, 0);
	CHECK_EQ_U(an.res.dead_region, SLA_DR_AT_PEAK);
	CHECK(strstr(an.res.dead_region_text, "not available at peak") != NULL);
	sla_analysis_free(&an);
	free(path);

	/* a truncated log: its last scan is not the end's */
	pointer_elements(&b, 100, G_NONE, 0, false);
	path = write_log("killed.sllog", &b);
	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	CHECK_EQ_U(dead(&an).findings, 0);
	CHECK_EQ_U(an.res.dead_region, SLA_DR_TRUNCATED);
	CHECK(!strncmp(an.res.dead_region_text, "unavailable: ", 13));
	sla_analysis_free(&an);
	free(path);

	/* a 1.1 log without scans (the shim's scan disabled) */
	start(&b, 1);
	lb_alloc(&b, ARR, 8192, stk[S_FOOS]);
	lb_slice_new(&b, ARR, ARR, 8, 8192, stk[S_CUT]);
	lb_end(&b, 0);
	path = write_log("noscan.sllog", &b);
	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	CHECK_EQ_U(an.res.dead_region, SLA_DR_NO_SCAN);
	CHECK_EQ_U(an.res.retained_bytes, 8192 - 8);
	sla_analysis_free(&an);
	free(path);

	/* a scan followed by other records is not the end's */
	start(&b, 1);
	lb_scan_begin(&b, 0, 0);
	lb_scan_end(&b, 0);
	lb_time(&b, 5000);
	lb_end(&b, 0);
	path = write_log("early.sllog", &b);
	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	CHECK_EQ_U(an.res.dead_region, SLA_DR_NO_SCAN);
	sla_analysis_free(&an);
	free(path);
}

/* A 1.0 log: read as before, the analysis says why it has no dead regions. */
static void test_old_format(void)
{
	struct logbuf b;
	struct sla_analysis an;
	char *path;

	start(&b, 0);
	lb_alloc(&b, ARR, 8192, stk[S_FOOS]);
	lb_slice_new(&b, ARR, ARR, 8, 8192, stk[S_CUT]);
	lb_end(&b, 0);
	path = write_log("old.sllog", &b);
	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	CHECK_EQ_U(an.res.nfindings, 1);
	CHECK_EQ_U(an.res.retained_bytes, 8192 - 8);
	CHECK_EQ_U(an.res.dead_region, SLA_DR_OLD_FORMAT);
	CHECK(strstr(an.res.dead_region_text, "1.0") != NULL);
	CHECK_EQ_U(an.res.logs[0].unknown_records, 0);
	sla_analysis_free(&an);
	free(path);
}

/*
 * --at LABEL: the scan right after the snapshot. At "cut" a dead slot keeps
 * a block; by the end the slot was cleared (the end's scan has no pointer).
 */
static void test_snapshot_scan(void)
{
	const uint64_t arr = 0x10000000ull, a = 0x20000000ull;
	struct logbuf b;
	struct sla_analysis an;
	char *path;

	start(&b, 1);
	lb_alloc(&b, arr, 16384, stk[S_FOOS]);
	lb_slice_new(&b, arr, arr + HDR, FOO, 16384 - HDR, stk[S_CUT]);
	lb_alloc(&b, a, 8192, stk[S_A]);
	lb_snapshot(&b, "early", stk[S_OTHER]); /* no scan after this one */
	lb_time(&b, 5000);
	lb_snapshot(&b, "cut", stk[S_OTHER]);
	lb_scan_begin(&b, arr, a + 8192);
	lb_scan_region(&b, SLF_REGION_HEAP, arr, 0x20000000ull);
	lb_scan_ptr(&b, arr + 8192, a);
	lb_scan_end(&b, 0);
	lb_time(&b, 6000);
	lb_scan_begin(&b, arr, a + 8192);
	lb_scan_region(&b, SLF_REGION_HEAP, arr, 0x20000000ull);
	lb_scan_end(&b, 0);
	lb_end(&b, 0);
	path = write_log("snap.sllog", &b);

	CHECK(analyse(&an, path, SLA_AT_LABEL, "cut") == 0);
	CHECK_EQ_U(dead(&an).blocks, 1);
	CHECK_EQ_U(dead(&an).bytes, 8192);
	CHECK(dead(&an).tail); /* 8192 is past the 40-byte view */
	CHECK_EQ_U(an.res.dead_region, SLA_DR_COMPLETE);
	sla_analysis_free(&an);

	CHECK(analyse(&an, path, SLA_AT_LABEL, "early") == 0);
	CHECK_EQ_U(dead(&an).findings, 0);
	CHECK_EQ_U(an.res.dead_region, SLA_DR_NO_SCAN);
	sla_analysis_free(&an);

	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	CHECK_EQ_U(dead(&an).findings, 0);
	CHECK_EQ_U(an.res.dead_region, SLA_DR_COMPLETE);
	sla_analysis_free(&an);
	free(path);
}

/* A dead_region group below the minimum block size is not a finding. */
static void test_small(void)
{
	const uint64_t arr = 0x10000000ull, a = 0x20000000ull;
	struct logbuf b;
	struct sla_analysis an;
	char *path;

	start(&b, 1);
	lb_alloc(&b, arr, 16384, stk[S_FOOS]);
	lb_slice_new(&b, arr, arr + HDR, FOO, 16384 - HDR, stk[S_CUT]);
	lb_alloc(&b, a, 100, stk[S_A]);
	lb_scan_begin(&b, arr, a + 100);
	lb_scan_region(&b, SLF_REGION_HEAP, arr, 0x20000000ull);
	lb_scan_ptr(&b, arr + 8192, a);
	lb_scan_end(&b, 0);
	lb_end(&b, 0);
	path = write_log("small.sllog", &b);
	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	CHECK_EQ_U(dead(&an).findings, 0);
	CHECK_EQ_U(an.res.retained_bytes, 16384 - FOO);
	sla_analysis_free(&an);
	free(path);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 2;
	test_pointer_elements();
	test_guards();
	test_heap_words_ignored();
	test_stale_slot();
	test_chain();
	test_status();
	test_old_format();
	test_snapshot_scan();
	test_small();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return check_result();
}
