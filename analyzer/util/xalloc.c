/* analyzer/util/xalloc.c - allocation that dies with a message on failure. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void *sla_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		sla_die("out of memory (%zu bytes)", size);
	return p;
}

void *sla_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		sla_die("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *sla_xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);

	if (!q)
		sla_die("out of memory (%zu bytes)", size);
	return q;
}

char *sla_xstrndup(const char *s, size_t len)
{
	char *d = sla_xmalloc(len + 1);

	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/* Doubling growth: amortised O(1) appends to the dense arrays. */
void sla_xgrow(void *p, size_t *cap, size_t need, size_t elem)
{
	void **pp = p;
	size_t n = *cap ? *cap : 16;

	if (need <= *cap)
		return;
	while (n < need) {
		if (n > SIZE_MAX / 2 / elem)
			sla_die("out of memory (array of %zu elements)", need);
		n *= 2;
	}
	*pp = sla_xrealloc(*pp, n * elem);
	*cap = n;
}
