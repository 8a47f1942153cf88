/*
 * analyzer/tests/test_retention.c - the retention math: overlapping, nested
 * and zero-length views, views released on another thread, address reuse,
 * thresholds, grouping by the oldest view, pinned time, the running total.
 */
#include "retention.h"
#include "check.h"
#include "replay_util.h"

static const struct sla_thresholds defaults = SLA_THRESHOLDS_DEFAULT;

/* Used bytes of the block at addr after replaying b. */
static uint64_t used_of(struct logbuf *b, uint64_t addr)
{
	struct sla_state *st = replay_buf(b);
	struct sla_block *blk = sla_state_find_block(st, addr);
	uint64_t used = blk ? sla_block_used(st, blk) : UINT64_MAX;

	sla_state_free(st);
	return used;
}

static void test_union(void)
{
	struct logbuf b;
	uint64_t s[2];
	const uint64_t B = 0x10000;

	/* overlapping [0,100) and [50,150) -> 150; nested [10,20) adds nothing */
	start_log(&b, s, 1);
	lb_alloc(&b, B, 8192, s[1]);
	lb_slice_new(&b, B, B, 100, 8192, s[1]);
	lb_slice_new(&b, B, B + 50, 100, 8142, s[1]);
	lb_slice_new(&b, B, B + 10, 10, 8182, s[1]);
	CHECK_EQ_U(used_of(&b, B), 150);
	/* disjoint [1000,1010) -> 160; zero-length views add nothing */
	lb_slice_new(&b, B, B + 1000, 10, 7192, s[1]);
	lb_slice_new(&b, B, B + 4000, 0, 4192, s[1]);
	CHECK_EQ_U(used_of(&b, B), 160);
	/* an annotation reaching past the block end is clipped to it */
	lb_view_acquire(&b, 0x55, B + 8000, 1000, s[1]);
	CHECK_EQ_U(used_of(&b, B), 160 + 192);
	/* twelve views (past the small-array fast path) */
	for (int i = 0; i < 12; i++)
		lb_slice_new(&b, B, B + 2000 + (uint64_t)i * 10, 5, 10, s[1]);
	CHECK_EQ_U(used_of(&b, B), 160 + 192 + 60);
	lb_free(&b);
}

/* A zero-length view still pins its block: all of it is retained. */
static void test_zero_length_pins(void)
{
	struct logbuf b;
	uint64_t s[3];
	struct sla_state *st;
	struct sla_results res;
	struct sla_stackset *set = sla_stackset_new();

	start_log(&b, s, 2);
	lb_alloc(&b, 0x10000, 1 << 20, s[1]);
	lb_slice_new(&b, 0x10000, 0x10000 + 100, 0, 0, s[2]);
	lb_time(&b, 5000);
	st = replay_buf(&b);
	sla_results_init(&res, "end");
	sla_retention_collect(&res, st, set, &defaults, st->time_ns);
	sla_results_finish(&res);
	CHECK_EQ_U(res.nfindings, 1);
	CHECK_EQ_U(res.retained_bytes, 1 << 20);
	CHECK_EQ_U(res.findings[0].used_bytes, 0);
	sla_results_free(&res);
	sla_stackset_free(set);
	sla_state_free(st);
	lb_free(&b);
}

/*
 * Thresholds, grouping by (allocation stack, oldest view stack), a view
 * released on another thread, address reuse and pinned time.
 */
static void test_findings(void)
{
	struct logbuf b;
	uint64_t s[6];
	struct sla_state *st;
	struct sla_results res;
	struct sla_stackset *set = sla_stackset_new();
	const struct sla_finding *f;
	struct sla_thresholds loose = { 100, 50.0, SLA_DEFAULT_MAX_OWNER_SIZE,
					SLA_DEFAULT_MIN_OWNER_RATIO };

	start_log(&b, s, 5);
	lb_time(&b, 1000000000); /* 1 s */
	/* two 1 MiB blocks from s1, each with a 5-byte view from s2, a later one from s3 */
	for (uint64_t i = 0; i < 2; i++) {
		uint64_t a = 0x100000 * (i + 1);

		lb_alloc(&b, a, 1 << 20, s[1]);
		lb_slice_new(&b, a, a, 5, 1 << 20, s[2]);
	}
	lb_time(&b, 2000000000);
	lb_slice_new(&b, 0x100000, 0x100000 + 8, 5, 100, s[3]);
	/* a block whose view from s2 is dropped on another thread: s3's view is now the oldest */
	lb_alloc(&b, 0x400000, 8192, s[1]);
	lb_slice_new(&b, 0x400000, 0x400000, 5, 8192, s[2]);
	lb_slice_new(&b, 0x400000, 0x400000 + 10, 5, 8192, s[3]);
	lb_thread(&b, 101);
	lb_slice_drop(&b, 0x400000, 0x400000, 5);
	lb_thread(&b, 100);
	/* below the size threshold: 2 KiB */
	lb_alloc(&b, 0x500000, 2048, s[4]);
	lb_slice_new(&b, 0x500000, 0x500000, 1, 2048, s[4]);
	/* healthy: a full view (and a 30% view: fine by default, a finding at <= 50%) */
	lb_alloc(&b, 0x600000, 10000, s[5]);
	lb_slice_new(&b, 0x600000, 0x600000, 10000, 10000, s[5]);
	lb_alloc(&b, 0x700000, 10000, s[5]);
	lb_slice_new(&b, 0x700000, 0x700000, 3000, 10000, s[5]);
	/* address reuse: a pinned block freed (its view dropped first), the address reused unpinned */
	lb_alloc(&b, 0x800000, 65536, s[4]);
	lb_slice_new(&b, 0x800000, 0x800000, 1, 65536, s[4]);
	lb_slice_drop(&b, 0x800000, 0x800000, 1);
	lb_free_rec(&b, 0x800000);
	lb_alloc(&b, 0x800000, 65536, s[4]);
	lb_time(&b, 4000000000);
	lb_end(&b, 0);
	st = replay_buf(&b);

	sla_results_init(&res, "end");
	sla_retention_collect(&res, st, set, &defaults, st->time_ns);
	sla_results_finish(&res);
	CHECK_EQ_U(res.nfindings, 2);
	CHECK_EQ_U(res.pinned_blocks, 6);
	f = &res.findings[0];
	/* the two 1 MiB blocks: oldest view from s2 on both */
	CHECK_EQ_U(f->blocks, 2);
	CHECK_EQ_U(f->block_bytes, 2 << 20);
	CHECK_EQ_U(f->used_bytes, 5 + 5 + 5); /* block 1: [0,5) and [8,13) */
	CHECK_EQ_U(f->retained_bytes, (2 << 20) - 15);
	CHECK_EQ_U(f->views, 3);
	CHECK(f->pinned_max_s > 2.999 && f->pinned_max_s < 3.001);
	CHECK(f->alloc_gid == sla_stackset_intern(set, st, (uint32_t)s[1]));
	CHECK(f->view_gid == sla_stackset_intern(set, st, (uint32_t)s[2]));
	f = &res.findings[1];
	CHECK_EQ_U(f->blocks, 1);
	CHECK_EQ_U(f->block_bytes, 8192);
	CHECK_EQ_U(f->used_bytes, 5);
	CHECK(f->view_gid == sla_stackset_intern(set, st, (uint32_t)s[3]));
	CHECK(f->pinned_max_s > 1.999 && f->pinned_max_s < 2.001);
	CHECK_EQ_U(res.retained_bytes, (2 << 20) - 15 + 8187);
	sla_results_free(&res);

	/* looser thresholds: the 2 KiB block and the 30% block become findings */
	sla_results_init(&res, "end");
	sla_retention_collect(&res, st, set, &loose, st->time_ns);
	sla_results_finish(&res);
	CHECK_EQ_U(res.nfindings, 4);
	sla_results_free(&res);
	sla_stackset_free(set);
	sla_state_free(st);
	lb_free(&b);
}

/* The running total of the peak scan follows view changes and frees. */
static void test_running_total(void)
{
	struct logbuf b;
	uint64_t s[2];
	struct sla_state *st = sla_state_new("r");
	struct sla_reader r;
	struct sla_record rec;
	uint64_t totals[16];
	int n = 0;

	start_log(&b, s, 1);
	lb_alloc(&b, 0x100000, 10000, s[1]);
	lb_slice_new(&b, 0x100000, 0x100000, 10000, 10000, s[1]); /* full: 0 */
	lb_time(&b, 1);
	lb_slice_new(&b, 0x100000, 0x100000, 10, 10000, s[1]);
	lb_slice_drop(&b, 0x100000, 0x100000, 10000);		  /* 9990 */
	lb_time(&b, 2);
	lb_alloc(&b, 0x200000, 20000, s[1]);
	lb_view_acquire(&b, 0x9, 0x200000 + 5, 0, s[1]);	  /* +20000 */
	lb_time(&b, 3);
	lb_free_rec(&b, 0x100000);				  /* -9990 */
	lb_time(&b, 4);
	CHECK(sla_reader_init_mem(&r, b.data, b.len, "r") == 0);
	st->track_dirty = true;
	while (sla_reader_next(&r, &rec) > 0) {
		if (rec.kind == SLF_REC_TIME)
			totals[n++] = sla_retention_flush(st, &defaults, NULL);
		sla_replay_record(st, &rec);
	}
	totals[n++] = sla_retention_flush(st, &defaults, NULL);
	CHECK_EQ_U(n, 5);
	CHECK_EQ_U(totals[0], 0);
	CHECK_EQ_U(totals[1], 9990);
	CHECK_EQ_U(totals[2], 29990);
	CHECK_EQ_U(totals[3], 20000);
	CHECK_EQ_U(totals[4], 20000);
	sla_reader_close(&r);
	sla_state_free(st);
	lb_free(&b);
}

int main(void)
{
	test_union();
	test_zero_length_pins();
	test_findings();
	test_running_total();
	return check_result();
}
