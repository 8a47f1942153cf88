/*
 * analyzer/results/suppress.h - hide known findings and leaks (LeakSanitizer-style).
 *
 * A suppression is TYPE:PATTERN, given with --suppress (repeatable) or one
 * per line in a --suppressions FILE ('#' starts a comment):
 *   leak:PATTERN   leak groups whose allocation stack matches
 *   view:PATTERN   findings whose allocation stack or view stack matches (a
 *                  dead_region finding: the kept blocks' allocation stack
 *                  or the holder's view stack)
 *   owner:PATTERN  owner findings whose owners' or retained blocks'
 *                  allocation stack matches
 * A stack matches when any of its frames' function name, source file or
 * module path matches PATTERN, LeakSanitizer's template syntax: `*` matches
 * any characters, a leading `^` anchors at the start, a trailing `$` at the
 * end; otherwise the pattern may match anywhere (a substring).
 *
 * Applying suppressions symbolizes the stacks of every finding and leak
 * group (not only the printed ones) and removes the matching ones from the
 * results, with their bytes, counting for each suppression how many groups
 * and bytes it hid (reports print them, as LSan's "Suppressions used").
 *
 * Default suppressions (sla_suppress_add_defaults, after the user's, so a
 * user's suppression gets the credit for what both match): memory the
 * language runtimes allocate once and keep to the end, which every clean
 * program shows - allocations made by shared libraries' initializers while
 * the program loads (libstdc++'s emergency exception pool, GObject's type
 * system), the C library's stdio buffers and NSS tables, GLib's GSlice
 * magazines, quarks and type registrations. As heaptrack ships its own and
 * memcheck frees libc's internals at exit. `--no-default-suppressions`
 * leaves them out; reports list the ones that hid something.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "results.h"
#include "stacks.h"
#include "symbolize.h"

enum sla_suppress_type {
	SLA_SUPPRESS_LEAK,
	SLA_SUPPRESS_VIEW,
	SLA_SUPPRESS_OWNER,
};

struct sla_suppression {
	enum sla_suppress_type type;
	char *pattern;
	uint64_t matches; /* groups or findings hidden */
	uint64_t bytes;	  /* their bytes (live at exit, or retained) */
	uint64_t leaked_bytes; /* leak groups: the leaked part of `bytes` */
	bool builtin;	  /* one of the default suppressions */
};

struct sla_suppressions {
	struct sla_suppression *list;
	size_t n;
};

/* "leak", "view" or "owner". */
const char *sla_suppress_type_name(enum sla_suppress_type type);

/* Adds "TYPE:PATTERN". Returns 0 or -EINVAL (unknown type, empty pattern). */
int sla_suppress_add(struct sla_suppressions *s, const char *spec);

/* Adds the default suppressions (see above). */
void sla_suppress_add_defaults(struct sla_suppressions *s);

/* The default suppressions, one TYPE:PATTERN per line with # comments. */
extern const char sla_default_suppressions[];

/*
 * Adds every suppression of a file. Returns 0, or -errno (unreadable) or
 * -EINVAL with *bad_line set to the 1-based line that is not TYPE:PATTERN.
 */
int sla_suppress_load(struct sla_suppressions *s, const char *path, size_t *bad_line);

/* Whether `text` matches the LSan-style template `pattern`. */
bool sla_suppress_match(const char *pattern, const char *text);

/* Removes the suppressed findings and leak groups from finished results. */
void sla_suppress_apply(struct sla_suppressions *s, struct sla_results *res,
			struct sla_stackset *set, struct sla_symbolizer *sym);

void sla_suppress_free(struct sla_suppressions *s);
