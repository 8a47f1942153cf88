/* analyzer/results.c - accumulating and sorting what an analysis found. */
#include <stdlib.h>
#include <string.h>

#include "results.h"
#include "xalloc.h"

void sla_results_init(struct sla_results *res, const char *at)
{
	memset(res, 0, sizeof(*res));
	res->at = at;
}

struct sla_log_info *sla_results_add_log(struct sla_results *res)
{
	struct sla_log_info *li;

	res->logs = sla_xrealloc(res->logs, (res->nlogs + 1) * sizeof(*res->logs));
	li = &res->logs[res->nlogs++];
	memset(li, 0, sizeof(*li));
	return li;
}

struct sla_finding *sla_results_finding(struct sla_results *res, uint32_t alloc_gid,
					uint32_t view_gid)
{
	uint32_t key[2] = { alloc_gid, view_gid };
	struct sla_finding *f;

	HASH_FIND(hh, res->acc_findings, key, sizeof(key), f);
	if (!f) {
		f = sla_xcalloc(1, sizeof(*f));
		f->alloc_gid = alloc_gid;
		f->view_gid = view_gid;
		f->min_size = f->min_used = UINT64_MAX;
		/* alloc_gid and view_gid are adjacent: the key */
		HASH_ADD(hh, res->acc_findings, alloc_gid, sizeof(key), f);
	}
	return f;
}

void sla_results_add_group(struct sla_group **acc, uint32_t gid, uint64_t bytes, uint64_t blocks)
{
	struct sla_group *g;

	HASH_FIND(hh, *acc, &gid, sizeof(gid), g);
	if (!g) {
		g = sla_xcalloc(1, sizeof(*g));
		g->gid = gid;
		HASH_ADD(hh, *acc, gid, sizeof(g->gid), g);
	}
	g->bytes += bytes;
	g->blocks += blocks;
}

struct sla_hotspot *sla_results_hotspot(struct sla_results *res, uint32_t gid)
{
	struct sla_hotspot *h;

	HASH_FIND(hh, res->acc_hot, &gid, sizeof(gid), h);
	if (!h) {
		h = sla_xcalloc(1, sizeof(*h));
		h->gid = gid;
		HASH_ADD(hh, res->acc_hot, gid, sizeof(h->gid), h);
	}
	return h;
}

/* Orders: biggest first, then by stack id so the output is deterministic. */
static int cmp_finding(const void *a, const void *b)
{
	const struct sla_finding *x = a, *y = b;

	if (x->retained_bytes != y->retained_bytes)
		return x->retained_bytes > y->retained_bytes ? -1 : 1;
	if (x->alloc_gid != y->alloc_gid)
		return x->alloc_gid < y->alloc_gid ? -1 : 1;
	return x->view_gid < y->view_gid ? -1 : x->view_gid > y->view_gid;
}

static int cmp_group(const void *a, const void *b)
{
	const struct sla_group *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->gid < y->gid ? -1 : x->gid > y->gid;
}

static int cmp_temporary(const void *a, const void *b)
{
	const struct sla_hotspot *x = a, *y = b;

	if (x->temporaries != y->temporaries)
		return x->temporaries > y->temporaries ? -1 : 1;
	return x->gid < y->gid ? -1 : x->gid > y->gid;
}

static int cmp_hotspot(const void *a, const void *b)
{
	const struct sla_hotspot *x = a, *y = b;

	if (x->allocations != y->allocations)
		return x->allocations > y->allocations ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->gid < y->gid ? -1 : x->gid > y->gid;
}

/* Moves a uthash accumulator into a plain array (freeing the hash nodes). */
#define FLATTEN(acc, arr, n, type)                                             \
	do {                                                                   \
		type *e_, *t_;                                                 \
		size_t i_ = 0;                                                 \
		(n) = HASH_COUNT(acc);                                         \
		(arr) = sla_xcalloc((n) ? (n) : 1, sizeof(type));              \
		HASH_ITER(hh, acc, e_, t_) {                                   \
			HASH_DELETE(hh, acc, e_);                              \
			(arr)[i_++] = *e_;                                     \
			memset(&(arr)[i_ - 1].hh, 0, sizeof(UT_hash_handle));  \
			free(e_);                                              \
		}                                                              \
	} while (0)

void sla_results_finish(struct sla_results *res)
{
	FLATTEN(res->acc_findings, res->findings, res->nfindings, struct sla_finding);
	FLATTEN(res->acc_leaks, res->leaks, res->nleaks, struct sla_group);
	FLATTEN(res->acc_peak, res->peak, res->npeak, struct sla_group);
	FLATTEN(res->acc_hot, res->hotspots, res->nhotspots, struct sla_hotspot);
	qsort(res->findings, res->nfindings, sizeof(*res->findings), cmp_finding);
	qsort(res->leaks, res->nleaks, sizeof(*res->leaks), cmp_group);
	qsort(res->peak, res->npeak, sizeof(*res->peak), cmp_group);
	qsort(res->hotspots, res->nhotspots, sizeof(*res->hotspots), cmp_hotspot);
	res->temporary = sla_xcalloc(res->nhotspots ? res->nhotspots : 1, sizeof(*res->temporary));
	for (size_t i = 0; i < res->nhotspots; i++)
		if (res->hotspots[i].temporaries)
			res->temporary[res->ntemporary++] = res->hotspots[i];
	qsort(res->temporary, res->ntemporary, sizeof(*res->temporary), cmp_temporary);
}

void sla_results_free(struct sla_results *res)
{
	free(res->logs);
	free(res->findings);
	free(res->leaks);
	free(res->peak);
	free(res->hotspots);
	free(res->temporary);
	memset(res, 0, sizeof(*res));
}
