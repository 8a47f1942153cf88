/* analyzer/util/trace.c - why one block was kept or reported (trace.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "trace.h"

uint64_t sla_trace_addr;

void sla_trace(uint64_t addr, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sliceleak: trace 0x%" PRIx64 ": ", addr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
