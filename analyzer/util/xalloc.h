/*
 * analyzer/util/xalloc.h - allocation that dies with a message on failure.
 *
 * The analyzer is a batch tool: running out of memory is not recoverable, so
 * every allocation goes through these (sla_die() on failure) and callers
 * never check for NULL.
 */
#pragma once

#include <stddef.h>

#include "errors.h" /* sla_die() */

void *sla_xmalloc(size_t size);
void *sla_xcalloc(size_t n, size_t size);
void *sla_xrealloc(void *p, size_t size);
/* Copies len bytes and appends a NUL. */
char *sla_xstrndup(const char *s, size_t len);
/* Grows *p (of *cap elements of `elem` bytes) to hold at least `need` elements. */
void sla_xgrow(void *p, size_t *cap, size_t need, size_t elem);
