/* analyzer/analyze/series.c - one log's heap over the program's time, for charts. */
#include <stdlib.h>

#include "series.h"
#include "xalloc.h"

struct sla_series *sla_series_new(void)
{
	return sla_xcalloc(1, sizeof(struct sla_series));
}

void sla_series_free(struct sla_series *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nsnaps; i++)
		free(s->snaps[i].label);
	free(s->snaps);
	free(s->pts);
	free(s);
}

/* Halves the points: each pair becomes one at the later time with the higher figures. */
static void merge_pairs(struct sla_series *s)
{
	size_t j = 0;

	for (size_t i = 0; i < s->n; i += 2, j++) {
		struct sla_series_point p = s->pts[i];

		if (i + 1 < s->n) {
			const struct sla_series_point *q = &s->pts[i + 1];

			p.t = q->t;
			p.live = q->live > p.live ? q->live : p.live;
			p.retained = q->retained > p.retained ? q->retained : p.retained;
		}
		s->pts[j] = p;
	}
	s->n = j;
	s->spacing_ns = s->spacing_ns ? s->spacing_ns * 2 : 1000000;
}

void sla_series_sample(struct sla_series *s, uint64_t now_ns, uint64_t live, uint64_t retained,
		       bool force)
{
	if (retained > s->retained_hi)
		s->retained_hi = retained;
	if (!force && s->n && now_ns - s->last_ns < s->spacing_ns)
		return;
	if (s->n == SLA_SERIES_MAX)
		merge_pairs(s);
	sla_xgrow(&s->pts, &s->cap, s->n + 1, sizeof(*s->pts));
	s->pts[s->n++] =
		(struct sla_series_point){ (double)now_ns / 1e9, s->live_hi, s->retained_hi };
	s->last_ns = now_ns;
	s->live_hi = live;
	s->retained_hi = retained;
}

void sla_series_snapshot(struct sla_series *s, uint64_t now_ns, const char *label, size_t len)
{
	sla_xgrow(&s->snaps, &s->snaps_cap, s->nsnaps + 1, sizeof(*s->snaps));
	s->snaps[s->nsnaps++] =
		(struct sla_series_mark){ (double)now_ns / 1e9, sla_xstrndup(label, len) };
}
