/*
 * scripts/bench/call_chain.h - the call chains the workloads allocate from.
 *
 * noipa: no inlining, no cloning, no interprocedural shortcuts, so every
 * level is a real frame; the work after each call keeps it from being a
 * tail call. LEVEL(k, next) defines lvl<k>(), which calls next().
 */
#pragma once

#include <stddef.h>

#define NOIPA __attribute__((noipa))

#define LEVEL(k, next)                                                   \
	NOIPA static size_t lvl##k(size_t i)                             \
	{                                                                \
		size_t r = next(i);                                      \
		__asm__ volatile("" : "+r"(r));                          \
		return r + k;                                            \
	}
