/*
 * analyzer/tests/test_owner.c - the owner finding (owner.h) on synthetic
 * logs with pointer scans, through the whole analysis:
 *   - a view struct that alone holds a buffer and its header: one owner,
 *     the buffer's and the header's bytes, the offset its pointer lands at;
 *   - thresholds: --min-owner-ratio and --max-owner-size;
 *   - guards: a buffer held straight from a global, a buffer shared by two
 *     small owners held from globals: no finding;
 *   - a linked list of nodes, each with its buffer: every node owns its
 *     own buffer, none all of them;
 *   - no double counting: a view-pinned block that is a view_pinned
 *     finding is not owned again; leaks are not owned;
 *   - a capped scan says partial; --at peak says unavailable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "check.h"
#include "logbuf.h"

static char dir[] = "/tmp/sla-test-owner.XXXXXX";

enum { S_VIEW = 1, S_BUF, S_HDR, S_NODE, S_OTHER, S_NSTACKS };
static uint64_t stk[S_NSTACKS];

#define GLOBALS 0x00601000ull
#define HEAP_LO 0x10000000ull
#define BUF(i)	(0x20000000ull + (uint64_t)(i) * 0x100000)
#define SMALL(i) (0x10000000ull + (uint64_t)(i) * 0x100)
#define BUF_SIZE 65536ull

static void start(struct logbuf *b)
{
	lb_init_version(b, 1, 1);
	lb_process(b, 100, 1, "/bin/t");
	lb_modules_reset(b);
	lb_module(b, 0x400000, "/bin/t", 0, 0x100000);
	lb_thread(b, 100);
	for (int i = 1; i < S_NSTACKS; i++)
		stk[i] = lb_stack(b, 0, 0x401000 + (uint64_t)i * 0x10);
	lb_time(b, 1000);
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

static int analyse(struct sla_analysis *an, const char *path, enum sla_at at,
		   const struct sla_thresholds *th)
{
	struct sla_analysis_opts o = { .at = at, .label = "end", .th = SLA_THRESHOLDS_DEFAULT };
	char *paths[1] = { (char *)path }, err[256];
	int ret;

	if (th)
		o.th = *th;
	ret = sla_analysis_run(an, &o, paths, 1, err, sizeof(err));
	if (ret)
		fprintf(stderr, "analysis: %s\n", err);
	return ret;
}

struct owner_sum {
	size_t findings;
	uint64_t owners, owner_bytes, blocks, bytes, retained, retained_blocks, ref_min, ref_max;
};

static struct owner_sum owners(const struct sla_analysis *an)
{
	struct owner_sum s = { .ref_min = UINT64_MAX };

	for (size_t i = 0; i < an->res.nfindings; i++) {
		const struct sla_finding *f = &an->res.findings[i];

		if (f->kind != SLA_FINDING_OWNER)
			continue;
		s.findings++;
		s.owners += f->holder_blocks;
		s.owner_bytes += f->holder_bytes;
		s.blocks += f->blocks;
		s.bytes += f->block_bytes;
		s.retained += f->retained_bytes;
		s.retained_blocks += f->retained_blocks;
		if (f->ref_min < s.ref_min)
			s.ref_min = f->ref_min;
		if (f->ref_min <= f->ref_max && f->ref_max > s.ref_max)
			s.ref_max = f->ref_max;
	}
	return s;
}

/*
 * n views (24 bytes) in a global array, each the only holder of a header
 * (24 bytes) and a buffer; the view also points into the buffer at 4096.
 * `shared_global`: a global also points straight to each buffer.
 */
static char *views_log(const char *name, size_t n, uint64_t view_size, bool shared_global,
		       unsigned capped)
{
	struct logbuf b;

	start(&b);
	for (size_t i = 0; i < n; i++) {
		lb_alloc(&b, SMALL(2 * i), view_size, stk[S_VIEW]);
		lb_alloc(&b, SMALL(2 * i + 1), 24, stk[S_HDR]);
		lb_alloc(&b, BUF(i), BUF_SIZE, stk[S_BUF]);
	}
	lb_scan_begin(&b, HEAP_LO, BUF(n));
	lb_scan_region(&b, SLF_REGION_GLOBALS, GLOBALS, 0x10000);
	for (size_t i = 0; i < n; i++)
		lb_scan_ptr(&b, GLOBALS + 8 * i, SMALL(2 * i));
	for (size_t i = 0; shared_global && i < n; i++)
		lb_scan_ptr(&b, GLOBALS + 0x8000 + 8 * i, BUF(i) + 100);
	lb_scan_region(&b, SLF_REGION_HEAP, HEAP_LO, 0x20000000ull + n * 0x100000);
	for (size_t i = 0; i < n; i++) {
		uint64_t l[3] = { SMALL(2 * i), SMALL(2 * i) + 16, SMALL(2 * i + 1) + 8 };
		uint64_t v[3] = { BUF(i) + 4096, SMALL(2 * i + 1), BUF(i) };

		lb_scan_ptrs(&b, 2, l, v);
		lb_scan_ptr(&b, l[2], v[2]);
	}
	lb_scan_end(&b, capped);
	lb_end(&b, 0);
	return write_log(name, &b);
}

static void test_views(void)
{
	struct sla_analysis an;
	struct owner_sum s;
	char *path = views_log("views.sllog", 10, 24, false, 0);

	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	s = owners(&an);
	CHECK_EQ_U(s.findings, 1);
	CHECK_EQ_U(s.owners, 10);
	CHECK_EQ_U(s.owner_bytes, 240);
	CHECK_EQ_U(s.blocks, 10);
	CHECK_EQ_U(s.bytes, 10 * BUF_SIZE);
	CHECK_EQ_U(s.retained, 10 * (BUF_SIZE + 24));
	CHECK_EQ_U(s.retained_blocks, 20);
	CHECK_EQ_U(s.ref_min, 4096);
	CHECK_EQ_U(s.ref_max, 4096);
	CHECK_EQ_U(an.res.owned_bytes, s.retained);
	CHECK_EQ_U(an.res.retained_bytes, 0); /* owned bytes are not retained bytes */
	CHECK_EQ_U(an.res.nowner, 1);
	CHECK(an.res.dead_region == SLA_DR_COMPLETE);
	CHECK(an.res.findings[0].alloc_gid != an.res.findings[0].holder_gid);
	sla_analysis_free(&an);

	/* a global pointing straight at each buffer: the root dominates them */
	free(path);
	path = views_log("views-global.sllog", 10, 24, true, 0);
	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	CHECK_EQ_U(owners(&an).findings, 0);
	CHECK_EQ_U(an.res.owned_bytes, 0);
	sla_analysis_free(&an);

	/* capped: the same finding, the analysis partial */
	free(path);
	path = views_log("views-capped.sllog", 10, 24, false, 1);
	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	CHECK_EQ_U(owners(&an).owners, 10);
	CHECK(an.res.dead_region == SLA_DR_PARTIAL);
	sla_analysis_free(&an);

	/* --at peak: no scan there, no owner analysis */
	CHECK(analyse(&an, path, SLA_AT_PEAK, NULL) == 0);
	CHECK_EQ_U(owners(&an).findings, 0);
	CHECK(an.res.dead_region == SLA_DR_AT_PEAK);
	sla_analysis_free(&an);
	unlink(path);
	free(path);
}

static void test_thresholds(void)
{
	struct sla_analysis an;
	struct sla_thresholds th = SLA_THRESHOLDS_DEFAULT;
	char *path = views_log("ratio.sllog", 4, 2048, false, 0);

	/* 2 KiB owners retaining 64 KiB + 24: a ratio of 32 */
	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	CHECK_EQ_U(owners(&an).findings, 0);
	sla_analysis_free(&an);
	th.min_owner_ratio = 32;
	CHECK(analyse(&an, path, SLA_AT_END, &th) == 0);
	CHECK_EQ_U(owners(&an).owners, 4);
	sla_analysis_free(&an);
	/* owners above --max-owner-size are no owners */
	th.max_owner_size = 2047;
	CHECK(analyse(&an, path, SLA_AT_END, &th) == 0);
	CHECK_EQ_U(owners(&an).findings, 0);
	sla_analysis_free(&an);
	/* buffers below --min-block-size make no owner */
	th = (struct sla_thresholds)SLA_THRESHOLDS_DEFAULT;
	th.min_owner_ratio = 1;
	th.min_block_size = BUF_SIZE + 1;
	CHECK(analyse(&an, path, SLA_AT_END, &th) == 0);
	CHECK_EQ_U(owners(&an).findings, 0);
	sla_analysis_free(&an);
	unlink(path);
	free(path);
}

/* Two small owners, each held from a global, share one buffer: no single owner. */
static void test_shared(void)
{
	struct logbuf b;
	struct sla_analysis an;
	char *path;

	start(&b);
	lb_alloc(&b, SMALL(0), 32, stk[S_VIEW]);
	lb_alloc(&b, SMALL(1), 32, stk[S_VIEW]);
	lb_alloc(&b, BUF(0), BUF_SIZE, stk[S_BUF]);
	lb_scan_begin(&b, HEAP_LO, BUF(1));
	lb_scan_region(&b, SLF_REGION_GLOBALS, GLOBALS, 0x100);
	lb_scan_ptr(&b, GLOBALS, SMALL(0));
	lb_scan_ptr(&b, GLOBALS + 8, SMALL(1));
	lb_scan_region(&b, SLF_REGION_HEAP, HEAP_LO, 0x20000000ull);
	lb_scan_ptr(&b, SMALL(0), BUF(0));
	lb_scan_ptr(&b, SMALL(1), BUF(0) + 8);
	lb_scan_end(&b, 0);
	lb_end(&b, 0);
	path = write_log("shared.sllog", &b);
	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	CHECK_EQ_U(owners(&an).findings, 0);
	sla_analysis_free(&an);
	unlink(path);
	free(path);
}

/*
 * A list head in a global, n nodes (32 bytes) each pointing to the next
 * and into a buffer of its own: n owners, each retaining one buffer (node
 * 1's dominator subtree holds the whole list). A view-pinned buffer that
 * is a view_pinned finding is not owned again; an unreachable node and
 * its buffer (a leak) are owned by nobody.
 */
static void test_list(void)
{
	const size_t n = 50;
	struct logbuf b;
	struct sla_analysis an;
	struct owner_sum s;
	char *path;

	start(&b);
	for (size_t i = 0; i < n + 1; i++) {
		lb_alloc(&b, SMALL(i), 32, stk[S_NODE]);
		lb_alloc(&b, BUF(i), BUF_SIZE, stk[S_BUF]);
	}
	lb_view_acquire(&b, 0x77, BUF(n - 1), 16, stk[S_OTHER]); /* pins the last buffer */
	lb_scan_begin(&b, HEAP_LO, BUF(n + 1));
	lb_scan_region(&b, SLF_REGION_GLOBALS, GLOBALS, 0x100);
	lb_scan_ptr(&b, GLOBALS, SMALL(0));
	lb_scan_region(&b, SLF_REGION_HEAP, HEAP_LO, 0x20000000ull);
	for (size_t i = 0; i < n + 1; i++) {
		uint64_t l[2] = { SMALL(i), SMALL(i) + 8 };
		uint64_t v[2] = { i + 1 < n ? SMALL(i + 1) : 0, BUF(i) + 256 };

		if (i + 1 < n)
			lb_scan_ptrs(&b, 2, l, v);
		else
			lb_scan_ptr(&b, l[1], v[1]); /* the last node, and the leaked one */
	}
	lb_scan_end(&b, 0);
	lb_end(&b, 0);
	path = write_log("list.sllog", &b);
	CHECK(analyse(&an, path, SLA_AT_END, NULL) == 0);
	s = owners(&an);
	CHECK_EQ_U(s.findings, 1);
	CHECK_EQ_U(s.owners, n - 1);
	CHECK_EQ_U(s.blocks, n - 1);
	/* the last node owns nothing (its buffer is pinned, a root): it is the previous node's */
	CHECK_EQ_U(s.retained, (n - 1) * BUF_SIZE + 32);
	CHECK_EQ_U(s.retained_blocks, n);
	CHECK_EQ_U(s.ref_min, 256);
	CHECK_EQ_U(s.ref_max, 256);
	CHECK_EQ_U(an.res.nfindings - an.res.nowner, 1); /* the pinned buffer's view_pinned */
	sla_analysis_free(&an);
	unlink(path);
	free(path);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_views();
	test_thresholds();
	test_shared();
	test_list();
	rmdir(dir);
	return check_result();
}
