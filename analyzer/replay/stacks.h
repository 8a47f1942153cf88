/*
 * analyzer/replay/stacks.h - stacks shared by all the logs of one analysis.
 *
 * Stack ids are per log; a process and its fork children (or two runs of the
 * same binary) must still add their findings up. A canonical stack ("gid") is
 * the sequence of its frames as (module path, offset in the module), or the
 * raw address for a frame in no recorded module, each frame resolved in the
 * module map that was current when its stack edge was recorded. Frames inside
 * libslice.so and libsliceleak.so are trimmed (the shim captures from its
 * caller, so normally there are none; sla_stackset_trimmed() counts them).
 *
 * gid 0 is the empty stack. Symbolization happens here, lazily, only for the
 * stacks a report prints, and each printed stack is symbolized once.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "state.h"
#include "symbolize.h"

struct sla_stackset;

struct sla_stackset *sla_stackset_new(void);
void sla_stackset_free(struct sla_stackset *set);

/* The canonical id of stack `id` of `st`. States must outlive the set's use. */
uint32_t sla_stackset_intern(struct sla_stackset *set, struct sla_state *st, uint32_t id);

/*
 * The source-level frames of canonical stack `gid`, innermost first, inlined
 * frames expanded. The array belongs to the set (valid until it is freed).
 */
size_t sla_stackset_frames(struct sla_stackset *set, uint32_t gid, struct sla_symbolizer *sym,
			   const struct sla_frame **frames);

/*
 * The stacks as a tree, for profiles: gids run from 0 to sla_stackset_count()
 * - 1, a parent's gid is smaller than its children's, and a stack is its
 * parent plus one recorded frame. sla_stackset_leaf() symbolizes only that
 * frame, into up to `max` source-level frames (innermost first, inlined
 * frames expanded; at least one for max >= 1; none for gid 0, the root),
 * and gives its module (NULL when none holds it) in one of the logs.
 */
size_t sla_stackset_count(const struct sla_stackset *set);
uint32_t sla_stackset_parent(const struct sla_stackset *set, uint32_t gid);
size_t sla_stackset_leaf(struct sla_stackset *set, uint32_t gid, struct sla_symbolizer *sym,
			 const struct sla_module **mod, struct sla_frame *frames, size_t max);

/* How many recorded frames were inside libslice.so / libsliceleak.so and trimmed. */
uint64_t sla_stackset_trimmed(const struct sla_stackset *set);
