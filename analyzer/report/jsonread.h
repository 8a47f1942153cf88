/*
 * analyzer/report/jsonread.h - reads a JSON document into a tree (for
 * `sliceleak diff` and `check --baseline`, which compare against a saved
 * JSON report).
 *
 * Strict RFC 8259 syntax, nesting at most 256 deep; numbers are kept as
 * their text and read as unsigned integers or doubles on demand (sizes go
 * beyond 2^53). Strings are unescaped to UTF-8 (\u escapes included; a lone
 * surrogate becomes U+FFFD).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sla_json_type { SLA_JSON_NULL, SLA_JSON_BOOL, SLA_JSON_NUMBER, SLA_JSON_STRING,
		     SLA_JSON_ARRAY, SLA_JSON_OBJECT };

struct sla_json {
	enum sla_json_type type;
	bool boolean;
	char *str;		  /* STRING: the text; NUMBER: its literal */
	char *key;		  /* a member of an object: its name */
	struct sla_json *kids;	  /* ARRAY, OBJECT: the elements / members */
	size_t nkids;
};

/*
 * Parses `len` bytes. Returns the root, or NULL with *err_offset and
 * `err` (a short reason) set. Free with sla_json_free().
 */
struct sla_json *sla_json_parse(const char *text, size_t len, size_t *err_offset,
				char *err, size_t errlen);
void sla_json_free(struct sla_json *j);

/* The member `key` of an object (NULL when absent or `j` is not an object). */
const struct sla_json *sla_json_get(const struct sla_json *j, const char *key);
/* A number member as an unsigned integer (0 when absent or not a number). */
uint64_t sla_json_u64(const struct sla_json *j, const char *key);
/* A string member (NULL when absent or not a string). */
const char *sla_json_str(const struct sla_json *j, const char *key);
