/*
 * analyzer/read/reader.h - bytes of a .sllog -> validated, decoded records.
 *
 * The reader is the only code of the analyzer that touches the bytes of a
 * log. It checks the file header (magic, version: a newer major version is
 * refused with a message naming both versions), then hands out one record at
 * a time, fully decoded with format.h's codecs and bounds-checked field by
 * field. It keeps the format's decoding state (prev_addr, tid, time,
 * next_stack) so that callers see absolute values only.
 *
 * Memory: a file is mmap()ed read-only (a pipe or a device has its header
 * checked first, then is copied into an unlinked file in $TMPDIR, which is
 * mapped) and walked once, front to back, with MADV_SEQUENTIAL:
 * the reader itself allocates nothing per record, so a log of any size is
 * read in memory proportional to the largest MODULE record; pages already
 * read are given back to the kernel every 8 MiB (MADV_DONTNEED). A tail of
 * zeros is skipped hole by hole (SEEK_DATA) or read with the same release,
 * so a sparse log of any size costs neither its size in memory nor its
 * reading. A mapped file that another process makes shorter while it is
 * read would fault (SIGBUS): the reader's handler prints
 * "sliceleak: PATH: offset N: the file became shorter while it was being
 * read" and exits 2.
 *
 * Format 2.x (per-thread CHUNKs ordered by seq, format.h): the first call of
 * sla_reader_next() walks the top level once (PROCESS, CHUNK*, END) and keeps
 * a 16-byte index entry per chunk plus one cursor per thread; then the
 * threads' streams are merged by seq (equal seqs: stream order of the
 * thread; across threads, file order) and come out through the same
 * iterator, one record at a time: PROCESS first, END last. Each chunk decodes
 * alone; rec->tid is its thread, rec->time_ns the largest TIME so far in
 * merged order, rec->seq the record's seq, rec->offset the file offset of
 * the inner record's kind byte. Memory: the index (16 bytes per chunk), the
 * cursors (~64 bytes per thread), a bitmap of defined stack ids; pages behind
 * the lowest position any thread's cursor still needs are given back. A
 * chunk cut by the end of the file truncates the log there: the records of
 * the complete chunks are still delivered, then r->truncated.
 *
 * Strings in a record (struct sla_str) point into the mapping: they are valid
 * until sla_reader_close() and are NOT NUL-terminated. MODULE segments point
 * into a reader-owned array valid until the next call of sla_reader_next().
 *
 * End of a log, three cases (sla_reader_next() returns 0 for the first two):
 *   - END record seen, nothing after it:   r->ended = true
 *   - end of file without END, a record cut by the end of the file, or a
 *     tail of zero bytes only (a crashed file system's unwritten blocks):
 *     r->truncated = true, r->trunc_offset = where the incomplete part starts
 *     (a killed process's log: valid up to its last complete record).
 *     2.1: a killed multi-threaded process leaves each thread's stream
 *     cut at a different point, so the merge stops at r->cut_seq, the
 *     largest seq below which a SYNC record vouches that every stream is
 *     complete; r->cut_records counts what was left out after it
 *   - bytes that cannot be a record (bad length, bad varint, a field past
 *     its payload, a stack id never defined, data after END, a scan record
 *     out of the order SCAN_BEGIN, (SCAN_REGION, SCAN_PTRS*)*, SCAN_END or
 *     another kind inside a scan; 2.x: a top-level kind other than
 *     PROCESS/CHUNK/END, an inner PROCESS/THREAD/CHUNK/END, an inner record
 *     crossing its chunk's end, seq going back along a thread's chunks, a
 *     STACK id 0, redefined, above 2^32-1 or far beyond the ids defined so
 *     far, unknown REALLOC flags, END not counting the CHUNKs ...): returns
 *     -EBADMSG with r->err_offset (byte offset of the offending byte) and
 *     r->err_msg (what is wrong, no path, no offset).
 *
 * Typical use:
 *
 *	struct sla_reader r;
 *	struct sla_record rec;
 *	int err;
 *
 *	if (sla_reader_open(&r, path) < 0)
 *		die("%s: %s", path, r.err_msg);   // or offset too, see main.c
 *	while ((err = sla_reader_next(&r, &rec)) > 0)
 *		use(&rec);
 *	if (err < 0)
 *		die("%s: offset %llu: %s", path, r.err_offset, r.err_msg);
 *	// r.ended / r.truncated say how the log ended
 *	sla_reader_close(&r);
 *
 * The fuzz harness uses sla_reader_init_mem() over its input buffer; the
 * unit tests build logs in memory with struct logbuf (tests/logbuf.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sliceleak/format.h>

#include "errors.h"
#include "module.h"

/* A string field of a record: points into the log, not NUL-terminated. */
struct sla_str {
	const char *ptr;
	size_t len;
};

/*
 * The decoded fields of a record of each kind, one struct per kind named
 * and laid out as records.def lists them: u8 as unsigned, u64, uv and addr as
 * uint64_t, sv as int64_t, str as struct sla_str, segs as nsegs and segs
 * (reader-owned, valid until the next sla_reader_next()), pairs as count
 * and what sla_scan_iter needs to walk them.
 */
#define SLA_MEMBER_u8(f)    unsigned f;
#define SLA_MEMBER_u64(f)   uint64_t f;
#define SLA_MEMBER_uv(f)    uint64_t f;
#define SLA_MEMBER_sv(f)    int64_t f;
#define SLA_MEMBER_addr(f)  uint64_t f;
#define SLA_MEMBER_str(f)   struct sla_str f;
#define SLA_MEMBER_segs(f)  uint64_t n##f; const struct sla_seg *f;
#define SLA_MEMBER_pairs(f) uint64_t f; const uint8_t *pairs, *end; uint64_t region_start, heap_lo;
#define SLA_MEMBER_body(f)
#define SLA_MEMBER(kind, enc, field, show, since) SLA_MEMBER_##enc(field)
#define SLA_KIND_MEMBER(NAME, name, value, place) \
	__extension__ struct { SLF_FIELDS_##name(SLA_MEMBER) } name;

/*
 * One decoded record. `kind` selects the member of the union; a kind this
 * reader does not know (a newer minor version) comes back with kind set and
 * no member filled: skip it. Values the format gives as context, not as
 * fields, are set by the reader: STACK's id in a 1.x log (next_stack),
 * time_backwards.
 */
struct sla_record {
	uint64_t offset;      /* byte offset of the record's kind byte in the file */
	uint64_t index;       /* 0-based position of the record in the log */
	unsigned kind;	      /* enum slf_kind, or an unknown value */
	uint32_t payload_len; /* bytes of payload */
	uint64_t tid;	      /* decoding context after this record: current thread */
	uint64_t time_ns;     /* decoding context after this record: current time
				 (2.x: the largest TIME so far in merged order) */
	uint64_t seq;	      /* 2.x: the record's seq (PROCESS: 0; END: the last
				 record's); 1.x: same as index */
	bool time_backwards;  /* TIME: below an earlier TIME (2.x: of the same thread) */
	union {
		SLF_RECORDS(SLA_KIND_MEMBER)
	};
};

/*
 * The (location, value) pairs of a SCAN_PTRS record, decoded on the fly so
 * that replay walks a scan of any size without allocating. The reader has
 * validated every pair (each location inside the current region, strictly
 * increasing; each value inside the scan's [heap_lo, heap_hi]), so this
 * cannot fail; it is only valid until the next sla_reader_next().
 *
 *	struct sla_scan_iter it;
 *	uint64_t loc, val;
 *
 *	sla_scan_iter_init(&it, &rec);
 *	while (sla_scan_iter_next(&it, &loc, &val))
 *		use(loc, val);
 */
struct sla_scan_iter {
	const uint8_t *p, *end;
	uint64_t left, loc, val;
};

static inline void sla_scan_iter_init(struct sla_scan_iter *it, const struct sla_record *rec)
{
	it->p = rec->scan_ptrs.pairs;
	it->end = rec->scan_ptrs.end;
	it->left = rec->scan_ptrs.count;
	it->loc = rec->scan_ptrs.region_start;
	it->val = rec->scan_ptrs.heap_lo;
}

static inline bool sla_scan_iter_next(struct sla_scan_iter *it, uint64_t *loc, uint64_t *val)
{
	uint64_t gap = 0, delta = 0;
	size_t n;

	if (!it->left)
		return false;
	n = slf_get_uv(it->p, it->end, &gap);
	sla_assert(n); /* the reader validated every pair */
	it->p += n;
	n = slf_get_uv(it->p, it->end, &delta);
	sla_assert(n);
	it->p += n;
	it->loc += gap * 8;
	it->val += (uint64_t)slf_unzigzag(delta);
	it->left--;
	*loc = it->loc;
	*val = it->val;
	return true;
}

struct sla_chunk;
struct sla_stream;

/* The state of reading one log. Fields below the line are private. */
struct sla_reader {
	const char *name;   /* for messages: the path, or the name given to _mem */
	uint16_t major;	    /* version of the writer, from the header */
	uint16_t minor;
	uint64_t size;	    /* bytes in the log */
	uint64_t records;   /* complete records returned so far */
	bool ended;	    /* the END record was read */
	bool truncated;	    /* the log ends without END (set when next() returns 0) */
	uint64_t trunc_offset; /* where the incomplete tail starts when truncated */
	uint64_t cut_seq;      /* 2.1 without END: records from this seq on were left
				  out, a point where every thread's stream is
				  complete (SYNC, REGION's inflight and pending,
				  format.h); UINT64_MAX: no cut */
	uint64_t cut_records;  /* records left out past cut_seq */
	uint64_t unknown_skipped; /* 2.x: records of kinds this version does not know at
				     the top level, skipped by length (inner ones are
				     handed out, kind set, no member filled) */
	uint64_t stacks_lost;  /* 2.x without END: stack references whose definition
				  was never written (read as the empty stack) */
	uint64_t err_offset;   /* offset of the problem after an error */
	char err_msg[160];     /* the problem after an error */

	/* ---- private ---- */
	const uint8_t *base; /* the whole log */
	uint64_t pos;	     /* offset of the next record */
	uint64_t prev_addr, tid, time_ns, next_stack;
	struct sla_seg *segs; /* scratch for MODULE records */
	size_t segs_cap;
	void *map;	      /* what to munmap on close; NULL for _mem */
	size_t map_len;
	int fd;		      /* the mapped file (holes: SEEK_DATA), or -1 */
	uint64_t released;    /* pages before this offset were given back */
	/* the scan being read (format.h: SCAN_BEGIN, (SCAN_REGION, SCAN_PTRS*)*, SCAN_END) */
	enum { SCAN_NONE, SCAN_OPEN, SCAN_IN_REGION } scan;
	uint64_t scan_lo, scan_hi;     /* SCAN_BEGIN's heap span */
	uint64_t region_start, region_end;
	uint64_t scan_bytes, scan_ptrs; /* sums, checked against SCAN_END */
	uint64_t time_max;    /* the largest TIME so far (time_backwards) */

	/* 2.x: the chunk index, the threads' cursors and their merge (reader.c) */
	int phase;	      /* V2_INDEX, V2_PROCESS, V2_MERGE, V2_END, V2_DONE */
	struct sla_chunk *chunks;
	size_t nchunks, chunks_cap;
	struct sla_stream *streams;
	size_t nstreams, streams_cap;
	uint32_t *heap;	      /* streams waiting, a min-heap by (seq, offset) */
	size_t nheap;
	uint32_t cur;	      /* the stream records are taken from, or UINT32_MAX */
	uint64_t end_off;     /* offset of the END record, UINT64_MAX if none */
	uint64_t top_trunc;   /* where the top level's incomplete tail starts */
	uint64_t last_seq;    /* seq of the last record returned */
	uint64_t sync_below;  /* the largest SYNC seen by the index, 0 if none */
	uint64_t region_cut;  /* 3.x: the smallest seq a REGION shows in flight */
	uint64_t (*copies)[2]; /* 3.x: (chunk index of a REGION, offset of its copy) */
	size_t ncopies, copies_cap;
	uint64_t runs;	      /* CHUNK and REGION records, for END's check */
	uint32_t release_countdown;
	uint64_t *stack_bits; /* defined stack ids (2.x ids arrive out of order) */
	size_t stack_words;
	uint64_t stacks_dense; /* ids 1..stacks_dense are all defined */
	uint64_t stacks_defined;
};

/*
 * Opens `path` and checks its header. Returns 0, or -errno with r->err_msg
 * set ("cannot open: ...", "not a sliceleak log (bad magic)", "log format
 * version 2.0 is newer than this sliceleak reads (1.0)", ...); r->err_offset
 * says where a header problem is. Close with sla_reader_close() in both cases.
 * Context: analyzer, any time; allocates the mapping.
 */
int sla_reader_open(struct sla_reader *r, const char *path);

/*
 * Same over a caller-owned buffer that must outlive the reader; `name` is
 * used in messages. Returns 0 or -EBADMSG / -EPROTONOSUPPORT (newer major).
 */
int sla_reader_init_mem(struct sla_reader *r, const uint8_t *data, size_t size, const char *name);

/*
 * Decodes the next record into *out. Returns 1 with a record, 0 at the end of
 * the log (r->ended or r->truncated says which), -EBADMSG on a corrupt record
 * (r->err_offset, r->err_msg). After 0 or an error it keeps returning the
 * same. Never reads outside the log, never allocates except to grow the
 * segment scratch array of a MODULE record.
 */
int sla_reader_next(struct sla_reader *r, struct sla_record *out);

/*
 * The error of a failed open or next() (`err`, its return) as the analyzer
 * says it: "<name>: offset <n>: <problem>" for a log that is corrupt or too
 * new, "<name>: <problem>" for one that cannot be read.
 */
void sla_reader_describe(const struct sla_reader *r, int err, char *buf, size_t len);

/* Releases the mapping and scratch. Safe after a failed open. */
void sla_reader_close(struct sla_reader *r);
