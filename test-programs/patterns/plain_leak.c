/*
 * plain_leak - a true leak for the allocation tracker's report: a
 * configuration store frees its entries on reload but forgets their values.
 * No slices: plain malloc and free.
 *
 * The program loads count entries of size-byte values, reloads them, and
 * tears the store down before exit.
 *
 * Variants:
 *   leaky  config_clear() frees each entry but not its value: every value
 *          of both loads (2*count blocks of size bytes) is never freed.
 *   fixed  config_clear() frees both: nothing of the store is left at exit.
 *
 * Leak figures are checked for the groups whose stacks name these functions,
 * never as totals: the C runtime has unfreed blocks of its own.
 *
 * USAGE: plain_leak leaky|fixed [count] [size]
 * PARAMS: count=1000 size=4096
 * EXPECT *: findings=0
 * EXPECT leaky: leak function=entry_set_value blocks=2*count bytes=2*count*size
 * EXPECT *: leak function=entry_new blocks=0
 * EXPECT fixed: leak function=entry_set_value blocks=0
 * EXPECT leaky: check max_retained=0 max_leaked=2*count*size-1 status=1
 * EXPECT fixed: check max_retained=0 max_leaked=count*size status=0
 * EXPECT *: hotspot function=entry_set_value allocations=2*count bytes=2*count*size
 * EXPECT *: totals allocations>=4*count frees>=2*count bytes_allocated>=2*count*size
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern_args.h"

#define USAGE "plain_leak leaky|fixed [count] [size]"

enum variant { V_LEAKY, V_FIXED };

static const char *const variant_names[] = { "leaky", "fixed", NULL };

/* One key=value setting. */
struct entry {
	struct entry *next;
	char key[32];
	char *value;	   /* malloc'd, value_len bytes */
	size_t value_len;
};

/* The store: a list of entries, newest first. */
struct config {
	struct entry *head;
	size_t generation; /* number of loads so far */
};

/* A new entry named key, without a value yet. */
static struct entry *entry_new(const char *key)
{
	struct entry *e = calloc(1, sizeof(*e)); /* ALLOC-SITE entry */

	if (!e)
		pattern_die("calloc");
	snprintf(e->key, sizeof(e->key), "%s", key);
	return e;
}

/* Sets e's value to size bytes derived from seed. */
static void entry_set_value(struct entry *e, size_t size, unsigned seed)
{
	e->value = malloc(size); /* ALLOC-SITE value */
	if (!e->value)
		pattern_die("malloc");
	memset(e->value, 'a' + (int)(seed % 26), size);
	e->value_len = size;
}

/* Frees every entry; the leaky variant forgets the values. */
static void config_clear(struct config *c, enum variant v)
{
	while (c->head) {
		struct entry *e = c->head;

		c->head = e->next;
		if (v == V_FIXED)
			free(e->value);
		free(e);
	}
}

/* (Re)loads count settings: the old ones are cleared first. */
static void config_load(struct config *c, enum variant v, size_t count, size_t size)
{
	char key[32];

	config_clear(c, v);
	c->generation++;
	for (size_t i = 0; i < count; i++) {
		struct entry *e;

		snprintf(key, sizeof(key), "setting.%zu", i);
		e = entry_new(key);
		entry_set_value(e, size, (unsigned)(i + c->generation));
		e->next = c->head;
		c->head = e;
	}
}

int main(int argc, char **argv)
{
	enum variant v = (enum variant)pattern_variant(argc, argv, variant_names, USAGE);
	size_t count = pattern_size(argc, argv, 2, 1000, USAGE);
	size_t size = pattern_size(argc, argv, 3, 4096, USAGE);
	struct config c = { NULL, 0 };
	size_t as = 0;

	config_load(&c, v, count, size);
	config_load(&c, v, count, size); /* SIGHUP: reload */
	for (struct entry *e = c.head; e; e = e->next)
		as += e->value[0] == 'a';
	printf("generation %zu: %zu settings of %zu bytes, %zu start with 'a'\n", c.generation,
	       count, size, as);
	config_clear(&c, v);
	return 0;
}
