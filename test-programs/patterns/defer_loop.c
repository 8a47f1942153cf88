/*
 * defer_loop - the Go "defer in a loop" mistake: a report exporter
 * defers the release of each report's buffer to the end of the function, as
 * Go's defer does, so memory grows with the number of reports although one
 * buffer at a time is needed. Nothing leaks; the peak is the problem.
 *
 * Variants:
 *   leaky   every buffer is freed when the whole export ends (a defer list):
 *           at the peak, all count buffers are alive at once.
 *   scoped  the Go original's fix, one function call per report (the closure):
 *           each buffer is freed before the next is rendered.
 *
 * USAGE: defer_loop leaky|scoped [count] [size]
 * PARAMS: count=1000 size=1048576
 * EXPECT *: findings=0
 * EXPECT *: leak function=render_report blocks=0
 * EXPECT leaky: peak function=render_report blocks=count bytes=count*size
 * EXPECT leaky: peak bytes>=count*size
 * EXPECT scoped: peak function=render_report blocks=1 bytes=size
 * EXPECT *: hotspot function=render_report allocations=count bytes=count*size
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern_args.h"

#define USAGE "defer_loop leaky|scoped [count] [size]"

enum variant { V_LEAKY, V_SCOPED };

static const char *const variant_names[] = { "leaky", "scoped", NULL };

/* Go's defer stack for one function: the buffers to free when it returns. */
struct defer_list {
	void **items;
	size_t len, cap;
};

/* defer free(p) */
static void defer_free(struct defer_list *d, void *p)
{
	if (d->len == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		void **items = realloc(d->items, cap * sizeof(*items));

		if (!items)
			pattern_die("realloc");
		d->items = items;
		d->cap = cap;
	}
	d->items[d->len++] = p;
}

/* The deferred calls run, last in first out, when the function returns. */
static void defer_run(struct defer_list *d)
{
	while (d->len)
		free(d->items[--d->len]);
	free(d->items);
	d->items = NULL;
	d->cap = 0;
}

/* Renders report number id into a new buffer of size bytes. */
static char *render_report(size_t id, size_t size)
{
	char *buf = malloc(size); /* ALLOC-SITE report */

	if (!buf)
		pattern_die("malloc");
	memset(buf, ' ', size);
	snprintf(buf, size, "report %zu\n", id);
	buf[size - 1] = '\n';
	return buf;
}

/* "Writes" a report: a checksum stands in for the file. */
static uint64_t write_report(const char *buf, size_t size)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < size; i += 512)
		sum = sum * 31 + (unsigned char)buf[i];
	return sum;
}

/* The Go original's writeManyFiles with defer f.Close() inside the loop. */
static uint64_t export_reports_deferred(size_t count, size_t size)
{
	struct defer_list d = { NULL, 0, 0 };
	uint64_t sum = 0;

	for (size_t id = 0; id < count; id++) {
		char *buf = render_report(id, size);

		defer_free(&d, buf);
		sum += write_report(buf, size);
	}
	defer_run(&d);
	return sum;
}

/* The fix: the loop body is a function of its own, its defer runs per report. */
static uint64_t export_one(size_t id, size_t size)
{
	char *buf = render_report(id, size);
	uint64_t sum = write_report(buf, size);

	free(buf);
	return sum;
}

int main(int argc, char **argv)
{
	enum variant v = (enum variant)pattern_variant(argc, argv, variant_names, USAGE);
	size_t count = pattern_size(argc, argv, 2, 1000, USAGE);
	size_t size = pattern_size(argc, argv, 3, 1048576, USAGE);
	uint64_t sum = 0;

	if (size < 32)
		pattern_usage(USAGE);
	if (v == V_LEAKY) {
		sum = export_reports_deferred(count, size);
	} else {
		for (size_t id = 0; id < count; id++)
			sum += export_one(id, size);
	}
	printf("exported %zu reports of %zu bytes, checksum %llu\n", count, size,
	       (unsigned long long)sum);
	return 0;
}
