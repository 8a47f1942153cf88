/* analyzer/tests/test_series.c - the heap over time stays bounded and keeps its highs. */
#include <stdbool.h>

#include "check.h"
#include "series.h"

/* Points closer than the spacing are skipped; the highest live heap between points is kept. */
static void test_spacing_and_highs(void)
{
	struct sla_series *s = sla_series_new();

	sla_series_live(s, 100);
	sla_series_sample(s, 0, 100, 0, false);
	sla_series_live(s, 900); /* a spike between two points */
	sla_series_live(s, 200);
	sla_series_sample(s, 5000000, 200, 7, false);
	CHECK_EQ_U(s->n, 2);
	CHECK_EQ_U(s->pts[1].live, 900);
	CHECK_EQ_U(s->pts[1].retained, 7);
	sla_series_sample(s, 5000001, 200, 7, true); /* forced: a snapshot */
	CHECK_EQ_U(s->n, 3);
	CHECK_EQ_U(s->pts[2].live, 200); /* the spike belongs to the previous interval */
	sla_series_snapshot(s, 5000001, "audit!", 5);
	CHECK_EQ_U(s->nsnaps, 1);
	CHECK(s->snaps[0].label[4] == 't' && s->snaps[0].label[5] == 0);
	sla_series_free(s);
}

/* A long run: never more than SLA_SERIES_MAX points, the highest point and the last time kept. */
static void test_bounded(void)
{
	struct sla_series *s = sla_series_new();
	uint64_t t = 0;

	for (uint64_t i = 0; i < 10 * SLA_SERIES_MAX; i++) {
		uint64_t live = i == 12345 ? 1000000 : i % 100;

		t += 1000000;
		sla_series_live(s, live);
		sla_series_sample(s, t, live, live / 2, false);
		CHECK(s->n <= SLA_SERIES_MAX);
	}
	CHECK(s->n > SLA_SERIES_MAX / 4);
	uint64_t hi = 0, rhi = 0;
	for (size_t i = 0; i < s->n; i++) {
		hi = s->pts[i].live > hi ? s->pts[i].live : hi;
		rhi = s->pts[i].retained > rhi ? s->pts[i].retained : rhi;
		CHECK(i == 0 || s->pts[i].t > s->pts[i - 1].t);
	}
	CHECK_EQ_U(hi, 1000000);
	CHECK_EQ_U(rhi, 500000);
	sla_series_free(s);
}

int main(void)
{
	test_spacing_and_highs();
	test_bounded();
	return check_result();
}
