/*
 * guards - false-positive guards of the owner finding: big blocks whose
 * only holders are globals, or that more than one small block holds. In
 * neither case is a single small block the only way to a big one, so
 * sliceleak must report no owner finding.
 *
 * Variants:
 *   globals  a global array points straight at every big buffer (their
 *            immediate dominator is the root).
 *   shared   each big buffer is shared by two small handles (32 bytes),
 *            both held from globals: no handle alone keeps it alive.
 *   single   the control: each buffer held by one handle only, the
 *            handles held from a global array: one owner finding.
 *
 * USAGE: guards globals|shared|single [count] [size]
 * PARAMS: count=64 size=1048576
 * DEFINE: handle=32
 * EXPECT globals,shared: owners=0
 * EXPECT globals,shared: findings=0
 * EXPECT single: owners=1
 * EXPECT single: finding kind=owner owner_blocks=count owner_bytes=count*handle \
 *	blocks=count block_bytes=count*size retained_bytes=count*size \
 *	owner_function=new_handle owner_site=handle alloc_function=new_buffer \
 *	alloc_site=buffer
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../patterns/pattern_args.h"

#define USAGE "guards globals|shared|single [count] [size]"
#define MAX 4096

struct handle {
	char *data;
	size_t len;
	size_t refs;
	size_t id;
};

_Static_assert(sizeof(struct handle) == 32, "DEFINE handle=32 in the header is out of date");

static char *buffers[MAX];
static struct handle *first[MAX], *second[MAX];

static __attribute__((noinline)) char *new_buffer(size_t i, size_t size)
{
	char *b = malloc(size); /* ALLOC-SITE buffer */

	if (!b)
		pattern_die("malloc");
	memset(b, 'a' + (int)(i % 26), size);
	return b;
}

static __attribute__((noinline)) struct handle *new_handle(char *data, size_t len, size_t id)
{
	struct handle *h = malloc(sizeof(*h)); /* ALLOC-SITE handle */

	if (!h)
		pattern_die("malloc");
	h->data = data;
	h->len = len;
	h->refs = 1;
	h->id = id;
	return h;
}

int main(int argc, char **argv)
{
	static const char *const variants[] = { "globals", "shared", "single", NULL };
	int variant = pattern_variant(argc, argv, variants, USAGE);
	size_t count = pattern_size(argc, argv, 2, 64, USAGE);
	size_t size = pattern_size(argc, argv, 3, 1048576, USAGE);
	size_t sum = 0;

	if (count > MAX)
		pattern_usage(USAGE);
	for (size_t i = 0; i < count; i++) {
		char *b = new_buffer(i, size);

		if (variant == 0) {
			buffers[i] = b;
		} else {
			first[i] = new_handle(b, size, i);
			if (variant == 1)
				second[i] = new_handle(b, size, i);
		}
	}
	for (size_t i = 0; i < count; i++) /* reads every holder: none is optimised away */
		sum += (unsigned char)(variant == 0 ? buffers[i][0] : first[i]->data[0]) +
		       (variant == 1 ? second[i]->id : 0);
	printf("%zu buffers, checksum %zu\n", count, sum);
	return 0;
}
