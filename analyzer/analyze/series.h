/*
 * analyzer/analyze/series.h - one log's heap over the program's time, for charts.
 *
 * Filled during the analysis' first pass (analysis.c) when asked for: a
 * point at each sample point of the retention total (the same points as
 * --at peak's, see analysis.h), holding the highest live heap since the
 * previous point and the highest total of retained bytes (of the blocks that
 * are findings) sampled since. Snapshots are listed with their labels. The peak of the live
 * heap is exact (the state's own peak), not a sample.
 *
 * Bounded: past SLA_SERIES_MAX points, neighbouring points are merged two by
 * two (the higher of each figure is kept) and the spacing of new points
 * doubles, so a long run costs the same memory as a short one.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLA_SERIES_MAX 4096

struct sla_series_point {
	double t;	   /* seconds of the program's clock */
	uint64_t live;	   /* highest live heap since the previous point */
	uint64_t retained; /* highest retained by findings, sampled since the previous point */
};

struct sla_series_mark {
	double t;
	char *label;
};

struct sla_series {
	struct sla_series_point *pts;
	size_t n, cap;
	struct sla_series_mark *snaps;
	size_t nsnaps, snaps_cap;
	double peak_t;	     /* the live heap's peak */
	uint64_t peak_bytes;
	/* private: sampling */
	uint64_t live_hi;    /* highest live heap since the last point */
	uint64_t retained_hi; /* highest retained sample since the last point */
	uint64_t spacing_ns; /* minimum distance between points (grows when merged) */
	uint64_t last_ns;
};

struct sla_series *sla_series_new(void);
void sla_series_free(struct sla_series *s);

/* Notes the live heap after a record (cheap: one comparison). */
static inline void sla_series_live(struct sla_series *s, uint64_t live)
{
	if (live > s->live_hi)
		s->live_hi = live;
}

/*
 * A point at `now_ns` unless one was added less than the spacing ago
 * (`force`: always); `live` is the live heap now.
 */
void sla_series_sample(struct sla_series *s, uint64_t now_ns, uint64_t live, uint64_t retained,
		       bool force);
void sla_series_snapshot(struct sla_series *s, uint64_t now_ns, const char *label, size_t len);
