/*
 * analyzer/tests/logbuf.h - builds .sllog bytes in memory for the tests.
 *
 * A tiny writer on top of format.h's put functions: the tests, the golden
 * log generator and the benchmark generator describe a log as calls
 * (lb_alloc(&b, ...)) and get exactly the bytes the shim would write. Only
 * the tests use it; it keeps its own prev_addr and next_stack like a writer.
 *
 * lb_init() starts a 1.x log (one flat stream, THREAD records). lb_init_v2()
 * starts a 2.0 log: PROCESS and END go to the top level, every other record
 * into the chunk opened by lb_chunk_begin(b, tid, base_seq) (each chunk
 * restarts prev_addr, as format.h says) until lb_chunk_end(). Each inner
 * record gets the seq b->seq, which then advances by b->seq_step (1; set 0
 * for a run of records sharing one seq); lb_seq() sets it. STACK records
 * carry their id (lb_stack: the next one; lb_stack_id: any), REALLOC its
 * flags. A thread of a generator may keep its own logbuf as a chunk buffer
 * and flush it into the log with lb_chunk_end_into().
 *
 * lb_init_v3() starts a 3.0 log: the same, with 3.x's inner framing (kind,
 * seq_delta, length), and lb_dense_<name>() for the dense forms of
 * records.def's SLF_DENSE (their state restarts with each chunk too).
 */
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sliceleak/format.h>

struct logbuf {
	uint8_t *data;	    /* the log so far (header included) */
	size_t len, cap;
	uint64_t prev_addr; /* encoding state, as in format.h */
	uint64_t next_stack;
	uint64_t records;   /* records written, for END */
	uint8_t pay[4096];  /* payload being built */
	size_t plen;
	/* the scan being written (1.1): bases of SCAN_PTRS and SCAN_END's sums */
	uint64_t scan_lo, region_start, scan_bytes, scan_ptrs;
	/* 2.x */
	int v2;		    /* writing a 2.x log */
	int in_chunk;	    /* records go into the chunk body below */
	uint8_t *cdata;	    /* the open chunk's inner records */
	size_t clen, ccap;
	uint64_t ctid, cbase, clast; /* its tid, base seq, last record's seq */
	uint64_t seq, seq_step;	     /* the next inner record's seq, its advance */
	uint64_t chunks;	     /* CHUNK records written, for END */
	int major;		     /* the version the encoders write */
	struct slf_dense_state dense; /* 3.x: the chunk's dense forms' state */
};

static inline void lb_reserve(struct logbuf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	while (b->len + n > b->cap)
		b->cap = b->cap ? b->cap * 2 : 4096;
	b->data = realloc(b->data, b->cap);
	if (!b->data)
		abort();
}

static inline void lb_raw(struct logbuf *b, const void *p, size_t n)
{
	lb_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* Starts a log with a header of the given version. */
static inline void lb_init_version(struct logbuf *b, uint16_t major, uint16_t minor)
{
	struct slf_file_header h = { .major = major, .minor = minor };

	memset(b, 0, sizeof(*b));
	memcpy(h.magic, SLF_MAGIC, SLF_MAGIC_LEN);
	b->next_stack = 1;
	b->major = major;
	lb_raw(b, &h, sizeof(h));
}

/* A 1.x log: the last 1.x version (flat stream, THREAD records). */
static inline void lb_init(struct logbuf *b)
{
	lb_init_version(b, 1, 1);
}

/* A 2.0 log (see the top of this file). */
static inline void lb_init_v2(struct logbuf *b)
{
	lb_init_version(b, 2, 0);
	b->v2 = 1;
	b->seq = 1;
	b->seq_step = 1;
}

/* A 3.0 log (see the top of this file). */
static inline void lb_init_v3(struct logbuf *b)
{
	struct slf_file_header *h;

	lb_init_v2(b);
	h = (struct slf_file_header *)(void *)b->data;
	h->major = 3;
	h->minor = 0;
	b->major = 3;
}

static inline void lb_free(struct logbuf *b)
{
	free(b->data);
	free(b->cdata);
	b->data = NULL;
	b->cdata = NULL;
}

static inline void lb_seq(struct logbuf *b, uint64_t seq)
{
	b->seq = seq;
}

/* Opens a chunk of thread `tid` whose seqs count from `base`. */
static inline void lb_chunk_begin(struct logbuf *b, uint64_t tid, uint64_t base)
{
	b->in_chunk = 1;
	b->clen = 0;
	b->ctid = tid;
	b->cbase = b->clast = base;
	b->prev_addr = 0; /* a chunk decodes alone */
	b->dense = (struct slf_dense_state){ 0 };
}

static inline void lb_chunk_raw(struct logbuf *b, const void *p, size_t n)
{
	while (b->clen + n > b->ccap) {
		b->ccap = b->ccap ? b->ccap * 2 : 4096;
		b->cdata = realloc(b->cdata, b->ccap);
		if (!b->cdata)
			abort();
	}
	memcpy(b->cdata + b->clen, p, n);
	b->clen += n;
}

/* Writes b's open chunk as a CHUNK record at the end of log `to` (may be b). */
static inline void lb_chunk_end_into(struct logbuf *b, struct logbuf *to)
{
	uint8_t hdr[1 + 3 * SLF_MAX_UV_LEN];
	uint8_t fields[SLF_MAXLEN_CHUNK];
	uint64_t no_addr = 0;
	size_t n = 1, f;

	f = (size_t)(slf_encode_chunk(fields, &no_addr, b->major, b->ctid, b->cbase) - fields);
	hdr[0] = SLF_REC_CHUNK;
	n += slf_put_uv(hdr + 1, f + b->clen);
	lb_raw(to, hdr, n);
	lb_raw(to, fields, f);
	lb_raw(to, b->cdata, b->clen);
	to->chunks++;
	to->records++;
	b->in_chunk = 0;
	b->clen = 0;
}

static inline void lb_chunk_end(struct logbuf *b)
{
	lb_chunk_end_into(b, b);
}

static inline void p_uv(struct logbuf *b, uint64_t v)
{
	b->plen += slf_put_uv(b->pay + b->plen, v);
}

static inline void p_addr(struct logbuf *b, uint64_t v)
{
	b->plen += slf_put_addr(b->pay + b->plen, v, &b->prev_addr);
}

static inline void p_u8(struct logbuf *b, unsigned v)
{
	b->pay[b->plen++] = (uint8_t)v;
}

static inline void p_str(struct logbuf *b, const char *s, size_t n)
{
	p_uv(b, n);
	memcpy(b->pay + b->plen, s, n);
	b->plen += n;
}

/* Appends a record of `kind` with the payload built by the p_* calls since the last one. */
static inline void lb_emit(struct logbuf *b, unsigned kind)
{
	uint8_t hdr[1 + SLF_MAX_UV_LEN];
	size_t n = 1;

	hdr[0] = (uint8_t)kind;
	n += slf_put_uv(hdr + 1, b->plen);
	if (b->in_chunk) {
		uint8_t d[SLF_MAX_UV_LEN];

		if (b->seq < b->clast)
			abort(); /* a chunk's seqs never decrease: test bug */
		if (b->major >= 3) { /* kind, seq_delta, length */
			lb_chunk_raw(b, hdr, 1);
			lb_chunk_raw(b, d, slf_put_uv(d, b->seq - b->clast));
			lb_chunk_raw(b, hdr + 1, n - 1);
		} else { /* seq_delta, kind, length */
			lb_chunk_raw(b, d, slf_put_uv(d, b->seq - b->clast));
			lb_chunk_raw(b, hdr, n);
		}
		lb_chunk_raw(b, b->pay, b->plen);
		b->clast = b->seq;
		b->seq += b->seq_step;
		b->plen = 0;
		return;
	}
	lb_raw(b, hdr, n);
	lb_raw(b, b->pay, b->plen);
	b->plen = 0;
	b->records++;
}

/*
 * For every kind of records.def, lb_rec_<name>(b, fields...) appends a
 * record with the payload format.h's slf_encode_<name>() writes for b's
 * version; lb_pay_<name>(b, fields...) only builds that payload, for a kind
 * whose variable part (segs, pairs) the caller appends with p_uv() before
 * lb_emit(). Fields as slf_encode_<name>() takes them (str: pointer and
 * length; segs and pairs: their count).
 */
#define LB_ARG_u8(f)	, f
#define LB_ARG_uv(f)	, f
#define LB_ARG_sv(f)	, f
#define LB_ARG_addr(f)	, f
#define LB_ARG_str(f)	, f, f##_len
#define LB_ARG_segs(f)	, n##f
#define LB_ARG_pairs(f) , f
#define LB_ARG_body(f)
#define LB_ENCODER_ARG(kind, enc, field, show, since) LB_ARG_##enc(field)
#define LB_REC(NAME, name, value, place)                                                       \
	static inline void lb_pay_##name(struct logbuf *b SLF_FIELDS_##name(SLF_ENCODER_ARG))  \
	{                                                                                      \
		uint8_t *end = slf_encode_##name(b->pay + b->plen, &b->prev_addr,              \
						 b->v2 ? b->major : 1 SLF_FIELDS_##name(LB_ENCODER_ARG)); \
                                                                                               \
		b->plen = (size_t)(end - b->pay);                                              \
	}                                                                                      \
	static inline void lb_rec_##name(struct logbuf *b SLF_FIELDS_##name(SLF_ENCODER_ARG))  \
	{                                                                                      \
		lb_pay_##name(b SLF_FIELDS_##name(LB_ENCODER_ARG));                            \
		lb_emit(b, SLF_REC_##NAME);                                                    \
	}
SLF_RECORDS(LB_REC)

/*
 * For every dense form of records.def's SLF_DENSE, lb_dense_<name>(b,
 * fields...) appends the record in that form to the open chunk of a 3.x
 * log (the fields must fit it: slf_dense_fits_<name>), at seq b->seq.
 */
#define LB_DENSE(NAME, name, base)                                                              \
	static inline void lb_dense_##name(struct logbuf *b SLF_FIELDS_##name(SLF_ENCODER_ARG))  \
	{                                                                                       \
		uint8_t rec[SLF_MAXLEN_DENSE_##NAME];                                           \
		uint8_t *end;                                                                   \
                                                                                                \
		if (!b->in_chunk || b->major < 3 || b->seq < b->clast ||                        \
		    !slf_dense_fits_##name(0 SLF_FIELDS_##name(LB_ENCODER_ARG)))                \
			abort(); /* test bug */                                                 \
		end = slf_encode_dense_##name(rec, &b->dense,                                   \
					      b->seq - b->clast SLF_FIELDS_##name(LB_ENCODER_ARG)); \
		lb_chunk_raw(b, rec, (size_t)(end - rec));                                      \
		b->clast = b->seq;                                                              \
		b->seq += b->seq_step;                                                          \
	}
SLF_DENSE(LB_DENSE)

static inline void lb_process(struct logbuf *b, uint64_t pid, uint64_t ppid, const char *exe)
{
	/* cmdline: argv[0] and its NUL */
	lb_rec_process(b, pid, ppid, 1700000000000000000ull, 32, exe, strlen(exe), exe,
		       strlen(exe) + 1, "", 0, 0, 0, 65536);
}

static inline void lb_modules_reset(struct logbuf *b)
{
	lb_rec_modules_reset(b);
}

/* A module with one executable segment [vaddr, vaddr + memsz). */
static inline void lb_module(struct logbuf *b, uint64_t bias, const char *path, uint64_t vaddr,
			     uint64_t memsz)
{
	lb_pay_module(b, bias, path, strlen(path), "\x12\x34", 2, 1);
	p_uv(b, vaddr);
	p_uv(b, memsz);
	p_uv(b, 5);
	lb_emit(b, SLF_REC_MODULE);
}

/* 2.x: defines stack `id` (any order). Returns id. */
static inline uint64_t lb_stack_id(struct logbuf *b, uint64_t id, uint64_t parent, uint64_t ip)
{
	lb_rec_stack(b, id, parent, ip);
	return id;
}

/* Defines a stack edge with the next id; returns it. */
static inline uint64_t lb_stack(struct logbuf *b, uint64_t parent, uint64_t ip)
{
	return lb_stack_id(b, b->next_stack++, parent, ip); /* 1.x: the id is not written */
}

static inline void lb_thread(struct logbuf *b, uint64_t tid)
{
	lb_rec_thread(b, tid);
}

static inline void lb_time(struct logbuf *b, uint64_t ns)
{
	lb_rec_time(b, ns);
}

static inline void lb_alloc(struct logbuf *b, uint64_t addr, uint64_t size, uint64_t stack)
{
	lb_rec_alloc(b, SLF_FN_MALLOC, addr, size, 0, stack);
}

static inline void lb_free_rec(struct logbuf *b, uint64_t addr)
{
	lb_rec_free(b, addr);
}

/* 2.x: with its flags (SLF_REALLOC_OLD_FREED); 1.x logs have none. */
static inline void lb_realloc_flags(struct logbuf *b, uint64_t old_addr, uint64_t new_addr,
				    uint64_t size, uint64_t stack, uint64_t flags)
{
	lb_rec_realloc(b, SLF_FN_REALLOC, old_addr, new_addr, size, stack, flags);
}

static inline void lb_realloc(struct logbuf *b, uint64_t old_addr, uint64_t new_addr,
			      uint64_t size, uint64_t stack)
{
	lb_realloc_flags(b, old_addr, new_addr, size, stack, 0);
}

static inline void lb_slice_new(struct logbuf *b, uint64_t block, uint64_t ptr, uint64_t len,
				uint64_t cap, uint64_t stack)
{
	lb_rec_slice_new(b, block, ptr, len, cap, stack);
}

static inline void lb_slice_drop(struct logbuf *b, uint64_t block, uint64_t ptr, uint64_t len)
{
	lb_rec_slice_drop(b, block, ptr, len);
}

static inline void lb_view_acquire(struct logbuf *b, uint64_t owner, uint64_t ptr, uint64_t len,
				   uint64_t stack)
{
	lb_rec_view_acquire(b, owner, ptr, len, stack);
}

static inline void lb_view_release(struct logbuf *b, uint64_t owner, uint64_t stack)
{
	lb_rec_view_release(b, owner, stack);
}

static inline void lb_snapshot(struct logbuf *b, const char *label, uint64_t stack)
{
	lb_rec_snapshot(b, label, strlen(label), stack);
}

/* 1.x: counts the records before it; 2.x: the CHUNK records. */
static inline void lb_end(struct logbuf *b, uint64_t dropped)
{
	lb_rec_end(b, b->v2 ? b->chunks : b->records, dropped);
}

/* ---- 1.1: the pointer scan ------------------------------------------------ */

static inline void lb_scan_begin(struct logbuf *b, uint64_t heap_lo, uint64_t heap_hi)
{
	lb_rec_scan_begin(b, heap_lo, heap_hi);
	b->scan_lo = heap_lo;
	b->scan_bytes = b->scan_ptrs = 0;
}

static inline void lb_scan_region(struct logbuf *b, unsigned kind, uint64_t start, uint64_t size)
{
	lb_rec_scan_region(b, kind, start, size);
	b->region_start = start;
	b->scan_bytes += size;
}

/*
 * n pairs (locations increasing, inside the current region), as SCAN_PTRS
 * records of at most 128 pairs each (a pair takes at most 20 bytes of the
 * 4 KiB payload buffer), each one's bases reset as format.h says.
 */
static inline void lb_scan_ptrs(struct logbuf *b, size_t n, const uint64_t *locs,
				const uint64_t *vals)
{
	for (size_t i = 0; i < n;) {
		size_t k = n - i < 128 ? n - i : 128;
		uint64_t loc = b->region_start, val = b->scan_lo;

		lb_pay_scan_ptrs(b, k);
		for (size_t j = i; j < i + k; j++) {
			p_uv(b, (locs[j] - loc) / 8);
			p_uv(b, slf_zigzag((int64_t)(vals[j] - val)));
			loc = locs[j];
			val = vals[j];
		}
		lb_emit(b, SLF_REC_SCAN_PTRS);
		b->scan_ptrs += k;
		i += k;
	}
}

/* One pair as its own SCAN_PTRS record. */
static inline void lb_scan_ptr(struct logbuf *b, uint64_t loc, uint64_t val)
{
	lb_scan_ptrs(b, 1, &loc, &val);
}

/* SCAN_END with the sums of what was written since lb_scan_begin(). */
static inline void lb_scan_end(struct logbuf *b, unsigned capped)
{
	lb_rec_scan_end(b, b->scan_bytes, b->scan_ptrs, capped, 0, 0);
}
