/*
 * analyzer/tests/test_tracker.c - the allocation tracker's figures summed
 * over two logs: leaks by stack, the peak's holders, hot spots ranked by
 * allocations, temporaries, totals.
 */
#include "stacks.h"
#include "tracker.h"
#include "check.h"
#include "replay_util.h"

/*
 * One process: s1 allocates 3 blocks (1 leaked), s2 makes 4 temporaries,
 * s3 holds the peak (and is freed right away: a temporary too).
 */
static struct sla_state *one_log(uint64_t s[4])
{
	struct logbuf b;
	struct sla_state *st;

	start_log(&b, s, 3);
	lb_time(&b, 100);
	for (uint64_t i = 0; i < 3; i++)
		lb_alloc(&b, 0x1000 + i * 0x100, 10, s[1]);
	lb_free_rec(&b, 0x1000);
	lb_free_rec(&b, 0x1100);
	for (int i = 0; i < 4; i++) {
		lb_alloc(&b, 0x9000, 7, s[2]);
		lb_free_rec(&b, 0x9000);
	}
	lb_time(&b, 200);
	lb_alloc(&b, 0x20000, 5000, s[3]); /* the peak: 10 + 5000 */
	lb_time(&b, 300);
	lb_free_rec(&b, 0x20000);
	lb_end(&b, 0);
	st = replay_buf(&b);
	lb_free(&b);
	return st;
}

int main(void)
{
	uint64_t s[4];
	struct sla_state *a = one_log(s), *b = one_log(s);
	struct sla_stackset *set = sla_stackset_new();
	struct sla_results res;
	uint32_t g1, g2, g3;

	sla_results_init(&res, "end");
	sla_tracker_collect(&res, a, set);
	sla_tracker_collect(&res, b, set);
	sla_results_finish(&res);
	g1 = sla_stackset_intern(set, a, (uint32_t)s[1]);
	g2 = sla_stackset_intern(set, a, (uint32_t)s[2]);
	g3 = sla_stackset_intern(set, a, (uint32_t)s[3]);

	/* live at exit: one block of s1 per log; none leaked (nothing classified them) */
	CHECK_EQ_U(res.exit_blocks, 2);
	CHECK_EQ_U(res.exit_bytes, 20);
	CHECK_EQ_U(res.leak_blocks, 0);
	CHECK(res.nleaks == 1 && res.leaks[0].gid == g1 && res.leaks[0].blocks == 2);
	/* peak: each log's 5010 bytes, held by s3 (5000) and s1 (10) */
	CHECK_EQ_U(res.peak_bytes, 2 * 5010);
	CHECK_EQ_U(res.peak_blocks, 4);
	CHECK(res.peak_time_s > 1.9e-7 && res.peak_time_s < 2.1e-7);
	CHECK(res.npeak == 2 && res.peak[0].gid == g3 && res.peak[0].bytes == 10000);
	CHECK(res.peak[1].gid == g1 && res.peak[1].bytes == 20 && res.peak[1].blocks == 2);
	/* hot spots by allocations: s2 (8), s1 (6), s3 (2) */
	CHECK_EQ_U(res.nhotspots, 3);
	CHECK(res.hotspots[0].gid == g2 && res.hotspots[0].allocations == 8);
	CHECK_EQ_U(res.hotspots[0].temporaries, 8);
	CHECK(res.hotspots[1].gid == g1 && res.hotspots[1].bytes == 60);
	/* s3's block is freed with no allocation in between: temporary too */
	CHECK(res.hotspots[2].gid == g3 && res.hotspots[2].temporaries == 2);
	CHECK(res.ntemporary == 2 && res.temporary[0].gid == g2 && res.temporary[1].gid == g3);
	/* totals */
	CHECK_EQ_U(res.allocations, 16);
	CHECK_EQ_U(res.frees, 14);
	CHECK_EQ_U(res.bytes_allocated, 2 * (30 + 28 + 5000));
	CHECK_EQ_U(res.temporaries, 10);
	sla_results_free(&res);
	sla_stackset_free(set);
	sla_state_free(a);
	sla_state_free(b);
	return check_result();
}
