/*
 * gbytes_ranges - GLib's GBytes sub-ranges: g_bytes_new_from_bytes() makes
 * a small GBytes that points into its parent's data and holds a reference
 * to the parent. The program keeps 16-byte sub-ranges of big messages in a
 * GPtrArray and unrefs the messages: each sub-range is then the only thing
 * keeping its parent GBytes and the parent's data alive. No annotation,
 * no call site touched: sliceleak must name the sub-ranges as owners.
 *
 * Run with G_SLICE=always-malloc (GLib 2.74's slice allocator otherwise
 * puts many GBytes in one slab block, and the owner is then the slab).
 *
 * Variants:
 *   leaky  keep g_bytes_new_from_bytes(msg, 4096, 16).
 *   copy   keep g_bytes_new(data + 4096, 16): a copy; the message goes.
 *
 * What sliceleak must say (leaky): count buffers of `size` bytes
 * (allocated in read_message) kept alive by count small GBytes (one each,
 * allocated under g_bytes_new_from_bytes, called by keep_range), each also retaining its
 * parent's GBytes (a few dozen bytes: SLACK), the sub-ranges' data
 * pointers landing at offset 4096.
 *
 * USAGE: gbytes_ranges leaky|copy [count] [size]
 * PARAMS: count=100 size=1048576
 * DEFINE: key_offset=4096
 * SLACK: 256
 * ALLOC-WINDOW: 12
 * EXPECT leaky: finding kind=owner owner_blocks=count blocks=count \
 *	block_bytes=count*size retained_bytes~count*size \
 *	ref_offset_min=key_offset ref_offset_max=key_offset \
 *	owner_function=keep_range alloc_function=read_message alloc_site=message
 * EXPECT leaky: owners=1
 * EXPECT copy: owners=0
 * EXPECT leaky: findings=1
 * EXPECT copy: findings=0
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "../patterns/pattern_args.h"

#define USAGE "gbytes_ranges leaky|copy [count] [size]"
#define KEY_OFFSET 4096
#define KEY_LEN 16

static GPtrArray *keys;

static __attribute__((noinline)) GBytes *read_message(size_t i, size_t size)
{
	guchar *data = g_malloc(size); /* ALLOC-SITE message */

	memset(data, 'a' + (int)(i % 26), size);
	return g_bytes_new_take(data, size);
}

/* Keeps [KEY_OFFSET, +KEY_LEN) of msg: a sub-range (leaky) or a copy. */
static __attribute__((noinline)) void keep_range(GBytes *msg, bool copy)
{
	const guchar *data = g_bytes_get_data(msg, NULL);
	GBytes *key = copy ? g_bytes_new(data + KEY_OFFSET, KEY_LEN) :
			     g_bytes_new_from_bytes(msg, KEY_OFFSET, KEY_LEN);

	g_ptr_array_add(keys, key);
}

int main(int argc, char **argv)
{
	static const char *const variants[] = { "leaky", "copy", NULL };
	int variant = pattern_variant(argc, argv, variants, USAGE);
	size_t count = pattern_size(argc, argv, 2, 100, USAGE);
	size_t size = pattern_size(argc, argv, 3, 1048576, USAGE);
	size_t sum = 0;

	if (size < KEY_OFFSET + KEY_LEN)
		pattern_usage(USAGE);
	keys = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	for (size_t i = 0; i < count; i++) {
		GBytes *msg = read_message(i, size);

		keep_range(msg, variant == 1);
		g_bytes_unref(msg);
	}
	for (guint i = 0; i < keys->len; i++)
		sum += ((const guchar *)g_bytes_get_data(keys->pdata[i], NULL))[0];
	printf("%u keys, checksum %zu\n", keys->len, sum);
	return 0; /* the keys stay until exit */
}
