/* analyzer/tests/test_jsonread.c - the JSON reader of saved reports: values, escapes, errors. */
#include <string.h>

#include "check.h"
#include "jsonread.h"

static struct sla_json *parse(const char *s, size_t *off, char *err)
{
	return sla_json_parse(s, strlen(s), off, err, 100);
}

static void test_values(void)
{
	size_t off = 0;
	char err[100];
	struct sla_json *j = parse(" {\"a\": [1, 2.5e3, -0, true, false, null], \"b\": {\"c\": "
				   "\"x\\ty\\u00e9\\ud83d\\ude00\\\"\"}, \"n\": 18446744073709551615} ",
				   &off, err);
	const struct sla_json *a, *b;

	CHECK(j != NULL);
	if (!j)
		return;
	a = sla_json_get(j, "a");
	CHECK(a && a->type == SLA_JSON_ARRAY && a->nkids == 6);
	CHECK(a && a->kids[1].type == SLA_JSON_NUMBER && !strcmp(a->kids[1].str, "2.5e3"));
	CHECK(a && a->kids[3].type == SLA_JSON_BOOL && a->kids[3].boolean);
	CHECK(a && a->kids[4].type == SLA_JSON_BOOL && !a->kids[4].boolean);
	CHECK(a && a->kids[5].type == SLA_JSON_NULL);
	b = sla_json_get(j, "b");
	/* \t, U+00E9 in two bytes, U+1F600 from a surrogate pair in four, the quote */
	CHECK(b && !strcmp(sla_json_str(b, "c"), "x\ty\xc3\xa9\xf0\x9f\x98\x80\""));
	CHECK_EQ_U(sla_json_u64(j, "n"), 18446744073709551615ull); /* beyond 2^53: exact */
	CHECK(sla_json_get(j, "missing") == NULL && sla_json_str(j, "a") == NULL);
	CHECK_EQ_U(sla_json_u64(j, "b"), 0);
	sla_json_free(j);

	j = parse("\"\\udc00 lone\"", &off, err); /* a lone low surrogate: U+FFFD */
	CHECK(j && !strcmp(j->str, "\xef\xbf\xbd lone"));
	sla_json_free(j);
}

/* Each bad document fails at the offset of its first bad byte, with a reason. */
static void test_errors(void)
{
	static const struct {
		const char *text;
		size_t offset;
	} bad[] = {
		{ "", 0 },
		{ "SLLEAK\r\n", 0 },
		{ "{\"a\" 1}", 5 },
		{ "{\"a\": 1,}", 8 },
		{ "[1 2]", 3 },
		{ "\"abc", 4 },
		{ "\"a\x01\"", 3 },
		{ "\"\\x\"", 3 },
		{ "{} {}", 3 },
		{ "tru", 0 },
		{ "-x", 1 },
		{ "[\"\\u12g4\"]", 7 },
	};
	char deep[600];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		size_t off = 999;
		char err[100] = "";
		struct sla_json *j = parse(bad[i].text, &off, err);

		CHECK(j == NULL);
		CHECK_EQ_U(off, bad[i].offset);
		CHECK(err[0] != 0);
		sla_json_free(j);
	}
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = 0;
	{
		size_t off = 0;
		char err[100] = "";

		CHECK(parse(deep, &off, err) == NULL);
		CHECK(strstr(err, "deep") != NULL);
	}
}

int main(void)
{
	test_values();
	test_errors();
	return check_result();
}
