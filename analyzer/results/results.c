/* analyzer/results/results.c - accumulating and sorting what an analysis found. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"
#include "xalloc.h"
#include "units.h"

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
	li->cut_seq = UINT64_MAX;
	return li;
}

/* The accumulator of one group key (kind, alloc, view, holder). */
static struct sla_finding *finding(struct sla_results *res, uint32_t kind, uint32_t alloc_gid,
				   uint32_t view_gid, uint32_t holder_gid)
{
	uint32_t key[4] = { kind, alloc_gid, view_gid, holder_gid };
	struct sla_finding *f;

	HASH_FIND(hh, res->acc_findings, key, sizeof(key), f);
	if (!f) {
		f = sla_xcalloc(1, sizeof(*f));
		f->kind = kind;
		f->alloc_gid = alloc_gid;
		f->view_gid = view_gid;
		f->holder_gid = holder_gid;
		f->min_size = f->min_used = f->owner_min_size = f->ref_min = UINT64_MAX;
		f->holder_tail = true;
		/* kind, alloc_gid, view_gid and holder_gid are adjacent: the key */
		HASH_ADD(hh, res->acc_findings, kind, sizeof(key), f);
	}
	return f;
}

struct sla_finding *sla_results_finding(struct sla_results *res, uint32_t alloc_gid,
					uint32_t view_gid)
{
	return finding(res, SLA_FINDING_VIEW_PINNED, alloc_gid, view_gid, 0);
}

struct sla_finding *sla_results_dead_finding(struct sla_results *res, uint32_t alloc_gid,
					     uint32_t view_gid, uint32_t holder_gid)
{
	return finding(res, SLA_FINDING_DEAD_REGION, alloc_gid, view_gid, holder_gid);
}

struct sla_finding *sla_results_owner_finding(struct sla_results *res, uint32_t alloc_gid,
					      uint32_t owner_gid)
{
	return finding(res, SLA_FINDING_OWNER, alloc_gid, 0, owner_gid);
}

void sla_finding_add_block(struct sla_results *res, struct sla_finding *f,
			   enum sla_view_kind kind, uint64_t size, uint64_t used, uint64_t retained,
			   double pinned_s)
{
	sla_assert(used <= size && retained <= size);
	if (!f->blocks)
		f->view_kind = kind;
	f->blocks++;
	f->block_bytes = sla_sat_add(f->block_bytes, size);
	f->used_bytes = sla_sat_add(f->used_bytes, used);
	f->retained_bytes = sla_sat_add(f->retained_bytes, retained);
	if (size < f->min_size)
		f->min_size = size;
	if (size > f->max_size)
		f->max_size = size;
	if (used < f->min_used)
		f->min_used = used;
	if (used > f->max_used)
		f->max_used = used;
	if (pinned_s > f->pinned_max_s)
		f->pinned_max_s = pinned_s;
	res->retained_bytes = sla_sat_add(res->retained_bytes, retained);
}

const char *sla_dr_status_text(enum sla_dr_status s)
{
	switch (s) {
	case SLA_DR_COMPLETE:
		return "complete";
	case SLA_DR_PARTIAL:
		return "partial: the pointer scan stopped at its size cap (the shim's scan option), so pointers past it were not seen";
	case SLA_DR_UNREAD:
		return "partial: the pointer scan could not read all of the process's memory (the system refused the reads, e.g. a seccomp filter), so pointers there were not seen";
	case SLA_DR_OLD_FORMAT:
		return "unavailable: log format 1.0 has no pointer scans (written by a shim older than 1.1)";
	case SLA_DR_NO_SCAN:
		return "unavailable: the log has no pointer scan at the evaluation point (the shim's scan was disabled)";
	case SLA_DR_TRUNCATED:
		return "unavailable: the log has no END, so no final pointer scan (the process was killed, crashed or called _exit); a snapshot's scan may be there (--at LABEL)";
	case SLA_DR_AT_PEAK:
		return "unavailable: not available at peak (pointer scans are taken at the end and at snapshots)";
	case SLA_DR_NOT_EVALUATED:
		return "unavailable: the evaluation point is not in the log";
	}
	return "unavailable";
}

/*
 * The analysis over all logs: complete when every evaluated log's was,
 * unavailable (with the first log's reason) when none ran, else partial.
 */
static void dead_region_overall(struct sla_results *res)
{
	size_t evaluated = 0, ran = 0, capped = 0;
	const struct sla_log_info *first_missing = NULL, *partial = NULL;

	for (size_t i = 0; i < res->nlogs; i++) {
		const struct sla_log_info *l = &res->logs[i];

		if (!l->at_found)
			continue;
		evaluated++;
		if (sla_dr_ran(l->dead_region))
			ran++;
		else if (!first_missing)
			first_missing = l;
		if (sla_dr_ran(l->dead_region) && l->dead_region != SLA_DR_COMPLETE) {
			capped++;
			partial = l;
		}
	}
	if (evaluated && !ran) {
		res->dead_region = first_missing->dead_region;
		res->dead_region_text = sla_dr_status_text(res->dead_region);
	} else if (ran == evaluated && !capped) {
		res->dead_region = SLA_DR_COMPLETE;
		res->dead_region_text = sla_dr_status_text(SLA_DR_COMPLETE);
	} else if (ran == evaluated && evaluated == 1) {
		res->dead_region = partial->dead_region;
		res->dead_region_text = sla_dr_status_text(partial->dead_region);
	} else {
		res->dead_region = SLA_DR_PARTIAL;
		snprintf(res->dead_region_buf, sizeof(res->dead_region_buf),
			 "partial: %zu of %zu logs have a complete pointer scan at the evaluation point (see each log's dead_region)",
			 ran - capped, evaluated);
		res->dead_region_text = res->dead_region_buf;
	}
}

struct sla_stack_acc *sla_results_acc(struct sla_results *res, uint32_t gid)
{
	if (gid >= res->acc_cap) {
		size_t old = res->acc_cap;

		sla_xgrow(&res->acc, &res->acc_cap, (size_t)gid + 1, sizeof(*res->acc));
		memset(res->acc + old, 0, (res->acc_cap - old) * sizeof(*res->acc));
	}
	return &res->acc[gid];
}

/* Orders: biggest first, then by stack id so the output is deterministic. */
static int cmp_finding(const void *a, const void *b)
{
	const struct sla_finding *x = a, *y = b;

	if (x->retained_bytes != y->retained_bytes)
		return x->retained_bytes > y->retained_bytes ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->alloc_gid != y->alloc_gid)
		return x->alloc_gid < y->alloc_gid ? -1 : 1;
	if (x->view_gid != y->view_gid)
		return x->view_gid < y->view_gid ? -1 : 1;
	return x->holder_gid < y->holder_gid ? -1 : x->holder_gid > y->holder_gid;
}

static int cmp_group(const void *a, const void *b)
{
	const struct sla_group *x = a, *y = b;

	if (x->leaked_bytes != y->leaked_bytes)
		return x->leaked_bytes > y->leaked_bytes ? -1 : 1;
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

/*
 * Findings leave their hash for an array; the per-stack sums become the
 * leak, peak, hot-spot and temporary lists (sized exactly: a large program
 * has hundreds of thousands of stacks). Everything sorted, biggest first.
 */
void sla_results_finish(struct sla_results *res)
{
	struct sla_finding *f, *tmp;
	size_t i = 0;

	res->findings = sla_xcalloc(HASH_COUNT(res->acc_findings) + 1, sizeof(*res->findings));
	HASH_ITER(hh, res->acc_findings, f, tmp) {
		HASH_DELETE(hh, res->acc_findings, f);
		/* a dead_region group smaller than the minimum block size is noise */
		if (f->kind == SLA_FINDING_DEAD_REGION && f->block_bytes < res->dead_region_min_bytes) {
			res->retained_bytes = sla_sat_sub(res->retained_bytes, f->retained_bytes);
			free(f);
			continue;
		}
		res->nowner += f->kind == SLA_FINDING_OWNER;
		res->findings[i] = *f;
		memset(&res->findings[i++].hh, 0, sizeof(UT_hash_handle));
		free(f);
	}
	dead_region_overall(res);
	res->leaks_classified = res->nlogs && res->classified_logs == res->nlogs;
	res->leak_bytes = sla_sat_add(sla_sat_add(res->direct_bytes, res->indirect_bytes),
				      res->unclassified_bytes);
	res->leak_blocks = res->direct_blocks + res->indirect_blocks + res->unclassified_blocks;
	res->nfindings = i;
	/* count first: a large program has hundreds of thousands of stacks */
	for (uint32_t gid = 0; gid < res->acc_cap; gid++) {
		const struct sla_stack_acc *a = &res->acc[gid];

		res->nleaks += a->exit_blocks != 0;
		res->nlive += a->live_blocks != 0;
		res->npeak += a->peak_blocks != 0;
		res->nhotspots += a->allocations != 0;
		res->ntemporary += a->temporaries != 0;
	}
	res->leaks = sla_xcalloc(res->nleaks + 1, sizeof(*res->leaks));
	res->live = sla_xcalloc(res->nlive + 1, sizeof(*res->live));
	res->peak = sla_xcalloc(res->npeak + 1, sizeof(*res->peak));
	res->hotspots = sla_xcalloc(res->nhotspots + 1, sizeof(*res->hotspots));
	res->temporary = sla_xcalloc(res->ntemporary + 1, sizeof(*res->temporary));
	res->nleaks = res->nlive = res->npeak = res->nhotspots = res->ntemporary = 0;
	for (uint32_t gid = 0; gid < res->acc_cap; gid++) {
		const struct sla_stack_acc *a = &res->acc[gid];

		if (a->exit_blocks)
			res->leaks[res->nleaks++] = (struct sla_group){
				gid, a->exit_bytes, a->exit_blocks, a->direct_bytes, a->direct_blocks,
				a->indirect_bytes, a->indirect_blocks,
				sla_sat_add(sla_sat_add(a->direct_bytes, a->indirect_bytes),
					    a->unclassified_bytes),
				a->direct_blocks + a->indirect_blocks + a->unclassified_blocks,
				a->exact_leaked_bytes, a->exact_leaked_blocks, a->exact_exit_bytes,
				a->leaked_var,
			};
		if (a->live_blocks)
			res->live[res->nlive++] = (struct sla_group){
				.gid = gid, .bytes = a->live_bytes, .blocks = a->live_blocks
			};
		if (a->peak_blocks)
			res->peak[res->npeak++] = (struct sla_group){ .gid = gid, .bytes = a->peak_bytes,
								      .blocks = a->peak_blocks };
		if (a->allocations)
			res->hotspots[res->nhotspots++] =
				(struct sla_hotspot){ gid, a->allocations, a->bytes, a->temporaries };
		if (a->temporaries)
			res->temporary[res->ntemporary++] =
				(struct sla_hotspot){ gid, a->allocations, a->bytes, a->temporaries };
	}
	free(res->acc);
	res->acc = NULL;
	res->acc_cap = 0;
	qsort(res->findings, res->nfindings, sizeof(*res->findings), cmp_finding);
	qsort(res->leaks, res->nleaks, sizeof(*res->leaks), cmp_group);
	qsort(res->peak, res->npeak, sizeof(*res->peak), cmp_group);
	qsort(res->live, res->nlive, sizeof(*res->live), cmp_group);
	qsort(res->hotspots, res->nhotspots, sizeof(*res->hotspots), cmp_hotspot);
	qsort(res->temporary, res->ntemporary, sizeof(*res->temporary), cmp_temporary);
}

void sla_results_partial(const struct sla_results *res, size_t *truncated, size_t *corrupt)
{
	*truncated = *corrupt = 0;
	for (size_t i = 0; i < res->nlogs; i++) {
		*corrupt += res->logs[i].corrupt;
		*truncated += res->logs[i].truncated && !res->logs[i].corrupt;
	}
}

void sla_results_free(struct sla_results *res)
{
	free(res->logs);
	free(res->findings);
	free(res->leaks);
	free(res->live);
	free(res->peak);
	free(res->hotspots);
	free(res->temporary);
	free(res->acc);
	memset(res, 0, sizeof(*res));
}

uint64_t sla_results_gated_leak(const struct sla_results *res)
{
	return res->sampled ? res->exact_leak_bytes : res->leak_bytes;
}

uint64_t sla_results_gated_referenced(const struct sla_results *res)
{
	return res->sampled ? sla_sat_sub(res->exact_exit_bytes, res->exact_leak_bytes)
			    : sla_sat_sub(res->exit_bytes, res->leak_bytes);
}
