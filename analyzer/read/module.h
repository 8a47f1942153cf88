/*
 * analyzer/read/module.h - a loaded ELF object as a MODULE record describes it.
 *
 * The reader hands out its segments, replay keeps the module map, the
 * symbolizer looks addresses up in a module: all three speak of it in
 * these types, which need nothing else.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* One PT_LOAD segment of a MODULE record. */
struct sla_seg {
	uint64_t vaddr; /* p_vaddr */
	uint64_t memsz; /* p_memsz */
	uint64_t flags; /* p_flags */
};

/* A loaded ELF object as the log recorded it (SLF_REC_MODULE). */
struct sla_module {
	const char *path;	  /* as recorded; "[vdso]" for the vDSO */
	uint64_t bias;		  /* runtime address = bias + p_vaddr */
	const uint8_t *build_id;  /* NT_GNU_BUILD_ID bytes recorded at run time */
	size_t build_id_len;	  /* 0 if none was recorded */
};
