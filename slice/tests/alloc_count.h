/*
 * slice/tests/alloc_count.h - see and steer the allocations libslice makes.
 *
 * The unit tests link slice.c's objects together with alloc_count.c and
 * -Wl,--wrap=malloc,--wrap=free: every malloc()/free() call made from those
 * objects lands here first, then goes on to the real allocator (ASan's under
 * the sanitizer build). Counters are atomic, so threads may allocate and free.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Totals since start, for "this call allocated / freed exactly N blocks". */
size_t alloc_count_mallocs(void);
size_t alloc_count_frees(void);
/* Pointer returned by, and size asked of, the last successful malloc(). */
void *alloc_count_last_ptr(void);
size_t alloc_count_last_size(void);
/* The next n malloc() calls fail (return NULL without reaching libc). */
void alloc_count_fail_next(int n);

/*
 * Per-block free counts: watch p (any earlier count for p is reset), then ask
 * how many times free(p) was called since. Context: watch before the threads
 * that may free p start; freed() from any thread.
 */
void alloc_count_watch(const void *p);
int alloc_count_freed(const void *p);
/* Forgets every watched block. Context: no other thread is allocating. */
void alloc_count_unwatch_all(void);
