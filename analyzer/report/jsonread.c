/* analyzer/report/jsonread.c - reads a JSON document into a tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonread.h"
#include "xalloc.h"

#define MAX_DEPTH 256

struct parser {
	const char *s;
	size_t pos, len;
	const char *err;
};

static void ws(struct parser *p)
{
	while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos])
		p->pos++;
}

static bool fail(struct parser *p, const char *why)
{
	if (!p->err)
		p->err = why;
	return false;
}

static bool lit(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
		return fail(p, "unexpected character");
	p->pos += n;
	return true;
}

static void utf8(char **out, size_t *n, size_t *cap, uint32_t c)
{
	char b[4];
	size_t k;

	if (c < 0x80) {
		b[0] = (char)c, k = 1;
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | c >> 6), b[1] = (char)(0x80 | (c & 0x3f)), k = 2;
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | c >> 12), b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f)), k = 3;
	} else {
		b[0] = (char)(0xf0 | c >> 18), b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((c >> 6) & 0x3f)), b[3] = (char)(0x80 | (c & 0x3f)), k = 4;
	}
	sla_xgrow(out, cap, *n + k + 1, 1);
	memcpy(*out + *n, b, k);
	*n += k;
}

static bool hex4(struct parser *p, uint32_t *v)
{
	*v = 0;
	if (p->len - p->pos < 4)
		return fail(p, "bad \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos++];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (uint32_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			*v |= (uint32_t)((c | 0x20) - 'a' + 10);
		else
			return fail(p, "bad \\u escape");
	}
	return true;
}

static bool string(struct parser *p, char **out)
{
	size_t n = 0, cap = 16;

	*out = sla_xmalloc(cap);
	p->pos++; /* the opening quote */
	for (;;) {
		unsigned char c;

		if (p->pos >= p->len)
			return fail(p, "unterminated string");
		c = (unsigned char)p->s[p->pos++];
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(p, "control character in a string");
		if (c == '\\') {
			uint32_t u, lo;

			if (p->pos >= p->len)
				return fail(p, "unterminated string");
			c = (unsigned char)p->s[p->pos++];
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				if (!hex4(p, &u))
					return false;
				if (u >= 0xd800 && u < 0xdc00 && p->len - p->pos >= 6 &&
				    p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
					size_t save = p->pos;

					p->pos += 2;
					if (!hex4(p, &lo))
						return false;
					if (lo >= 0xdc00 && lo < 0xe000)
						u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
					else
						p->pos = save;
				}
				if (u >= 0xd800 && u < 0xe000)
					u = 0xfffd;
				utf8(out, &n, &cap, u);
				continue;
			default:
				return fail(p, "bad escape");
			}
		}
		sla_xgrow(out, &cap, n + 2, 1);
		(*out)[n++] = (char)c;
	}
	(*out)[n] = 0;
	return true;
}

static bool number(struct parser *p, char **out)
{
	size_t start = p->pos;

	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
		return fail(p, "bad number");
	while (p->pos < p->len && strchr("0123456789.eE+-", p->s[p->pos]) && p->s[p->pos])
		p->pos++;
	*out = sla_xstrndup(p->s + start, p->pos - start);
	return true;
}

static bool value(struct parser *p, struct sla_json *v, int depth);

/* Elements of an array or members of an object, up to `close`. */
static bool items(struct parser *p, struct sla_json *v, char close, int depth)
{
	size_t cap = 0;

	p->pos++;
	ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return true;
	}
	for (;;) {
		struct sla_json *kid;

		sla_xgrow(&v->kids, &cap, v->nkids + 1, sizeof(*v->kids));
		kid = &v->kids[v->nkids++];
		memset(kid, 0, sizeof(*kid));
		ws(p);
		if (close == '}') {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail(p, "expected a member name");
			if (!string(p, &kid->key))
				return false;
			ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return fail(p, "expected ':'");
			p->pos++;
		}
		if (!value(p, kid, depth + 1))
			return false;
		ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			return true;
		}
		return fail(p, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool value(struct parser *p, struct sla_json *v, int depth)
{
	if (depth > MAX_DEPTH)
		return fail(p, "nested too deep");
	ws(p);
	if (p->pos >= p->len)
		return fail(p, "unexpected end");
	switch (p->s[p->pos]) {
	case '{':
		v->type = SLA_JSON_OBJECT;
		return items(p, v, '}', depth);
	case '[':
		v->type = SLA_JSON_ARRAY;
		return items(p, v, ']', depth);
	case '"':
		v->type = SLA_JSON_STRING;
		return string(p, &v->str);
	case 't':
		v->type = SLA_JSON_BOOL;
		v->boolean = true;
		return lit(p, "true");
	case 'f':
		v->type = SLA_JSON_BOOL;
		return lit(p, "false");
	case 'n':
		return lit(p, "null");
	default:
		v->type = SLA_JSON_NUMBER;
		return number(p, &v->str);
	}
}

static void free_kids(struct sla_json *j)
{
	for (size_t i = 0; i < j->nkids; i++)
		free_kids(&j->kids[i]);
	free(j->kids);
	free(j->str);
	free(j->key);
}

void sla_json_free(struct sla_json *j)
{
	if (!j)
		return;
	free_kids(j);
	free(j);
}

struct sla_json *sla_json_parse(const char *text, size_t len, size_t *err_offset, char *err,
				size_t errlen)
{
	struct parser p = { .s = text, .len = len };
	struct sla_json *root = sla_xcalloc(1, sizeof(*root));
	bool ok = value(&p, root, 0);

	if (ok) {
		ws(&p);
		if (p.pos != p.len)
			ok = fail(&p, "text after the document");
	}
	if (!ok) {
		*err_offset = p.pos;
		snprintf(err, errlen, "%s", p.err);
		sla_json_free(root);
		return NULL;
	}
	return root;
}

const struct sla_json *sla_json_get(const struct sla_json *j, const char *key)
{
	if (!j || j->type != SLA_JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < j->nkids; i++)
		if (!strcmp(j->kids[i].key, key))
			return &j->kids[i];
	return NULL;
}

uint64_t sla_json_u64(const struct sla_json *j, const char *key)
{
	const struct sla_json *v = sla_json_get(j, key);

	return v && v->type == SLA_JSON_NUMBER ? strtoull(v->str, NULL, 10) : 0;
}

const char *sla_json_str(const struct sla_json *j, const char *key)
{
	const struct sla_json *v = sla_json_get(j, key);

	return v && v->type == SLA_JSON_STRING ? v->str : NULL;
}
