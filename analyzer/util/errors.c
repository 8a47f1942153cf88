/* analyzer/util/errors.c - the one way out below the command line (errors.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "errors.h"

void sla_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("sliceleak: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(SLA_EXIT_ERROR);
}

void sla_assert_fail(const char *cond, const char *file, int line)
{
	fflush(stdout);
	fprintf(stderr, "sliceleak: internal error: %s:%d: %s does not hold\n", file, line, cond);
	abort();
}
