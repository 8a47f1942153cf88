/*
 * analyzer/cli/main.c - the `sliceleak` command line: subcommands, options and
 * exit codes. Everything else lives in the modules it calls.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sliceleak/format.h>

#include "analysis.h"
#include "diff.h"
#include "dump.h"
#include "gate.h"
#include "profile.h"
#include "reader.h"
#include "report.h"
#include "run.h"
#include "suppress.h"
#include "symbolize.h"
#include "errors.h"
#include "trace.h"
#include "units.h"
#include "xalloc.h"

#define DEFAULT_TOP 10
#define DEFAULT_RUN_OUTPUT "sliceleak.%e.%p.sllog"

/* Everything the options of report, check and run can set. */
struct cmdline {
	struct sla_analysis_opts an;
	struct sla_report_opts rep;
	struct sla_limits limits;
	struct sla_suppressions supp;
	enum { FMT_TEXT, FMT_JSON, FMT_HTML, FMT_PPROF, FMT_FOLDED } format;
	bool no_symbols;
	bool no_default_suppressions;
	const char *output; /* run: the log pattern; report: the output file */
	const char *baseline; /* check --baseline */
	uint64_t max_increase;
	int metric;	    /* folded: an enum sla_metric */
	const char *trace;  /* run --trace */
};

static const char *const format_names[] = { "text", "json", "html", "pprof", "folded" };

enum {
	OPT_FORMAT = 256,
	OPT_AT,
	OPT_MIN_BLOCK,
	OPT_MAX_USED,
	OPT_TOP,
	OPT_NO_SYMBOLS,
	OPT_LENIENT,
	OPT_TRACE_BLOCK,
	OPT_MAX_RETAINED,
	OPT_MAX_LEAKED,
	OPT_SUPPRESS,
	OPT_SUPPRESSIONS,
	OPT_NO_DEFAULT_SUPPRESSIONS,
	OPT_MAX_REFERENCED,
	OPT_ALLOW_TRUNCATED,
	OPT_METRIC,
	OPT_BASELINE,
	OPT_MAX_INCREASE,
	OPT_TRACE,
	OPT_FULL_NAMES,
	OPT_MAX_OWNER_SIZE,
	OPT_MIN_OWNER_RATIO,
	OPT_MAX_OWNED,
};

static const struct option long_opts[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "at", required_argument, NULL, OPT_AT },
	{ "min-block-size", required_argument, NULL, OPT_MIN_BLOCK },
	{ "max-used-percent", required_argument, NULL, OPT_MAX_USED },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "no-symbols", no_argument, NULL, OPT_NO_SYMBOLS },
	{ "lenient", no_argument, NULL, OPT_LENIENT },
	{ "trace-block", required_argument, NULL, OPT_TRACE_BLOCK },
	{ "max-retained", required_argument, NULL, OPT_MAX_RETAINED },
	{ "max-leaked", required_argument, NULL, OPT_MAX_LEAKED },
	{ "suppress", required_argument, NULL, OPT_SUPPRESS },
	{ "suppressions", required_argument, NULL, OPT_SUPPRESSIONS },
	{ "no-default-suppressions", no_argument, NULL, OPT_NO_DEFAULT_SUPPRESSIONS },
	{ "max-referenced", required_argument, NULL, OPT_MAX_REFERENCED },
	{ "allow-truncated", no_argument, NULL, OPT_ALLOW_TRUNCATED },
	{ "metric", required_argument, NULL, OPT_METRIC },
	{ "baseline", required_argument, NULL, OPT_BASELINE },
	{ "max-increase", required_argument, NULL, OPT_MAX_INCREASE },
	{ "max-owner-size", required_argument, NULL, OPT_MAX_OWNER_SIZE },
	{ "min-owner-ratio", required_argument, NULL, OPT_MIN_OWNER_RATIO },
	{ "max-owned", required_argument, NULL, OPT_MAX_OWNED },
	{ "output", required_argument, NULL, 'o' },
	{ "trace", required_argument, NULL, OPT_TRACE },
	{ "full-names", no_argument, NULL, OPT_FULL_NAMES },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The --help text: commands, options, sizes and exit codes. */
static void usage(FILE *out)
{
	fprintf(out,
		"usage: sliceleak report [--format text|json|html|pprof|folded] [-o FILE]\n"
		"                        [--at end|peak|LABEL] [options] LOG...\n"
		"       sliceleak check --max-retained SIZE [--max-leaked SIZE] [--max-owned SIZE]\n"
		"                       [options] LOG...\n"
		"       sliceleak check --baseline BASE.json [--max-increase SIZE] [options] LOG...\n"
		"       sliceleak diff [--format text|json] [options] BASE NEW\n"
		"       sliceleak run [-o PATTERN] [--trace NAMES] [options] -- CMD ARGS...\n"
		"       sliceleak dump LOG\n"
		"       sliceleak --help | --version | --default-suppressions\n"
		"\n"
		"Finds heap blocks kept alive by small views (the slice-capacity leak), plus\n"
		"leaks, peak heap and allocation hot spots, in the logs of libsliceleak.so.\n"
		"Several logs (a process and its fork children) are analysed together.\n"
		"\n"
		"options:\n"
		"  --format FORMAT          report format: text (default), json (docs/json-schema.md),\n"
		"                           html (one offline page: heap over time, flame graphs;\n"
		"                           needs -o), pprof (gzip'd profile.proto; needs -o),\n"
		"                           folded (flamegraph.pl's collapsed stacks);\n"
		"                           check --format json prints the JSON report, verdict in\n"
		"                           the exit code\n"
		"  --at end|peak|LABEL      evaluate retention at the end (default), at the peak of\n"
		"                           retained bytes, or at the first sliceleak_snapshot(LABEL)\n"
		"  --min-block-size SIZE    smallest block that can be a finding (default 4KiB)\n"
		"  --max-used-percent N     a block using more than N%% of itself is fine (default 25)\n"
		"  --max-owner-size SIZE    owner findings: the largest block that can be an owner\n"
		"                           (default 4KiB)\n"
		"  --min-owner-ratio N      owner findings: an owner retains at least N times its\n"
		"                           own size (default 64)\n"
		"  --metric NAME            folded: the bytes of live, retained, owned, leaked, peak\n"
		"                           or allocated (default) per stack\n"
		"  --top N                  findings (text), leak/peak stacks and hot spots shown\n"
		"                           (default %d; 0 = all; JSON always lists every finding)\n"
		"  --no-symbols             module+offset frames only (deterministic, no file access)\n"
		"  --full-names             C++ names with their template arguments (text elides\n"
		"                           them: std::map<...>::find; JSON always has them whole)\n"
		"  --lenient                analyse a corrupt log up to its first bad record\n"
		"  --trace-block ADDR       say on stderr why the block holding ADDR was kept or\n"
		"                           reported: allocation, free, views, verdict, reachability\n"
		"  --suppress TYPE:PATTERN  hide leak groups (leak:), view/dead-region findings\n"
		"                           (view:) or owner findings (owner:) whose stack has a\n"
		"                           function, file or module matching PATTERN\n"
		"                           (LSan syntax: * wildcard, ^ and $ anchors); repeatable\n"
		"  --suppressions FILE      one TYPE:PATTERN per line, # comments\n",
		DEFAULT_TOP);
	fprintf(out, /* two strings: C11 promises no more than 4095 bytes in one */
		"  --no-default-suppressions  show the runtime's own memory too (libc's stdio\n"
		"                           buffers and NSS tables, libraries' initializers,\n"
		"                           GLib's caches: docs/suppressions.md)\n"
		"  --max-retained SIZE      check: fail when findings retain more than SIZE\n"
		"  --max-leaked SIZE        check: fail when more than SIZE is leaked: unreachable\n"
		"                           at exit (direct + indirect, LeakSanitizer's meaning)\n"
		"  --max-owned SIZE         check: fail when owner findings retain more than SIZE\n"
		"  --max-referenced SIZE    check: fail when more than SIZE is live at exit and\n"
		"                           still referenced\n"
		"  --allow-truncated        check: pass a truncated or (--lenient) corrupt log on\n"
		"                           its figures; by default such a log fails the gate\n"
		"  --baseline BASE.json     check: fail when retained, owned or leaked bytes grew\n"
		"                           over this saved JSON report by more than --max-increase\n"
		"  --max-increase SIZE      check --baseline: the growth allowed (default 0)\n"
		"  -o, --output FILE        report: write the report to FILE (whole or not at all)\n"
		"  -o, --output PATTERN     run: log path pattern for the shim, %%p pid, %%e exe name\n"
		"                           (default %s; keep %%p to get fork children's logs)\n"
		"  --trace NAMES            run: trace only executables named so (comma-separated,\n"
		"                           * wildcard: python3*,app); wrappers such as env,\n"
		"                           timeout, time and shell scripts run untraced\n"
		"SIZE: a number with B, KiB, MiB, GiB (1024) or KB, MB, GB (1000), e.g. 10MiB\n"
		"diff BASE NEW: each a JSON report or a log (BASE-LOG... -- NEW-LOG... for sets);\n"
		"  findings, leak groups and peak contributors that appeared, grew, shrank or\n"
		"  vanished, matched by function and file name (not addresses or lines)\n"
		"\n"
		"exit codes: 0 analysed (and within limits), 1 a limit is exceeded,\n"
		"            2 usage error or an unreadable, corrupt or too-new log;\n"
		"            run: the command's own exit status\n",
		DEFAULT_RUN_OUTPUT);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("sliceleak: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(sliceleak --help lists the options)\n", stderr);
	return SLA_EXIT_ERROR;
}

/* Parses the options of a subcommand. Returns -1 when they are fine, else an exit code. */
static int parse_options(int argc, char **argv, struct cmdline *c)
{
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+o:h", long_opts, NULL)) != -1) {
		uint64_t size;
		char *end;

		switch (opt) {
		case OPT_FORMAT: {
			size_t k = 0, n = sizeof(format_names) / sizeof(*format_names);

			while (k < n && strcmp(optarg, format_names[k]))
				k++;
			if (k == n)
				return usage_error("unknown format '%s' (text, json, html, pprof or folded)",
						   optarg);
			c->format = k;
			c->an.series = c->format == FMT_HTML;
			break;
		}
		case OPT_AT:
			if (!*optarg)
				return usage_error("--at needs end, peak or a snapshot label");
			c->an.at = !strcmp(optarg, "end")    ? SLA_AT_END :
				   !strcmp(optarg, "peak") ? SLA_AT_PEAK :
							     SLA_AT_LABEL;
			c->an.label = optarg;
			break;
		case OPT_MIN_BLOCK:
			if (sla_parse_size(optarg, &c->an.th.min_block_size))
				return usage_error("bad size '%s'", optarg);
			break;
		case OPT_MAX_USED:
			errno = 0;
			c->an.th.max_used_percent = strtod(optarg, &end);
			if (errno || *end || end == optarg || c->an.th.max_used_percent < 0 ||
			    c->an.th.max_used_percent > 100)
				return usage_error("bad percentage '%s' (0 to 100)", optarg);
			break;
		case OPT_TOP:
			errno = 0;
			c->rep.top = (size_t)strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || *optarg == '-')
				return usage_error("bad count '%s'", optarg);
			break;
		case OPT_NO_SYMBOLS:
			c->no_symbols = true;
			break;
		case OPT_TRACE_BLOCK: {
			char *tail;

			errno = 0;
			sla_trace_addr = strtoull(optarg, &tail, 0);
			if (errno || *tail || tail == optarg || !sla_trace_addr)
				return usage_error("bad address '%s'", optarg);
			break;
		}
		case OPT_FULL_NAMES:
			c->rep.full_names = true;
			break;
		case OPT_LENIENT:
			c->an.lenient = true;
			break;
		case OPT_MAX_OWNER_SIZE:
			if (sla_parse_size(optarg, &c->an.th.max_owner_size))
				return usage_error("bad size '%s'", optarg);
			break;
		case OPT_MIN_OWNER_RATIO:
			errno = 0;
			c->an.th.min_owner_ratio = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(c->an.th.min_owner_ratio >= 0))
				return usage_error("bad ratio '%s' (a number, 0 or more)", optarg);
			break;
		case OPT_MAX_RETAINED:
		case OPT_MAX_LEAKED:
		case OPT_MAX_REFERENCED:
		case OPT_MAX_OWNED:
			if (sla_parse_size(optarg, &size))
				return usage_error("bad size '%s'", optarg);
			if (opt == OPT_MAX_RETAINED) {
				c->limits.has_max_retained = true;
				c->limits.max_retained = size;
			} else if (opt == OPT_MAX_OWNED) {
				c->limits.has_max_owned = true;
				c->limits.max_owned = size;
			} else if (opt == OPT_MAX_LEAKED) {
				c->limits.has_max_leaked = true;
				c->limits.max_leaked = size;
			} else {
				c->limits.has_max_referenced = true;
				c->limits.max_referenced = size;
			}
			break;
		case OPT_ALLOW_TRUNCATED:
			c->limits.allow_truncated = true;
			break;
		case OPT_NO_DEFAULT_SUPPRESSIONS:
			c->no_default_suppressions = true;
			break;
		case OPT_SUPPRESS:
			if (sla_suppress_add(&c->supp, optarg) < 0)
				return usage_error("bad suppression '%s' (leak:, view: or owner:PATTERN)",
						   optarg);
			break;
		case OPT_SUPPRESSIONS: {
			size_t line = 0;
			int err = sla_suppress_load(&c->supp, optarg, &line);

			if (err == -EINVAL)
				return usage_error("%s:%zu: not leak:, view: or owner:PATTERN", optarg,
						   line);
			if (err < 0)
				return usage_error("%s: %s", optarg, strerror(-err));
			break;
		}
		case 'o':
			c->output = optarg;
			break;
		case OPT_BASELINE:
			c->baseline = optarg;
			break;
		case OPT_MAX_INCREASE:
			if (sla_parse_size(optarg, &c->max_increase))
				return usage_error("bad size '%s'", optarg);
			break;
		case OPT_METRIC:
			for (c->metric = 0; c->metric < SLA_METRIC_COUNT; c->metric++)
				if (!strcmp(optarg, sla_metric_name[c->metric]))
					break;
			if (c->metric == SLA_METRIC_COUNT)
				return usage_error("unknown metric '%s' (live, retained, owned, leaked, peak or allocated)",
						   optarg);
			break;
		case OPT_TRACE:
			if (!*optarg || strchr(optarg, ':'))
				return usage_error("bad --trace '%s' (names, comma-separated)", optarg);
			c->trace = optarg;
			break;
		case 'h':
			usage(stdout);
			return SLA_EXIT_OK;
		default:
			return usage_error("bad option");
		}
	}
	return -1;
}

/* Whether a file name is a log's: NAME.sllog, or NAME.sllog.N (an exec that reused the name). */
static bool log_name(const char *name)
{
	const char *s = strstr(name, ".sllog");

	if (!s || name[0] == '.')
		return false;
	if (!s[6])
		return true;
	if (s[6] != '.' || !s[7])
		return false;
	return strspn(s + 7, "0123456789") == strlen(s + 7);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The paths with each directory replaced by its logs, sorted: `sliceleak
 * report DIR` reads a whole run's logs whatever the executables were
 * called (python3 runs as python3.11). Free the list and its strings.
 * *empty: a directory held no log (an error: a gate over nothing is no gate).
 */
static char **expand_dirs(char *const *paths, size_t n, size_t *out_n, bool *empty)
{
	char **out = NULL;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		struct dirent **ents;
		struct stat st;
		size_t first = k;
		int m;

		if (stat(paths[i], &st) < 0 || !S_ISDIR(st.st_mode) ||
		    (m = scandir(paths[i], &ents, NULL, NULL)) < 0) {
			out = sla_xrealloc(out, (k + 1) * sizeof(*out));
			out[k++] = sla_xstrndup(paths[i], strlen(paths[i]));
			continue;
		}
		for (int j = 0; j < m; j++) {
			char *path;

			if (log_name(ents[j]->d_name) &&
			    asprintf(&path, "%s/%s", paths[i], ents[j]->d_name) >= 0) {
				out = sla_xrealloc(out, (k + 1) * sizeof(*out));
				out[k++] = path;
			}
			free(ents[j]);
		}
		free(ents);
		qsort(out + first, k - first, sizeof(*out), cmp_str);
		if (k == first) {
			fprintf(stderr, "sliceleak: %s: no *.sllog files in this directory\n", paths[i]);
			*empty = true;
		}
	}
	*out_n = k;
	return out;
}

/* Analyses the logs (a directory: its logs); on failure prints the error and returns false. */
static bool analyse(struct sla_analysis *an, const struct cmdline *c, char *const *paths,
		    size_t n)
{
	char err[512];
	size_t nlogs;
	bool empty = false;
	char **logs = expand_dirs(paths, n, &nlogs, &empty);
	int ret = sla_analysis_run(an, &c->an, logs, nlogs, err, sizeof(err));

	for (size_t i = 0; i < nlogs; i++)
		free(logs[i]);
	free(logs);
	if (empty)
		return false;
	if (ret < 0) {
		fflush(stdout);
		fprintf(stderr, "sliceleak: %s\n", err);
		return false;
	}
	return true;
}

static struct sla_symbolizer *new_symbolizer(const struct cmdline *c)
{
	struct sla_symbolizer *sym = sla_symbolizer_new(c->no_symbols ? SLA_SYM_NONE :
									 SLA_SYM_DWARF);

	if (!sym) {
		fprintf(stderr, "sliceleak: out of memory\n");
		exit(SLA_EXIT_ERROR);
	}
	return sym;
}

/*
 * Applies the suppressions, the user's then the defaults (they need
 * symbols), before anything is printed or gated.
 */
static void suppress(struct sla_analysis *an, struct cmdline *c, struct sla_symbolizer *sym)
{
	if (!c->no_default_suppressions)
		sla_suppress_add_defaults(&c->supp);
	sla_suppress_apply(&c->supp, &an->res, an->set, sym);
	an->res.suppressions = &c->supp;
}

/* Prints the report in the chosen format; false when it could not be written whole. */
static bool print_report(FILE *out, const struct sla_analysis *an, const struct cmdline *c,
			 struct sla_symbolizer *sym)
{
	switch (c->format) {
	case FMT_JSON:
		sla_report_json(out, &an->res, an->set, sym, &c->rep);
		break;
	case FMT_HTML:
		sla_report_html(out, &an->res, an->set, sym, &c->rep);
		break;
	case FMT_PPROF:
		if (sla_report_pprof(out, &an->res, an->set, sym) < 0)
			return false;
		break;
	case FMT_FOLDED:
		sla_report_folded(out, &an->res, an->set, sym, c->metric);
		break;
	case FMT_TEXT:
		sla_report_text(out, &an->res, an->set, sym, &c->rep);
		break;
	}
	return fflush(out) == 0;
}

/*
 * A report written to a file never leaves half a file behind: it goes to a
 * temporary file in the same directory, renamed over `path` once complete.
 * Returns the stream (and *tmp, to free) or NULL after printing why.
 */
static FILE *open_output(const char *path, char **tmp)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	size_t len = strlen(path) + 16;
	mode_t mask = umask(0);
	FILE *f;
	int fd;

	umask(mask);
	*tmp = sla_xmalloc(len);
	snprintf(*tmp, len, "%.*s.%s.XXXXXX", dirlen, path, path + dirlen);
	fd = mkstemp(*tmp);
	if (fd < 0 || fchmod(fd, 0666 & ~mask) < 0 || !(f = fdopen(fd, "w"))) {
		fprintf(stderr, "sliceleak: cannot write %s: %s\n", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(*tmp);
		}
		free(*tmp);
		return NULL;
	}
	return f;
}

/*
 * Completes the file of open_output() (`written`: the report was written
 * whole); false (printed, nothing left behind) on failure.
 */
static bool close_output(FILE *f, char *tmp, const char *path, bool written)
{
	bool ok;

	errno = 0;
	ok = written && !ferror(f);
	ok &= fclose(f) == 0;
	if (ok && rename(tmp, path) < 0)
		ok = false;
	if (!ok) {
		fprintf(stderr, "sliceleak: cannot write %s: %s\n", path, strerror(errno ? errno : EIO));
		unlink(tmp);
	}
	free(tmp);
	return ok;
}

/* `report`: analyse, apply suppressions, print text or JSON; exit 0 or 2. */
static int cmd_report(int argc, char **argv, struct cmdline *c)
{
	struct sla_analysis an;
	struct sla_symbolizer *sym;
	int ret = parse_options(argc, argv, c);

	if (ret >= 0)
		return ret;
	if (optind == argc)
		return usage_error("report needs at least one LOG (or a directory of logs)");
	if ((c->format == FMT_HTML || c->format == FMT_PPROF) && !c->output)
		return usage_error("--format %s needs -o FILE", format_names[c->format]);
	if (c->output) { /* fail before a long analysis, not after it */
		char *tmp;
		FILE *f = open_output(c->output, &tmp);

		if (!f)
			return SLA_EXIT_ERROR;
		fclose(f);
		unlink(tmp);
		free(tmp);
	}
	if (!analyse(&an, c, argv + optind, (size_t)(argc - optind))) {
		sla_analysis_free(&an);
		return SLA_EXIT_ERROR;
	}
	sym = new_symbolizer(c);
	suppress(&an, c, sym);
	if (c->output) {
		char *tmp;
		FILE *f = open_output(c->output, &tmp);

		if (f) {
			bool written = print_report(f, &an, c, sym);

			if (!close_output(f, tmp, c->output, written))
				ret = SLA_EXIT_ERROR;
		} else {
			ret = SLA_EXIT_ERROR;
		}
	} else if (!print_report(stdout, &an, c, sym)) {
		fprintf(stderr, "sliceleak: cannot write the report: %s\n", strerror(errno ? errno : EIO));
		ret = SLA_EXIT_ERROR;
	}
	sla_symbolizer_free(sym);
	sla_analysis_free(&an);
	return ret < 0 ? SLA_EXIT_OK : ret;
}

/* Reads a whole file; NULL (errno set) when it cannot. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		size_t got;

		sla_xgrow(&buf, &cap, *len + 65536, 1);
		got = fread(buf + *len, 1, cap - *len, f);
		*len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* A parsed JSON report from `text`, read into `side`; NULL after printing why (as `name`). */
static struct sla_json *parse_report(const char *name, const char *text, size_t len,
				     struct sla_diff_side *side)
{
	char err[200];
	size_t off = 0;
	struct sla_json *j = sla_json_parse(text, len, &off, err, sizeof(err));

	if (!j) {
		fprintf(stderr, "sliceleak: %s: not a sliceleak JSON report (offset %zu: %s)\n", name,
			off, err);
		return NULL;
	}
	if (sla_diff_side_read(side, j, err, sizeof(err)) < 0) {
		fprintf(stderr, "sliceleak: %s: %s\n", name, err);
		sla_diff_side_free(side);
		sla_json_free(j);
		return NULL;
	}
	return j;
}

/* A saved JSON report (a baseline, a side of a diff); NULL after printing why. */
static struct sla_json *load_report(const char *path, struct sla_diff_side *side)
{
	size_t len;
	char *text = read_file(path, &len);
	struct sla_json *j;

	if (!text) {
		fprintf(stderr, "sliceleak: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	j = parse_report(path, text, len, side);
	free(text);
	return j;
}

/* Whether a file starts like a JSON document (after blanks): a report, not a log. */
static bool looks_like_json(const char *path)
{
	FILE *f = fopen(path, "rb");
	int ch = EOF;

	if (!f)
		return false;
	while ((ch = fgetc(f)) == ' ' || ch == '\n' || ch == '\t' || ch == '\r')
		;
	fclose(f);
	return ch == '{';
}

/* One side of `diff`: a JSON report, or logs analysed now. False after printing why. */
static bool diff_side(char *const *paths, size_t n, struct cmdline *c,
		      struct sla_diff_side *side)
{
	struct sla_analysis an;
	struct sla_symbolizer *sym;

	if (n == 1 && looks_like_json(paths[0])) {
		struct sla_json *j = load_report(paths[0], side);

		sla_json_free(j);
		return j != NULL;
	}
	if (!analyse(&an, c, paths, n)) {
		sla_analysis_free(&an);
		return false;
	}
	sym = new_symbolizer(c);
	suppress(&an, c, sym);
	sla_diff_side_from_results(side, &an.res, an.set, sym);
	sla_symbolizer_free(sym);
	sla_analysis_free(&an);
	return true;
}

/*
 * `diff BASE NEW` (each a JSON report or a log), or `diff BASE... -- NEW...`
 * (sets of logs): what appeared, grew, shrank or vanished. Exit 0 or 2.
 */
static int cmd_diff(int argc, char **argv, struct cmdline *c)
{
	struct sla_diff d = { 0 };
	char **args;
	size_t n, nbase;
	int ret = parse_options(argc, argv, c);

	if (ret >= 0)
		return ret;
	if (c->format != FMT_TEXT && c->format != FMT_JSON)
		return usage_error("diff prints text or json");
	args = argv + optind;
	n = (size_t)(argc - optind);
	for (nbase = 0; nbase < n && strcmp(args[nbase], "--"); nbase++)
		;
	if (nbase == n && n == 2)
		nbase = 1;
	else if (nbase == n || nbase == 0 || nbase + 1 == n)
		return usage_error("diff needs BASE NEW, or BASE-LOG... -- NEW-LOG...");
	if (!diff_side(args, nbase, c, &d.base))
		return SLA_EXIT_ERROR;
	if (!diff_side(args + nbase + (args[nbase][0] == '-'),
		       n - nbase - (args[nbase][0] == '-'), c, &d.new)) {
		sla_diff_side_free(&d.base);
		return SLA_EXIT_ERROR;
	}
	sla_diff_compute(&d);
	if (c->format == FMT_JSON) {
		sla_diff_print_json(stdout, &d, args[0], args[n - 1]);
	} else {
		printf("sliceleak diff: %s -> %s\n", args[0], args[n - 1]);
		sla_diff_print_text(stdout, &d, false);
	}
	fflush(stdout);
	sla_diff_free(&d);
	return SLA_EXIT_OK;
}

/* One line per log analysed only in part, and what the gate makes of it. */
static void print_partial_logs(FILE *out, const struct sla_results *res,
			       const struct sla_limits *l)
{
	const char *verdict = l->allow_truncated ? "accepted (--allow-truncated)" :
						   "the gate fails (--allow-truncated accepts it)";

	for (size_t i = 0; i < res->nlogs; i++) {
		const struct sla_log_info *li = &res->logs[i];

		if (li->corrupt)
			fprintf(out, "CORRUPT: %s: offset %" PRIu64 ": %s: analysed up to its last good record; %s\n",
			       li->path, li->corrupt_offset, li->corrupt_msg, verdict);
		else if (li->truncated)
			fprintf(out, "TRUNCATED: %s: no END record (the process was killed, crashed or called _exit): analysed up to its last complete record; %s\n",
			       li->path, verdict);
	}
}

/*
 * `check --baseline BASE.json`: fails when retained, owned or leaked bytes grew by
 * more than --max-increase (default 0) over the baseline, naming what grew.
 * Also applies --max-retained / --max-leaked when given. Frees the analysis.
 */
static int check_baseline(struct sla_analysis *an, struct cmdline *c, struct sla_symbolizer *sym,
			  struct sla_diff_side *base)
{
	struct sla_diff d = { .base = *base };
	struct sla_verdict v;
	uint64_t inc = c->max_increase;
	bool pass = sla_gate_check(&an->res, &c->limits, &v), retained_grew, owned_grew, leaked_grew;
	char a[32], b[32], x[32], y[32], z[32], o1[32], o2[32];

	sla_diff_side_from_results(&d.new, &an->res, an->set, sym);
	retained_grew = sla_sat_sub(d.new.retained, d.base.retained) > inc;
	owned_grew = sla_sat_sub(d.new.owned, d.base.owned) > inc;
	leaked_grew = sla_sat_sub(d.new.leaked, d.base.leaked) > inc;
	pass = pass && !retained_grew && !owned_grew && !leaked_grew;
	if (c->format == FMT_JSON) {
		print_partial_logs(stderr, &an->res, &c->limits);
		print_report(stdout, an, c, sym);
	} else {
		printf("sliceleak check: %s: retained %s (baseline %s), owned %s (baseline %s), "
		       "leaked %s (baseline %s), increase allowed %s\n",
		       pass ? "OK" : "FAILED", sla_format_size(a, sizeof(a), d.new.retained, 1),
		       sla_format_size(b, sizeof(b), d.base.retained, 1),
		       sla_format_size(o1, sizeof(o1), d.new.owned, 1),
		       sla_format_size(o2, sizeof(o2), d.base.owned, 1),
		       sla_format_size(x, sizeof(x), d.new.leaked, 1),
		       sla_format_size(y, sizeof(y), d.base.leaked, 1),
		       sla_format_size(z, sizeof(z), inc, 1));
		print_partial_logs(stdout, &an->res, &c->limits);
		sla_diff_compute(&d);
		if (retained_grew || owned_grew || leaked_grew) {
			printf("grew over the baseline:\n");
			sla_diff_print_text(stdout, &d, true);
		}
		if (v.retained_exceeded || v.leaked_exceeded || v.referenced_exceeded)
			printf("\nabove --max-retained/--max-leaked/--max-referenced: %s retained, %s leaked, %s still referenced\n",
			       sla_format_size(a, sizeof(a), an->res.retained_bytes, 1),
			       sla_format_size(b, sizeof(b), an->res.leak_bytes, 1),
			       sla_format_size(x, sizeof(x),
					       sla_sat_sub(an->res.exit_bytes, an->res.leak_bytes), 1));
		printf("\n");
		sla_report_text_summary(stdout, &an->res);
	}
	fflush(stdout);
	sla_diff_free(&d);
	sla_symbolizer_free(sym);
	sla_analysis_free(an);
	return pass ? SLA_EXIT_OK : SLA_EXIT_GATE;
}

/*
 * `check`: the CI gate. Prints the verdict, the top offenders of an
 * exceeded limit and the SUMMARY line; exit 0 within limits, 1 above.
 */
static int cmd_check(int argc, char **argv, struct cmdline *c)
{
	struct sla_analysis an;
	struct sla_symbolizer *sym;
	struct sla_verdict v;
	struct sla_diff_side base_side = { 0 };
	struct sla_json *base = NULL;
	char a[32], b[32], x[32];
	bool pass;
	int ret = parse_options(argc, argv, c);

	if (ret >= 0)
		return ret;
	if (c->format != FMT_TEXT && c->format != FMT_JSON)
		return usage_error("check prints text or json");
	if (!c->limits.has_max_retained && !c->limits.has_max_owned && !c->baseline)
		return usage_error("check needs --max-retained SIZE, --max-owned SIZE or --baseline BASE.json");
	if (optind == argc)
		return usage_error("check needs at least one LOG");
	if (c->baseline && !(base = load_report(c->baseline, &base_side)))
		return SLA_EXIT_ERROR;
	if (!analyse(&an, c, argv + optind, (size_t)(argc - optind))) {
		sla_json_free(base);
		sla_diff_side_free(&base_side);
		sla_analysis_free(&an);
		return SLA_EXIT_ERROR;
	}
	sym = new_symbolizer(c);
	suppress(&an, c, sym);
	if (base) {
		sla_json_free(base);
		return check_baseline(&an, c, sym, &base_side);
	}
	pass = sla_gate_check(&an.res, &c->limits, &v);
	if (c->format == FMT_JSON) { /* the whole report for the CI to keep; the verdict is the exit code */
		print_partial_logs(stderr, &an.res, &c->limits);
		print_report(stdout, &an, c, sym);
		sla_symbolizer_free(sym);
		sla_analysis_free(&an);
		return pass ? SLA_EXIT_OK : SLA_EXIT_GATE;
	}
	printf("sliceleak check: %s: %s retained", pass ? "OK" : "FAILED",
	       sla_format_size(a, sizeof(a), an.res.retained_bytes, 1));
	if (c->limits.has_max_retained)
		printf(" (limit %s)", sla_format_size(b, sizeof(b), c->limits.max_retained, 1));
	if (c->limits.has_max_owned)
		printf(", %s owned (limit %s)", sla_format_size(a, sizeof(a), an.res.owned_bytes, 1),
		       sla_format_size(b, sizeof(b), c->limits.max_owned, 1));
	printf(", %s leaked", sla_format_size(a, sizeof(a), sla_results_gated_leak(&an.res), 1));
	if (c->limits.has_max_leaked)
		printf(" (limit %s)", sla_format_size(b, sizeof(b), c->limits.max_leaked, 1));
	printf(", %s still referenced",
	       sla_format_size(a, sizeof(a), sla_results_gated_referenced(&an.res), 1));
	if (c->limits.has_max_referenced)
		printf(" (limit %s)", sla_format_size(b, sizeof(b), c->limits.max_referenced, 1));
	printf("\n");
	if (an.res.sampled)
		printf("sampled: the leak figures above are the blocks recorded exactly (of at least exact_bytes), what the limits compare; over all blocks they are estimates: %s leaked (standard error %s), %s still referenced\n",
		       sla_format_size(a, sizeof(a), an.res.leak_bytes, 1),
		       sla_format_size(b, sizeof(b), (uint64_t)sqrt(an.res.leak_var), 1),
		       sla_format_size(x, sizeof(x),
				       sla_sat_sub(an.res.exit_bytes, an.res.leak_bytes), 1));
	print_partial_logs(stdout, &an.res, &c->limits);
	printf("\n");
	if (v.retained_exceeded)
		sla_report_text_findings(stdout, &an.res, an.set, sym, c->rep.top ? c->rep.top : 5,
					 false, c->rep.full_names);
	if (v.owned_exceeded)
		sla_report_text_findings(stdout, &an.res, an.set, sym, c->rep.top ? c->rep.top : 5,
					 true, c->rep.full_names);
	if (v.leaked_exceeded || v.referenced_exceeded)
		sla_report_text_leaks(stdout, &an.res, an.set, sym, c->rep.top ? c->rep.top : 5,
				      c->rep.full_names);
	sla_report_text_summary(stdout, &an.res);
	fflush(stdout);
	sla_symbolizer_free(sym);
	sla_analysis_free(&an);
	return pass ? SLA_EXIT_OK : SLA_EXIT_GATE;
}

/* Runs the command under the shim, reports its logs, passes its exit status through. */
static int cmd_run(int argc, char **argv, struct cmdline *c)
{
	struct sla_run run;
	int ret = parse_options(argc, argv, c);

	if (ret >= 0)
		return ret;
	if (optind == argc)
		return usage_error("run needs a command: sliceleak run -- CMD ARGS...");
	if (c->format != FMT_TEXT && c->format != FMT_JSON)
		return usage_error("run prints text or json");
	ret = sla_run_command(argv + optind, c->output ? c->output : DEFAULT_RUN_OUTPUT, c->trace,
			      &run);
	if (ret < 0) {
		fprintf(stderr, "sliceleak: cannot start %s: %s\n", argv[optind], strerror(-ret));
		return SLA_EXIT_ERROR;
	}
	/* what was left out, on stderr; the report on stdout, after the command's output */
	for (size_t i = 0; i < run.nskipped; i++)
		fprintf(stderr, "sliceleak run: skipped %s\n", run.skipped[i]);
	if (run.nuntraced) {
		fprintf(stderr, "sliceleak run: not traced (--trace %s):", c->trace);
		for (size_t i = 0; i < run.nuntraced; i++)
			fprintf(stderr, "%s %s", i ? "," : "", run.untraced[i]);
		fputc('\n', stderr);
	}
	if (!run.nlogs && (run.status == 126 || run.status == 127)) {
		fprintf(stderr, "sliceleak: %s did not start: no log\n", argv[optind]);
	} else if (!run.nlogs) {
		fprintf(stderr, "sliceleak: %s wrote no log (is %s there and readable?)\n",
			argv[optind], sla_run_shim_path());
	} else {
		struct sla_analysis an;

		fflush(stderr);
		if (analyse(&an, c, run.logs, run.nlogs)) {
			struct sla_symbolizer *sym = new_symbolizer(c);

			suppress(&an, c, sym);
			print_report(stdout, &an, c, sym);
			sla_symbolizer_free(sym);
		}
		sla_analysis_free(&an);
	}
	ret = run.status;
	sla_run_free(&run);
	return ret;
}

/* Reports a reader error the agreed way: "sliceleak: <path>: offset <n>: <problem>". */
static void print_reader_error(const struct sla_reader *r, int err)
{
	char msg[PATH_MAX + 256];

	sla_reader_describe(r, err, msg, sizeof(msg));
	fprintf(stderr, "sliceleak: %s\n", msg);
}

/* `dump`: every record as a line (dump.h); exit 2 on a corrupt log. */
static int cmd_dump(int argc, char **argv)
{
	struct sla_reader r;
	int err;

	if (argc != 2 || argv[1][0] == '-')
		return usage_error("dump takes exactly one LOG");
	err = sla_reader_open(&r, argv[1]);
	if (err == 0)
		err = sla_dump_log(stdout, &r);
	fflush(stdout);
	if (err < 0)
		print_reader_error(&r, err);
	sla_reader_close(&r);
	return err < 0 ? SLA_EXIT_ERROR : SLA_EXIT_OK;
}

/* Dispatches the subcommand; owns the options and frees them. */
int main(int argc, char **argv)
{
	struct cmdline c = {
		.an = { .at = SLA_AT_END,
			.label = "end",
			.th = SLA_THRESHOLDS_DEFAULT },
		.rep = { .top = DEFAULT_TOP },
		.metric = SLA_METRIC_ALLOCATED,
	};
	const char *cmd = argc > 1 ? argv[1] : "";
	int ret;

	if (argc < 2) {
		usage(stderr);
		return SLA_EXIT_ERROR;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return SLA_EXIT_OK;
	}
	if (!strcmp(cmd, "--default-suppressions")) {
		fputs(sla_default_suppressions, stdout);
		return SLA_EXIT_OK;
	}
	if (!strcmp(cmd, "--version")) {
		printf("sliceleak %s (log format %u.%u)\n", SLA_VERSION, SLF_VERSION_MAJOR,
		       SLF_VERSION_MINOR);
		return SLA_EXIT_OK;
	}
	if (!strcmp(cmd, "report"))
		ret = cmd_report(argc - 1, argv + 1, &c);
	else if (!strcmp(cmd, "check"))
		ret = cmd_check(argc - 1, argv + 1, &c);
	else if (!strcmp(cmd, "diff"))
		ret = cmd_diff(argc - 1, argv + 1, &c);
	else if (!strcmp(cmd, "run"))
		ret = cmd_run(argc - 1, argv + 1, &c);
	else if (!strcmp(cmd, "dump"))
		ret = cmd_dump(argc - 1, argv + 1);
	else
		ret = usage_error("unknown command '%s'", cmd);
	sla_suppress_free(&c.supp);
	return ret;
}
