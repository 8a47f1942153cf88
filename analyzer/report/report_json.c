/* analyzer/report/report_json.c - the results as JSON (schema sliceleak-report/1). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "suppress.h"
#include "units.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;

	if (s[0] > 0xf4 || !len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong 3/4-byte forms, UTF-16 surrogates, beyond U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return len;
}

void sla_json_string(FILE *out, const char *str, size_t len, bool html)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		size_t n;

		if (html && (c == '<' || c == '>' || c == '&')) {
			fprintf(out, "\\u%04x", c);
		} else if (c == '"' || c == '\\') {
			fprintf(out, "\\%c", c);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\u%04x", c);
		} else if (c < 0x80) {
			fputc(c, out);
		} else if ((n = utf8_len(s + i, len - i))) {
			fwrite(s + i, 1, n, out);
			i += n - 1;
		} else {
			fputs("\\ufffd", out);
		}
	}
	fputc('"', out);
}

static void json_cstr(FILE *out, const char *s)
{
	if (s)
		sla_json_string(out, s, strlen(s), false);
	else
		fputs("null", out);
}

static void json_stack(FILE *out, struct sla_stackset *set, struct sla_symbolizer *sym,
		       uint32_t gid)
{
	const struct sla_frame *f;
	size_t n = sla_stackset_frames(set, gid, sym, &f);

	fputc('[', out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s{\"address\": \"0x%" PRIx64 "\", \"module\": ", i ? ", " : "",
			f[i].address);
		json_cstr(out, f[i].module);
		fprintf(out, ", \"offset\": \"0x%" PRIx64 "\", \"function\": ", f[i].offset);
		json_cstr(out, f[i].function);
		fputs(", \"file\": ", out);
		json_cstr(out, f[i].file);
		if (f[i].line)
			fprintf(out, ", \"line\": %u", f[i].line);
		else
			fputs(", \"line\": null", out);
		fprintf(out, ", \"inlined\": %s}", f[i].inlined ? "true" : "false");
	}
	fputc(']', out);
}

/*
 * `leaks`: leak groups with their leaked part, and with `classes` their
 * direct/indirect figures (only when known).
 */
static void json_groups(FILE *out, const struct sla_group *g, size_t n, size_t top,
			struct sla_stackset *set, struct sla_symbolizer *sym, bool leaks,
			bool classes)
{
	size_t shown = top && top < n ? top : n;

	fputs("\"groups\": [", out);
	for (size_t i = 0; i < shown; i++) {
		fprintf(out, "%s\n      {\"bytes\": %" PRIu64 ", \"blocks\": %" PRIu64 ", ",
			i ? "," : "", g[i].bytes, g[i].blocks);
		if (leaks)
			fprintf(out, "\"leaked_bytes\": %" PRIu64 ", \"leaked_blocks\": %" PRIu64 ", ",
				g[i].leaked_bytes, g[i].leaked_blocks);
		if (classes)
			fprintf(out, "\"direct_bytes\": %" PRIu64 ", \"direct_blocks\": %" PRIu64
				     ", \"indirect_bytes\": %" PRIu64 ", \"indirect_blocks\": %" PRIu64
				     ", ",
				g[i].direct_bytes, g[i].direct_blocks, g[i].indirect_bytes,
				g[i].indirect_blocks);
		fputs("\"stack\": ", out);
		json_stack(out, set, sym, g[i].gid);
		fputc('}', out);
	}
	fputs(shown ? "\n    ]" : "]", out);
}

/*
 * `"name": [...]` of allocation stacks with their counts, the first `top`
 * (0 = all). `temporaries_first`: the list sorted by temporaries leads with
 * that count.
 */
static void json_hotspots(FILE *out, const char *name, bool temporaries_first,
			  const struct sla_hotspot *h, size_t n, size_t top,
			  struct sla_stackset *set, struct sla_symbolizer *sym)
{
	size_t shown = top && top < n ? top : n;

	fprintf(out, "  \"%s\": [", name);
	for (size_t i = 0; i < shown; i++) {
		fprintf(out, "%s\n    {", i ? "," : "");
		if (temporaries_first)
			fprintf(out, "\"temporaries\": %" PRIu64 ", ", h[i].temporaries);
		fprintf(out, "\"allocations\": %" PRIu64 ", \"bytes\": %" PRIu64 ", ",
			h[i].allocations, h[i].bytes);
		if (!temporaries_first)
			fprintf(out, "\"temporaries\": %" PRIu64 ", ", h[i].temporaries);
		fputs("\"stack\": ", out);
		json_stack(out, set, sym, h[i].gid);
		fputc('}', out);
	}
	fputs(shown ? "\n  ],\n" : "],\n", out);
}

/* A dead_region finding: the kept blocks, their holders, three stacks. */
static void json_dead_finding(FILE *out, const struct sla_finding *f, struct sla_stackset *set,
			      struct sla_symbolizer *sym, bool first)
{
	fprintf(out, "%s\n    {\"kind\": \"dead_region\", \"view_kind\": \"%s\", \"blocks\": %" PRIu64
		     ", \"block_bytes\": %" PRIu64 ", \"used_bytes\": 0, \"retained_bytes\": %" PRIu64
		     ", \"holder_blocks\": %" PRIu64 ", \"holder_bytes\": %" PRIu64
		     ", \"holder_view_bytes\": %" PRIu64 ", \"holder_views\": %" PRIu64
		     ", \"holder_tail\": %s, \"pinned_seconds\": %.6f,\n     \"alloc_stack\": ",
		first ? "" : ",", f->view_kind == SLA_VIEW_SLICE ? "slice" : "annotation", f->blocks,
		f->block_bytes, f->retained_bytes, f->holder_blocks, f->holder_bytes,
		f->holder_used_bytes, f->holder_views, f->holder_tail ? "true" : "false",
		f->pinned_max_s);
	json_stack(out, set, sym, f->alloc_gid);
	fputs(",\n     \"holder_alloc_stack\": ", out);
	json_stack(out, set, sym, f->holder_gid);
	fputs(",\n     \"view_stack\": ", out);
	json_stack(out, set, sym, f->view_gid);
	fputc('}', out);
}

/* An owner finding: the owners, the blocks they keep alive, two stacks. */
static void json_owner_finding(FILE *out, const struct sla_finding *f, struct sla_stackset *set,
			       struct sla_symbolizer *sym, bool first)
{
	fprintf(out, "%s\n    {\"kind\": \"owner\", \"owner_blocks\": %" PRIu64
		     ", \"owner_bytes\": %" PRIu64 ", \"owner_min_size\": %" PRIu64
		     ", \"owner_max_size\": %" PRIu64 ", \"blocks\": %" PRIu64
		     ", \"block_bytes\": %" PRIu64 ", \"min_size\": %" PRIu64 ", \"max_size\": %" PRIu64
		     ", \"retained_blocks\": %" PRIu64 ", \"retained_bytes\": %" PRIu64 ", ",
		first ? "" : ",", f->holder_blocks, f->holder_bytes, f->owner_min_size,
		f->owner_max_size, f->blocks, f->block_bytes, f->min_size, f->max_size,
		f->retained_blocks, f->retained_bytes);
	if (f->ref_min <= f->ref_max)
		fprintf(out, "\"ref_offset_min\": %" PRIu64 ", \"ref_offset_max\": %" PRIu64 ",",
			f->ref_min, f->ref_max);
	else
		fputs("\"ref_offset_min\": null, \"ref_offset_max\": null,", out);
	fputs("\n     \"alloc_stack\": ", out);
	json_stack(out, set, sym, f->alloc_gid);
	fputs(",\n     \"owner_stack\": ", out);
	json_stack(out, set, sym, f->holder_gid);
	fputc('}', out);
}

/* The "logs" array: one object per log, anomalies only when non-zero. */
static void json_logs(FILE *out, const struct sla_results *res)
{
	fputs("  \"logs\": [", out);
	for (size_t i = 0; i < res->nlogs; i++) {
		const struct sla_log_info *l = &res->logs[i];
		bool first = true;

		fprintf(out, "%s\n    {\"path\": ", i ? "," : "");
		json_cstr(out, l->path);
		fprintf(out, ", \"pid\": %" PRIu64 ", \"ppid\": %" PRIu64 ", \"exe\": ", l->pid,
			l->ppid);
		json_cstr(out, l->exe);
		fprintf(out, ", \"format_version\": \"%u.%u\", \"truncated\": %s, \"corrupt\": %s"
			     ", \"records\": %" PRIu64 ", \"unknown_records\": %" PRIu64
			     ", \"dropped\": %" PRIu64 ", \"duration_seconds\": %.6f"
			     ", \"evaluated\": %s, \"eval_time_seconds\": %.6f, \"dead_region\": ",
			l->major, l->minor, l->truncated ? "true" : "false",
			l->corrupt ? "true" : "false", l->records, l->unknown_records, l->dropped,
			l->duration_s, l->at_found ? "true" : "false", l->eval_time_s);
		json_cstr(out, sla_dr_status_text(l->dead_region));
		fputs(", \"malloc_interposer\": ", out);
		if (l->interposer)
			json_cstr(out, l->interposer);
		else
			fputs("null", out);
		fprintf(out, ", \"go\": %s, \"sample_bytes\": %" PRIu64 ", \"exact_bytes\": %" PRIu64
			     ", \"late_start\": %s, \"frees_before_start\": %" PRIu64,
			l->go ? "true" : "false", l->sample_bytes, l->sample_bytes ? l->exact_bytes : 0,
			l->late_start ? "true" : "false", l->before_start);
		if (l->cut_seq != UINT64_MAX)
			fprintf(out, ", \"cut_seq\": %" PRIu64 ", \"records_after_cut\": %" PRIu64,
				l->cut_seq, l->cut_records);
		fputs(", \"anomalies\": {", out);
		for (int k = 0; k < SLA_ANOM_COUNT; k++) {
			if (!l->anomalies[k])
				continue;
			fprintf(out, "%s\"%s\": %" PRIu64, first ? "" : ", ", sla_anomaly_name(k),
				l->anomalies[k]);
			first = false;
		}
		fputs("}}", out);
	}
	fputs(res->nlogs ? "\n  ],\n" : "],\n", out);
}

/*
 * "sampling": null for exact logs; else which figures are estimates, their
 * standard errors (bytes) and the exactly recorded part the gate uses.
 */
static void json_sampling(FILE *out, const struct sla_results *res)
{
	if (!res->sampled) {
		fputs("  \"sampling\": null,\n", out);
		return;
	}
	fprintf(out, "  \"sampling\": {\"estimates\": [\"leaks\", \"live\", \"peak\", \"hotspots\", "
		     "\"totals\"], \"leaked_bytes_stderr\": %.0f, \"referenced_bytes_stderr\": %.0f, "
		     "\"live_bytes_stderr\": %.0f, \"peak_bytes_stderr\": %.0f, "
		     "\"exact_leaked_bytes\": %" PRIu64 ", \"exact_leaked_blocks\": %" PRIu64
		     ", \"exact_referenced_bytes\": %" PRIu64 "},\n",
		sqrt(res->leak_var), sqrt(fmax(res->exit_var - res->leak_var, 0)),
		sqrt(res->live_var), sqrt(res->peak_var), res->exact_leak_bytes,
		res->exact_leak_blocks, sla_results_gated_referenced(res));
}

void sla_report_json(FILE *out, const struct sla_results *res, struct sla_stackset *set,
		     struct sla_symbolizer *sym, const struct sla_report_opts *o)
{
	bool listed = false;

	fputs("{\n  \"schema\": \"sliceleak-report/1\",\n  \"at\": ", out);
	json_cstr(out, res->at);
	fprintf(out, ",\n  \"retained_bytes\": %" PRIu64 ",\n  \"owned_bytes\": %" PRIu64
		     ",\n  \"trimmed_frames\": %" PRIu64 ",\n",
		res->retained_bytes, res->owned_bytes, sla_stackset_trimmed(set));
	fputs("  \"dead_region_analysis\": ", out);
	json_cstr(out, res->dead_region_text ? res->dead_region_text : "unavailable: not run");
	/* both analyses run on the same pointer scan, so they are as complete as each other */
	fputs(",\n  \"owner_analysis\": ", out);
	json_cstr(out, res->dead_region_text ? res->dead_region_text : "unavailable: not run");
	fputs(",\n", out);
	json_logs(out, res);

	fputs("  \"findings\": [", out);
	for (size_t i = 0; i < res->nfindings; i++) {
		const struct sla_finding *f = &res->findings[i];

		if (f->kind == SLA_FINDING_DEAD_REGION) {
			json_dead_finding(out, f, set, sym, i == 0);
			continue;
		}
		if (f->kind == SLA_FINDING_OWNER) {
			json_owner_finding(out, f, set, sym, i == 0);
			continue;
		}
		fprintf(out, "%s\n    {\"kind\": \"view_pinned\", \"view_kind\": \"%s\", \"blocks\": %" PRIu64
			     ", \"block_bytes\": %" PRIu64 ", \"used_bytes\": %" PRIu64
			     ", \"retained_bytes\": %" PRIu64 ", \"views\": %" PRIu64
			     ", \"pinned_seconds\": %.6f,\n     \"alloc_stack\": ",
			i ? "," : "", f->view_kind == SLA_VIEW_SLICE ? "slice" : "annotation",
			f->blocks, f->block_bytes, f->used_bytes, f->retained_bytes, f->views,
			f->pinned_max_s);
		json_stack(out, set, sym, f->alloc_gid);
		fputs(",\n     \"view_stack\": ", out);
		json_stack(out, set, sym, f->view_gid);
		fputc('}', out);
	}
	fputs(res->nfindings ? "\n  ],\n" : "],\n", out);

	fprintf(out, "  \"leaks\": {\"bytes\": %" PRIu64 ", \"blocks\": %" PRIu64
		     ", \"leaked_bytes\": %" PRIu64 ", \"leaked_blocks\": %" PRIu64
		     ", \"referenced_bytes\": %" PRIu64 ", \"referenced_blocks\": %" PRIu64
		     ", \"unclassified_bytes\": %" PRIu64 ", \"unclassified_blocks\": %" PRIu64 ", ",
		res->exit_bytes, res->exit_blocks, res->leak_bytes, res->leak_blocks,
		sla_sat_sub(res->exit_bytes, res->leak_bytes), res->exit_blocks - res->leak_blocks,
		res->unclassified_bytes, res->unclassified_blocks);
	if (res->leaks_classified)
		fprintf(out, "\"direct_bytes\": %" PRIu64 ", \"direct_blocks\": %" PRIu64
			     ", \"indirect_bytes\": %" PRIu64 ", \"indirect_blocks\": %" PRIu64 ", ",
			res->direct_bytes, res->direct_blocks, res->indirect_bytes,
			res->indirect_blocks);
	json_groups(out, res->leaks, res->nleaks, o->top, set, sym, true, res->leaks_classified);
	fprintf(out, "},\n  \"live\": {\"bytes\": %" PRIu64 ", \"blocks\": %" PRIu64 "}",
		res->live_bytes, res->live_blocks);
	fprintf(out, ",\n  \"peak\": {\"bytes\": %" PRIu64 ", \"blocks\": %" PRIu64
		     ", \"time_seconds\": %.6f, ",
		res->peak_bytes, res->peak_blocks, res->peak_time_s);
	json_groups(out, res->peak, res->npeak, o->top, set, sym, false, false);
	fputs("},\n", out);
	json_sampling(out, res);
	json_hotspots(out, "hotspots", false, res->hotspots, res->nhotspots, o->top, set, sym);
	json_hotspots(out, "temporary", true, res->temporary, res->ntemporary, o->top, set, sym);
	fputs("  \"suppressions\": [", out);
	for (size_t i = 0; res->suppressions && i < res->suppressions->n; i++) {
		const struct sla_suppression *x = &res->suppressions->list[i];

		if (x->builtin && !x->matches) /* a default one that hid nothing */
			continue;
		fprintf(out, "%s\n    {\"type\": \"%s\", \"pattern\": ", listed ? "," : "",
			sla_suppress_type_name(x->type));
		json_cstr(out, x->pattern);
		fprintf(out, ", \"matches\": %" PRIu64 ", \"bytes\": %" PRIu64
			     ", \"leaked_bytes\": %" PRIu64 ", \"default\": %s}",
			x->matches, x->bytes, x->leaked_bytes, x->builtin ? "true" : "false");
		listed = true;
	}
	fputs(listed ? "\n  ],\n" : "],\n", out);
	fprintf(out, "  \"totals\": {\"allocations\": %" PRIu64 ", \"frees\": %" PRIu64
		     ", \"bytes_allocated\": %" PRIu64 ", \"temporaries\": %" PRIu64 "}\n}\n",
		res->allocations, res->frees, res->bytes_allocated, res->temporaries);
}
