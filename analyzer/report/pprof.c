/*
 * analyzer/report/pprof.c - the results as a gzip'd profile.proto (pprof).
 *
 * pprof's format (github.com/google/pprof, proto/profile.proto) is read by
 * pprof itself, Speedscope, Perfetto, Pyroscope and others. A Profile is a
 * handful of repeated messages; it is written here by a small protobuf
 * encoder of our own (varints and length-delimited fields, about 60 lines)
 * rather than through protobuf-c and a generated schema: the message is
 * written once, in one order, and never read back.
 *
 * One sample per canonical stack (stacks.h) with a value, its values in the
 * order of sample_types[]. One location per canonical stack node: its
 * recorded frame, the lines of its inlined frames innermost first (pprof's
 * order: the last line is the caller the others were inlined into). One
 * mapping per module path: memory_start is the module's load bias in the
 * first log that used it and every address of the module is that plus its
 * offset in the file, so that pprof can symbolize again from the binaries
 * (matched by build id) although the logs' processes loaded them apart.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include <zlib.h>

#include "profile.h"
#include "report.h"
#include "xalloc.h"

/* The sample values, each (type, unit, metric, objects-or-bytes). */
static const struct {
	const char *type, *unit;
	enum sla_metric metric;
	bool bytes;
} sample_types[] = {
	{ "alloc_objects", "count", SLA_METRIC_ALLOCATED, false },
	{ "alloc_space", "bytes", SLA_METRIC_ALLOCATED, true },
	{ "inuse_objects", "count", SLA_METRIC_LIVE, false },
	{ "inuse_space", "bytes", SLA_METRIC_LIVE, true },
	{ "retained_objects", "count", SLA_METRIC_RETAINED, false },
	{ "retained_space", "bytes", SLA_METRIC_RETAINED, true },
	{ "owned_objects", "count", SLA_METRIC_OWNED, false },
	{ "owned_space", "bytes", SLA_METRIC_OWNED, true },
	{ "leaked_objects", "count", SLA_METRIC_LEAKED, false },
	{ "leaked_space", "bytes", SLA_METRIC_LEAKED, true },
};
#define NTYPES (sizeof(sample_types) / sizeof(*sample_types))

/* ---- protobuf encoding ---- */

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *data, size_t len)
{
	sla_xgrow(&b->p, &b->cap, b->n + len, 1);
	memcpy(b->p + b->n, data, len);
	b->n += len;
}

static void varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	put(b, tmp, n);
}

/* A varint field (wire type 0); zero is the default and is left out. */
static void field_u(struct buf *b, unsigned field, uint64_t v)
{
	if (!v)
		return;
	varint(b, (uint64_t)field << 3);
	varint(b, v);
}

/* A length-delimited field (wire type 2): bytes, a string or a message. */
static void field_bytes(struct buf *b, unsigned field, const void *data, size_t len)
{
	varint(b, (uint64_t)field << 3 | 2);
	varint(b, len);
	put(b, data, len);
}

/* ---- the profile's tables ---- */

struct str {
	UT_hash_handle hh;
	int64_t id;
	char s[];
};

struct func {
	UT_hash_handle hh;
	int64_t key[2]; /* name, file: string ids */
	uint64_t id;
};

struct mapping {
	UT_hash_handle hh;
	const char *path; /* the module's, owned by the log's state */
	uint64_t id, start, max_offset;
	const uint8_t *build_id;
	size_t build_id_len;
};

struct pprof {
	struct buf out, msg, sub, fn; /* the profile, a message, a sub-message, a function */
	struct str *strs;
	struct str **str_list;
	size_t nstrs, strs_cap;
	struct func *funcs;
	uint64_t nfuncs;
	struct mapping *maps;
	uint64_t nmaps;
};

static int64_t str_id(struct pprof *pp, const char *s)
{
	size_t len = strlen(s);
	struct str *e;

	HASH_FIND(hh, pp->strs, s, len, e);
	if (e)
		return e->id;
	e = sla_xmalloc(sizeof(*e) + len + 1);
	memcpy(e->s, s, len + 1);
	e->id = (int64_t)pp->nstrs;
	HASH_ADD_KEYPTR(hh, pp->strs, e->s, len, e);
	sla_xgrow(&pp->str_list, &pp->strs_cap, pp->nstrs + 1, sizeof(*pp->str_list));
	pp->str_list[pp->nstrs++] = e;
	return e->id;
}

/* Function messages go out as they are first seen (field 5). */
static uint64_t func_id(struct pprof *pp, const struct sla_frame *f)
{
	int64_t key[2] = { str_id(pp, f->function), str_id(pp, f->file ? f->file : "") };
	struct func *e;

	HASH_FIND(hh, pp->funcs, key, sizeof(key), e);
	if (e)
		return e->id;
	e = sla_xcalloc(1, sizeof(*e));
	memcpy(e->key, key, sizeof(key));
	e->id = ++pp->nfuncs;
	HASH_ADD(hh, pp->funcs, key, sizeof(key), e);
	pp->fn.n = 0;
	field_u(&pp->fn, 1, e->id);
	field_u(&pp->fn, 2, (uint64_t)key[0]);
	field_u(&pp->fn, 3, (uint64_t)key[0]);
	field_u(&pp->fn, 4, (uint64_t)key[1]);
	field_bytes(&pp->out, 5, pp->fn.p, pp->fn.n);
	return e->id;
}

static struct mapping *mapping_of(struct pprof *pp, const struct sla_module *m)
{
	struct mapping *e;

	HASH_FIND_STR(pp->maps, m->path, e);
	if (e)
		return e;
	e = sla_xcalloc(1, sizeof(*e));
	e->path = m->path;
	e->id = ++pp->nmaps;
	e->start = m->bias;
	e->build_id = m->build_id;
	e->build_id_len = m->build_id_len;
	HASH_ADD_KEYPTR(hh, pp->maps, e->path, strlen(e->path), e);
	return e;
}

/* The Location of canonical stack `gid`'s own frame (field 4), id = gid. */
static void location(struct pprof *pp, struct sla_stackset *set, struct sla_symbolizer *sym,
		     uint32_t gid)
{
	const struct sla_module *mod;
	struct sla_frame f[32];
	size_t nf = sla_stackset_leaf(set, gid, sym, &mod, f, 32);
	struct mapping *map = mod ? mapping_of(pp, mod) : NULL;

	pp->msg.n = 0;
	field_u(&pp->msg, 1, gid);
	if (map) {
		field_u(&pp->msg, 2, map->id);
		field_u(&pp->msg, 3, map->start + f[0].offset);
		if (f[0].offset > map->max_offset)
			map->max_offset = f[0].offset;
	} else {
		field_u(&pp->msg, 3, f[0].address);
	}
	for (size_t i = 0; i < nf; i++) { /* innermost first, as pprof wants */
		uint64_t id;

		if (!f[i].function)
			continue;
		id = func_id(pp, &f[i]);
		pp->sub.n = 0;
		field_u(&pp->sub, 1, id);
		field_u(&pp->sub, 2, f[i].line);
		field_bytes(&pp->msg, 4, pp->sub.p, pp->sub.n);
	}
	field_bytes(&pp->out, 4, pp->msg.p, pp->msg.n);
}

static void value_type(struct pprof *pp, unsigned field, const char *type, const char *unit)
{
	pp->sub.n = 0;
	field_u(&pp->sub, 1, (uint64_t)str_id(pp, type));
	field_u(&pp->sub, 2, (uint64_t)str_id(pp, unit));
	field_bytes(&pp->out, field, pp->sub.p, pp->sub.n);
}

static void build_profile(struct pprof *pp, const struct sla_results *res,
			  struct sla_stackset *set, struct sla_symbolizer *sym)
{
	struct sla_profile p;
	struct mapping *m, *tmp;
	double duration = 0;
	bool retained;

	sla_profile_build(&p, res, set);
	str_id(pp, ""); /* string 0 is the empty string */
	for (size_t i = 0; i < NTYPES; i++)
		value_type(pp, 1, sample_types[i].type, sample_types[i].unit);
	for (uint32_t gid = 0; gid < p.n; gid++) { /* samples (field 2) */
		struct buf packed = { 0 };
		bool any = false;

		for (size_t i = 0; i < NTYPES; i++) {
			const struct sla_profile_value *v = &p.v[gid][sample_types[i].metric];

			any |= (sample_types[i].bytes ? v->bytes : v->objects) != 0;
		}
		if (!any)
			continue;
		pp->msg.n = 0;
		for (uint32_t g = gid; g; g = sla_stackset_parent(set, g))
			varint(&packed, g); /* the leaf first */
		if (packed.n)
			field_bytes(&pp->msg, 1, packed.p, packed.n);
		packed.n = 0;
		for (size_t i = 0; i < NTYPES; i++) {
			const struct sla_profile_value *v = &p.v[gid][sample_types[i].metric];

			varint(&packed, sample_types[i].bytes ? v->bytes : v->objects);
		}
		field_bytes(&pp->msg, 2, packed.p, packed.n);
		field_bytes(&pp->out, 2, pp->msg.p, pp->msg.n);
		free(packed.p);
	}
	for (uint32_t gid = 1; gid < p.n; gid++)
		if (p.used[gid])
			location(pp, set, sym, gid);
	HASH_ITER(hh, pp->maps, m, tmp) { /* mappings (field 3), now that their extents are known */
		pp->sub.n = 0;
		field_u(&pp->sub, 1, m->id);
		field_u(&pp->sub, 2, m->start);
		field_u(&pp->sub, 3, m->start + m->max_offset + 1);
		field_u(&pp->sub, 5, (uint64_t)str_id(pp, m->path));
		if (m->build_id_len) {
			char hex[2 * 64 + 1];
			size_t n = m->build_id_len < 64 ? m->build_id_len : 64;

			for (size_t i = 0; i < n; i++)
				snprintf(hex + 2 * i, 3, "%02x", m->build_id[i]);
			field_u(&pp->sub, 6, (uint64_t)str_id(pp, hex));
		}
		for (unsigned f = 7; f <= 10; f++) /* has functions, files, lines, inline frames */
			field_u(&pp->sub, f, 1);
		field_bytes(&pp->out, 3, pp->sub.p, pp->sub.n);
	}
	for (size_t i = 0; i < res->nlogs; i++)
		if (res->logs[i].duration_s > duration)
			duration = res->logs[i].duration_s;
	field_u(&pp->out, 10, (uint64_t)(duration * 1e9));
	value_type(pp, 11, "space", "bytes");
	retained = p.total[SLA_METRIC_RETAINED].bytes != 0;
	field_u(&pp->out, 14, (uint64_t)str_id(pp, retained ? "retained_space" : "inuse_space"));
	for (size_t i = 0; i < pp->nstrs; i++) /* the string table (field 6) last: all are known */
		field_bytes(&pp->out, 6, pp->str_list[i]->s, strlen(pp->str_list[i]->s));
	sla_profile_free(&p);
}

static void free_profile(struct pprof *pp)
{
	struct str *s, *stmp;
	struct func *f, *ftmp;
	struct mapping *m, *mtmp;

	HASH_ITER(hh, pp->strs, s, stmp) {
		HASH_DELETE(hh, pp->strs, s);
		free(s);
	}
	HASH_ITER(hh, pp->funcs, f, ftmp) {
		HASH_DELETE(hh, pp->funcs, f);
		free(f);
	}
	HASH_ITER(hh, pp->maps, m, mtmp) {
		HASH_DELETE(hh, pp->maps, m);
		free(m);
	}
	free(pp->str_list);
	free(pp->out.p);
	free(pp->msg.p);
	free(pp->sub.p);
	free(pp->fn.p);
}

/* gzip of the whole buffer (zlib's deflate with a gzip header). */
static int gzip_to(FILE *out, const uint8_t *data, size_t len)
{
	z_stream zs = { 0 };
	uint8_t chunk[1 << 16];
	int ret;

	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY))
		return -1;
	zs.next_in = (Bytef *)(uintptr_t)data;
	zs.avail_in = (uInt)len; /* a profile over 4 GiB is not a case to design for */
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		ret = deflate(&zs, Z_FINISH);
		if (ret == Z_STREAM_ERROR)
			break;
		fwrite(chunk, 1, sizeof(chunk) - zs.avail_out, out);
	} while (ret != Z_STREAM_END);
	deflateEnd(&zs);
	return ret == Z_STREAM_END ? 0 : -1;
}

int sla_report_pprof(FILE *out, const struct sla_results *res, struct sla_stackset *set,
		     struct sla_symbolizer *sym)
{
	struct pprof pp = { 0 };
	int ret;

	build_profile(&pp, res, set, sym);
	ret = gzip_to(out, pp.out.p, pp.out.n);
	free_profile(&pp);
	return ret;
}
