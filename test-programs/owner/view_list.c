/*
 * view_list - a linked list of view nodes, each holding a small view into
 * a big buffer of its own: every node must be named the owner of its own
 * buffer, not the first node the owner of everything.
 *
 * A node (32 bytes: next, a pointer into its buffer at offset 256, a
 * length, a sequence number) is the only thing that points to its buffer
 * once the parser has dropped its own pointer. The list head is a global.
 * In the dominator tree every node is the immediate dominator of the next
 * node and of its buffer, so node 1's subtree holds the whole list; the
 * finding must still count each buffer once, for its nearest owner.
 *
 * Variants:
 *   leaky  the nodes keep views into the big buffers.
 *   copy   each node copies the 16 bytes it needs into a small buffer of
 *          its own and the big buffer is freed.
 *
 * USAGE: view_list leaky|copy [count] [size]
 * PARAMS: count=100 size=1048576
 * DEFINE: node=32 offset=256
 * EXPECT leaky: finding kind=owner owner_blocks=count owner_bytes=count*node \
 *	blocks=count block_bytes=count*size retained_bytes=count*size \
 *	ref_offset_min=offset ref_offset_max=offset \
 *	owner_function=list_push owner_site=node alloc_function=read_record \
 *	alloc_site=record
 * EXPECT leaky: owners=1
 * EXPECT copy: owners=0
 * EXPECT leaky: findings=1
 * EXPECT copy: findings=0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../patterns/pattern_args.h"

#define USAGE "view_list leaky|copy [count] [size]"
#define OFFSET 256
#define LEN 16

struct node {
	struct node *next;
	const char *ptr; /* into a buffer this node alone holds */
	size_t len;
	size_t seq;
};

_Static_assert(sizeof(struct node) == 32, "DEFINE node=32 in the header is out of date");

static struct node *head;

static __attribute__((noinline)) char *read_record(size_t i, size_t size)
{
	char *buf = malloc(size); /* ALLOC-SITE record */

	if (!buf)
		pattern_die("malloc");
	memset(buf, 'a' + (int)(i % 26), size);
	return buf;
}

static __attribute__((noinline)) void list_push(const char *ptr, size_t len, size_t seq)
{
	struct node *n = malloc(sizeof(*n)); /* ALLOC-SITE node */

	if (!n)
		pattern_die("malloc");
	n->next = head;
	n->ptr = ptr;
	n->len = len;
	n->seq = seq;
	head = n;
}

static __attribute__((noinline)) char *copy_out(const char *p, size_t len)
{
	char *c = malloc(len);

	if (!c)
		pattern_die("malloc");
	memcpy(c, p, len);
	return c;
}

int main(int argc, char **argv)
{
	static const char *const variants[] = { "leaky", "copy", NULL };
	int variant = pattern_variant(argc, argv, variants, USAGE);
	size_t count = pattern_size(argc, argv, 2, 100, USAGE);
	size_t size = pattern_size(argc, argv, 3, 1048576, USAGE);
	size_t sum = 0, n = 0;

	if (size < OFFSET + LEN)
		pattern_usage(USAGE);
	for (size_t i = 0; i < count; i++) {
		char *rec = read_record(i, size);

		if (variant == 0) {
			list_push(rec + OFFSET, LEN, i);
		} else {
			list_push(copy_out(rec + OFFSET, LEN), LEN, i);
			free(rec);
		}
	}
	for (const struct node *p = head; p; p = p->next, n++)
		sum += (unsigned char)p->ptr[0];
	printf("%zu nodes, checksum %zu\n", n, sum);
	return 0;
}
