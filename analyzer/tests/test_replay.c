/*
 * analyzer/tests/test_replay.c - replay semantics: blocks, realloc, address
 * reuse, temporaries, the heap peak and who held it, and every anomaly.
 */
#include "check.h"
#include "replay_util.h"

static void test_alloc_free_realloc(void)
{
	struct logbuf b;
	uint64_t s[4];
	struct sla_state *st;
	struct sla_block *blk;

	start_log(&b, s, 3);
	lb_time(&b, 10);
	lb_alloc(&b, 0x1000, 100, s[1]);
	lb_alloc(&b, 0x2000, 50, s[2]);
	lb_realloc(&b, 0x1000, 0x3000, 300, s[3]); /* moves */
	lb_realloc(&b, 0x3000, 0x3000, 200, s[3]); /* in place, shrinks */
	lb_free_rec(&b, 0x2000);
	lb_alloc(&b, 0x2000, 70, s[2]);		   /* address reuse after free: fine */
	lb_end(&b, 0);
	st = replay_buf(&b);
	CHECK(st->ended);
	CHECK_EQ_U(st->pid, 100);
	CHECK_EQ_U(st->live_blocks, 2);
	CHECK_EQ_U(st->live_bytes, 270);
	CHECK(sla_state_find_block(st, 0x1000) == NULL);
	blk = sla_state_find_block(st, 0x3000);
	CHECK(blk && blk->size == 200 && blk->stack == s[3]);
	CHECK_EQ_U(st->allocs, 5);
	CHECK_EQ_U(st->frees, 3); /* two realloc olds and one free */
	CHECK_EQ_U(st->bytes_allocated, 100 + 50 + 300 + 200 + 70);
	/* the peak: 100 + 50 + 300 is never live at once (realloc frees first): 350 */
	CHECK_EQ_U(st->peak_bytes, 350);
	for (int k = 0; k < SLA_ANOM_COUNT; k++)
		CHECK_EQ_U(st->anomalies[k], 0);
	sla_state_free(st);
	lb_free(&b);
}

static void test_temporaries(void)
{
	struct logbuf b;
	uint64_t s[3];
	struct sla_state *st;

	start_log(&b, s, 2);
	lb_alloc(&b, 0x1000, 8, s[1]);
	lb_free_rec(&b, 0x1000);	/* temporary */
	lb_alloc(&b, 0x1000, 8, s[1]);
	lb_alloc(&b, 0x2000, 8, s[2]);
	lb_free_rec(&b, 0x1000);	/* not: another allocation in between */
	lb_free_rec(&b, 0x2000);	/* temporary */
	lb_end(&b, 0);
	st = replay_buf(&b);
	CHECK_EQ_U(st->temps, 2);
	CHECK_EQ_U(st->sites[s[1]].temps, 1);
	CHECK_EQ_U(st->sites[s[2]].temps, 1);
	sla_state_free(st);
	lb_free(&b);
}

/* The stacks holding the peak are those at the peak, not at the end. */
static void test_peak_holders(void)
{
	struct logbuf b;
	uint64_t s[4], bytes, blocks;
	struct sla_state *st;

	start_log(&b, s, 3);
	lb_time(&b, 100);
	lb_alloc(&b, 0x1000, 1000, s[1]);
	lb_alloc(&b, 0x2000, 500, s[2]);
	lb_time(&b, 200);
	lb_alloc(&b, 0x3000, 2000, s[2]); /* peak here: 3500 */
	lb_time(&b, 300);
	lb_free_rec(&b, 0x3000);
	lb_free_rec(&b, 0x1000);
	lb_alloc(&b, 0x4000, 3000, s[3]); /* 3500 again: not a new peak */
	lb_end(&b, 0);
	st = replay_buf(&b);
	CHECK_EQ_U(st->peak_bytes, 3500);
	CHECK_EQ_U(st->peak_blocks, 3);
	CHECK_EQ_U(st->peak_time_ns, 200);
	sla_site_at_peak(st, (uint32_t)s[1], &bytes, &blocks);
	CHECK(bytes == 1000 && blocks == 1);
	sla_site_at_peak(st, (uint32_t)s[2], &bytes, &blocks);
	CHECK(bytes == 2500 && blocks == 2);
	sla_site_at_peak(st, (uint32_t)s[3], &bytes, &blocks);
	CHECK(bytes == 0 && blocks == 0);
	sla_state_free(st);
	lb_free(&b);
}

static void test_anomalies(void)
{
	struct logbuf b;
	uint64_t s[2];
	struct sla_state *st;

	start_log(&b, s, 1);
	lb_time(&b, 50);
	lb_free_rec(&b, 0x9000);		      /* never allocated: foreign (fork child) */
	lb_alloc(&b, 0x1000, 10, s[1]);
	lb_free_rec(&b, 0x1000);
	lb_free_rec(&b, 0x1000);		      /* double free */
	lb_free_rec(&b, 0);			      /* free(NULL): not an event */
	lb_alloc(&b, 0x2000, 10, s[1]);
	lb_alloc(&b, 0x2000, 20, s[1]);		      /* on a live address */
	lb_realloc(&b, 0x8000, 0x5000, 30, s[1]);     /* of an unknown address */
	lb_slice_new(&b, 0x7000, 0x7000, 1, 1, s[1]); /* no such block */
	lb_slice_drop(&b, 0x2000, 0x2000, 4);	      /* no such reference */
	lb_view_acquire(&b, 0x77, 0x7000, 4, s[1]);   /* in no block */
	lb_view_release(&b, 0x78, s[1]);	      /* never acquired */
	lb_slice_new(&b, 0x2000, 0x2010, 100, 100, s[1]); /* beyond the 20-byte block */
	lb_free_rec(&b, 0x2000);		      /* with a live view */
	lb_time(&b, 40);			      /* backwards */
	p_uv(&b, 1);
	p_uv(&b, 0);
	p_uv(&b, 0);
	p_uv(&b, 0);
	p_str(&b, "x", 1);
	p_str(&b, "", 0);
	lb_emit(&b, SLF_REC_PROCESS);		      /* a second PROCESS */
	st = replay_buf(&b);
	CHECK_EQ_U(st->anomalies[SLA_ANOM_free_unknown], 1);
	CHECK_EQ_U(st->anomalies[SLA_ANOM_double_free], 1);
	CHECK_EQ_U(st->anomalies[SLA_ANOM_alloc_on_live], 1);
	CHECK_EQ_U(st->anomalies[SLA_ANOM_realloc_unknown], 1);
	CHECK_EQ_U(st->anomalies[SLA_ANOM_slice_no_block], 1);
	CHECK_EQ_U(st->anomalies[SLA_ANOM_slice_drop_unknown], 1);
	CHECK_EQ_U(st->anomalies[SLA_ANOM_view_no_block], 1);
	CHECK_EQ_U(st->anomalies[SLA_ANOM_release_without_acquire], 1);
	CHECK_EQ_U(st->anomalies[SLA_ANOM_view_outside_block], 1);
	CHECK_EQ_U(st->anomalies[SLA_ANOM_free_with_views], 1);
	CHECK_EQ_U(st->anomalies[SLA_ANOM_time_backwards], 1);
	CHECK_EQ_U(st->anomalies[SLA_ANOM_extra_process], 1);
	CHECK_EQ_U(st->time_ns, 50);
	/* what survived: the realloc'ed block only; the view went with its block */
	CHECK_EQ_U(st->live_blocks, 1);
	CHECK(sla_state_find_block(st, 0x5000) != NULL);
	CHECK_EQ_U(st->views_live, 0);
	CHECK(!st->ended);
	CHECK(st->truncated);
	sla_state_free(st);
	lb_free(&b);
}

/* A realloc in place keeps the block's views; a moving realloc drops them. */
static void test_realloc_views(void)
{
	struct logbuf b;
	uint64_t s[2];
	struct sla_state *st;
	struct sla_block *blk;

	start_log(&b, s, 1);
	lb_alloc(&b, 0x10000, 100, s[1]);
	lb_view_acquire(&b, 0xa, 0x10000 + 10, 5, s[1]);
	lb_slice_new(&b, 0x10000, 0x10000, 3, 100, s[1]);
	lb_realloc(&b, 0x10000, 0x10000, 8192, s[1]); /* grows in place */
	lb_alloc(&b, 0x40000, 100, s[1]);
	lb_view_acquire(&b, 0xb, 0x40000, 5, s[1]);
	lb_realloc(&b, 0x40000, 0x50000, 8192, s[1]); /* moves */
	lb_end(&b, 0);
	st = replay_buf(&b);
	blk = sla_state_find_block(st, 0x10000);
	CHECK(blk && blk->size == 8192 && sla_block_nviews(st, blk) == 2);
	CHECK(sla_state_owner_find(st, 0xa) && sla_state_owner_find(st, 0xa)->block == blk);
	CHECK(sla_state_slice_drop(st, 0x10000, 0x10000, 3));
	CHECK(sla_state_owner_find(st, 0xb) == NULL);
	CHECK_EQ_U(st->anomalies[SLA_ANOM_free_with_views], 1);
	CHECK_EQ_U(st->views_live, 1);
	sla_state_free(st);
	lb_free(&b);
}

/*
 * An annotated view whose owner is a heap block ends when that block is
 * freed (or moved by realloc): the holder is gone. An owner that is no
 * block keeps its view.
 */
static void test_owner_block_freed(void)
{
	struct logbuf b;
	uint64_t s[2];
	struct sla_state *st;
	struct sla_block *buf;

	start_log(&b, s, 1);
	lb_alloc(&b, 0x9000, 24, s[1]);			  /* the holder object */
	lb_alloc(&b, 0x20000, 65536, s[1]);		  /* the buffer */
	lb_alloc(&b, 0xa000, 24, s[1]);			  /* a holder that moves */
	lb_view_acquire(&b, 0x9000, 0x20000 + 10, 5, s[1]);
	lb_view_acquire(&b, 0xa000, 0x20000 + 20, 5, s[1]);
	lb_view_acquire(&b, 0x77, 0x20000 + 30, 5, s[1]); /* not a heap block */
	lb_free_rec(&b, 0x9000);
	lb_realloc(&b, 0xa000, 0xb000, 4096, s[1]);
	lb_end(&b, 0);
	st = replay_buf(&b);
	buf = sla_state_find_block(st, 0x20000);
	CHECK(buf && sla_block_nviews(st, buf) == 1);
	CHECK(sla_state_owner_find(st, 0x9000) == NULL);
	CHECK(sla_state_owner_find(st, 0xa000) == NULL);
	CHECK(sla_state_owner_find(st, 0x77) != NULL);
	CHECK_EQ_U(st->anomalies[SLA_ANOM_free_with_views], 0);
	CHECK_EQ_U(st->views_live, 1);
	sla_state_free(st);
	lb_free(&b);
}

/* Replay stops after max_records: the state of a prefix of the log. */
static void test_prefix(void)
{
	struct logbuf b;
	uint64_t s[2];
	struct sla_state *st = sla_state_new("p");
	struct sla_reader r;

	start_log(&b, s, 1);
	lb_alloc(&b, 0x1000, 10, s[1]);
	lb_alloc(&b, 0x2000, 10, s[1]);
	lb_end(&b, 0);
	CHECK(sla_reader_init_mem(&r, b.data, b.len, "p") == 0);
	CHECK(sla_replay_run(st, &r, 6) == 0); /* 5 records of start_log + one alloc */
	CHECK_EQ_U(st->live_blocks, 1);
	CHECK(!st->ended && !st->truncated);
	sla_reader_close(&r);
	sla_state_free(st);
	lb_free(&b);
}

int main(void)
{
	test_alloc_free_realloc();
	test_temporaries();
	test_peak_holders();
	test_anomalies();
	test_realloc_views();
	test_owner_block_freed();
	test_prefix();
	return check_result();
}
