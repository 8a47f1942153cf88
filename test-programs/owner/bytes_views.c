/*
 * bytes_views - Rust `bytes`-style shared buffers in plain C: the case
 * where no annotation is needed for sliceleak to say who holds the memory.
 *
 * A `struct bytes` is a small view (24 bytes: a pointer into the data, a
 * length, and a pointer to the shared header); the header (refcount,
 * capacity, data pointer) owns the big data buffer, freed when the last
 * view is dropped. The program reads `count` messages of `size` bytes,
 * keeps a 16-byte slice of each (the message's key, at offset 4096) in a
 * list, and drops the message itself.
 *
 * Variants:
 *   leaky  keep bytes_slice(msg, 4096, 16): each kept 24-byte view is the
 *          only path to its message's header and buffer, which stay alive.
 *   copy   keep bytes_copy_from_slice(): a fresh 16-byte buffer; the message
 *          is freed.
 *
 * What sliceleak must say (leaky): an owner finding: count buffers of
 * `size` bytes (allocated in bytes_with_capacity) kept alive by count
 * 24-byte views (one each, allocated in bytes_slice), retaining each
 * buffer plus its 24-byte header, the views' data pointers landing at
 * offset 4096. copy: no owner finding. Neither variant has any other
 * finding (no libslice, no annotation).
 *
 * USAGE: bytes_views leaky|copy [count] [size]
 * PARAMS: count=100 size=1048576
 * DEFINE: key_offset=4096 view=24 header=24
 * EXPECT leaky: finding kind=owner owner_blocks=count owner_bytes=count*view \
 *	blocks=count block_bytes=count*size retained_bytes=count*(size+header) \
 *	ref_offset_min=key_offset ref_offset_max=key_offset \
 *	owner_function=bytes_slice owner_site=view alloc_function=bytes_with_capacity \
 *	alloc_site=buffer
 * EXPECT leaky: owners=1
 * EXPECT copy: owners=0
 * EXPECT leaky: findings=1
 * EXPECT copy: findings=0
 * EXPECT leaky: check max_owned=count*(size+header)-1 status=1
 * EXPECT leaky: check max_owned=count*(size+header) status=0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../patterns/pattern_args.h"

#define USAGE "bytes_views leaky|copy [count] [size]"
#define KEY_OFFSET 4096
#define KEY_LEN 16

/* The shared part: freed with the data when the last view goes. */
struct shared {
	size_t refs;
	size_t cap;
	unsigned char *data;
};

/* A view of bytes: what the program passes around and keeps. */
struct bytes {
	const unsigned char *ptr;
	size_t len;
	struct shared *sh;
};

_Static_assert(sizeof(struct bytes) == 24, "DEFINE view=24 in the header is out of date");
_Static_assert(sizeof(struct shared) == 24, "DEFINE header=24 in the header is out of date");

static __attribute__((noinline)) struct bytes *bytes_with_capacity(size_t cap)
{
	struct shared *sh = malloc(sizeof(*sh));
	struct bytes *b = malloc(sizeof(*b));

	if (!sh || !b)
		pattern_die("malloc");
	sh->refs = 1;
	sh->cap = cap;
	sh->data = malloc(cap); /* ALLOC-SITE buffer */
	if (!sh->data)
		pattern_die("malloc");
	b->ptr = sh->data;
	b->len = cap;
	b->sh = sh;
	return b;
}

/* A new view of [off, off + len) of b, sharing its buffer. */
static __attribute__((noinline)) struct bytes *bytes_slice(const struct bytes *b, size_t off,
							    size_t len)
{
	struct bytes *v = malloc(sizeof(*v)); /* ALLOC-SITE view */

	if (!v)
		pattern_die("malloc");
	v->ptr = b->ptr + off;
	v->len = len;
	v->sh = b->sh;
	v->sh->refs++;
	return v;
}

/* A view of a fresh copy of [off, off + len) of b. */
static __attribute__((noinline)) struct bytes *bytes_copy_from_slice(const struct bytes *b,
								      size_t off, size_t len)
{
	struct bytes *c = bytes_with_capacity(len);

	memcpy(c->sh->data, b->ptr + off, len);
	return c;
}

static __attribute__((noinline)) void bytes_drop(struct bytes *b)
{
	if (--b->sh->refs == 0) {
		free(b->sh->data);
		free(b->sh);
	}
	free(b);
}

/* A message as read from the network: `size` bytes with a key at KEY_OFFSET. */
static struct bytes *read_message(size_t i, size_t size)
{
	struct bytes *m = bytes_with_capacity(size);

	memset(m->sh->data, 'a' + (int)(i % 26), size);
	snprintf((char *)m->sh->data + KEY_OFFSET, KEY_LEN, "key-%06u", (unsigned)(i % 1000000));
	return m;
}

static struct bytes **keys; /* the list the program keeps */

int main(int argc, char **argv)
{
	static const char *const variants[] = { "leaky", "copy", NULL };
	int variant = pattern_variant(argc, argv, variants, USAGE);
	size_t count = pattern_size(argc, argv, 2, 100, USAGE);
	size_t size = pattern_size(argc, argv, 3, 1048576, USAGE);
	size_t sum = 0;

	if (size < KEY_OFFSET + KEY_LEN)
		pattern_usage(USAGE);
	keys = calloc(count, sizeof(*keys));
	if (!keys)
		pattern_die("calloc");
	for (size_t i = 0; i < count; i++) {
		struct bytes *m = read_message(i, size);

		keys[i] = variant == 0 ? bytes_slice(m, KEY_OFFSET, KEY_LEN) :
					 bytes_copy_from_slice(m, KEY_OFFSET, KEY_LEN);
		bytes_drop(m);
	}
	for (size_t i = 0; i < count; i++)
		sum += keys[i]->ptr[4];
	printf("%zu keys, checksum %zu\n", count, sum);
	return 0; /* the keys stay in the list until exit */
}
