/*
 * substring - the Go substring leak: a log indexer keeps the
 * first 50 bytes (the trace id) of each 1 MB chunk of log text, and s[:50]
 * keeps the whole chunk alive.
 *
 * Variants:
 *   leaky  trace id = text[:50] (sl_sub): every chunk stays alive.
 *   clone  trace id = a clone of text[:50] (sl_clone, Go's strings.Clone or
 *          string([]byte(s[:50]))): each chunk is freed once indexed.
 *
 * The process exits with its index of trace ids held.
 *
 * USAGE: substring leaky|clone [count] [size]
 * PARAMS: count=1 size=1048576
 * EXPECT leaky: findings=1
 * EXPECT leaky: finding blocks=count views=count used_bytes=count*50 \
 *	block_bytes~count*size retained_bytes~count*(size-50) \
 *	view_function=first_trace_id view_site=trace-id alloc_function=read_chunk \
 *	alloc_site=chunk
 * EXPECT leaky: leak function=read_chunk blocks=count bytes~count*size
 * EXPECT clone: findings=0
 * EXPECT clone: leak function=read_chunk blocks=0
 * EXPECT clone: leak function=first_trace_id blocks=count
 */
#include <stdio.h>
#include <string.h>

#include <sliceleak/slice.h>

#include "pattern_args.h"

#define USAGE "substring leaky|clone [count] [size]"
#define TRACE_ID_LEN 50

enum variant { V_LEAKY, V_CLONE };

static const char *const variant_names[] = { "leaky", "clone", NULL };

/*
 * Simulates reading chunk number seq of an access log: size bytes of text,
 * lines starting with a 50-character trace id.
 */
static sl_slice read_chunk(size_t seq, size_t size)
{
	sl_slice text = sl_make(1, size, size); /* ALLOC-SITE chunk */
	char line[128];
	size_t off = 0;

	if (!text.ptr)
		pattern_die("sl_make");
	for (size_t n = 0; off < size; n++) {
		int len = snprintf(line, sizeof(line),
				   "%016zx-%016zx-%016zx GET /api/v1/items/%zu 200\n", seq, n,
				   seq * 31 + n, n);
		size_t take = size - off < (size_t)len ? size - off : (size_t)len;

		memcpy((char *)text.ptr + off, line, take);
		off += take;
	}
	return text;
}

/* The trace id of the chunk's first line: a substring of the chunk. */
static sl_slice first_trace_id(sl_slice text, enum variant v)
{
	sl_slice id;

	if (v == V_LEAKY)
		return sl_sub(text, 0, TRACE_ID_LEN); /* VIEW-SITE trace-id */
	id = sl_sub(text, 0, TRACE_ID_LEN);
	sl_slice copy = sl_clone(id);
	sl_release(&id);
	return copy;
}

int main(int argc, char **argv)
{
	enum variant v = (enum variant)pattern_variant(argc, argv, variant_names, USAGE);
	size_t count = pattern_size(argc, argv, 2, 1, USAGE);
	size_t size = pattern_size(argc, argv, 3, 1048576, USAGE);
	/* The trace ids, one per chunk: a typed nil slice of sl_slice. */
	sl_slice index = { .elem_size = sizeof(sl_slice) };
	size_t dashes = 0;

	if (size < TRACE_ID_LEN)
		pattern_usage(USAGE);
	for (size_t seq = 0; seq < count; seq++) {
		sl_slice text = read_chunk(seq, size);
		sl_slice id = first_trace_id(text, v);

		if (!id.ptr)
			pattern_die("trace id");
		index = sl_append(index, &id, 1);
		if (!index.ptr)
			pattern_die("sl_append");
		sl_release(&text);
	}
	for (size_t i = 0; i < index.len; i++) {
		sl_slice *id = sl_at(index, i);

		dashes += memchr(id->ptr, '-', id->len) != NULL;
	}
	printf("indexed %zu chunks of %zu bytes, %zu trace ids well formed\n", count, size,
	       dashes);
	return 0;
}
