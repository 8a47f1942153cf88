/*
 * analyzer/util/units.h - sizes and durations as users write and read them.
 *
 * Parsing accepts a decimal integer with an optional unit right after it:
 * B, KiB, MiB, GiB, TiB, K, M, G (powers of 1024), KB, MB, GB, TB (powers of
 * 1000), case-insensitive. A bare number is bytes. Nothing else: no
 * fraction, exponent, sign, hex or space ("1536KiB", not "1.5 MiB"); a value
 * above 2^64-1 bytes is -ERANGE, never wrapped or rounded.
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

/*
 * Byte sums of a log never wrap: a crafted log's two 16 EiB blocks must not
 * add up to 78 bytes and pass a gate. Sums saturate at 2^64-1 and
 * differences at 0.
 */
static inline uint64_t sla_sat_add(uint64_t a, uint64_t b)
{
	uint64_t s;

	return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

static inline uint64_t sla_sat_sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}
