/*
 * analyzer/read/dump.h - `sliceleak dump`: every record of a log as one text line.
 *
 * The agreed format (the shim's tests parse it):
 *   <offset> <KIND> <field>=<value> ... tid=<tid> time_ns=<ns>
 * the fields and names in records.def's order, each printed as its `show` says:
 * numbers (dec, stack) in decimal, addresses and keys (hex) as 0x-hex,
 * strings (text) quoted with C escapes, build_id (bytes) as a quoted hex
 * string; a MODULE's segments as nsegs= then repeated vaddr= memsz= flags=
 * triples; a SCAN_REGION's kind as its number (enum slf_region_kind); a
 * SCAN_PTRS's count= then every pair as 0x<location>=0x<value>, all on its
 * one line. Unknown kinds: `UNKNOWN(<kind>) len=<n>`. Last line:
 *   # records=<n> end=<yes|no> truncated=<yes|no>
 *
 * Format 2.x: the records in merged (seq) order, each line ending in
 *   ... tid=<tid> time_ns=<ns> seq=<seq>
 * with <offset> the inner record's own kind byte; STACK lines start with
 * id=<id> (a field in 2.x), REALLOC lines end their fields with flags=<n>.
 * There are no THREAD lines (nor CHUNK lines): every line names its thread.
 * PROCESS and END (top level) show tid=0. 1.x output is unchanged.
 */
#pragma once

#include <stdio.h>

#include "reader.h"

/*
 * Prints every record of an opened reader to `out`. Returns 0 after the
 * summary line, or the reader's negative error (nothing more printed: the
 * caller reports r->err_offset and r->err_msg).
 */
int sla_dump_log(FILE *out, struct sla_reader *r);
