/*
 * analyzer/symbolize/symbolize.h - turns (module, address) into function, file, line.
 *
 * Offline: the module map recorded by the shim says which file was loaded
 * where; this module opens those files (each once, lazily, on first use) and
 * resolves addresses with elfutils libdw, inlined frames included. Without
 * debug information a frame still gets its module and offset.
 *
 * Strings in returned frames are owned by the symbolizer and live until
 * sla_symbolizer_free(). Only stacks that get printed are symbolized, so
 * results are cached per (module, address).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "module.h"


/* One source-level frame. An address inside inlined code yields several. */
struct sla_frame {
	uint64_t address;     /* the runtime address that was looked up */
	const char *module;   /* module path, or NULL when no module holds it */
	uint64_t offset;      /* address - bias */
	const char *function; /* demangled; NULL when unknown */
	const char *file;     /* source file; NULL when unknown */
	unsigned line;	      /* 0 when unknown */
	bool inlined;	      /* inlined into the frame that follows it */
};

enum sla_symbolizer_mode {
	SLA_SYM_DWARF, /* libdw: functions, files, lines, inlines */
	SLA_SYM_NONE,  /* module+offset only: deterministic, no file access */
};

struct sla_symbolizer;

/* Returns NULL only when out of memory. */
struct sla_symbolizer *sla_symbolizer_new(enum sla_symbolizer_mode mode);
void sla_symbolizer_free(struct sla_symbolizer *sym);

/*
 * Resolves `address` inside `mod` (NULL when no recorded module contains
 * it). `is_return_address` is true for frames of a captured stack that are
 * return addresses (all but an exact ip): the lookup then uses address - 1,
 * so that a call at the end of a function is attributed to its own line.
 * Writes up to `max` frames, innermost (most deeply inlined) first, and
 * returns how many (at least 1 when max >= 1: an unknown frame still has an
 * address). Never fails: a file that is missing, unreadable or whose
 * build-id differs from the recorded one yields module+offset frames, and
 * the build-id mismatch is warned about once per module on stderr.
 */
size_t sla_symbolize(struct sla_symbolizer *sym, const struct sla_module *mod, uint64_t address,
		     bool is_return_address, struct sla_frame *out, size_t max);
