/*
 * analyzer/cli/main.c - the `sliceleak` command line: subcommands, options and
 * exit codes. Everything else lives in the modules it calls.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sliceleak/format.h>

#include "analysis.h"
#include "dump.h"
#include "gate.h"
#include "reader.h"
#include "report.h"
#include "run.h"
#include "suppress.h"
#include "symbolize.h"
#include "units.h"

/* The only place that knows about process exit codes. */
enum {
	SLA_EXIT_OK = 0,    /* analysed; gate (if any) passed */
	SLA_EXIT_GATE = 1,  /* analysed; gate failed: CI goes red */
	SLA_EXIT_ERROR = 2, /* usage error, unreadable, corrupt or too-new log */
};

#define DEFAULT_TOP 10
#define DEFAULT_RUN_OUTPUT "sliceleak.%e.%p.sllog"

/* Everything the options of report, check and run can set. */
struct cmdline {
	struct sla_analysis_opts an;
	struct sla_report_opts rep;
	struct sla_limits limits;
	struct sla_suppressions supp;
	bool json;
	bool no_symbols;
	const char *output; /* run -o */
};

enum {
	OPT_FORMAT = 256,
	OPT_AT,
	OPT_MIN_BLOCK,
	OPT_MAX_USED,
	OPT_TOP,
	OPT_NO_SYMBOLS,
	OPT_LENIENT,
	OPT_MAX_RETAINED,
	OPT_MAX_LEAKED,
	OPT_SUPPRESS,
	OPT_SUPPRESSIONS,
};

static const struct option long_opts[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "at", required_argument, NULL, OPT_AT },
	{ "min-block-size", required_argument, NULL, OPT_MIN_BLOCK },
	{ "max-used-percent", required_argument, NULL, OPT_MAX_USED },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "no-symbols", no_argument, NULL, OPT_NO_SYMBOLS },
	{ "lenient", no_argument, NULL, OPT_LENIENT },
	{ "max-retained", required_argument, NULL, OPT_MAX_RETAINED },
	{ "max-leaked", required_argument, NULL, OPT_MAX_LEAKED },
	{ "suppress", required_argument, NULL, OPT_SUPPRESS },
	{ "suppressions", required_argument, NULL, OPT_SUPPRESSIONS },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The --help text: commands, options, sizes and exit codes. */
static void usage(FILE *out)
{
	fprintf(out,
		"usage: sliceleak report [--format text|json] [--at end|peak|LABEL] [options] LOG...\n"
		"       sliceleak check --max-retained SIZE [--max-leaked SIZE] [options] LOG...\n"
		"       sliceleak run [-o PATTERN] [options] -- CMD ARGS...\n"
		"       sliceleak dump LOG\n"
		"       sliceleak --help | --version\n"
		"\n"
		"Finds heap blocks kept alive by small views (the slice-capacity leak), plus\n"
		"leaks, peak heap and allocation hot spots, in the logs of libsliceleak.so.\n"
		"Several logs (a process and its fork children) are analysed together.\n"
		"\n"
		"options:\n"
		"  --format text|json       report format (default text; JSON: docs/json-schema.md);\n"
		"                           check --format json prints the JSON report, verdict in\n"
		"                           the exit code\n"
		"  --at end|peak|LABEL      evaluate retention at the end (default), at the peak of\n"
		"                           retained bytes, or at the first sliceleak_snapshot(LABEL)\n"
		"  --min-block-size SIZE    smallest block that can be a finding (default 4KiB)\n"
		"  --max-used-percent N     a block using more than N%% of itself is fine (default 25)\n"
		"  --top N                  findings (text), leak/peak stacks and hot spots shown\n"
		"                           (default %d; 0 = all; JSON always lists every finding)\n"
		"  --no-symbols             module+offset frames only (deterministic, no file access)\n"
		"  --lenient                analyse a corrupt log up to its first bad record\n"
		"  --suppress TYPE:PATTERN  hide leak groups (leak:) or findings (view:) whose stack\n"
		"                           has a function, file or module matching PATTERN\n"
		"                           (LSan syntax: * wildcard, ^ and $ anchors); repeatable\n"
		"  --suppressions FILE      one TYPE:PATTERN per line, # comments\n"
		"  --max-retained SIZE      check: fail when findings retain more than SIZE\n"
		"  --max-leaked SIZE        check: fail when more than SIZE is leaked at exit\n"
		"  -o, --output PATTERN     run: log path pattern for the shim, %%p pid, %%e exe name\n"
		"                           (default %s; keep %%p to get fork children's logs)\n"
		"SIZE: a number with B, KiB, MiB, GiB (1024) or KB, MB, GB (1000), e.g. 10MiB\n"
		"\n"
		"exit codes: 0 analysed (and within limits), 1 a limit is exceeded,\n"
		"            2 usage error or an unreadable, corrupt or too-new log;\n"
		"            run: the command's own exit status\n",
		DEFAULT_TOP, DEFAULT_RUN_OUTPUT);
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
		case OPT_FORMAT:
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				return usage_error("unknown format '%s' (text or json)", optarg);
			c->json = !strcmp(optarg, "json");
			break;
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
		case OPT_LENIENT:
			c->an.lenient = true;
			break;
		case OPT_MAX_RETAINED:
		case OPT_MAX_LEAKED:
			if (sla_parse_size(optarg, &size))
				return usage_error("bad size '%s'", optarg);
			if (opt == OPT_MAX_RETAINED) {
				c->limits.has_max_retained = true;
				c->limits.max_retained = size;
			} else {
				c->limits.has_max_leaked = true;
				c->limits.max_leaked = size;
			}
			break;
		case OPT_SUPPRESS:
			if (sla_suppress_add(&c->supp, optarg) < 0)
				return usage_error("bad suppression '%s' (leak:PATTERN or view:PATTERN)",
						   optarg);
			break;
		case OPT_SUPPRESSIONS: {
			size_t line = 0;
			int err = sla_suppress_load(&c->supp, optarg, &line);

			if (err == -EINVAL)
				return usage_error("%s:%zu: not leak:PATTERN or view:PATTERN", optarg,
						   line);
			if (err < 0)
				return usage_error("%s: %s", optarg, strerror(-err));
			break;
		}
		case 'o':
			c->output = optarg;
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

/* Analyses the logs; on failure prints the error and returns false. */
static bool analyse(struct sla_analysis *an, const struct cmdline *c, char *const *paths,
		    size_t n)
{
	char err[512];

	if (sla_analysis_run(an, &c->an, paths, n, err, sizeof(err)) < 0) {
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

/* Applies the suppressions (they need symbols) before anything is printed or gated. */
static void suppress(struct sla_analysis *an, struct cmdline *c, struct sla_symbolizer *sym)
{
	sla_suppress_apply(&c->supp, &an->res, an->set, sym);
	an->res.suppressions = &c->supp;
}

static void print_report(FILE *out, const struct sla_analysis *an, const struct cmdline *c,
			 struct sla_symbolizer *sym)
{
	if (c->json)
		sla_report_json(out, &an->res, an->set, sym, &c->rep);
	else
		sla_report_text(out, &an->res, an->set, sym, &c->rep);
	fflush(out);
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
		return usage_error("report needs at least one LOG");
	if (!analyse(&an, c, argv + optind, (size_t)(argc - optind))) {
		sla_analysis_free(&an);
		return SLA_EXIT_ERROR;
	}
	sym = new_symbolizer(c);
	suppress(&an, c, sym);
	print_report(stdout, &an, c, sym);
	sla_symbolizer_free(sym);
	sla_analysis_free(&an);
	return SLA_EXIT_OK;
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
	char a[32], b[32];
	bool pass;
	int ret = parse_options(argc, argv, c);

	if (ret >= 0)
		return ret;
	if (!c->limits.has_max_retained)
		return usage_error("check needs --max-retained SIZE");
	if (optind == argc)
		return usage_error("check needs at least one LOG");
	if (!analyse(&an, c, argv + optind, (size_t)(argc - optind))) {
		sla_analysis_free(&an);
		return SLA_EXIT_ERROR;
	}
	sym = new_symbolizer(c);
	suppress(&an, c, sym);
	pass = sla_gate_check(&an.res, &c->limits, &v);
	if (c->json) { /* the whole report for the CI to keep; the verdict is the exit code */
		print_report(stdout, &an, c, sym);
		sla_symbolizer_free(sym);
		sla_analysis_free(&an);
		return pass ? SLA_EXIT_OK : SLA_EXIT_GATE;
	}
	printf("sliceleak check: %s: %s retained (limit %s)", pass ? "OK" : "FAILED",
	       sla_format_size(a, sizeof(a), an.res.retained_bytes, 1),
	       sla_format_size(b, sizeof(b), c->limits.max_retained, 1));
	if (c->limits.has_max_leaked)
		printf(", %s leaked (limit %s)", sla_format_size(a, sizeof(a), an.res.leak_bytes, 1),
		       sla_format_size(b, sizeof(b), c->limits.max_leaked, 1));
	printf("\n\n");
	if (v.retained_exceeded)
		sla_report_text_findings(stdout, &an.res, an.set, sym, c->rep.top ? c->rep.top : 5);
	if (v.leaked_exceeded)
		printf("leaked: %s in %llu blocks (sliceleak report lists their stacks)\n\n",
		       sla_format_size(a, sizeof(a), an.res.leak_bytes, 1),
		       (unsigned long long)an.res.leak_blocks);
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
	ret = sla_run_command(argv + optind, c->output ? c->output : DEFAULT_RUN_OUTPUT, &run);
	if (ret < 0) {
		fprintf(stderr, "sliceleak: cannot start %s: %s\n", argv[optind], strerror(-ret));
		return SLA_EXIT_ERROR;
	}
	if (!run.nlogs) {
		fprintf(stderr, "sliceleak: %s wrote no log (is %s there and readable?)\n",
			argv[optind], sla_run_shim_path());
	} else {
		struct sla_analysis an;

		/* the report goes to stderr: the command's stdout stays its own */
		if (analyse(&an, c, run.logs, run.nlogs)) {
			struct sla_symbolizer *sym = new_symbolizer(c);

			suppress(&an, c, sym);
			print_report(stderr, &an, c, sym);
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
	if (err == -EBADMSG || err == -EPROTONOSUPPORT)
		fprintf(stderr, "sliceleak: %s: offset %llu: %s\n", r->name,
			(unsigned long long)r->err_offset, r->err_msg);
	else
		fprintf(stderr, "sliceleak: %s: %s\n", r->name, r->err_msg);
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
			.th = { SLA_DEFAULT_MIN_BLOCK_SIZE, SLA_DEFAULT_MAX_USED_PERCENT } },
		.rep = { .top = DEFAULT_TOP },
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
	if (!strcmp(cmd, "--version")) {
		printf("sliceleak %s (log format %u.%u)\n", SLA_VERSION, SLF_VERSION_MAJOR,
		       SLF_VERSION_MINOR);
		return SLA_EXIT_OK;
	}
	if (!strcmp(cmd, "report"))
		ret = cmd_report(argc - 1, argv + 1, &c);
	else if (!strcmp(cmd, "check"))
		ret = cmd_check(argc - 1, argv + 1, &c);
	else if (!strcmp(cmd, "run"))
		ret = cmd_run(argc - 1, argv + 1, &c);
	else if (!strcmp(cmd, "dump"))
		ret = cmd_dump(argc - 1, argv + 1);
	else
		ret = usage_error("unknown command '%s'", cmd);
	sla_suppress_free(&c.supp);
	return ret;
}
