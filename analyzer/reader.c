/*
 * analyzer/reader.c - bytes of a .sllog -> validated, decoded records.
 *
 * Nothing read from the log is trusted before it is checked: every varint is
 * decoded against the end of its payload, every length against the end of
 * the file, every stack id against the ids defined so far.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sliceleak/format.h>

#include "reader.h"
#include "xalloc.h"

/* A position inside one record's payload; `bad` names the first field that did not fit. */
struct cursor {
	const uint8_t *p, *end;
	const char *bad;       /* field name of the first decoding failure */
	const uint8_t *bad_at; /* where it starts */
	const char *undef;     /* a stack id field naming a stack not defined yet */
};

static void fail_at(struct sla_reader *r, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail_at(struct sla_reader *r, uint64_t offset, const char *fmt, ...)
{
	va_list ap;

	r->err_offset = offset;
	va_start(ap, fmt);
	vsnprintf(r->err_msg, sizeof(r->err_msg), fmt, ap);
	va_end(ap);
}

static inline void mark_bad(struct cursor *c, const char *field)
{
	if (!c->bad) {
		c->bad = field;
		c->bad_at = c->p;
	}
	c->p = c->end; /* later fields fail too; keeps the first name */
}

static inline uint64_t get_uv(struct cursor *c, const char *field)
{
	uint64_t v = 0;
	size_t n = slf_get_uv(c->p, c->end, &v);

	if (__builtin_expect(!n, 0)) {
		mark_bad(c, field);
		return 0;
	}
	c->p += n;
	return v;
}

static inline uint64_t get_addr(struct cursor *c, uint64_t *prev, const char *field)
{
	uint64_t v = 0;
	size_t n = slf_get_addr(c->p, c->end, prev, &v);

	if (__builtin_expect(!n, 0)) {
		mark_bad(c, field);
		return 0;
	}
	c->p += n;
	return v;
}

static inline unsigned get_u8(struct cursor *c, const char *field)
{
	if (c->p >= c->end) {
		mark_bad(c, field);
		return 0;
	}
	return *c->p++;
}

static struct sla_str get_str(struct cursor *c, const char *field)
{
	const uint8_t *start = c->p;
	struct sla_str s = { "", 0 };
	uint64_t len = get_uv(c, field);

	if (c->bad)
		return s;
	if (len > SLF_MAX_STR || len > (uint64_t)(c->end - c->p)) {
		c->p = start;
		mark_bad(c, field);
		return s;
	}
	s.ptr = (const char *)c->p;
	s.len = (size_t)len;
	c->p += len;
	return s;
}

/*
 * Checks the 16-byte header. Returns 0, -EBADMSG (not a log, or cut inside
 * the header) or -EPROTONOSUPPORT (a major version this reader cannot read).
 */
static int check_header(struct sla_reader *r)
{
	struct slf_file_header h;

	if (r->size == 0) {
		fail_at(r, 0, "empty file, not a sliceleak log");
		return -EBADMSG;
	}
	if (memcmp(r->base, SLF_MAGIC, r->size < SLF_MAGIC_LEN ? r->size : SLF_MAGIC_LEN)) {
		fail_at(r, 0, "not a sliceleak log (bad magic)");
		return -EBADMSG;
	}
	if (r->size < sizeof(h)) {
		fail_at(r, r->size, "file ends inside the %zu-byte header", sizeof(h));
		return -EBADMSG;
	}
	memcpy(&h, r->base, sizeof(h));
	r->major = h.major;
	r->minor = h.minor;
	if (h.major > SLF_VERSION_MAJOR) {
		fail_at(r, 8, "log format version %u.%u is newer than this sliceleak reads (%u.%u)",
			h.major, h.minor, SLF_VERSION_MAJOR, SLF_VERSION_MINOR);
		return -EPROTONOSUPPORT;
	}
	if (h.major < 1) {
		fail_at(r, 8, "log format version %u.%u is not supported (this sliceleak reads %u.%u)",
			h.major, h.minor, SLF_VERSION_MAJOR, SLF_VERSION_MINOR);
		return -EPROTONOSUPPORT;
	}
	r->pos = sizeof(h);
	r->next_stack = 1;
	return 0;
}

/* Context: any thread; the buffer must outlive the reader. */
int sla_reader_init_mem(struct sla_reader *r, const uint8_t *data, size_t size, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->base = data;
	r->size = size;
	return check_header(r);
}

/* Reads a non-seekable file (a pipe) completely into memory. */
static int slurp(struct sla_reader *r, int fd)
{
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = sla_xmalloc(cap);

	for (;;) {
		ssize_t n;

		if (len == cap) {
			cap *= 2;
			buf = sla_xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			free(buf);
			fail_at(r, len, "cannot read: %s", strerror(err));
			return -err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r->map = buf;
	r->map_len = len;
	r->map_is_heap = true;
	r->base = buf;
	r->size = len;
	return 0;
}

/*
 * A regular file is mapped; anything else (a pipe, /dev/stdin) is read
 * whole. Empty files reach check_header(), which says so.
 */
int sla_reader_open(struct sla_reader *r, const char *path)
{
	struct stat st;
	int fd, err = 0;

	memset(r, 0, sizeof(*r));
	r->name = path;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		fail_at(r, 0, "cannot open: %s", strerror(err));
		return -err;
	}
	if (fstat(fd, &st) < 0) {
		err = errno;
		fail_at(r, 0, "cannot stat: %s", strerror(err));
		goto out_close;
	}
	if (S_ISDIR(st.st_mode)) {
		err = EISDIR;
		fail_at(r, 0, "is a directory, not a sliceleak log");
		goto out_close;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (map == MAP_FAILED) {
			err = errno;
			fail_at(r, 0, "cannot map: %s", strerror(err));
			goto out_close;
		}
		/* One front-to-back pass: let the kernel read ahead and drop behind. */
		madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
		r->map = map;
		r->map_len = (size_t)st.st_size;
		r->base = map;
		r->size = (uint64_t)st.st_size;
	} else if (!S_ISREG(st.st_mode)) {
		int ret = slurp(r, fd);

		if (ret < 0) {
			err = -ret;
			goto out_close;
		}
	}
	close(fd);
	return check_header(r);

out_close:
	close(fd);
	return -err;
}

/* Safe after a failed open and twice in a row. */
void sla_reader_close(struct sla_reader *r)
{
	if (r->map && r->map_is_heap)
		free(r->map);
	else if (r->map)
		munmap(r->map, r->map_len);
	free(r->segs);
	r->map = NULL;
	r->segs = NULL;
	r->segs_cap = 0;
}

/* A stack id field must name the empty stack or one defined earlier. */
static inline void check_stack(struct sla_reader *r, struct cursor *c, uint64_t id, const char *field)
{
	if (__builtin_expect(id >= r->next_stack, 0) && !c->bad && !c->undef)
		c->undef = field;
}

/* MODULE: validates every segment into the scratch array. */
static void decode_module(struct sla_reader *r, struct cursor *c, struct sla_record *o)
{
	uint64_t n;

	o->module.bias = get_uv(c, "bias");
	o->module.path = get_str(c, "path");
	o->module.build_id = get_str(c, "build_id");
	n = get_uv(c, "nsegs");
	if (c->bad)
		return;
	/* Each segment takes at least 3 bytes: bounds the allocation by the payload. */
	if (n > (uint64_t)(c->end - c->p) / 3) {
		mark_bad(c, "nsegs");
		return;
	}
	sla_xgrow(&r->segs, &r->segs_cap, (size_t)n, sizeof(*r->segs));
	for (uint64_t i = 0; i < n; i++) {
		r->segs[i].vaddr = get_uv(c, "vaddr");
		r->segs[i].memsz = get_uv(c, "memsz");
		r->segs[i].flags = get_uv(c, "flags");
	}
	o->module.nsegs = n;
	o->module.segs = r->segs;
}

/*
 * SCAN_PTRS: every pair is decoded here once, so that replay can iterate
 * them without checks (sla_scan_iter). Locations must stay inside the
 * current region and strictly increase; values must lie in the scan's heap
 * span (the writer records only those). Returns a semantic problem or NULL.
 */
static const char *decode_scan_ptrs(struct sla_reader *r, struct cursor *c, struct sla_record *o)
{
	const uint8_t *count_at = c->p;
	uint64_t n, loc = r->region_start, val = r->scan_lo;

	n = get_uv(c, "count");
	if (c->bad)
		return NULL;
	/* Each pair takes at least 2 bytes. */
	if (n > (uint64_t)(c->end - c->p) / 2) {
		c->p = count_at; /* the error points at the count */
		mark_bad(c, "count");
		return NULL;
	}
	o->scan_ptrs.count = n;
	o->scan_ptrs.pairs = c->p;
	o->scan_ptrs.end = c->end;
	o->scan_ptrs.region_start = r->region_start;
	o->scan_ptrs.heap_lo = r->scan_lo;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t gap = get_uv(c, "gap");
		uint64_t delta = get_uv(c, "delta");

		if (c->bad)
			return NULL;
		/* region_end - loc is a multiple of 8: the word must start before it */
		if ((i > 0 && gap == 0) || gap >= (r->region_end - loc) / 8)
			return "SCAN_PTRS record: a location outside its region or out of order";
		loc += gap * 8;
		val += (uint64_t)slf_unzigzag(delta);
		if (val < r->scan_lo || val > r->scan_hi)
			return "SCAN_PTRS record: a value outside the scan's heap span";
	}
	return NULL;
}

/*
 * The scan's structure: SCAN_BEGIN, (SCAN_REGION, SCAN_PTRS*)*, SCAN_END,
 * nothing else in between. Called before the payload is decoded (which
 * needs the open scan's bases). Returns the violation or NULL.
 */
static const char *scan_order(const struct sla_reader *r, unsigned kind)
{
	switch (kind) {
	case SLF_REC_SCAN_BEGIN:
		return r->scan != SCAN_NONE ? "SCAN_BEGIN inside a scan that has not ended" : NULL;
	case SLF_REC_SCAN_REGION:
	case SLF_REC_SCAN_END:
		return r->scan == SCAN_NONE ? "scan record outside a scan (no SCAN_BEGIN)" : NULL;
	case SLF_REC_SCAN_PTRS:
		if (r->scan == SCAN_NONE)
			return "scan record outside a scan (no SCAN_BEGIN)";
		return r->scan != SCAN_IN_REGION ? "SCAN_PTRS before the scan's first SCAN_REGION" : NULL;
	default:
		return r->scan != SCAN_NONE ? "a record other than a scan record inside a scan" : NULL;
	}
}

/* A valid record moves the scan's state along (scan_order() allowed it). */
static void scan_advance(struct sla_reader *r, const struct sla_record *o)
{
	switch (o->kind) {
	case SLF_REC_SCAN_BEGIN:
		r->scan = SCAN_OPEN;
		r->scan_lo = o->scan_begin.heap_lo;
		r->scan_hi = o->scan_begin.heap_hi;
		r->scan_bytes = r->scan_ptrs = 0;
		break;
	case SLF_REC_SCAN_REGION:
		r->scan = SCAN_IN_REGION;
		r->region_start = o->scan_region.start;
		r->region_end = o->scan_region.start + o->scan_region.size;
		r->scan_bytes += o->scan_region.size;
		break;
	case SLF_REC_SCAN_PTRS:
		r->scan_ptrs += o->scan_ptrs.count;
		break;
	case SLF_REC_SCAN_END:
		r->scan = SCAN_NONE;
		break;
	default:
		break;
	}
}

/*
 * Decodes the payload of a known kind. Returns 0, or -EBADMSG with the error
 * set. Semantic checks that need no state beyond the decoding context (stack
 * ids defined, enum values in range) are done here too.
 */
static int decode_payload(struct sla_reader *r, struct cursor *c, struct sla_record *o)
{
	const char *what = NULL; /* a semantic problem, when the bytes decoded fine */
	uint64_t *pa = &r->prev_addr;

	if (o->kind < SLF_REC_KIND_COUNT && (what = scan_order(r, o->kind)) != NULL) {
		fail_at(r, o->offset, "%s", what);
		return -EBADMSG;
	}
	switch ((enum slf_kind)o->kind) {
	case SLF_REC_PROCESS:
		o->process.pid = get_uv(c, "pid");
		o->process.ppid = get_uv(c, "ppid");
		o->process.start_ns = get_uv(c, "start_ns");
		o->process.stack_depth = get_uv(c, "stack_depth");
		o->process.exe = get_str(c, "exe");
		o->process.cmdline = get_str(c, "cmdline");
		break;
	case SLF_REC_MODULES_RESET:
		break;
	case SLF_REC_MODULE:
		decode_module(r, c, o);
		break;
	case SLF_REC_STACK:
		o->stack.parent = get_uv(c, "parent");
		o->stack.ip = get_uv(c, "ip");
		check_stack(r, c, o->stack.parent, "parent");
		if (!c->bad && r->next_stack > UINT32_MAX)
			what = "more than 2^32 stacks";
		o->stack.id = r->next_stack;
		break;
	case SLF_REC_THREAD:
		o->thread.tid = get_uv(c, "tid");
		break;
	case SLF_REC_TIME:
		o->time.ns = get_uv(c, "ns");
		break;
	case SLF_REC_ALLOC:
		o->alloc.fn = get_u8(c, "fn");
		o->alloc.addr = get_addr(c, pa, "addr");
		o->alloc.size = get_uv(c, "size");
		o->alloc.align = get_uv(c, "align");
		o->alloc.stack = get_uv(c, "stack");
		check_stack(r, c, o->alloc.stack, "stack");
		if (!c->bad && o->alloc.fn >= SLF_FN_COUNT)
			what = "ALLOC record: unknown fn";
		break;
	case SLF_REC_FREE:
		o->free.addr = get_addr(c, pa, "addr");
		break;
	case SLF_REC_REALLOC:
		o->realloc.fn = get_u8(c, "fn");
		o->realloc.old_addr = get_addr(c, pa, "old_addr");
		o->realloc.new_addr = get_addr(c, pa, "new_addr");
		o->realloc.size = get_uv(c, "size");
		o->realloc.stack = get_uv(c, "stack");
		check_stack(r, c, o->realloc.stack, "stack");
		if (!c->bad && o->realloc.fn != SLF_FN_REALLOC && o->realloc.fn != SLF_FN_REALLOCARRAY)
			what = "REALLOC record: fn is not realloc or reallocarray";
		break;
	case SLF_REC_SLICE_NEW:
		o->slice_new.block = get_addr(c, pa, "block");
		o->slice_new.ptr = get_addr(c, pa, "ptr");
		o->slice_new.len = get_uv(c, "len");
		o->slice_new.cap = get_uv(c, "cap");
		o->slice_new.stack = get_uv(c, "stack");
		check_stack(r, c, o->slice_new.stack, "stack");
		break;
	case SLF_REC_SLICE_DROP:
		o->slice_drop.block = get_addr(c, pa, "block");
		o->slice_drop.ptr = get_addr(c, pa, "ptr");
		o->slice_drop.len = get_uv(c, "len");
		break;
	case SLF_REC_VIEW_ACQUIRE:
		o->view_acquire.owner = get_uv(c, "owner");
		o->view_acquire.ptr = get_addr(c, pa, "ptr");
		o->view_acquire.len = get_uv(c, "len");
		o->view_acquire.stack = get_uv(c, "stack");
		check_stack(r, c, o->view_acquire.stack, "stack");
		break;
	case SLF_REC_VIEW_RELEASE:
		o->view_release.owner = get_uv(c, "owner");
		o->view_release.stack = get_uv(c, "stack");
		check_stack(r, c, o->view_release.stack, "stack");
		break;
	case SLF_REC_SNAPSHOT:
		o->snapshot.label = get_str(c, "label");
		o->snapshot.stack = get_uv(c, "stack");
		check_stack(r, c, o->snapshot.stack, "stack");
		break;
	case SLF_REC_END:
		o->end.records = get_uv(c, "records");
		o->end.dropped = get_uv(c, "dropped");
		if (!c->bad && o->end.records != o->index)
			what = "END record counts a different number of records than the log holds";
		break;
	case SLF_REC_SCAN_BEGIN:
		o->scan_begin.heap_lo = get_uv(c, "heap_lo");
		o->scan_begin.heap_hi = get_uv(c, "heap_hi");
		if (!c->bad && o->scan_begin.heap_lo > o->scan_begin.heap_hi)
			what = "SCAN_BEGIN record: heap_lo above heap_hi";
		break;
	case SLF_REC_SCAN_REGION: {
		uint64_t kind = get_uv(c, "kind");

		o->scan_region.start = get_uv(c, "start");
		o->scan_region.size = get_uv(c, "size");
		o->scan_region.kind = kind > UINT32_MAX ? UINT32_MAX : (unsigned)kind;
		if (c->bad)
			break;
		/* a region kind of a newer minor version is let through (analysis: a root) */
		if (kind >= SLF_REGION_KIND_COUNT && r->minor <= SLF_VERSION_MINOR)
			what = "SCAN_REGION record: unknown region kind";
		else if ((o->scan_region.start | o->scan_region.size) % 8)
			what = "SCAN_REGION record: start or size not a multiple of 8";
		else if (o->scan_region.start + o->scan_region.size < o->scan_region.start)
			what = "SCAN_REGION record: region wraps around the address space";
		break;
	}
	case SLF_REC_SCAN_PTRS:
		what = decode_scan_ptrs(r, c, o);
		break;
	case SLF_REC_SCAN_END:
		o->scan_end.bytes = get_uv(c, "bytes");
		o->scan_end.pointers = get_uv(c, "pointers");
		o->scan_end.capped = get_uv(c, "capped");
		if (c->bad)
			break;
		if (o->scan_end.capped > 1)
			what = "SCAN_END record: capped is neither 0 nor 1";
		else if (o->scan_end.bytes != r->scan_bytes)
			what = "SCAN_END record: bytes differs from the sum of the regions' sizes";
		else if (o->scan_end.pointers != r->scan_ptrs)
			what = "SCAN_END record: pointers differs from the SCAN_PTRS counts";
		break;
	case SLF_REC_KIND_COUNT:
	default:
		/* unknown kinds are skipped by length, but never inside a scan */
		if ((what = scan_order(r, o->kind)) != NULL) {
			fail_at(r, o->offset, "%s", what);
			return -EBADMSG;
		}
		return 0;
	}
	if (c->bad) {
		fail_at(r, (uint64_t)(c->bad_at - r->base),
			"%s record: field %s does not fit its %u-byte payload or is malformed",
			slf_kind_name(o->kind), c->bad, o->payload_len);
		return -EBADMSG;
	}
	if (c->undef) {
		fail_at(r, o->offset, "%s record: %s refers to a stack id not defined yet (%llu defined)",
			slf_kind_name(o->kind), c->undef, (unsigned long long)r->next_stack - 1);
		return -EBADMSG;
	}
	if (what) {
		fail_at(r, o->offset, "%s", what);
		return -EBADMSG;
	}
	if (o->kind == SLF_REC_STACK)
		r->next_stack++;
	scan_advance(r, o);
	return 0;
}

/*
 * Drops the pages already read from the mapping: without this, a mapped
 * log counts whole in the analyzer's resident memory. They are clean file
 * pages, so touching them again (nobody does) would just read them back.
 */
#define RELEASE_CHUNK (8u << 20)

static void release_behind(struct sla_reader *r)
{
	uint64_t to = r->pos & ~(uint64_t)4095;

	if (r->map && !r->map_is_heap && to > r->released)
		madvise((uint8_t *)r->map + r->released, (size_t)(to - r->released), MADV_DONTNEED);
	r->released = to;
}

/*
 * One record: kind byte, length varint, then the payload, each checked
 * against the end of the file before it is read. Running out of file in
 * any of them is truncation, never an error: a killed writer stops
 * anywhere. Context: single-threaded per reader; see reader.h for returns.
 */
int sla_reader_next(struct sla_reader *r, struct sla_record *out)
{
	const uint8_t *p, *end;
	uint64_t len = 0;
	size_t n;
	struct cursor c;

	if (r->err_msg[0])
		return -EBADMSG;
	if (r->pos >= r->size) {
		if (!r->ended) {
			r->truncated = true;
			r->trunc_offset = r->size;
		}
		return 0;
	}
	if (r->ended) {
		fail_at(r, r->pos, "data after the END record");
		return -EBADMSG;
	}
	if (__builtin_expect(r->pos - r->released >= RELEASE_CHUNK, 0))
		release_behind(r);
	p = r->base + r->pos;
	end = r->base + r->size;
	if (__builtin_expect(p[0] == 0, 0)) {
		/*
		 * No record has kind 0. A tail of nothing but zero bytes is what a
		 * file system leaves after a crash (allocated, never written): the
		 * log is truncated there. Anything else is corrupt.
		 */
		const uint8_t *z = p;

		while (z < end && !*z)
			z++;
		if (z == end) {
			r->truncated = true;
			r->trunc_offset = r->pos;
			return 0;
		}
		fail_at(r, r->pos, "record kind 0 does not exist");
		return -EBADMSG;
	}
	/* kind byte, then the length varint: running out of file here is truncation. */
	n = end - p > 1 ? slf_get_uv(p + 1, end, &len) : 0;
	if (!n) {
		/* With fewer than 10 bytes left, a varint can only fail by running out. */
		if ((size_t)(end - p - 1) >= SLF_MAX_UV_LEN) {
			fail_at(r, r->pos + 1, "record length is not a valid varint");
			return -EBADMSG;
		}
		r->truncated = true;
		r->trunc_offset = r->pos;
		return 0;
	}
	if (len > SLF_MAX_PAYLOAD) {
		fail_at(r, r->pos + 1, "record length %llu exceeds the maximum of %u bytes",
			(unsigned long long)len, SLF_MAX_PAYLOAD);
		return -EBADMSG;
	}
	if (len > (uint64_t)(end - p - 1 - (ptrdiff_t)n)) {
		r->truncated = true;
		r->trunc_offset = r->pos;
		return 0;
	}
	out->offset = r->pos;
	out->index = r->records;
	out->kind = p[0];
	out->payload_len = (uint32_t)len;
	c.p = p + 1 + n;
	c.end = c.p + len;
	c.bad = NULL;
	c.bad_at = NULL;
	c.undef = NULL;
	if (r->records == 0 && out->kind != SLF_REC_PROCESS) {
		fail_at(r, r->pos, "first record is %s, not PROCESS",
			slf_kind_name(out->kind) ? slf_kind_name(out->kind) : "an unknown kind");
		return -EBADMSG;
	}
	if (decode_payload(r, &c, out) < 0)
		return -EBADMSG;
	if (out->kind == SLF_REC_THREAD)
		r->tid = out->thread.tid;
	else if (out->kind == SLF_REC_TIME)
		r->time_ns = out->time.ns;
	else if (out->kind == SLF_REC_END)
		r->ended = true;
	out->tid = r->tid;
	out->time_ns = r->time_ns;
	r->pos = (uint64_t)(c.end - r->base);
	r->records++;
	return 1;
}
