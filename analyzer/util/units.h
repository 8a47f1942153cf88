/*
 * analyzer/util/units.h - sizes and durations as users write and read them.
 *
 * Parsing accepts a number with an optional unit: B, KiB, MiB, GiB, TiB
 * (powers of 1024), KB, MB, GB, TB (powers of 1000), case-insensitive, with
 * an optional space and a fractional part ("1.5MiB"). A bare number is bytes.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Returns 0 and *out, or -EINVAL (bad syntax, unknown unit) or -ERANGE. */
int sla_parse_size(const char *s, uint64_t *out);

/*
 * Formats bytes with a binary unit: "512 B", "4.9 KiB", "1.00 MiB".
 * `decimals` digits after the point for KiB and above. Returns buf.
 */
const char *sla_format_size(char *buf, size_t len, uint64_t bytes, int decimals);
