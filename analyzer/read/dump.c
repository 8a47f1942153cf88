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

/* The fields of one known record, in format.h's order (2.x: STACK's id, REALLOC's flags). */
static void put_fields(FILE *out, const struct sla_record *rec, bool v2)
{
	switch ((enum slf_kind)rec->kind) {
	case SLF_REC_PROCESS:
		put_num(out, "pid", rec->process.pid);
		put_num(out, "ppid", rec->process.ppid);
		put_num(out, "start_ns", rec->process.start_ns);
		put_num(out, "stack_depth", rec->process.stack_depth);
		put_str(out, "exe", rec->process.exe);
		put_str(out, "cmdline", rec->process.cmdline);
		put_str(out, "interposer", rec->process.interposer);
		put_num(out, "flags", rec->process.flags);
		break;
	case SLF_REC_MODULES_RESET:
		break;
	case SLF_REC_MODULE:
		put_addr(out, "bias", rec->module.bias);
		put_str(out, "path", rec->module.path);
		put_hex_str(out, "build_id", rec->module.build_id);
		put_num(out, "nsegs", rec->module.nsegs);
		for (uint64_t i = 0; i < rec->module.nsegs; i++) {
			put_num(out, "vaddr", rec->module.segs[i].vaddr);
			put_num(out, "memsz", rec->module.segs[i].memsz);
			put_num(out, "flags", rec->module.segs[i].flags);
		}
		break;
	case SLF_REC_STACK:
		if (v2)
			put_num(out, "id", rec->stack.id);
		put_num(out, "parent", rec->stack.parent);
		put_addr(out, "ip", rec->stack.ip);
		break;
	case SLF_REC_THREAD:
		put_num(out, "tid", rec->thread.tid);
		break;
	case SLF_REC_TIME:
		put_num(out, "ns", rec->time.ns);
		break;
	case SLF_REC_ALLOC:
		put_num(out, "fn", rec->alloc.fn);
		put_addr(out, "addr", rec->alloc.addr);
		put_num(out, "size", rec->alloc.size);
		put_num(out, "align", rec->alloc.align);
		put_num(out, "stack", rec->alloc.stack);
		break;
	case SLF_REC_FREE:
		put_addr(out, "addr", rec->free.addr);
		break;
	case SLF_REC_REALLOC:
		put_num(out, "fn", rec->realloc.fn);
		put_addr(out, "old_addr", rec->realloc.old_addr);
		put_addr(out, "new_addr", rec->realloc.new_addr);
		put_num(out, "size", rec->realloc.size);
		put_num(out, "stack", rec->realloc.stack);
		if (v2)
			put_num(out, "flags", rec->realloc.flags);
		break;
	case SLF_REC_SLICE_NEW:
		put_addr(out, "block", rec->slice_new.block);
		put_addr(out, "ptr", rec->slice_new.ptr);
		put_num(out, "len", rec->slice_new.len);
		put_num(out, "cap", rec->slice_new.cap);
		put_num(out, "stack", rec->slice_new.stack);
		break;
	case SLF_REC_SLICE_DROP:
		put_addr(out, "block", rec->slice_drop.block);
		put_addr(out, "ptr", rec->slice_drop.ptr);
		put_num(out, "len", rec->slice_drop.len);
		break;
	case SLF_REC_VIEW_ACQUIRE:
		put_addr(out, "owner", rec->view_acquire.owner);
		put_addr(out, "ptr", rec->view_acquire.ptr);
		put_num(out, "len", rec->view_acquire.len);
		put_num(out, "stack", rec->view_acquire.stack);
		break;
	case SLF_REC_VIEW_RELEASE:
		put_addr(out, "owner", rec->view_release.owner);
		put_num(out, "stack", rec->view_release.stack);
		break;
	case SLF_REC_SNAPSHOT:
		put_str(out, "label", rec->snapshot.label);
		put_num(out, "stack", rec->snapshot.stack);
		break;
	case SLF_REC_END:
		put_num(out, "records", rec->end.records);
		put_num(out, "dropped", rec->end.dropped);
		break;
	case SLF_REC_SCAN_BEGIN:
		put_addr(out, "heap_lo", rec->scan_begin.heap_lo);
		put_addr(out, "heap_hi", rec->scan_begin.heap_hi);
		break;
	case SLF_REC_SCAN_REGION:
		put_num(out, "kind", rec->scan_region.kind);
		put_addr(out, "start", rec->scan_region.start);
		put_num(out, "size", rec->scan_region.size);
		break;
	case SLF_REC_SCAN_PTRS: {
		struct sla_scan_iter it;
		uint64_t loc, val;

		/* every pair, on the record's one line: a dump hides nothing */
		put_num(out, "count", rec->scan_ptrs.count);
		sla_scan_iter_init(&it, rec);
		while (sla_scan_iter_next(&it, &loc, &val))
			fprintf(out, " 0x%" PRIx64 "=0x%" PRIx64, loc, val);
		break;
	}
	case SLF_REC_SCAN_END:
		put_num(out, "bytes", rec->scan_end.bytes);
		put_num(out, "pointers", rec->scan_end.pointers);
		put_num(out, "capped", rec->scan_end.capped);
		put_num(out, "unread", rec->scan_end.unread);
		put_num(out, "no_maps", rec->scan_end.no_maps);
		break;
	case SLF_REC_CHUNK: /* the reader never hands one out: it merges their records */
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
			put_fields(out, &rec, v2);
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
	fprintf(out, "# records=%" PRIu64 " end=%s truncated=%s\n", r->records,
		r->ended ? "yes" : "no", r->truncated ? "yes" : "no");
	return 0;
}
