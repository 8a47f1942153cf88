/*
 * analyzer/util/trace.h - why one block was kept or reported
 * (`sliceleak report|check --trace-block ADDR`).
 *
 * LeakSanitizer's log_pointers, for one block: with an address set, the
 * stages say on stderr what they decided about the live block that holds
 * it, one line each,
 *   sliceleak: trace 0x<block>: <what happened, and why>
 * (allocated, freed, its views at the evaluation point, finding or not and
 * by which threshold, reachable or kept through whose dead region, leaked).
 * Off (address 0), a trace point costs one compare.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The traced address; 0: tracing is off. Set once, by the command line. */
extern uint64_t sla_trace_addr;

/* Whether the block [addr, addr + size) holds the traced address. */
static inline bool sla_traced(uint64_t addr, uint64_t size)
{
	return sla_trace_addr && sla_trace_addr - addr < (size ? size : 1);
}

/* One trace line about the block at addr. */
void sla_trace(uint64_t addr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
