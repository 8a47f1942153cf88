/* analyzer/analyze/analysis.c - runs the passes over a set of logs. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "deadregion.h"
#include "heapgraph.h"
#include "owner.h"
#include "reader.h"
#include "replay.h"
#include "retention.h"
#include "sampling.h"
#include "series.h"
#include "trace.h"
#include "tracker.h"
#include "xalloc.h"

static struct sla_state *keep_state(struct sla_analysis *an, const char *path)
{
	struct sla_state *st = sla_state_new(path);

	an->states = sla_xrealloc(an->states, (an->nstates + 1) * sizeof(*an->states));
	an->states[an->nstates++] = st;
	return st;
}

static bool label_is(const struct sla_record *rec, const char *label)
{
	size_t n = strlen(label);

	return rec->snapshot.label.len == n && !memcmp(rec->snapshot.label.ptr, label, n);
}

/*
 * Pass 1: the whole log. Sets *stop_at to the number of records after which
 * retention is evaluated (UINT64_MAX: at the end). Returns 0 or the reader's
 * error (left in r).
 */
static int pass1(struct sla_state *st, struct sla_reader *r, const struct sla_analysis_opts *o,
		 struct sla_series *series, uint64_t *stop_at, bool *found)
{
	struct sla_record rec;
	uint64_t best = 0, last_sample = 0, last_work = 0, last_rec = 0;
	bool sampling = o->at == SLA_AT_PEAK || series;
	int ret;

	*stop_at = UINT64_MAX;
	*found = o->at != SLA_AT_LABEL;
	st->track_dirty = sampling;
	st->collect_scans = true; /* the end's scan classifies the leaks, whatever --at says */
	while ((ret = sla_reader_next(r, &rec)) > 0) {
		/*
		 * Sample points, within a work budget: re-evaluating may cost up to
		 * SLA_PEAK_WORK_PER_RECORD view visits per record since the last
		 * sample, so a hostile log (a block with a million views touched
		 * between every 1 ms tick) stays linear instead of quadratic.
		 */
		if (sampling &&
		    ((rec.kind == SLF_REC_TIME && rec.time_ns - last_sample >= SLA_PEAK_SAMPLE_NS) ||
		     rec.kind == SLF_REC_SNAPSHOT || rec.kind == SLF_REC_END) &&
		    (rec.kind == SLF_REC_END ||
		     (st->records - last_rec) * SLA_PEAK_WORK_PER_RECORD >= last_work)) {
			uint64_t total = sla_retention_flush(st, &o->th, &last_work);

			if (total > best && o->at == SLA_AT_PEAK) {
				best = total;
				*stop_at = st->records;
			}
			if (series)
				sla_series_sample(series, st->time_ns, st->live_bytes, total,
						  rec.kind != SLF_REC_TIME);
			if (rec.kind == SLF_REC_TIME)
				last_sample = rec.time_ns; /* 2.x: never decreases */
			last_rec = st->records;
		}
		sla_replay_record(st, &rec);
		if (series) {
			sla_series_live(series, st->live_bytes);
			if (rec.kind == SLF_REC_SNAPSHOT)
				sla_series_snapshot(series, st->time_ns, rec.snapshot.label.ptr,
						    rec.snapshot.label.len);
		}
		if (o->at == SLA_AT_LABEL && !*found && rec.kind == SLF_REC_SNAPSHOT &&
		    label_is(&rec, o->label)) {
			*found = true;
			*stop_at = st->records;
		}
	}
	if (ret == 0 && r->truncated)
		st->truncated = true;
	if (sampling) {
		uint64_t total = sla_retention_flush(st, &o->th, NULL);

		if (o->at == SLA_AT_PEAK && total > best)
			*stop_at = UINT64_MAX; /* the end is the peak */
		if (series) {
			sla_series_sample(series, st->time_ns, st->live_bytes, total, true);
			series->peak_t = (double)st->peak_time_ns / 1e9;
			series->peak_bytes = st->peak_bytes;
		}
	}
	return ret;
}

/*
 * Whether the evaluation state has the scan of its evaluation point: the
 * one right before END (at the end), the one right after the SNAPSHOT (at
 * a label; stop_at is the number of records up to it); none at the peak.
 */
static enum sla_dr_status dead_region_status(const struct sla_analysis_opts *o,
					     const struct sla_log_info *li,
					     const struct sla_state *eval, uint64_t stop_at)
{
	bool have;

	if (o->at == SLA_AT_PEAK)
		return SLA_DR_AT_PEAK;
	if (li->major == 1 && li->minor == 0)
		return SLA_DR_OLD_FORMAT;
	if (o->at == SLA_AT_END)
		have = eval->scan_at_end;
	else
		have = eval->scan.complete && eval->scan.end_at > stop_at;
	if (!have)
		return o->at == SLA_AT_END && !eval->ended ? SLA_DR_TRUNCATED : SLA_DR_NO_SCAN;
	if (eval->scan.capped)
		return SLA_DR_PARTIAL;
	return eval->scan.unread ? SLA_DR_UNREAD : SLA_DR_COMPLETE;
}

/*
 * The analyses of a pointer scan, on one heap graph: the dead regions (and,
 * with `leaks`, the leaks' classes), then with `findings` the owners (they
 * need the dead-region pass's kept blocks, counted there already).
 */
static void scan_analyses(struct sla_analysis *an, const struct sla_thresholds *th,
			  struct sla_state *st, bool findings, bool leaks)
{
	struct sla_heapgraph *g = st->graph;

	/* none: more blocks or edges than 32-bit ids number, not a heap any scan could cover */
	if (!g || !g->complete)
		return;
	sla_state_drop_index(st); /* nothing looks blocks up by address from here on */
	sla_deadregion_collect(&an->res, g, st, an->set, th, st->time_ns, findings, leaks);
	if (findings)
		sla_owner_collect(&an->res, g, st, an->set, th);
}

/*
 * A sampled log's findings are made of exactly recorded blocks only (at
 * least exact_bytes): the smaller ones, and their views, are a sample.
 */
static struct sla_thresholds log_thresholds(const struct sla_analysis_opts *o,
					    const struct sla_state *st)
{
	struct sla_thresholds th = o->th;

	if (sla_sampled(st) && th.min_block_size < st->exact_bytes)
		th.min_block_size = st->exact_bytes;
	return th;
}

/* One log: pass 1, tracker figures, then retention at the evaluation point. */
static int analyse_log(struct sla_analysis *an, const struct sla_analysis_opts *o,
		       const char *path, char *err, size_t errlen)
{
	struct sla_reader r;
	struct sla_state *st = keep_state(an, path), *eval = st;
	struct sla_log_info *li = sla_results_add_log(&an->res);
	uint64_t stop_at = UINT64_MAX;
	struct sla_thresholds th;
	bool found = false;
	int ret;

	ret = sla_reader_open(&r, path);
	if (o->series)
		li->series = sla_series_new();
	if (ret == 0)
		ret = pass1(st, &r, o, li->series, &stop_at, &found);
	if (ret < 0 && !(o->lenient && r.err_offset >= sizeof(struct slf_file_header) &&
			 ret == -EBADMSG)) {
		sla_reader_describe(&r, ret, err, errlen);
		sla_reader_close(&r);
		return ret;
	}
	li->path = st->path;
	li->pid = st->pid;
	li->ppid = st->ppid;
	li->exe = st->exe;
	li->interposer = st->interposer;
	li->go = st->process_flags & SLF_PROCESS_GO;
	li->sample_bytes = st->sample_bytes;
	li->exact_bytes = st->exact_bytes;
	li->late_start = st->process_flags & SLF_PROCESS_LATE_START;
	li->before_start = st->before_start;
	th = log_thresholds(o, st);
	li->ended = st->ended;
	li->truncated = !st->ended;
	li->stacks_lost = r.stacks_lost;
	li->cut_seq = r.cut_seq;
	li->cut_records = r.cut_records;
	if (ret < 0) {
		li->corrupt = true;
		li->corrupt_offset = r.err_offset;
		snprintf(li->corrupt_msg, sizeof(li->corrupt_msg), "%s", r.err_msg);
	}
	li->records = r.records;
	li->unknown_records = st->unknown_records + r.unknown_skipped;
	li->major = r.major;
	li->minor = r.minor;
	li->dropped = st->dropped;
	memcpy(li->anomalies, st->anomalies, sizeof(li->anomalies));
	li->at_found = found;
	li->duration_s = (double)st->time_ns / 1e9;
	sla_reader_close(&r);

	sla_tracker_collect(&an->res, st, an->set);
	li->dead_region = SLA_DR_NOT_EVALUATED;
	if (o->at != SLA_AT_END) { /* the leaks are the end's, from the end's scan */
		if (st->scan_at_end && !st->scan.capped && !(li->major == 1 && li->minor == 0))
			scan_analyses(an, &th, st, false, true);
		else
			sla_tracker_unclassified(&an->res, st, an->set);
	}
	if (!found)
		return 0;
	if (stop_at != UINT64_MAX) {
		/* pass 1 traced these records' events already: --trace-block says them once */
		uint64_t traced = sla_trace_addr;

		eval = keep_state(an, path);
		eval->collect_scans = o->at == SLA_AT_LABEL;
		ret = sla_reader_open(&r, path);
		sla_trace_addr = 0;
		if (ret == 0)
			ret = sla_replay_run(eval, &r, stop_at);
		/* at a snapshot: the scan written right after it (peak: none) */
		if (ret == 0 && o->at == SLA_AT_LABEL)
			ret = sla_replay_scan(eval, &r);
		sla_trace_addr = traced;
		if (traced && ret == 0)
			sla_trace(traced, "evaluated after record %" PRIu64 " (--at)", stop_at);
		if (ret < 0 && !(o->lenient && li->corrupt)) { /* the file changed under us */
			sla_reader_describe(&r, ret, err, errlen);
			sla_reader_close(&r);
			return ret;
		}
		sla_reader_close(&r);
	}
	li->eval_time_s = (double)eval->time_ns / 1e9;
	sla_retention_collect(&an->res, eval, an->set, &th, eval->time_ns);
	li->dead_region = dead_region_status(o, li, eval, stop_at);
	li->scan_capped = sla_dr_ran(li->dead_region) && li->dead_region != SLA_DR_COMPLETE;
	/* at the end: the leaks are classified from the end's scan, if it is whole */
	if (o->at == SLA_AT_END && li->dead_region != SLA_DR_COMPLETE)
		sla_tracker_unclassified(&an->res, st, an->set);
	if (!sla_dr_ran(li->dead_region))
		return 0;
	scan_analyses(an, &th, eval, true,
		      o->at == SLA_AT_END && li->dead_region == SLA_DR_COMPLETE);
	return 0;
}

int sla_analysis_run(struct sla_analysis *an, const struct sla_analysis_opts *o,
		     char *const *paths, size_t npaths, char *err, size_t errlen)
{
	bool any_found = false;

	memset(an, 0, sizeof(*an));
	sla_results_init(&an->res, o->at == SLA_AT_END ? "end" : o->at == SLA_AT_PEAK ? "peak" : o->label);
	an->res.dead_region_min_bytes = o->th.min_block_size;
	an->set = sla_stackset_new();
	for (size_t i = 0; i < npaths; i++) {
		int ret = analyse_log(an, o, paths[i], err, errlen);

		if (ret < 0)
			return ret;
		any_found |= an->res.logs[an->res.nlogs - 1].at_found;
	}
	sla_results_finish(&an->res);
	if (!any_found && npaths) {
		snprintf(err, errlen, "no snapshot labelled '%s' in %s", o->label,
			 npaths == 1 ? paths[0] : "any of the logs");
		return -ENOENT;
	}
	return 0;
}

/* Frees the results, their series, the stacks and every state they point into. */
void sla_analysis_free(struct sla_analysis *an)
{
	for (size_t i = 0; i < an->res.nlogs; i++)
		sla_series_free(an->res.logs[i].series);
	sla_results_free(&an->res);
	sla_stackset_free(an->set);
	for (size_t i = 0; i < an->nstates; i++)
		sla_state_free(an->states[i]);
	free(an->states);
	memset(an, 0, sizeof(*an));
}
