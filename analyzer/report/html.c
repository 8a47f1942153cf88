/*
 * analyzer/report/html.c - the results as one self-contained HTML file.
 *
 * The page is viewer.html (its CSS and script, embedded in this program at
 * build time) with the analysis as a JSON document in a <script
 * type="application/json"> element: the heap over time of each log
 * (series.h), the allocation stacks as a tree of frames with the six
 * figures of profile.h per node, and the text report itself, which the page
 * shows as it is (one wording of the findings, not two).
 *
 * The frame tree (profile.h) is built here, not in the browser, so that the
 * file holds each frame name once and the page has nothing to merge. clang
 * compiling one file (a 23 MB log, 838k allocations) gives a 4 MB page of
 * 200k frame nodes, written in about 4 s (most of it symbolizing every
 * stack), opened by headless Chromium in 0.6 s, switched between figures
 * in under 0.1 s.
 *
 * Why our own ~300 lines of page rather than a charting library: the page
 * needs two drawings (a line chart, an icicle) and a search box; a library
 * able to draw them (d3 + d3-flame-graph, or speedscope) is 100 KB to 1 MB
 * of minified code to vendor, review and update for this one feature,
 * where ours is 13 KB; and the icicle of 200k nodes is faster drawn on a
 * canvas with the culling written for it (nodes under a third of a pixel
 * are skipped) than through a general SVG library.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "report.h"
#include "series.h"
#include "xalloc.h"

/* viewer.html, embedded by the build (embed.py): the page around the data. */
extern const char sla_viewer_html[];

static void str(FILE *out, const char *s)
{
	if (s)
		sla_json_string(out, s, strlen(s), true);
	else
		fputs("null", out);
}

static void write_series(FILE *out, const struct sla_log_info *l)
{
	const struct sla_series *s = l->series;

	fputs("{\"path\":", out);
	str(out, l->path);
	fputs(",\"exe\":", out);
	str(out, l->exe);
	fprintf(out, ",\"pid\":%" PRIu64 ",\"duration\":%.6f,\"eval\":%s", l->pid, l->duration_s,
		l->at_found ? "" : "null");
	if (l->at_found)
		fprintf(out, "%.6f", l->eval_time_s);
	if (!s) {
		fputs(",\"points\":[],\"snaps\":[],\"peak\":null}", out);
		return;
	}
	fprintf(out, ",\"peak\":[%.6f,%" PRIu64 "],\"points\":[", s->peak_t, s->peak_bytes);
	for (size_t i = 0; i < s->n; i++)
		fprintf(out, "%s%.6f,%" PRIu64 ",%" PRIu64, i ? "," : "", s->pts[i].t, s->pts[i].live,
			s->pts[i].retained);
	fputs("],\"snaps\":[", out);
	for (size_t i = 0; i < s->nsnaps; i++) {
		fprintf(out, "%s[%.6f,", i ? "," : "", s->snaps[i].t);
		str(out, s->snaps[i].label);
		fputc(']', out);
	}
	fputs("]}", out);
}

/* The text report, into *text (malloc'd, *len bytes). */
static void text_report(const struct sla_results *res, struct sla_stackset *set,
			struct sla_symbolizer *sym, const struct sla_report_opts *o, char **text,
			size_t *len)
{
	FILE *f = open_memstream(text, len);

	if (!f)
		sla_die("out of memory");
	sla_report_text(f, res, set, sym, o);
	if (fclose(f))
		sla_die("out of memory");
}

static void write_data(FILE *out, const struct sla_results *res, struct sla_stackset *set,
		       struct sla_symbolizer *sym, const struct sla_report_opts *o,
		       const char *text, size_t text_len, const char *summary, size_t summary_len)
{
	struct sla_profile p;
	struct sla_frame_tree ft;
	uint64_t(*val)[2];

	sla_profile_build(&p, res, set);
	sla_frame_tree_build(&ft, &p, set, sym);
	fputs("{\"at\":", out);
	str(out, res->at);
	fputs(",\"summary\":", out);
	sla_json_string(out, summary, summary_len, true);
	fputs(",\"metrics\":[", out);
	for (int m = 0; m < SLA_METRIC_COUNT; m++) {
		/* a sampled run's figures but the findings' (exact blocks only) are estimates */
		bool est = res->sampled && m != SLA_METRIC_RETAINED && m != SLA_METRIC_OWNED;

		fprintf(out, "%s{\"name\":\"%s\",\"desc\":\"%s%s\",\"bytes\":%" PRIu64
			     ",\"objects\":%" PRIu64 "}",
			m ? "," : "", sla_metric_name[m], sla_metric_desc[m],
			est ? " (estimated from a sample)" : "", p.total[m].bytes, p.total[m].objects);
	}
	fprintf(out, "],\"peak\":{\"bytes\":%" PRIu64 ",\"t\":%.6f},\"names\":[",
		res->peak_bytes, res->peak_time_s);
	for (uint32_t i = 0; i < ft.nnames; i++) {
		if (i)
			fputc(',', out);
		str(out, sla_frame_tree_name(&ft, i));
	}
	fputs("],\n\"nodes\":[", out);
	for (uint32_t i = 0; i < ft.nnodes; i++)
		fprintf(out, "%s%" PRIu32 ",%" PRIu32, i ? "," : "", ft.parent[i], ft.name[i]);
	fputs("],\n\"values\":[", out);
	val = sla_xcalloc(ft.nnodes, sizeof(*val));
	for (int m = 0; m < SLA_METRIC_COUNT; m++) {
		bool first = true;

		memset(val, 0, ft.nnodes * sizeof(*val));
		for (size_t gid = 1; gid < p.n; gid++) {
			val[ft.node_of[gid]][0] += p.v[gid][m].bytes;
			val[ft.node_of[gid]][1] += p.v[gid][m].objects;
		}
		val[0][0] += p.v[0][m].bytes; /* the empty stack: the root itself */
		val[0][1] += p.v[0][m].objects;
		fputs(m ? "],\n[" : "[", out);
		for (uint32_t i = 0; i < ft.nnodes; i++) {
			if (!val[i][0] && !val[i][1])
				continue;
			fprintf(out, "%s%" PRIu32 ",%" PRIu64 ",%" PRIu64, first ? "" : ",", i,
				val[i][0], val[i][1]);
			first = false;
		}
	}
	fputs("]],\n\"logs\":[", out);
	for (size_t i = 0; i < res->nlogs; i++) {
		if (i)
			fputc(',', out);
		write_series(out, &res->logs[i]);
	}
	fputs("],\n\"text\":", out);
	sla_json_string(out, text, text_len, true);
	fputs("}", out);
	free(val);
	sla_frame_tree_free(&ft);
	sla_profile_free(&p);
	(void)o;
}

/* Writes `len` bytes of s with & < > escaped (HTML text). */
static void html_text(FILE *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '&')
			fputs("&amp;", out);
		else if (s[i] == '<')
			fputs("&lt;", out);
		else if (s[i] == '>')
			fputs("&gt;", out);
		else
			fputc(s[i], out);
	}
}

void sla_report_html(FILE *out, const struct sla_results *res, struct sla_stackset *set,
		     struct sla_symbolizer *sym, const struct sla_report_opts *o)
{
	static const char data_mark[] = "<!--DATA-->", summary_mark[] = "<!--SUMMARY-->";
	const char *page = sla_viewer_html;
	const char *sm = strstr(page, summary_mark), *dm = strstr(page, data_mark);
	size_t text_len = 0, summary_len = 0;
	char *text = NULL;
	const char *summary;

	text_report(res, set, sym, o, &text, &text_len);
	summary = strstr(text, "SUMMARY: ");

	if (!sm || !dm || dm < sm)
		sla_die("the embedded viewer.html lacks its markers");
	if (summary && (summary == text || summary[-1] == '\n'))
		summary_len = strcspn(summary, "\n");
	else
		summary = "";
	fwrite(page, 1, (size_t)(sm - page), out);
	html_text(out, summary, summary_len);
	sm += sizeof(summary_mark) - 1;
	fwrite(sm, 1, (size_t)(dm - sm), out);
	fputs("<script id=\"data\" type=\"application/json\">", out);
	write_data(out, res, set, sym, o, text, text_len, summary, summary_len);
	fputs("</script>", out);
	dm += sizeof(data_mark) - 1;
	fputs(dm, out);
	free(text);
}
