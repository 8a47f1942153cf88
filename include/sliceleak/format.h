/*
 * include/sliceleak/format.h - the .sllog on-disk format, version 2.0.
 *
 * The one definition of the log, shared by libsliceleak.so (writer) and the
 * sliceleak analyzer (reader). It stays freestanding: C11, <stdint.h> and
 * <stddef.h> only; no allocation, no I/O. A reader can be written from this
 * header alone.
 *
 * Layout of a file
 * ----------------
 *   file header : struct slf_file_header (16 bytes, below)
 *   records     : until end of file
 *
 * Version 2 (what the shim writes) keeps each thread's records in a stream
 * of its own, so threads never contend for one buffer. At the top level a
 * 2.x file holds only
 *   PROCESS      first, once
 *   CHUNK        any number: a run of one thread's records (see SLF_REC_CHUNK)
 *   END          last, on a clean exit
 * and every other record lives inside a CHUNK. Version 1 files (still read
 * by the analyzer) are one flat stream of records in event order, with
 * THREAD records switching the thread; "1.x only" and "2.x only" below mark
 * the differences.
 *
 * Every record is
 *   kind    : 1 byte, enum slf_kind
 *   length  : varint, number of payload bytes that follow (at most
 *             SLF_MAX_PAYLOAD)
 *   payload : `length` bytes, fields in the order documented per kind
 *
 * so a reader skips a kind it does not know by its length. A reader also
 * ignores payload bytes past the fields it knows (a minor version may append
 * fields to the end of an existing kind). A record whose payload ends before
 * its known fields do is corrupt.
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
 * Versioning
 *   A reader refuses a file whose major version is greater than its own, with
 *   a message naming both versions. Minor bumps only add record kinds or
 *   append fields.
 *
 *   1.0  the allocation, view, stack, module and context records
 *   1.1  the pointer scan at evaluation points (SLF_REC_SCAN_*), which lets
 *        the analyzer find memory kept alive through dead regions
 *   2.0  per-thread streams: CHUNK records with sequence numbers; STACK
 *        carries its id; REALLOC gains `flags`; no THREAD records
 *   2.1  SCAN_END gains `unread` and `no_maps` (a scan that could not read
 *        everything says so); ALLOC's fn gains SLF_FN_NEW and
 *        SLF_FN_NEW_ARRAY (C++ operator new where an allocator preloaded
 *        after the shim serves it without malloc); PROCESS gains
 *        `interposer` and `flags`
 *
 * Little-endian, 64-bit Linux only.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SLF_MAGIC	  "SLLEAK\r\n" /* \r\n exposes text-mode mangling */
#define SLF_MAGIC_LEN	  8
#define SLF_VERSION_MAJOR 2 /* bump => old readers must refuse */
#define SLF_VERSION_MINOR 1 /* bump => new record kinds or trailing fields only */

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
 * Record kinds and their payloads. Kind values are never reused.
 */
enum slf_kind {
	/*
	 * The process this log describes. First record of every log.
	 *   uv  pid
	 *   uv  ppid
	 *   uv  start_ns      CLOCK_REALTIME at start, ns since the epoch
	 *   uv  stack_depth   the most frames any stack of this log holds
	 *   str exe           absolute path of the executable
	 *   str cmdline       arguments, each followed by one NUL byte
	 *   str interposer    since 2.1: the object whose malloc/free the
	 *                     program calls instead of the writer's (an
	 *                     allocator preloaded before it, an executable
	 *                     defining malloc): allocations it serves are not
	 *                     in the log. Empty normally
	 *   uv  flags         since 2.1: SLF_PROCESS_*
	 */
	SLF_REC_PROCESS = 1,

	/*
	 * Forget every module: the map that follows replaces it. Written before
	 * the first map and again whenever dlopen/dlclose changed the map.
	 * No payload.
	 */
	SLF_REC_MODULES_RESET = 2,

	/*
	 * One loaded ELF object (dl_iterate_phdr).
	 *   uv  bias          load bias: runtime address = bias + p_vaddr
	 *   str path          absolute path; the main executable's real path;
	 *                     "[vdso]" for the vDSO
	 *   str build_id      raw NT_GNU_BUILD_ID bytes, empty if none
	 *   uv  nsegs         number of PT_LOAD segments that follow
	 *   nsegs times:
	 *     uv vaddr        p_vaddr
	 *     uv memsz        p_memsz
	 *     uv flags        p_flags (PF_X = 1, PF_W = 2, PF_R = 4)
	 */
	SLF_REC_MODULE = 3,

	/*
	 * One edge of the stack tree. Defines a stack id (2.x: the `id` field;
	 * 1.x: `next_stack`, then next_stack is incremented) as stack `parent`
	 * with one more frame, `ip`, below it: walking parent links from a stack id yields its
	 * frames innermost first. Id 0 is the empty stack. An edge is written
	 * before any record that refers to it, and once per module map: after a
	 * MODULES_RESET that followed an unload the writer may define the same
	 * (parent, ip) edge again under a new id, so an id always means what
	 * the map in force at its definition said. Readers must not assume
	 * edges are unique. An id is defined once per log. 2.x ids are dense
	 * (1, 2, 3, ... in the order the writer assigned them, which is also
	 * their seq order); a reader may refuse an id far beyond those defined.
	 *   uv  id            2.x only, first: the id this record defines
	 *   uv  parent        1.x: an id smaller than the one being defined;
	 *                     2.x: 0 or an id defined earlier in the order
	 *   uv  ip            return address as captured (the innermost frame
	 *                     is the caller of the interposed function); readers
	 *                     subtract 1 before symbolizing
	 */
	SLF_REC_STACK = 4,

	/*
	 * 1.x only. Later records happened on this thread.
	 *   uv  tid           kernel thread id (gettid)
	 */
	SLF_REC_THREAD = 5,

	/*
	 * Later records happened at or after this time.
	 *   uv  ns            CLOCK_MONOTONIC ns since the process started
	 *                     (start of the log); never decreases
	 */
	SLF_REC_TIME = 6,

	/*
	 * A heap block was returned to the program.
	 *   u8   fn           enum slf_alloc_fn
	 *   addr addr         the block
	 *   uv   size         requested size in bytes (calloc: n * size)
	 *   uv   align        requested alignment, 0 for the allocator's default
	 *   uv   stack        allocation stack id
	 */
	SLF_REC_ALLOC = 7,

	/*
	 * A heap block is being given back (written before libc gets it).
	 *   addr addr
	 */
	SLF_REC_FREE = 8,

	/*
	 * realloc/reallocarray of a live block to a new size; one event.
	 * `new_addr` may equal `old_addr`. realloc(NULL, n) is an ALLOC with
	 * fn REALLOC, realloc(p, 0) that frees is a FREE.
	 *   u8   fn           SLF_FN_REALLOC or SLF_FN_REALLOCARRAY
	 *   addr old_addr
	 *   addr new_addr
	 *   uv   size         new requested size
	 *   uv   stack
	 *   uv   flags        2.x only: bit 0 (SLF_REALLOC_OLD_FREED) = the old
	 *                     block was moved away and released at an earlier
	 *                     seq, by a FREE of old_addr just before this record
	 *                     in the same stream; this record then only creates
	 *                     new_addr (old_addr is kept for the report). Other
	 *                     bits are 0.
	 * 2.x: libc releases a moved block inside realloc, before realloc
	 * returns, so another thread may be handed it between the two; the
	 * writer therefore records a moving realloc as FREE(old) at a seq taken
	 * before the call and REALLOC(flags 1) at a seq taken after it.
	 */
	SLF_REC_REALLOC = 9,

	/*
	 * A libslice reference was created (sl_make, sl_from, sl_from_str,
	 * sl_sub, sl_sub3, sl_retain, sl_append*, sl_clone): it keeps the heap
	 * block `block` alive and uses the bytes [ptr, ptr + len).
	 *   addr block        start of the backing heap block (as allocated)
	 *   addr ptr          element 0 of the view
	 *   uv   len          bytes visible: len * elem_size
	 *   uv   cap          bytes from ptr to the end of the backing array
	 *   uv   stack
	 * References are anonymous (a slice is a value): SLICE_DROP drops one
	 * reference with the same (block, ptr, len).
	 */
	SLF_REC_SLICE_NEW = 10,

	/*
	 * A libslice reference was dropped (sl_release, or sl_append* taking
	 * over its argument's reference).
	 *   addr block
	 *   addr ptr
	 *   uv   len
	 */
	SLF_REC_SLICE_DROP = 11,

	/*
	 * sliceleak_view_acquire(owner, ptr, len): `owner` keeps the heap block
	 * that holds `ptr` alive and uses [ptr, ptr + len). An owner holds one
	 * view at a time: acquiring again replaces its previous view.
	 *   uv   owner        the owner's address (an opaque key, not an addr
	 *                     field)
	 *   addr ptr
	 *   uv   len
	 *   uv   stack
	 */
	SLF_REC_VIEW_ACQUIRE = 12,

	/*
	 * sliceleak_view_release(owner).
	 *   uv   owner
	 *   uv   stack
	 */
	SLF_REC_VIEW_RELEASE = 13,

	/*
	 * sliceleak_snapshot(label): evaluate retention at this point too.
	 * Preceded by a TIME record with the exact time.
	 *   str  label
	 *   uv   stack
	 */
	SLF_REC_SNAPSHOT = 14,

	/*
	 * Clean end of the log: the last record (2.x: at the top level).
	 *   uv   records      1.x: number of records before this one; 2.x:
	 *                     number of CHUNK records before this one (a check)
	 *   uv   dropped      events the writer could not record (0 normally)
	 */
	SLF_REC_END = 15,

	/*
	 * Since 1.1. A pointer scan of the process's writable memory, taken at
	 * an evaluation point: at the end of the process (just before END) and
	 * at each SNAPSHOT (just after it). The records of one scan are
	 *   SCAN_BEGIN, then per scanned region SCAN_REGION followed by zero or
	 *   more SCAN_PTRS, then SCAN_END,
	 * with no other record kind in between. The scan records facts only:
	 * every aligned 8-byte word whose value lies within the span of
	 * addresses the allocator has returned so far (2.x: and within a 64 KiB
	 * granule, [g << 16, (g + 1) << 16), that some block allocated so far
	 * overlapped, unless the writer could not tell: then every word in the
	 * span); which of them point into live blocks, and what is reachable
	 * from where, is the analyzer's judgement. None of these kinds carries
	 * `addr` fields.
	 *
	 * SCAN_BEGIN
	 *   uv   heap_lo      lowest address of any block allocated so far
	 *   uv   heap_hi      one past the end of the highest block so far
	 */
	SLF_REC_SCAN_BEGIN = 16,

	/*
	 * One scanned range of memory; the SCAN_PTRS that follow lie in it.
	 *   uv   kind         enum slf_region_kind
	 *   uv   start        first byte (8-aligned)
	 *   uv   size         bytes scanned (a multiple of 8)
	 */
	SLF_REC_SCAN_REGION = 17,

	/*
	 * Candidate pointers found in the current region, in increasing
	 * location order.
	 *   uv   count
	 *   count times:
	 *     uv   gap        (location - previous location) / 8; the first
	 *                     location of each SCAN_PTRS record is relative to
	 *                     the region's start
	 *     sv   delta      value - previous value (wrapping); the first is
	 *                     relative to heap_lo
	 */
	SLF_REC_SCAN_PTRS = 18,

	/*
	 * End of the scan.
	 *   uv   bytes        bytes scanned in all
	 *   uv   pointers     candidate pointers recorded in all
	 *   uv   capped       1 when the scan stopped at its size cap (the
	 *                     scan option of the shim), so results are partial
	 *   uv   unread       since 2.1: bytes of writable memory the scan meant
	 *                     to read and could not (the system refused the
	 *                     reads: a seccomp filter, a ptrace policy); memory
	 *                     unmapped while it read is not counted. Not 0:
	 *                     results are partial
	 *   uv   no_maps      since 2.1: 1 when the process's memory map could
	 *                     not be listed, so only the modules' writable
	 *                     segments were read: results are partial
	 */
	SLF_REC_SCAN_END = 19,

	/*
	 * Since 2.0, top level only. A run of records of one thread, as its
	 * buffer was written out (at most SLF_MAX_PAYLOAD bytes, so a thread
	 * writes many).
	 *   uv   tid          kernel thread id of every record inside
	 *   uv   seq          base sequence number
	 *   then, to the end of the payload, inner records, each
	 *     uv   seq_delta  its seq minus the previous inner record's (the
	 *                     first: minus the chunk's base seq)
	 *     and a record as everywhere else: kind, length, payload
	 * Inner records may be of any kind but PROCESS, THREAD, CHUNK and END.
	 * A chunk decodes alone (prev_addr, time and seq start afresh), and an
	 * inner record never crosses the chunk's end. The records of a scan or
	 * a module map share one seq, so no other thread's record falls between
	 * them; a scan may span several chunks of its thread.
	 */
	SLF_REC_CHUNK = 20,

	SLF_REC_KIND_COUNT /* one past the largest kind of this version */
};

/* PROCESS flags (2.1). */
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
	SLF_FN_NEW = 9,	       /* since 2.1: C++ operator new, every variant but new[] */
	SLF_FN_NEW_ARRAY = 10, /* since 2.1: operator new[], every variant */
	SLF_FN_COUNT
};

/* Names for diagnostics; NULL for a kind this version does not know. */
static inline const char *slf_kind_name(unsigned kind)
{
	static const char *const names[SLF_REC_KIND_COUNT] = {
		[SLF_REC_PROCESS] = "PROCESS",	     [SLF_REC_MODULES_RESET] = "MODULES_RESET",
		[SLF_REC_MODULE] = "MODULE",	     [SLF_REC_STACK] = "STACK",
		[SLF_REC_THREAD] = "THREAD",	     [SLF_REC_TIME] = "TIME",
		[SLF_REC_ALLOC] = "ALLOC",	     [SLF_REC_FREE] = "FREE",
		[SLF_REC_REALLOC] = "REALLOC",	     [SLF_REC_SLICE_NEW] = "SLICE_NEW",
		[SLF_REC_SLICE_DROP] = "SLICE_DROP", [SLF_REC_VIEW_ACQUIRE] = "VIEW_ACQUIRE",
		[SLF_REC_VIEW_RELEASE] = "VIEW_RELEASE", [SLF_REC_SNAPSHOT] = "SNAPSHOT",
		[SLF_REC_END] = "END",
		[SLF_REC_SCAN_BEGIN] = "SCAN_BEGIN", [SLF_REC_SCAN_REGION] = "SCAN_REGION",
		[SLF_REC_SCAN_PTRS] = "SCAN_PTRS", [SLF_REC_SCAN_END] = "SCAN_END",
		[SLF_REC_CHUNK] = "CHUNK",
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
