/* analyzer/read/dump.c - `sliceleak dump`: every record of a log as one text line. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include <sliceleak/format.h>

#include "dump.h"

/* A string field in double quotes with C escapes; NULs become \0. */
static void put_str(FILE *out, const char *name, struct sla_str s)
{
	fprintf(out, " %s=\"", name);
	for (size_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.ptr[i];

		switch (ch) {
		case '\0': fputs("\\0", out); break;
		case '\\': fputs("\\\\", out); break;
		case '"': fputs("\\\"", out); break;
		case '\n': fputs("\\n", out); break;
		case '\t': fputs("\\t", out); break;
		case '\r': fputs("\\r", out); break;
		default:
			if (ch < 0x20 || ch >= 0x7f)
				fprintf(out, "\\x%02x", ch);
			else
				fputc(ch, out);
		}
	}
	fputc('"', out);
}

static void put_hex_str(FILE *out, const char *name, struct sla_str s)
{
	fprintf(out, " %s=\"", name);
	for (size_t i = 0; i < s.len; i++)
		fprintf(out, "%02x", (unsigned char)s.ptr[i]);
	fputc('"', out);
}

static void put_num(FILE *out, const char *name, uint64_t v)
{
	fprintf(out, " %s=%" PRIu64, name, v);
}

static void put_addr(FILE *out, const char *name, uint64_t v)
{
	fprintf(out, " %s=0x%" PRIx64, name, v);
}

/* A segs field (MODULE): its count, then each segment's three numbers. */
static void put_segs(FILE *out, const char *name, uint64_t n, const struct sla_seg *segs)
{
	fprintf(out, " n%s=%" PRIu64, name, n);
	for (uint64_t i = 0; i < n; i++) {
		put_num(out, "vaddr", segs[i].vaddr);
		put_num(out, "memsz", segs[i].memsz);
		put_num(out, "flags", segs[i].flags);
	}
}

/* A pairs field (SCAN_PTRS): the count, then every pair on the record's one line. */
static void put_pairs(FILE *out, const struct sla_record *rec)
{
	struct sla_scan_iter it;
	uint64_t loc, val;

	put_num(out, "count", rec->scan_ptrs.count);
	sla_scan_iter_init(&it, rec);
	while (sla_scan_iter_next(&it, &loc, &val))
		fprintf(out, " 0x%" PRIx64 "=0x%" PRIx64, loc, val);
}

/*
 * The fields of one known record in records.def's order (a field of a later
 * major version than the log's is left out), printed by what they are.
 */
#define DUMP_SHOW_dec(kind, f)	 put_num(out, #f, rec->kind.f);
#define DUMP_SHOW_stack(kind, f) put_num(out, #f, rec->kind.f);
#define DUMP_SHOW_hex(kind, f)	 put_addr(out, #f, rec->kind.f);
#define DUMP_SHOW_text(kind, f)	 put_str(out, #f, rec->kind.f);
#define DUMP_SHOW_bytes(kind, f) put_hex_str(out, #f, rec->kind.f);
#define DUMP_u8(kind, f, show)	 DUMP_SHOW_##show(kind, f)
#define DUMP_u64(kind, f, show)	 DUMP_SHOW_##show(kind, f)
#define DUMP_uv(kind, f, show)	 DUMP_SHOW_##show(kind, f)
#define DUMP_sv(kind, f, show)	 DUMP_SHOW_##show(kind, f)
#define DUMP_addr(kind, f, show) DUMP_SHOW_##show(kind, f)
#define DUMP_str(kind, f, show)	 DUMP_SHOW_##show(kind, f)
#define DUMP_segs(kind, f, show) put_segs(out, #f, rec->kind.n##f, rec->kind.f);
#define DUMP_pairs(kind, f, show) put_pairs(out, rec);
#define DUMP_body(kind, f, show)
#define DUMP_FIELD(kind, enc, f, show, since)  \
	if (slf_field_in((since), major, minor)) { \
		DUMP_##enc(kind, f, show)         \
	}
#define DUMP_KIND(NAME, name, value, place) \
	case SLF_REC_##NAME:                \
		SLF_FIELDS_##name(DUMP_FIELD) break;

static void put_fields(FILE *out, const struct sla_record *rec, unsigned major, unsigned minor)
{
	switch ((enum slf_kind)rec->kind) {
		SLF_RECORDS(DUMP_KIND)
	case SLF_REC_KIND_COUNT:
	default:
		break;
	}
}

/*
 * Records as they come; the summary line only when the log read cleanly.
 * 2.x: in merged order, each line ending in the record's seq too; the tid
 * is on every line (there are no THREAD records), the offset is the inner
 * record's own.
 */
int sla_dump_log(FILE *out, struct sla_reader *r)
{
	struct sla_record rec;
	bool v2 = r->major >= 2;
	int err;

	while ((err = sla_reader_next(r, &rec)) > 0) {
		const char *name = slf_kind_name(rec.kind);

		if (name) {
			fprintf(out, "%" PRIu64 " %s", rec.offset, name);
			put_fields(out, &rec, r->major, r->minor);
		} else {
			fprintf(out, "%" PRIu64 " UNKNOWN(%u) len=%u", rec.offset, rec.kind,
				rec.payload_len);
		}
		fprintf(out, " tid=%" PRIu64 " time_ns=%" PRIu64, rec.tid, rec.time_ns);
		if (v2)
			fprintf(out, " seq=%" PRIu64, rec.seq);
		fputc('\n', out);
	}
	if (err < 0)
		return err;
	fprintf(out, "# records=%" PRIu64 " end=%s truncated=%s", r->records,
		r->ended ? "yes" : "no", r->truncated ? "yes" : "no");
	if (r->cut_seq != UINT64_MAX)
		fprintf(out, " cut_seq=%" PRIu64 " records_after_cut=%" PRIu64, r->cut_seq,
			r->cut_records);
	fputc('\n', out);
	return 0;
}
