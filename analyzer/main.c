/*
 * analyzer/main.c - the `sliceleak` command line: subcommands, options and
 * exit codes. Everything else lives in the modules it calls.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sliceleak/format.h>

#include "dump.h"
#include "reader.h"

/* The only place that knows about process exit codes. */
enum {
	SLA_EXIT_OK = 0,    /* analysed; gate (if any) passed */
	SLA_EXIT_GATE = 1,  /* analysed; gate failed: CI goes red */
	SLA_EXIT_ERROR = 2, /* usage error, unreadable, corrupt or too-new log */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sliceleak report [--format text|json] [--at end|peak|LABEL] [options] LOG...\n"
		"       sliceleak check --max-retained SIZE [--max-leaked SIZE] [options] LOG...\n"
		"       sliceleak run [-o PATH] -- CMD ARGS...\n"
		"       sliceleak dump LOG\n"
		"       sliceleak --help | --version\n"
		"\n"
		"exit codes: 0 analysed (and within limits), 1 a limit is exceeded,\n"
		"            2 usage error or an unreadable, corrupt or too-new log\n");
}

/* Reports a reader error the agreed way: "sliceleak: <path>: offset <n>: <problem>". */
static void print_reader_error(const struct sla_reader *r)
{
	fprintf(stderr, "sliceleak: %s: offset %llu: %s\n", r->name,
		(unsigned long long)r->err_offset, r->err_msg);
}

static int cmd_dump(int argc, char **argv)
{
	struct sla_reader r;
	int err;

	if (argc != 2) {
		fprintf(stderr, "sliceleak: dump takes exactly one LOG\n");
		return SLA_EXIT_ERROR;
	}
	err = sla_reader_open(&r, argv[1]);
	if (err == 0)
		err = sla_dump_log(stdout, &r);
	fflush(stdout);
	if (err < 0)
		print_reader_error(&r);
	sla_reader_close(&r);
	return err < 0 ? SLA_EXIT_ERROR : SLA_EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return SLA_EXIT_ERROR;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return SLA_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("sliceleak %s (log format %u.%u)\n", SLA_VERSION, SLF_VERSION_MAJOR,
		       SLF_VERSION_MINOR);
		return SLA_EXIT_OK;
	}
	if (!strcmp(argv[1], "dump"))
		return cmd_dump(argc - 1, argv + 1);
	fprintf(stderr, "sliceleak: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return SLA_EXIT_ERROR;
}
