/* analyzer/report/report_text.c - the results as a text report for a developer. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "suppress.h"
#include "units.h"

#define SZ(buf, v, d) sla_format_size(buf, sizeof(buf), v, d)

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/*
 * A C++ name with its template arguments elided, as heaptrack shows them:
 * "std::map<...>::operator[](std::string const&)". The '<' and '>' of
 * operator<, <<, <=, <=>, > and -> are not brackets. Cut to size.
 */
static const char *elide_templates(const char *name, char *buf, size_t size)
{
	size_t n = 0, depth = 0;

	if (!strchr(name, '<'))
		return name;
	for (const char *p = name; *p && n + 4 < size; p++) {
		if (!strncmp(p, "operator", 8) && strchr("<>=-", p[8])) {
			size_t k = 8;

			while (p[k] && strchr("<>=-", p[k]))
				k++;
			if (!depth && n + k + 4 < size) {
				memcpy(buf + n, p, k);
				n += k;
			}
			p += k - 1;
		} else if (*p == '<') {
			if (!depth++) {
				memcpy(buf + n, "<...", 4);
				n += 4;
			}
		} else if (*p == '>' && depth) {
			if (!--depth)
				buf[n++] = '>';
		} else if (!depth) {
			buf[n++] = *p;
		}
	}
	buf[n] = '\0';
	return buf;
}

/*
 * `#N func file:line (module)`, or the address and module+offset without
 * symbols; C++ template arguments elided unless `full`.
 */
static void print_stack(FILE *out, struct sla_stackset *set, struct sla_symbolizer *sym,
			uint32_t gid, const char *indent, bool full)
{
	const struct sla_frame *f;
	size_t n = sla_stackset_frames(set, gid, sym, &f);
	char name[1024];

	if (!n)
		fprintf(out, "%s(no stack recorded)\n", indent);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s#%zu ", indent, i);
		if (f[i].function) {
			fputs(full ? f[i].function : elide_templates(f[i].function, name, sizeof(name)),
			      out);
			if (f[i].file && f[i].line)
				fprintf(out, " %s:%u", f[i].file, f[i].line);
			else if (f[i].file)
				fprintf(out, " %s", f[i].file);
			if (f[i].module)
				fprintf(out, " (%s)", basename_of(f[i].module));
		} else {
			fprintf(out, "0x%" PRIx64, f[i].address);
			if (f[i].module)
				fprintf(out, " (%s+0x%" PRIx64 ")", basename_of(f[i].module),
					f[i].offset);
		}
		if (f[i].inlined)
			fputs(" [inlined]", out);
		fputc('\n', out);
	}
}

static void print_duration(FILE *out, double s)
{
	if (s >= 0.1)
		fprintf(out, "%.1f s", s);
	else
		fprintf(out, "%.1f ms", s * 1e3);
}

/* A headline's subject: "3 blocks of 1.00 MiB" or "3 blocks of 4.00 KiB to 1.00 MiB". */
static void print_blocks(FILE *out, const struct sla_finding *f)
{
	char a[32], b[32];

	if (f->min_size == f->max_size)
		fprintf(out, "%" PRIu64 " block%s of %s", f->blocks, f->blocks == 1 ? "" : "s",
			SZ(a, f->min_size, 2));
	else
		fprintf(out, "%" PRIu64 " blocks of %s to %s", f->blocks, SZ(a, f->min_size, 2),
			SZ(b, f->max_size, 2));
}

/* The user's-language line: "3 blocks of 1.00 MiB kept alive by 5-byte views: ...". */
static void print_headline(FILE *out, const struct sla_finding *f)
{
	char a[32], b[32];

	print_blocks(out, f);
	if (f->views == 1)
		fprintf(out, " kept alive by a %" PRIu64 "-byte view", f->min_used);
	else if (f->views == f->blocks && f->min_used == f->max_used)
		fprintf(out, " kept alive by %" PRIu64 "-byte views", f->min_used);
	else if (f->views == f->blocks)
		fprintf(out, " kept alive by views using %" PRIu64 " to %" PRIu64 " bytes",
			f->min_used, f->max_used);
	else if (f->min_used == f->max_used) /* several views per block: say how many */
		fprintf(out, " kept alive by %" PRIu64 " views using %" PRIu64 " bytes%s", f->views,
			f->min_used, f->blocks == 1 ? "" : " per block");
	else
		fprintf(out, " kept alive by %" PRIu64 " views using %" PRIu64 " to %" PRIu64
			     " bytes per block",
			f->views, f->min_used, f->max_used);
	fprintf(out, ": %s retained (%s used), pinned for ", SZ(a, f->retained_bytes, 1),
		SZ(b, f->used_bytes, 1));
	print_duration(out, f->pinned_max_s);
	fputc('\n', out);
}

/* "a" or "an" before a number as it is read: an 8-, an 11-, an 18-, an 80-byte view. */
static const char *article(uint64_t n)
{
	char d[24];
	int len = snprintf(d, sizeof(d), "%" PRIu64, n);

	if (d[0] == '8')
		return "an";
	/* eleven, eighteen, and their thousands (eleven thousand ...) */
	if ((len == 2 || len == 5) && d[0] == '1' && (d[1] == '1' || d[1] == '8'))
		return "an";
	return "a";
}

/*
 * A dead_region finding in the user's words: "998 blocks (998.0 MiB) kept
 * alive through the unused tail of a 39.1 KiB block pinned by an 80-byte
 * view". The log has bytes, not elements: views are told in bytes.
 */
static void print_dead_headline(FILE *out, const struct sla_finding *f)
{
	char a[32], b[32];

	fprintf(out, "%" PRIu64 " block%s (%s) kept alive through the unused %s of ", f->blocks,
		f->blocks == 1 ? "" : "s", SZ(a, f->block_bytes, 1),
		f->holder_tail ? (f->holder_blocks == 1 ? "tail" : "tails") :
				 (f->holder_blocks == 1 ? "part" : "parts"));
	if (f->holder_blocks == 1)
		fprintf(out, "a %s block", SZ(a, f->holder_bytes, 1));
	else
		fprintf(out, "%" PRIu64 " blocks (%s)", f->holder_blocks, SZ(a, f->holder_bytes, 1));
	if (f->holder_views == 1)
		fprintf(out, " pinned by %s %" PRIu64 "-byte view", article(f->holder_used_bytes),
			f->holder_used_bytes);
	else
		fprintf(out, " pinned by %" PRIu64 " views using %" PRIu64 " bytes%s", f->holder_views,
			f->holder_used_bytes, f->holder_blocks == 1 ? "" : " in all");
	fprintf(out, ": %s retained", SZ(b, f->retained_bytes, 1));
	if (f->retained_bytes != f->block_bytes)
		fputs(" (the rest is counted by view_pinned findings)", out);
	fputs(", pinned for ", out);
	print_duration(out, f->pinned_max_s);
	fputc('\n', out);
}

static void print_dead_finding(FILE *out, const struct sla_finding *f, struct sla_stackset *set,
			       struct sla_symbolizer *sym, bool full)
{
	print_dead_headline(out, f);
	fputs("  kept blocks allocated at:\n", out);
	print_stack(out, set, sym, f->alloc_gid, "    ", full);
	fprintf(out, "  through the dead region of the block%s allocated at:\n",
		f->holder_blocks == 1 ? "" : "s");
	print_stack(out, set, sym, f->holder_gid, "    ", full);
	fprintf(out, "  pinned by the oldest live view (%s) %s at:\n",
		f->view_kind == SLA_VIEW_SLICE ? "slice" : "annotation",
		f->view_kind == SLA_VIEW_SLICE ? "created" : "acquired");
	print_stack(out, set, sym, f->view_gid, "    ", full);
	fputs("  hint: clear the elements past len before cutting (release what they hold and zero them), or copy the kept elements out and release the big block\n\n",
	      out);
}

/*
 * The function a stack names for the reader: its first frame in code with
 * source lines that are not a system header (the program's, past
 * allocator wrappers such as g_malloc or operator new and the standard
 * library's inlined templates); without one, its first named frame; NULL.
 */
static const char *first_function(struct sla_stackset *set, struct sla_symbolizer *sym,
				  uint32_t gid)
{
	const struct sla_frame *f;
	size_t n = sla_stackset_frames(set, gid, sym, &f);

	for (size_t i = 0; i < n; i++)
		if (f[i].function && f[i].file && strncmp(f[i].file, "/usr/include/", 13))
			return f[i].function;
	for (size_t i = 0; i < n; i++)
		if (f[i].function)
			return f[i].function;
	return NULL;
}

/*
 * An owner finding in the user's words: "100 blocks of 1.00 MiB kept alive
 * by 24-byte blocks (one each) allocated at make_view: 100.0 MiB retained
 * (references land at offset 4096)".
 */
static void print_owner_headline(FILE *out, const struct sla_finding *f, struct sla_stackset *set,
				 struct sla_symbolizer *sym)
{
	const char *fn = first_function(set, sym, f->holder_gid);
	char a[32];

	print_blocks(out, f);
	if (f->holder_blocks == 1)
		fprintf(out, " kept alive by %s %" PRIu64 "-byte block", article(f->owner_min_size),
			f->owner_min_size);
	else if (f->owner_min_size == f->owner_max_size)
		fprintf(out, " kept alive by %" PRIu64 "-byte blocks", f->owner_min_size);
	else
		fprintf(out, " kept alive by %" PRIu64 "- to %" PRIu64 "-byte blocks",
			f->owner_min_size, f->owner_max_size);
	if (f->holder_blocks > 1 && f->holder_blocks == f->blocks)
		fputs(" (one each)", out);
	else if (f->holder_blocks > 1)
		fprintf(out, " (%" PRIu64 " of them)", f->holder_blocks);
	if (fn) { /* the name alone: no C++ parameter list, clone suffix or anonymous namespace */
		const char *anon = "(anonymous namespace)::", *paren;

		if (!strncmp(fn, anon, strlen(anon)))
			fn += strlen(anon);
		paren = strchr(fn, '(');
		fprintf(out, " allocated at %.*s", paren && paren > fn ? (int)(paren - fn) : (int)strlen(fn),
			fn);
	}
	fprintf(out, ": %s retained", SZ(a, f->retained_bytes, 1));
	if (f->retained_blocks > f->blocks)
		fprintf(out, " in %" PRIu64 " blocks", f->retained_blocks);
	if (f->ref_min == f->ref_max)
		fprintf(out, " (references land at offset %" PRIu64 ")", f->ref_min);
	else if (f->ref_min < f->ref_max)
		fprintf(out, " (references land at offsets %" PRIu64 " to %" PRIu64 ")", f->ref_min,
			f->ref_max);
	fputc('\n', out);
}

static void print_owner_finding(FILE *out, const struct sla_finding *f, struct sla_stackset *set,
				struct sla_symbolizer *sym, bool full)
{
	print_owner_headline(out, f, set, sym);
	fputs("  kept blocks allocated at:\n", out);
	print_stack(out, set, sym, f->alloc_gid, "    ", full);
	fprintf(out, "  the only way to them: the block%s allocated at:\n",
		f->holder_blocks == 1 ? "" : "s");
	print_stack(out, set, sym, f->holder_gid, "    ", full);
	fputs("  hint: free or reset these small blocks when their data is no longer needed, or copy the bytes they use out of the big blocks\n\n",
	      out);
}

void sla_report_text_findings(FILE *out, const struct sla_results *res, struct sla_stackset *set,
			      struct sla_symbolizer *sym, size_t top, bool owners, bool full)
{
	size_t total = owners ? res->nowner : res->nfindings - res->nowner, n, shown = 0;
	uint64_t rest = 0;

	n = top && top < total ? top : total;
	for (size_t i = 0; i < res->nfindings; i++) {
		const struct sla_finding *f = &res->findings[i];

		if ((f->kind == SLA_FINDING_OWNER) != owners)
			continue;
		if (shown == n) {
			rest = sla_sat_add(rest, f->retained_bytes);
			continue;
		}
		fprintf(out, "#%zu: ", ++shown);
		if (f->kind == SLA_FINDING_OWNER) {
			print_owner_finding(out, f, set, sym, full);
			continue;
		}
		if (f->kind == SLA_FINDING_DEAD_REGION) {
			print_dead_finding(out, f, set, sym, full);
			continue;
		}
		print_headline(out, f);
		fputs("  allocated at:\n", out);
		print_stack(out, set, sym, f->alloc_gid, "    ", full);
		fprintf(out, "  %s at:\n", f->view_kind == SLA_VIEW_SLICE ?
					       "oldest live view (slice) created" :
					       "oldest live view (annotation) acquired");
		print_stack(out, set, sym, f->view_gid, "    ", full);
		if (f->view_kind == SLA_VIEW_SLICE)
			fputs("  hint: copy the bytes you keep (sl_clone) and release the slice of the big block\n\n",
			      out);
		else
			fputs("  hint: copy the range you keep out of the buffer and release the view of the big block\n\n",
			      out);
	}
	if (n < total) {
		char a[32];

		fprintf(out, "... and %zu more findings retaining %s (--top 0 shows all)\n\n",
			total - n, SZ(a, rest, 1));
	}
}

/* Which groups print_groups() lists, and with which figures. */
enum group_view {
	GROUPS_PEAK,	   /* bytes and blocks */
	GROUPS_LEAKED,	   /* the leaked part, with its classes */
	GROUPS_REFERENCED, /* the part still referenced at exit */
};

/* Groups of blocks by stack: the first `top` (0 = all) with something to show. */
static void print_groups(FILE *out, const struct sla_group *g, size_t n, size_t top,
			 struct sla_stackset *set, struct sla_symbolizer *sym, enum group_view view,
			 bool full)
{
	size_t shown = 0, more = 0;
	char a[32];

	for (size_t i = 0; i < n; i++) {
		uint64_t bytes = g[i].bytes, blocks = g[i].blocks;

		if (view == GROUPS_LEAKED) {
			bytes = g[i].leaked_bytes;
			blocks = g[i].leaked_blocks;
		} else if (view == GROUPS_REFERENCED) {
			bytes = sla_sat_sub(g[i].bytes, g[i].leaked_bytes);
			blocks = g[i].blocks - g[i].leaked_blocks;
		}
		if (!blocks)
			continue;
		if (top && shown == top) {
			more++;
			continue;
		}
		shown++;
		fprintf(out, "%s in %" PRIu64 " block%s", SZ(a, bytes, 1), blocks,
			blocks == 1 ? "" : "s");
		if (view == GROUPS_LEAKED) {
			uint64_t unclassified = blocks - g[i].direct_blocks - g[i].indirect_blocks;

			if (unclassified < blocks)
				fprintf(out, " (%" PRIu64 " direct, %" PRIu64 " indirect%s",
					g[i].direct_blocks, g[i].indirect_blocks,
					unclassified ? ", " : ")");
			else
				fputs(" (", out);
			if (unclassified)
				fprintf(out, "%" PRIu64 " unclassified)", unclassified);
		}
		fputs(" allocated at:\n", out);
		print_stack(out, set, sym, g[i].gid, "    ", full);
	}
	if (more)
		fprintf(out, "... and %zu more stacks\n", more);
}

/* The header: the evaluation point and one line per log with its state. */
static void print_logs(FILE *out, const struct sla_results *res)
{
	fprintf(out, "sliceleak report: %zu log%s, retention evaluated at %s%s\n", res->nlogs,
		res->nlogs == 1 ? "" : "s", strcmp(res->at, "end") && strcmp(res->at, "peak") ?
						   "snapshot " : "", res->at);
	for (size_t i = 0; i < res->nlogs; i++) {
		const struct sla_log_info *l = &res->logs[i];

		fprintf(out, "  %s: pid %" PRIu64 " (ppid %" PRIu64 ") %s, %" PRIu64 " records, ",
			l->path, l->pid, l->ppid, l->exe ? l->exe : "?", l->records);
		if (l->corrupt)
			fprintf(out, "CORRUPT at offset %" PRIu64, l->corrupt_offset);
		else
			fputs(l->ended ? "complete" : "TRUNCATED", out);
		fprintf(out, ", %.3f s", l->duration_s);
		if (l->sample_bytes)
			fprintf(out, ", sampled (sample_bytes %" PRIu64 ", exact_bytes %" PRIu64 ")",
				l->sample_bytes, l->exact_bytes);
		if (!l->at_found)
			fprintf(out, ", no snapshot '%s'", res->at);
		else if (strcmp(res->at, "end"))
			fprintf(out, ", evaluated at %.3f s", l->eval_time_s);
		fputc('\n', out);
	}
	fputc('\n', out);
}

/* A sampled log's estimate: " (estimate, standard error X)", else nothing. */
static const char *estimate(char *buf, size_t size, const struct sla_results *res, double var)
{
	char se[32];

	if (!res->sampled)
		return "";
	snprintf(buf, size, " (estimate, standard error %s)", SZ(se, (uint64_t)llround(sqrt(var)), 1));
	return buf;
}

/*
 * LSan's ending: suppressions used (a default one only when it hid
 * something, and what the defaults hid in all), then the one greppable
 * SUMMARY line, which names truncated and corrupt logs.
 */
void sla_report_text_summary(FILE *out, const struct sla_results *res)
{
	const struct sla_suppressions *s = res->suppressions;
	uint64_t def_groups = 0, def_bytes = 0, def_leaked = 0;
	size_t truncated, corrupt, used = 0;
	char a[32], b[32];

	for (size_t i = 0; s && i < s->n; i++) {
		const struct sla_suppression *x = &s->list[i];

		if (x->builtin && !x->matches)
			continue;
		if (!used++)
			fputs("Suppressions used:\n  matches      bytes  suppression\n", out);
		fprintf(out, "%9" PRIu64 " %10" PRIu64 "  %s:%s%s\n", x->matches, x->bytes,
			sla_suppress_type_name(x->type), x->pattern,
			x->builtin ? " (default)" : "");
		if (x->builtin) {
			def_groups += x->matches;
			def_bytes += x->bytes;
			def_leaked += x->leaked_bytes;
		}
	}
	if (def_groups)
		fprintf(out, "Default suppressions hid %s live at exit (%s of it leaked) in %" PRIu64
			     " stack%s of the runtime (--no-default-suppressions shows them)\n",
			SZ(a, def_bytes, 1), SZ(b, def_leaked, 1), def_groups,
			def_groups == 1 ? "" : "s");

	sla_results_partial(res, &truncated, &corrupt);
	fprintf(out, "SUMMARY: sliceleak: %s retained in %zu finding%s, %s leaked in %" PRIu64 " block%s",
		SZ(a, res->retained_bytes, 1), res->nfindings - res->nowner,
		res->nfindings - res->nowner == 1 ? "" : "s", SZ(b, res->leak_bytes, 1),
		res->leak_blocks, res->leak_blocks == 1 ? "" : "s");
	if (res->nowner) /* the owner part only when there is one: the line's shape stays */
		fprintf(out, ", %s owned in %zu owner finding%s", SZ(a, res->owned_bytes, 1),
			res->nowner, res->nowner == 1 ? "" : "s");
	if (truncated)
		fprintf(out, ", %zu log%s TRUNCATED", truncated, truncated == 1 ? "" : "s");
	if (corrupt)
		fprintf(out, ", %zu log%s CORRUPT", corrupt, corrupt == 1 ? "" : "s");
	if (res->sampled)
		fprintf(out, ", leaks estimated from a sample (%s in blocks recorded exactly)",
			SZ(a, res->exact_leak_bytes, 1));
	fputc('\n', out);
}

/*
 * Leaks as LeakSanitizer counts them (unreachable at exit), then what is
 * live at exit but still referenced, each with its stacks.
 */
void sla_report_text_leaks(FILE *out, const struct sla_results *res, struct sla_stackset *set,
			   struct sla_symbolizer *sym, size_t top, bool full)
{
	uint64_t ref_bytes = sla_sat_sub(res->exit_bytes, res->leak_bytes);
	uint64_t ref_blocks = res->exit_blocks - res->leak_blocks;
	char a[32], b[32], e[80];

	fprintf(out, "== Leaks: %s in %" PRIu64 " block%s unreachable at exit%s%s ==\n",
		SZ(a, res->leak_bytes, 1), res->leak_blocks, res->leak_blocks == 1 ? "" : "s",
		res->leaks_classified ? "" : ", or unclassified",
		estimate(e, sizeof(e), res, res->leak_var));
	if (res->sampled)
		fprintf(out, "Sampled: the blocks below exact_bytes are a sample, each counted with the inverse of its chance to be recorded; blocks recorded exactly: %s leaked in %" PRIu64 " block%s (what check --max-leaked gates)\n",
			SZ(a, res->exact_leak_bytes, 1), res->exact_leak_blocks,
			res->exact_leak_blocks == 1 ? "" : "s");
	if (res->classified_logs)
		fprintf(out, "%s direct (nothing points to them), %s indirect (only other leaks point to them)\n",
			SZ(a, res->direct_bytes, 1), SZ(b, res->indirect_bytes, 1));
	if (!res->leaks_classified)
		fprintf(out, "%s in %" PRIu64 " block%s unclassified: %zu of %zu logs have no complete pointer scan at exit (truncated, scan=0, a capped scan or format 1.0), so every block live at their end counts as leaked\n",
			SZ(a, res->unclassified_bytes, 1), res->unclassified_blocks,
			res->unclassified_blocks == 1 ? "" : "s", res->nlogs - res->classified_logs,
			res->nlogs);
	print_groups(out, res->leaks, res->nleaks, top, set, sym, GROUPS_LEAKED, full);
	fputc('\n', out);
	fprintf(out, "== Still referenced at exit: %s in %" PRIu64 " block%s (live, not leaked)%s ==\n",
		SZ(a, ref_bytes, 1), ref_blocks, ref_blocks == 1 ? "" : "s",
		estimate(e, sizeof(e), res, fmax(res->exit_var - res->leak_var, 0)));
	print_groups(out, res->leaks, res->nleaks, top, set, sym, GROUPS_REFERENCED, full);
	fputc('\n', out);
}

void sla_report_text(FILE *out, const struct sla_results *res, struct sla_stackset *set,
		     struct sla_symbolizer *sym, const struct sla_report_opts *o)
{
	bool full = o->full_names;
	char a[32], b[32], e[80];
	bool anomalies = false;

	print_logs(out, res);

	fprintf(out, "== Retention: %zu finding%s, %s retained (%" PRIu64 " view-pinned blocks) ==\n",
		res->nfindings - res->nowner, res->nfindings - res->nowner == 1 ? "" : "s",
		SZ(a, res->retained_bytes, 1), res->pinned_blocks);
	fprintf(out, "Dead-region analysis: %s\n\n",
		res->dead_region_text ? res->dead_region_text : "not run");
	sla_report_text_findings(out, res, set, sym, o->top, false, full);

	fprintf(out, "== Owners: %zu finding%s, %s kept alive by small blocks ==\n", res->nowner,
		res->nowner == 1 ? "" : "s", SZ(a, res->owned_bytes, 1));
	fprintf(out, "Owner analysis: %s\n\n",
		res->dead_region_text ? res->dead_region_text : "not run");
	sla_report_text_findings(out, res, set, sym, o->top, true, full);

	sla_report_text_leaks(out, res, set, sym, o->top, full);
	fprintf(out, "== Peak heap: %s in %" PRIu64 " blocks at %.3f s%s ==\n",
		SZ(a, res->peak_bytes, 1), res->peak_blocks, res->peak_time_s,
		estimate(e, sizeof(e), res, res->peak_var));
	print_groups(out, res->peak, res->npeak, o->top, set, sym, GROUPS_PEAK, full);
	fputc('\n', out);

	fprintf(out, "== Hot spots: allocations by stack%s ==\n",
		res->sampled ? " (estimates from a sample)" : "");
	for (size_t i = 0; i < res->nhotspots && (!o->top || i < o->top); i++) {
		const struct sla_hotspot *h = &res->hotspots[i];

		fprintf(out, "%" PRIu64 " allocation%s, %s (%" PRIu64 " temporary) at:\n",
			h->allocations, h->allocations == 1 ? "" : "s", SZ(a, h->bytes, 1),
			h->temporaries);
		print_stack(out, set, sym, h->gid, "    ", full);
	}
	fputc('\n', out);

	fprintf(out, "== Temporary allocations: %" PRIu64 " (freed with no other allocation in between%s) ==\n",
		res->temporaries, res->sampled ? "; not counted in a sampled log" : "");
	for (size_t i = 0; i < res->ntemporary && (!o->top || i < o->top); i++) {
		const struct sla_hotspot *h = &res->temporary[i];

		fprintf(out, "%" PRIu64 " of %" PRIu64 " allocation%s temporary at:\n", h->temporaries,
			h->allocations, h->allocations == 1 ? "" : "s");
		print_stack(out, set, sym, h->gid, "    ", full);
	}
	fputc('\n', out);

	fprintf(out, "== Totals%s ==\n%" PRIu64 " allocations, %" PRIu64 " frees, %s allocated, %" PRIu64
		     " temporary allocations, peak %s\n\n",
		res->sampled ? " (estimates from a sample)" : "", res->allocations, res->frees, SZ(a, res->bytes_allocated, 1), res->temporaries,
		SZ(b, res->peak_bytes, 1));

	for (size_t i = 0; i < res->nlogs; i++)
		for (int k = 0; k < SLA_ANOM_COUNT; k++)
			anomalies |= res->logs[i].anomalies[k] != 0;
	if (anomalies) {
		fputs("== Anomalies ==\n", out);
		for (size_t i = 0; i < res->nlogs; i++)
			for (int k = 0; k < SLA_ANOM_COUNT; k++)
				if (res->logs[i].anomalies[k])
					fprintf(out, "%s: %s: %" PRIu64 " (%s)\n", res->logs[i].path,
						sla_anomaly_name(k), res->logs[i].anomalies[k],
						sla_anomaly_desc(k));
		fputc('\n', out);
	}
	for (size_t i = 0; i < res->nlogs; i++) {
		const struct sla_log_info *l = &res->logs[i];

		if (l->corrupt)
			fprintf(out, "WARNING: %s: corrupt at offset %" PRIu64 " (%s): analysed up to the last good record\n",
				l->path, l->corrupt_offset, l->corrupt_msg);
		else if (l->truncated && l->go)
			fprintf(out, "WARNING: %s: log is truncated: a Go program exits through a raw exit_group system call, past libc, so the shim cannot finish its log: the events of its last flush interval (flush_ms) and the final pointer scan are missing\n",
				l->path);
		else if (l->truncated && l->cut_seq != UINT64_MAX)
			fprintf(out, "WARNING: %s: log is truncated (no END record: the process was killed, crashed or called _exit): its threads' streams end at different points, analysed up to seq %" PRIu64 " where all are complete; %" PRIu64 " later records left out\n",
				l->path, l->cut_seq, l->cut_records);
		else if (l->truncated && l->stacks_lost)
			fprintf(out, "WARNING: %s: log is truncated (no END record: the process was killed, crashed or called _exit): analysed up to its last complete record; %" PRIu64 " stack references name stacks whose definition was never written, shown as empty\n",
				l->path, l->stacks_lost);
		else if (l->truncated)
			fprintf(out, "WARNING: %s: log is truncated (no END record: the process was killed, crashed or called _exit): analysed up to its last complete record\n",
				l->path);
		if (l->interposer)
			fprintf(out, "WARNING: %s: the program's malloc was %s's, not sliceleak's (an allocator listed before libsliceleak.so in LD_PRELOAD, or one the executable defines): the allocations it served are not in this log\n",
				l->path, l->interposer);
		if (l->dropped)
			fprintf(out, "WARNING: %s: the writer dropped %" PRIu64 " events\n", l->path,
				l->dropped);
		if (l->late_start)
			fprintf(out, "NOTE: %s: recording started after the process did (start=signal): the blocks allocated before are unknown (%" PRIu64 " frees and reallocs of them were seen); what they pointed to counts as referenced\n",
				l->path, l->before_start);
		if (l->sample_bytes)
			fprintf(out, "NOTE: %s: sampled log (sample_bytes %" PRIu64 "): every block of at least %" PRIu64 " bytes is recorded, the smaller ones with probability 1 - exp(-size / %" PRIu64 "); leak, live, peak and hot-spot figures are estimates, findings count only the blocks of at least %" PRIu64 " bytes\n",
				l->path, l->sample_bytes, l->exact_bytes, l->sample_bytes, l->exact_bytes);
		if (l->unknown_records)
			fprintf(out, "NOTE: %s: %" PRIu64 " records of kinds newer than this sliceleak (log format %u.%u) were skipped\n",
				l->path, l->unknown_records, l->major, l->minor);
	}
	sla_report_text_summary(out, res);
}
