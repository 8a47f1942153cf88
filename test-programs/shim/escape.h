/*
 * escape.h - keeps the compiler from deleting a malloc/free pair whose
 * block is never used (gcc does): the scenarios need the calls to happen.
 */
#pragma once

static inline void *escape(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}
