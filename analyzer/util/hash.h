/*
 * analyzer/util/hash.h - uthash, as the analyzer uses it.
 *
 * uthash's own answer to running out of memory is exit(-1), without a
 * word: its tables allocate through sla_xmalloc() instead, which ends the
 * run the way every other allocation does (sla_die(): the message and
 * exit code 2). Include this, never <uthash.h> directly.
 */
#pragma once

#include <stdlib.h>

#include "xalloc.h"

#define uthash_malloc(size)	 sla_xmalloc(size)
#define uthash_free(ptr, size) free(ptr)
#define uthash_fatal(msg)	 sla_die("%s", msg)

#include <uthash.h>
