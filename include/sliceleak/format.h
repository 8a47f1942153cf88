/*
 * include/sliceleak/format.h - the .sllog on-disk format, version 3.0.
 *
 * The one definition of the log, shared by libsliceleak.so (writer) and the
 * sliceleak analyzer (reader). It stays freestanding: C11, <stdint.h> and
 * <stddef.h> only; no allocation, no I/O. A reader can be written from this
 * header and the table of record kinds it includes, records.def (each
 * kind's fields, in payload order, with what they mean).
 *
 * Layout of a file
 * ----------------
 *   file header : struct slf_file_header (16 bytes, below)
 *   records     : until end of file
 *
 * Versions 2 and 3 (3 is what the shim writes) keep each thread's records
 * in a stream of its own, so threads never contend for one buffer. At the
 * top level a 2.x or 3.x file holds only
 *   PROCESS      first, once
 *   CHUNK        any number: a run of one thread's records (records.def, CHUNK)
 *   END          last, on a clean exit
 * and every other record lives inside a CHUNK. Version 1 files (still read
 * by the analyzer) are one flat stream of records in event order, with
 * THREAD records switching the thread; "1.x only" and "2.x only" below and
 * in records.def mark the differences (records.def's `place` of a kind,
 * `since` of a field). "2.x" says what 3.x does too unless 3.x is named:
 * 3.x differs in how a CHUNK's inner records are framed (below) and adds
 * dense forms of ALLOC, FREE and REALLOC.
 *
 * Every record is
 *   kind    : 1 byte, enum slf_kind
 *   length  : varint, number of payload bytes that follow (at most
 *             SLF_MAX_PAYLOAD)
 *   payload : `length` bytes, the kind's fields in records.def's order
 *
 * so a reader skips a kind it does not know by its length. A reader also
 * ignores payload bytes past the fields it knows (a minor version may append
 * fields to the end of an existing kind). A record whose payload ends before
 * its known fields do is corrupt.
 *
 * Inner records (inside a CHUNK), each with the seq_delta of SLF_REC_CHUNK:
 *   2.x  uv seq_delta, then kind, length, payload as above
 *   3.x  a head byte first:
 *        below SLF_DENSE_MIN (64): the kind, then uv seq_delta, length,
 *             payload (so kinds stay below 64)
 *        from SLF_DENSE_MIN on: a dense form of a kind (records.def,
 *             SLF_DENSE): head = the form's base | 6 bits. Bits 0-1 are
 *             the seq_delta: 0, 1, 2 for 1, 2, 3; 3: a uv seq_delta
 *             follows the head. Bits 2-5 and the bytes after it are the
 *             kind's fields as the form's codings say (below); there is no
 *             length, each field ends itself (slf_dense_end()). A reader
 *             hands out the record of the form's kind, as if it had come
 *             in the ordinary form; a writer may use either form for any
 *             record of those kinds.
 *
 * Field encodings
 *   uv   unsigned LEB128 varint, at most 10 bytes (slf_put_uv/slf_get_uv)
 *   sv   signed value, zigzag-mapped, then uv (slf_zigzag/slf_unzigzag)
 *   addr an address as an sv delta against the "previous address" (below)
 *   str  uv byte count, then that many bytes, no NUL (at most SLF_MAX_STR)
 *   u8   one byte
 *
 * Decoding state. 1.x: kept per file, starting at zero. 2.x: kept per
 * CHUNK, starting at zero at the chunk's start (a chunk decodes alone):
 *   prev_addr  Every `addr` field is encoded as zigzag(addr - prev_addr)
 *              (wrapping 64-bit arithmetic) and then becomes prev_addr, in
 *              field order. Only the kinds of major version 1 listed here
 *              carry `addr` fields; kinds added later never do, so skipping an
 *              unknown kind never breaks the chain.
 *   tid        1.x: set by SLF_REC_THREAD; every later record happened on it.
 *              2.x: the chunk's tid.
 *   time       Set by SLF_REC_TIME; every later record happened at or after
 *              it (writers emit TIME whenever their clock has advanced; a
 *              2.x writer also at the start of each chunk, before its first
 *              event). Across threads a reader takes the largest time seen
 *              so far in the order below, so time never goes back.
 *   next_stack 1.x only: the id the next SLF_REC_STACK record defines;
 *              starts at 1. 2.x STACK records carry their id.
 *   seq        2.x only: the order position of the chunk's current record
 *              (see SLF_REC_CHUNK).
 *
 * Order
 *   Records are read in the order the events happened in the process,
 *   across threads: the writer records a FREE before the block is handed
 *   back to libc and an ALLOC after libc returned it, so a reader never sees
 *   an address allocated again before it was freed. Stacks, modules and the
 *   thread/time context always precede the records that refer to them.
 *   1.x: that order is the file order. 2.x: every record inside a chunk has
 *   a sequence number `seq`, taken from one process-wide counter when the
 *   event happened (a FREE's before libc gets the block, an ALLOC's after
 *   libc returned it, a STACK's or MODULE's before any other thread could
 *   use the definition); the order is by seq, records of equal seq in the
 *   order of their thread's stream. Along one tid's chunks, in file order,
 *   seq never decreases. A reader merges the threads' streams by seq.
 *
 * End of a log
 *   A clean exit writes SLF_REC_END last. A log without it is truncated (the
 *   process was killed, crashed, or called _exit); it is valid up to its last
 *   complete record, and readers must say so. A fork child writes its own log
 *   (SLF_REC_PROCESS names the parent), which may free blocks the child never
 *   allocated.
 *
 * Dense codings (3.x; records.def says which field has which) use a state
 * of their own per CHUNK, zero at its start, apart from prev_addr (struct
 * slf_dense_state): prev_block, the last heap block named (a multiple of
 * 16: deltas are written in units of 16; a block that is not a multiple of
 * 16 takes the ordinary form), prev_size, prev_stack, and a ring of the
 * last blocks allocated (newblock fields), of which a FREE names one of the
 * last 7 with 3 head bits instead of its address.
 *
 * Versioning
 *   A reader refuses a file whose major version is greater than its own, with
 *   a message naming both versions. Minor bumps only add record kinds or
 *   append fields, so within its major version a reader reads a newer
 *   minor's log: a record of a kind it does not know is skipped by its
 *   length wherever it stands (2.x: at the top level as inside a CHUNK;
 *   never inside a scan, which admits no other kind), and the payload bytes
 *   past the fields it knows are ignored. The analyzer counts the skipped
 *   records and says so in its report. A change that an older reader of the
 *   same major would misread (a field removed, reordered or re-encoded, a
 *   new `addr` field, a kind's meaning changed) needs a new major version.
 *
 *   1.0  the allocation, view, stack, module and context records
 *   1.1  the pointer scan at evaluation points (SLF_REC_SCAN_*), which lets
 *        the analyzer find memory kept alive through dead regions
 *   2.0  per-thread streams: CHUNK records with sequence numbers; STACK
 *        carries its id; REALLOC gains `flags`; no THREAD records
 *   2.1  SYNC: where a killed process's log is complete across threads
 *   2.2  SCAN_END gains `unread` and `no_maps` (a scan that could not read
 *        everything says so); ALLOC's fn gains SLF_FN_NEW and
 *        SLF_FN_NEW_ARRAY (C++ operator new where an allocator preloaded
 *        after the shim serves it without malloc); PROCESS gains
 *        `interposer` and `flags` (SLF_PROCESS_*)
 *   3.0  a 2.x reader would misread these logs, so they are a new major;
 *        the layout of 2.x stays, with:
 *        - inner records start with their kind, then seq_delta; dense
 *          forms of ALLOC, FREE and REALLOC (records.def, SLF_DENSE):
 *          about 2 bytes per event where 2.2 took 6.6 (a 2.x reader would
 *          take a dense head for a seq_delta)
 *        - sampled recording: PROCESS gains `sample_bytes` and
 *          `exact_bytes`. With sample_bytes > 0 the log holds every block
 *          of at least exact_bytes (weight 1) and a sample of the smaller
 *          ones, each taken with probability 1 - exp(-size / sample_bytes)
 *          (a Poisson process over allocated bytes), so a reader weights a
 *          sampled block of `size` bytes as size / p bytes and 1 / p
 *          blocks (Horvitz-Thompson). FREE, REALLOC and slice records
 *          concern recorded blocks only; views may name any block
 *          (records.def, PROCESS)
 *        - PROCESS flag SLF_PROCESS_LATE_START: recording began after the
 *          process did, so the log may free blocks it never allocated
 *
 * Little-endian, 64-bit Linux only.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SLF_MAGIC	  "SLLEAK\r\n" /* \r\n exposes text-mode mangling */
#define SLF_MAGIC_LEN	  8
#define SLF_VERSION_MAJOR 3 /* bump => old readers must refuse */
#define SLF_VERSION_MINOR 0 /* bump => new record kinds or trailing fields only */

#define SLF_MAX_PAYLOAD (1u << 20) /* 1 MiB: larger length fields are corrupt */
#define SLF_MAX_STR	(1u << 16) /* 64 KiB: paths, labels, command lines */
#define SLF_MAX_UV_LEN	10	   /* bytes of a 64-bit LEB128 varint */

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the .sllog format is defined as little-endian");
_Static_assert(sizeof(void *) == 8, "the .sllog format is defined for 64-bit processes");

/* The first 16 bytes of every log. */
struct slf_file_header {
	char magic[SLF_MAGIC_LEN]; /* SLF_MAGIC, not NUL-terminated */
	uint16_t major;		   /* SLF_VERSION_MAJOR of the writer */
	uint16_t minor;		   /* SLF_VERSION_MINOR of the writer */
	uint32_t reserved;	   /* written as 0, ignored by readers */
};
_Static_assert(sizeof(struct slf_file_header) == 16, "on-disk ABI");

/*
 * Record kinds and their payloads: the table in records.def, one line per
 * kind and per field. Kind values are never reused.
 */
/*
 * records.def's `since`: the version from which a field exists, as its
 * major (1, 2: from that major's .0) or as major * 100 + minor for a field
 * a minor version appended (202: since 2.2). Whether a log of version
 * major.minor holds the field:
 */
#define slf_field_in(since, major, minor) \
	((major) * 100u + (minor) >= ((since) < 100 ? (since) * 100u : (unsigned)(since)))

#include "records.def"

/* Where a kind may appear (records.def's `place`): a mask of */
#define SLF_PLACE_V1	1u /* a 1.x log (one flat stream) */
#define SLF_PLACE_CHUNK 2u /* a 2.x log, inside a CHUNK */
#define SLF_PLACE_TOP	4u /* a 2.x log, at the top level */
#define SLF_IN_STREAM	(SLF_PLACE_V1 | SLF_PLACE_CHUNK)
#define SLF_AT_TOP	(SLF_PLACE_V1 | SLF_PLACE_TOP)
#define SLF_TOP_V2	SLF_PLACE_TOP
#define SLF_ONLY_V1	SLF_PLACE_V1
#define SLF_CHUNK_V2	SLF_PLACE_CHUNK

enum slf_kind {
#define SLF_KIND_ENUM(NAME, name, value, place) SLF_REC_##NAME = value,
	SLF_RECORDS(SLF_KIND_ENUM)
#undef SLF_KIND_ENUM
	SLF_REC_KIND_COUNT /* one past the largest kind of this version */
};
_Static_assert(SLF_REC_KIND_COUNT <= 64, "kinds index a 64-bit mask (SLF_KIND_MASK)");

/* The kinds whose place includes `where` (an SLF_PLACE_* bit), as a mask of 1 << kind. */
#define SLF_KIND_MASK_OF(NAME, name, value, place, where) \
	| ((place) & (where) ? UINT64_C(1) << (value) : 0)
#define SLF_KIND_MASK_V1(NAME, name, value, place) SLF_KIND_MASK_OF(NAME, name, value, place, SLF_PLACE_V1)
#define SLF_KIND_MASK_CHUNK(NAME, name, value, place) \
	SLF_KIND_MASK_OF(NAME, name, value, place, SLF_PLACE_CHUNK)
#define SLF_KIND_MASK_TOP(NAME, name, value, place) SLF_KIND_MASK_OF(NAME, name, value, place, SLF_PLACE_TOP)
#define SLF_KINDS_V1	(UINT64_C(0) SLF_RECORDS(SLF_KIND_MASK_V1))
#define SLF_KINDS_CHUNK (UINT64_C(0) SLF_RECORDS(SLF_KIND_MASK_CHUNK))
#define SLF_KINDS_TOP	(UINT64_C(0) SLF_RECORDS(SLF_KIND_MASK_TOP))
#define SLF_KINDS_KNOWN (SLF_KINDS_V1 | SLF_KINDS_CHUNK | SLF_KINDS_TOP)

/* Whether `kind` is one of this version's kinds (a reader skips the others by length). */
static inline int slf_kind_known(unsigned kind)
{
	return kind < 64 && ((SLF_KINDS_KNOWN >> kind) & 1);
}

/* PROCESS flags (2.2). */
#define SLF_PROCESS_LATE_START 2u /* since 3.0: recording started after the process did
				     (start=signal): blocks allocated before are not in the
				     log, and frees or reallocs of them may be */
#define SLF_PROCESS_GO 1u /* a Go program: it exits through a raw exit_group, past
			     libc, so its log ends without END and loses its last events */

/* REALLOC flags (2.x). */
#define SLF_REALLOC_OLD_FREED 1u

/*
 * What a scanned region is, as the shim saw it in /proc/self/maps and the
 * module map. The analyzer treats words outside live blocks as roots in
 * every kind but SLF_REGION_HEAP (there they are allocator metadata or
 * freed memory).
 */
enum slf_region_kind {
	SLF_REGION_GLOBALS = 0, /* a module's writable PT_LOAD segment (.data, .bss) */
	SLF_REGION_HEAP = 1,	/* the brk heap, "[heap]" */
	SLF_REGION_STACK = 2,	/* the main thread's stack, "[stack]" */
	SLF_REGION_ANON = 3,	/* other private writable anonymous memory: mmap'd
				   blocks, malloc arenas, thread stacks, the app's own */
	SLF_REGION_KIND_COUNT
};

/* Which entry point produced an ALLOC or REALLOC record. */
enum slf_alloc_fn {
	SLF_FN_MALLOC = 0,
	SLF_FN_CALLOC = 1,
	SLF_FN_REALLOC = 2,
	SLF_FN_REALLOCARRAY = 3,
	SLF_FN_POSIX_MEMALIGN = 4,
	SLF_FN_ALIGNED_ALLOC = 5,
	SLF_FN_MEMALIGN = 6,
	SLF_FN_VALLOC = 7,
	SLF_FN_PVALLOC = 8,
	SLF_FN_NEW = 9,	       /* since 2.2: C++ operator new, every variant but new[] */
	SLF_FN_NEW_ARRAY = 10, /* since 2.2: operator new[], every variant */
	SLF_FN_COUNT
};

/* Names for diagnostics; NULL for a kind this version does not know. */
static inline const char *slf_kind_name(unsigned kind)
{
	static const char *const names[SLF_REC_KIND_COUNT] = {
#define SLF_KIND_NAME(NAME, name, value, place) [SLF_REC_##NAME] = #NAME,
		SLF_RECORDS(SLF_KIND_NAME)
#undef SLF_KIND_NAME
	};
	return kind < SLF_REC_KIND_COUNT ? names[kind] : NULL;
}

static inline const char *slf_alloc_fn_name(unsigned fn)
{
	static const char *const names[SLF_FN_COUNT] = {
		[SLF_FN_MALLOC] = "malloc",
		[SLF_FN_CALLOC] = "calloc",
		[SLF_FN_REALLOC] = "realloc",
		[SLF_FN_REALLOCARRAY] = "reallocarray",
		[SLF_FN_POSIX_MEMALIGN] = "posix_memalign",
		[SLF_FN_ALIGNED_ALLOC] = "aligned_alloc",
		[SLF_FN_MEMALIGN] = "memalign",
		[SLF_FN_VALLOC] = "valloc",
		[SLF_FN_PVALLOC] = "pvalloc",
	};
	return fn < SLF_FN_COUNT ? names[fn] : NULL;
}

/* ---- field codecs ---------------------------------------------------- */

static inline uint64_t slf_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t slf_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Encodes v at p, which must have SLF_MAX_UV_LEN bytes. Returns bytes written. */
static inline size_t slf_put_uv(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Encodes an address field and advances *prev_addr. */
static inline size_t slf_put_addr(uint8_t *p, uint64_t addr, uint64_t *prev_addr)
{
	size_t n = slf_put_uv(p, slf_zigzag((int64_t)(addr - *prev_addr)));

	*prev_addr = addr;
	return n;
}

/*
 * Decodes a varint from [p, end). Returns the bytes consumed, or 0 when the
 * varint runs past `end`, is longer than 10 bytes or overflows 64 bits.
 */
static inline size_t slf_get_uv(const uint8_t *p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (p + n >= end)
			return 0;
		b = p[n++];
		if (shift == 63 && b > 1)
			return 0; /* bits beyond 64 */
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return n;
		}
	}
	return 0;
}

/* Decodes an address field and advances *prev_addr. Same returns as slf_get_uv. */
static inline size_t slf_get_addr(const uint8_t *p, const uint8_t *end, uint64_t *prev_addr,
				  uint64_t *out)
{
	uint64_t z;
	size_t n = slf_get_uv(p, end, &z);

	if (n) {
		*out = *prev_addr + (uint64_t)slf_unzigzag(z);
		*prev_addr = *out;
	}
	return n;
}

/* ---- payload encoders, one per kind (records.def) --------------------- */

/*
 * SLF_MAXLEN_<NAME>: the most bytes a payload of kind NAME takes, except
 * for the bytes of its strings and of its variable part (segs, pairs, body),
 * which the writer adds.
 */
#define SLF_MAXLEN_u8	 1
#define SLF_MAXLEN_uv	 SLF_MAX_UV_LEN
#define SLF_MAXLEN_sv	 SLF_MAX_UV_LEN
#define SLF_MAXLEN_addr	 SLF_MAX_UV_LEN
#define SLF_MAXLEN_str	 SLF_MAX_UV_LEN
#define SLF_MAXLEN_segs	 SLF_MAX_UV_LEN
#define SLF_MAXLEN_pairs SLF_MAX_UV_LEN
#define SLF_MAXLEN_body	 0
#define SLF_MAXLEN_FIELD(kind, enc, field, show, since) +SLF_MAXLEN_##enc
#define SLF_MAXLEN_ENUM(NAME, name, value, place) \
	SLF_MAXLEN_##NAME = 0 SLF_FIELDS_##name(SLF_MAXLEN_FIELD),
enum { SLF_RECORDS(SLF_MAXLEN_ENUM) };

/*
 * uint8_t *slf_encode_<name>(uint8_t *p, uint64_t *prev_addr, unsigned major, fields...)
 * writes the payload of kind <name> at p (which has room for SLF_MAXLEN_<NAME>
 * bytes plus its strings) as a writer of log version `major` does, and
 * returns its end. The fields are the arguments, in table order: u8, uv,
 * addr as integers, sv as int64_t, str as (pointer, length); segs and pairs
 * as their count, after which the caller writes the variable part; body as
 * nothing. Fields since a later version than `major` are not written (an
 * older major: its last minor's fields).
 * prev_addr is the decoding state of format.h, advanced by addr fields.
 */
#define SLF_ARG_u8(f)	 , uint8_t f
#define SLF_ARG_uv(f)	 , uint64_t f
#define SLF_ARG_sv(f)	 , int64_t f
#define SLF_ARG_addr(f)	 , uint64_t f
#define SLF_ARG_str(f)	 , const void *f, size_t f##_len
#define SLF_ARG_segs(f)	 , uint64_t n##f
#define SLF_ARG_pairs(f) , uint64_t f
#define SLF_ARG_body(f)
#define SLF_PUT_u8(f)	 *p++ = f;
#define SLF_PUT_uv(f)	 p += slf_put_uv(p, f);
#define SLF_PUT_sv(f)	 p += slf_put_uv(p, slf_zigzag(f));
#define SLF_PUT_addr(f)	 p += slf_put_addr(p, f, prev_addr);
#define SLF_PUT_str(f)                          \
	p += slf_put_uv(p, f##_len);            \
	__builtin_memcpy(p, f, f##_len);        \
	p += f##_len;
#define SLF_PUT_segs(f)	 p += slf_put_uv(p, n##f);
#define SLF_PUT_pairs(f) p += slf_put_uv(p, f);
#define SLF_PUT_body(f)
#define SLF_ENCODER_ARG(kind, enc, field, show, since) SLF_ARG_##enc(field)
#define SLF_ENCODER_PUT(kind, enc, field, show, since)                                   \
	if (slf_field_in((since), major, major == SLF_VERSION_MAJOR ? SLF_VERSION_MINOR : 99)) { \
		SLF_PUT_##enc(field)                   \
	}
#define SLF_ENCODER(NAME, name, value, place)                                                    \
	static inline uint8_t *slf_encode_##name(uint8_t *p, uint64_t *prev_addr,                \
						 unsigned major SLF_FIELDS_##name(SLF_ENCODER_ARG)) \
	{                                                                                        \
		(void)prev_addr;                                                                 \
		(void)major;                                                                     \
		SLF_FIELDS_##name(SLF_ENCODER_PUT) return p;                                     \
	}
SLF_RECORDS(SLF_ENCODER)

/* ---- dense forms (3.0, records.def's SLF_DENSE) ------------------------ */

#define SLF_DENSE_MIN 0x40 /* inner head bytes from here on are dense forms */
#define SLF_DENSE_RING 8   /* the recent ring: the last 7 blocks are named (1..7) */

/* The dense forms' decoding state, per CHUNK (zero at its start), besides prev_addr. */
struct slf_dense_state {
	uint64_t prev_block; /* the last block / newblock / recent field */
	uint64_t prev_size;  /* the last size field */
	uint64_t prev_stack; /* the last stack field */
	uint64_t ring[SLF_DENSE_RING]; /* newblock fields, ring[pos & 7] the last */
	uint32_t pos;	     /* newblock fields so far */
};

static inline void slf_dense_push(struct slf_dense_state *st, uint64_t block)
{
	st->ring[++st->pos % SLF_DENSE_RING] = block;
}

/* The r-th most recent newblock (1..7), or 0 when none that old exists. */
static inline uint64_t slf_dense_recent(const struct slf_dense_state *st, unsigned r)
{
	return r <= st->pos ? st->ring[(st->pos - r + 1) % SLF_DENSE_RING] : 0;
}

/* Which r names block (0: none of the last 7, or not a block the ring can name). */
static inline unsigned slf_dense_find(const struct slf_dense_state *st, uint64_t block)
{
	unsigned n = st->pos < SLF_DENSE_RING - 1 ? st->pos : SLF_DENSE_RING - 1;

	for (unsigned r = 1; r <= n; r++)
		if (st->ring[(st->pos - r + 1) % SLF_DENSE_RING] == block)
			return r;
	return 0;
}

/* zigzag of a block delta in units of 16 (both ends multiples of 16). */
static inline uint64_t slf_block_delta(uint64_t addr, uint64_t prev)
{
	return slf_zigzag((int64_t)(addr - prev) >> 4);
}

/* Head bits each coding uses, and its most bytes. */
#define SLF_DBITS_dflt8(bit)	(1u << (bit))
#define SLF_DBITS_dflt(bit)	(1u << (bit))
#define SLF_DBITS_pick(bit)	(1u << (bit))
#define SLF_DBITS_flag(bit)	(1u << (bit))
#define SLF_DBITS_block(bit)	0u
#define SLF_DBITS_newblock(bit) 0u
#define SLF_DBITS_recent(bit)	(7u << (bit))
#define SLF_DBITS_size(bit)	0u
#define SLF_DBITS_stack(bit)	(1u << (bit))
#define SLF_DMAX_dflt8	  1
#define SLF_DMAX_dflt	  SLF_MAX_UV_LEN
#define SLF_DMAX_pick	  0
#define SLF_DMAX_flag	  0
#define SLF_DMAX_block	  SLF_MAX_UV_LEN
#define SLF_DMAX_newblock SLF_MAX_UV_LEN
#define SLF_DMAX_recent	  SLF_MAX_UV_LEN
#define SLF_DMAX_size	  SLF_MAX_UV_LEN
#define SLF_DMAX_stack	  SLF_MAX_UV_LEN
#define SLF_DBITS_FIELD(kind, field, coding, bit, arg) | SLF_DBITS_##coding(bit)
#define SLF_DSUM_FIELD(kind, field, coding, bit, arg) + SLF_DBITS_##coding(bit)
#define SLF_DMAX_FIELD(kind, field, coding, bit, arg) + SLF_DMAX_##coding
#define SLF_DCOUNT_FIELD(kind, field, coding, bit, arg) + 1
#define SLF_FCOUNT_FIELD(kind, enc, field, show, since) + 1
/*
 * SLF_DENSE_BITS_<NAME>: the head bits its fields use (the others must be
 * 0); SLF_MAXLEN_DENSE_<NAME>: the most bytes a dense record takes.
 */
#define SLF_DENSE_ENUM(NAME, name, base)                                              \
	SLF_DENSE_BITS_##NAME = 0u SLF_DENSE_FIELDS_##name(SLF_DBITS_FIELD),          \
	SLF_MAXLEN_DENSE_##NAME = 1 + SLF_MAX_UV_LEN SLF_DENSE_FIELDS_##name(SLF_DMAX_FIELD),
enum { SLF_DENSE(SLF_DENSE_ENUM) };
/* Every field has a coding, in order; no two use one bit; only bits 2-5. */
#define SLF_DENSE_CHECK(NAME, name, base)                                                      \
	_Static_assert(0 SLF_DENSE_FIELDS_##name(SLF_DCOUNT_FIELD) ==                          \
			       0 SLF_FIELDS_##name(SLF_FCOUNT_FIELD),                          \
		       "records.def: SLF_DENSE_FIELDS_" #name " must list every field of " #NAME); \
	_Static_assert((0u SLF_DENSE_FIELDS_##name(SLF_DSUM_FIELD)) == SLF_DENSE_BITS_##NAME && \
			       (SLF_DENSE_BITS_##NAME & ~0x3cu) == 0 && ((base) & 0x3f) == 0 &&  \
			       (base) >= SLF_DENSE_MIN,                                        \
		       "records.def: dense form " #NAME ": head bits overlap or out of 2-5");
SLF_DENSE(SLF_DENSE_CHECK)

/*
 * bool slf_dense_fits_<name>(fields...): whether a record with these
 * fields has a dense form (blocks are multiples of 16, pick and flag
 * fields fit their bit). uint8_t *slf_encode_dense_<name>(p, st,
 * seq_delta, fields...): writes it at p (room: SLF_MAXLEN_DENSE_<NAME>),
 * advances st and returns the end. Fields as slf_encode_<name>() takes them.
 */
#define SLF_DFITS_dflt8(f, bit, arg)
#define SLF_DFITS_dflt(f, bit, arg)
#define SLF_DFITS_pick(f, bit, arg)	&& (uint64_t)(f) - (arg) <= 1
#define SLF_DFITS_flag(f, bit, arg)	&& (uint64_t)(f) <= 1
#define SLF_DFITS_block(f, bit, arg)	&& ((f) & 15) == 0
#define SLF_DFITS_newblock(f, bit, arg) && ((f) & 15) == 0
#define SLF_DFITS_recent(f, bit, arg)	&& ((f) & 15) == 0
#define SLF_DFITS_size(f, bit, arg)
#define SLF_DFITS_stack(f, bit, arg)
#define SLF_DPUT_dflt8(f, bit, arg)              \
	if ((f) != (arg)) {                      \
		head |= 1u << (bit);             \
		*p++ = (uint8_t)(f);             \
	}
#define SLF_DPUT_dflt(f, bit, arg)               \
	if ((f) != (arg)) {                      \
		head |= 1u << (bit);             \
		p += slf_put_uv(p, f);           \
	}
#define SLF_DPUT_pick(f, bit, arg)  head |= (unsigned)((f) - (arg)) << (bit);
#define SLF_DPUT_flag(f, bit, arg)  head |= (unsigned)(f) << (bit);
#define SLF_DPUT_block(f, bit, arg)                              \
	p += slf_put_uv(p, slf_block_delta(f, st->prev_block)); \
	st->prev_block = f;
#define SLF_DPUT_newblock(f, bit, arg) \
	SLF_DPUT_block(f, bit, arg)    \
	slf_dense_push(st, f);
#define SLF_DPUT_recent(f, bit, arg)                                     \
	{                                                                \
		unsigned r_ = slf_dense_find(st, f);                     \
                                                                         \
		head |= r_ << (bit);                                     \
		if (!r_)                                                 \
			p += slf_put_uv(p, slf_block_delta(f, st->prev_block)); \
		st->prev_block = f;                                      \
	}
#define SLF_DPUT_size(f, bit, arg)                                          \
	p += slf_put_uv(p, slf_zigzag((int64_t)((f) - st->prev_size)));    \
	st->prev_size = f;
#define SLF_DPUT_stack(f, bit, arg)              \
	if ((f) != st->prev_stack) {             \
		head |= 1u << (bit);             \
		p += slf_put_uv(p, f);           \
		st->prev_stack = f;              \
	}
#define SLF_DFITS_FIELD(kind, field, coding, bit, arg) SLF_DFITS_##coding(field, bit, arg)
#define SLF_DVOID_FIELD(kind, enc, field, show, since) (void)field;
#define SLF_DPUT_FIELD(kind, field, coding, bit, arg)  SLF_DPUT_##coding(field, bit, arg)
#define SLF_DENSE_ENCODER(NAME, name, base)                                                   \
	static inline int slf_dense_fits_##name(int unused SLF_FIELDS_##name(SLF_ENCODER_ARG)) \
	{                                                                                     \
		(void)unused;                                                                 \
		SLF_FIELDS_##name(SLF_DVOID_FIELD) return 1 SLF_DENSE_FIELDS_##name(SLF_DFITS_FIELD); \
	}                                                                                     \
	static inline uint8_t *slf_encode_dense_##name(uint8_t *p, struct slf_dense_state *st, \
						       uint64_t seq_delta                     \
							       SLF_FIELDS_##name(SLF_ENCODER_ARG)) \
	{                                                                                     \
		uint8_t *h = p++;                                                             \
		unsigned head = (base);                                                       \
                                                                                              \
		if (seq_delta - 1 < 3) {                                                      \
			head |= (unsigned)(seq_delta - 1);                                    \
		} else {                                                                      \
			head |= 3;                                                            \
			p += slf_put_uv(p, seq_delta);                                        \
		}                                                                             \
		SLF_DENSE_FIELDS_##name(SLF_DPUT_FIELD) * h = (uint8_t)head;                  \
		return p;                                                                     \
	}
SLF_DENSE(SLF_DENSE_ENCODER)

/*
 * Where the fields of the dense form with head `head` that start at p end,
 * or NULL when they run past `end` (a varint that does not end there): a
 * dense record is as long as its head says, without its state.
 */
#define SLF_DSKIP_UV                                    \
	{                                               \
		uint64_t v_;                            \
		size_t n_ = slf_get_uv(p, end, &v_);    \
                                                        \
		if (!n_)                                \
			return NULL;                    \
		p += n_;                                \
	}
#define SLF_DHEAD_BIT(bit)	((head >> (bit)) & 1u)
#define SLF_DSKIP_dflt8(bit)                            \
	if (SLF_DHEAD_BIT(bit) && p++ >= end)           \
		return NULL;
#define SLF_DSKIP_dflt(bit)                             \
	if (SLF_DHEAD_BIT(bit))                         \
		SLF_DSKIP_UV
#define SLF_DSKIP_pick(bit)
#define SLF_DSKIP_flag(bit)
#define SLF_DSKIP_block(bit)	SLF_DSKIP_UV
#define SLF_DSKIP_newblock(bit) SLF_DSKIP_UV
#define SLF_DSKIP_recent(bit)                           \
	if (!((head >> (bit)) & 7u))                    \
		SLF_DSKIP_UV
#define SLF_DSKIP_size(bit)	SLF_DSKIP_UV
#define SLF_DSKIP_stack(bit)                            \
	if (SLF_DHEAD_BIT(bit))                         \
		SLF_DSKIP_UV
#define SLF_DSKIP_FIELD(kind, f, coding, bit, arg) SLF_DSKIP_##coding(bit)
#define SLF_DSKIP_KIND(NAME, name, base)                \
	case (base):                                    \
		SLF_DENSE_FIELDS_##name(SLF_DSKIP_FIELD) break;

static inline const uint8_t *slf_dense_end(unsigned head, const uint8_t *p, const uint8_t *end)
{
	switch (head & 0xc0u) {
		SLF_DENSE(SLF_DSKIP_KIND)
	default:
		return NULL;
	}
	return p <= end ? p : NULL;
}
