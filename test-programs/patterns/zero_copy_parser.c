/*
 * zero_copy_parser - the same disease outside libslice: an HTTP access
 * counter parses each request in place, in its receive buffer, and its
 * per-host table keeps the Host header as a string view into that buffer
 * (zero copy). A view holds a reference to its buffer, so one 22-byte host
 * name keeps a whole receive buffer alive. The buffer code declares its views
 * with the annotation API (sliceleak/annotate.h), a no-op without the shim.
 *
 * Every host sends two requests; the first one adds the host to the table.
 *
 * Variants:
 *   leaky  the table keeps the zero-copy view: one receive buffer (size
 *          bytes) per host stays alive.
 *   copy   the table keeps a copy of the host name: every buffer is freed
 *          once its request is counted.
 *
 * The process exits with its table held.
 *
 * USAGE: zero_copy_parser leaky|copy [hosts] [size]
 * PARAMS: hosts=500 size=65536
 * DEFINE: host=22
 * EXPECT leaky: findings=1
 * EXPECT leaky: finding blocks=hosts views=hosts used_bytes=hosts*host \
 *	block_bytes~hosts*size retained_bytes~hosts*(size-host) \
 *	view_function=hosts_count view_site=host-view alloc_function=rxbuf_new \
 *	alloc_site=rxbuf
 * EXPECT leaky: leak function=rxbuf_new blocks=hosts bytes~hosts*size
 * EXPECT copy: findings=0
 * EXPECT copy: leak function=rxbuf_new blocks=0
 * EXPECT *: hotspot function=rxbuf_new allocations=2*hosts
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sliceleak/annotate.h>

#include "pattern_args.h"

#define USAGE "zero_copy_parser leaky|copy [hosts] [size]"
#define HOST_FMT "host%06zu.example.net"
#define HOST_LEN 22 /* strlen of HOST_FMT's output for hosts below a million */

enum variant { V_LEAKY, V_COPY };

static const char *const variant_names[] = { "leaky", "copy", NULL };

/* A refcounted receive buffer: the header and the bytes in one heap block. */
struct rxbuf {
	unsigned refs; /* the receiver's, plus one per string view */
	size_t len;    /* bytes received */
	char data[];
};

/* A string inside a receive buffer; holds a reference to the buffer. */
struct strview {
	const char *ptr;
	size_t len;
	struct rxbuf *buf; /* NULL: ptr is a heap copy owned by the view */
};

/* One host of the table. */
struct host_entry {
	struct strview name;
	unsigned long hits;
};

/*
 * The per-host table: an array searched linearly. Its capacity is fixed: the
 * entries' addresses own the annotated views, so the entries never move.
 */
struct host_table {
	struct host_entry *entries;
	size_t len, cap;
};

/* A new buffer of size bytes with one reference, the receiver's. */
static struct rxbuf *rxbuf_new(size_t size)
{
	struct rxbuf *b = malloc(sizeof(*b) + size); /* ALLOC-SITE rxbuf */

	if (!b)
		pattern_die("malloc");
	b->refs = 1;
	b->len = size;
	return b;
}

/* Drops one reference; the last one frees the buffer. */
static void rxbuf_put(struct rxbuf *b)
{
	if (--b->refs == 0)
		free(b);
}

/* Makes *v a view of [ptr, ptr+len) in b, holding a reference to b. */
static void strview_hold(struct strview *v, struct rxbuf *b, const char *ptr, size_t len)
{
	b->refs++;
	v->ptr = ptr;
	v->len = len;
	v->buf = b;
	SLICELEAK_VIEW_ACQUIRE(v, ptr, len);
}

/* Makes *v an owning copy of [ptr, ptr+len): no reference to any buffer. */
static void strview_copy(struct strview *v, const char *ptr, size_t len)
{
	char *copy = malloc(len);

	if (!copy)
		pattern_die("malloc");
	memcpy(copy, ptr, len);
	v->ptr = copy;
	v->len = len;
	v->buf = NULL;
}

/* Simulates receiving request seq from host: headers, then a body to size. */
static struct rxbuf *receive_request(size_t host, size_t seq, size_t size)
{
	struct rxbuf *b = rxbuf_new(size);
	int n = snprintf(b->data, size,
			 "GET /items/%zu HTTP/1.1\r\nHost: " HOST_FMT "\r\n"
			 "User-Agent: pattern/1.0\r\nContent-Length: 0\r\n\r\n",
			 seq, host);

	if (n < 0 || (size_t)n >= size)
		pattern_usage(USAGE);
	memset(b->data + n, 'x', size - (size_t)n);
	return b;
}

/* Finds the Host header's value in place; returns 0 and sets *ptr, *len. */
static int parse_host(const struct rxbuf *b, const char **ptr, size_t *len)
{
	const char *h = memmem(b->data, b->len, "\r\nHost: ", 8);
	const char *end;

	if (!h)
		return -1;
	h += 8;
	end = memmem(h, b->len - (size_t)(h - b->data), "\r\n", 2);
	if (!end)
		return -1;
	*ptr = h;
	*len = (size_t)(end - h);
	return 0;
}

/* Counts a request of the host named [ptr, ptr+len) in b. */
static void hosts_count(struct host_table *t, struct rxbuf *b, const char *ptr, size_t len,
			enum variant v)
{
	struct host_entry *e;

	for (size_t i = 0; i < t->len; i++) {
		e = &t->entries[i];
		if (e->name.len == len && memcmp(e->name.ptr, ptr, len) == 0) {
			e->hits++;
			return;
		}
	}
	if (t->len == t->cap) {
		fprintf(stderr, "zero_copy_parser: host table full\n");
		exit(1);
	}
	e = &t->entries[t->len++];
	e->hits = 1;
	if (v == V_LEAKY)
		strview_hold(&e->name, b, ptr, len); /* VIEW-SITE host-view */
	else
		strview_copy(&e->name, ptr, len);
}

int main(int argc, char **argv)
{
	enum variant v = (enum variant)pattern_variant(argc, argv, variant_names, USAGE);
	size_t hosts = pattern_size(argc, argv, 2, 500, USAGE);
	size_t size = pattern_size(argc, argv, 3, 65536, USAGE);
	struct host_table t = { NULL, 0, 0 };
	unsigned long hits = 0;

	if (hosts >= 1000000)
		pattern_usage(USAGE);
	t.entries = malloc(hosts * sizeof(*t.entries));
	if (!t.entries)
		pattern_die("malloc");
	t.cap = hosts;
	for (size_t seq = 0; seq < 2 * hosts; seq++) {
		struct rxbuf *b = receive_request(seq % hosts, seq, size);
		const char *host;
		size_t len;

		if (parse_host(b, &host, &len) || len != HOST_LEN)
			pattern_die("parse_host");
		hosts_count(&t, b, host, len, v);
		rxbuf_put(b); /* the receiver is done with the buffer */
	}
	for (size_t i = 0; i < t.len; i++)
		hits += t.entries[i].hits;
	printf("%zu requests of %zu bytes from %zu hosts, %lu counted\n", 2 * hosts, size, t.len,
	       hits);
	return 0;
}
