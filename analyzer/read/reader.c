/*
 * analyzer/read/reader.c - bytes of a .sllog -> validated, decoded records.
 *
 * Nothing read from the log is trusted before it is checked: every varint is
 * decoded against the end of its payload, every length against the end of
 * the file, every stack id against the ids defined so far.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
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
	r->fd = -1;
	r->cut_seq = UINT64_MAX;
	r->name = name;
	r->base = data;
	r->size = size;
	return check_header(r);
}

/*
 * A mapped log that another process cuts shorter while we read it faults
 * with SIGBUS on the first page past its new end. The analyzer must not die
 * without a word: this handler names the file and the offset, the agreed way
 * (main.c), and exits with the error code. Only its own fault is taken
 * over: an address in no mapping of ours gets the default action again.
 */
#define GUARD_SLOTS 16

static struct {
	const uint8_t *base;
	uint64_t len;
	const char *name;
} guarded[GUARD_SLOTS];

static char *put_dec(char *p, uint64_t v)
{
	char tmp[24];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_text(char *p, const char *end, const char *s)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

static void on_sigbus(int sig, siginfo_t *info, void *uctx)
{
	const uint8_t *a = info->si_addr;
	char msg[PATH_MAX + 160], *p = msg, *end = msg + sizeof(msg) - 48;

	(void)uctx;
	for (size_t i = 0; i < GUARD_SLOTS; i++) {
		if (!guarded[i].base || a < guarded[i].base || a >= guarded[i].base + guarded[i].len)
			continue;
		p = put_text(p, end, "sliceleak: ");
		p = put_text(p, end, guarded[i].name);
		p = put_text(p, end, ": offset ");
		p = put_dec(p, (uint64_t)(a - guarded[i].base));
		p = put_text(p, msg + sizeof(msg) - 1,
			     ": the file became shorter while it was being read\n");
		if (write(STDERR_FILENO, msg, (size_t)(p - msg)) < 0)
			(void)0; /* nothing left to tell it to */
		_exit(SLA_EXIT_ERROR); /* a signal handler: no sla_die() */
	}
	signal(sig, SIG_DFL); /* not ours: the fault repeats and takes its default course */
}

static void guard_mapping(struct sla_reader *r)
{
	static bool installed;

	if (!installed) {
		struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };

		sigemptyset(&sa.sa_mask);
		installed = sigaction(SIGBUS, &sa, NULL) == 0;
	}
	for (size_t i = 0; i < GUARD_SLOTS; i++) {
		if (!guarded[i].base) {
			guarded[i].name = r->name;
			guarded[i].len = r->size;
			guarded[i].base = r->map;
			return;
		}
	}
}

static void unguard_mapping(const struct sla_reader *r)
{
	for (size_t i = 0; i < GUARD_SLOTS; i++)
		if (guarded[i].base == r->map)
			guarded[i].base = NULL;
}

/* Maps [0, size) of fd read-only for one front-to-back pass. */
static int map_file(struct sla_reader *r, int fd, uint64_t size)
{
	void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);

	if (map == MAP_FAILED) {
		int err = errno;

		fail_at(r, 0, "cannot map: %s", strerror(err));
		return -err;
	}
	/* One front-to-back pass: let the kernel read ahead and drop behind. */
	madvise(map, (size_t)size, MADV_SEQUENTIAL);
	r->map = map;
	r->map_len = (size_t)size;
	r->base = map;
	r->size = size;
	guard_mapping(r);
	return 0;
}

/* read() until n bytes or the end of the input. Returns bytes read or -errno. */
static ssize_t read_full(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = read(fd, buf + got, n - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

/* An unlinked file in $TMPDIR (or /tmp) for a copy of the input. */
static int temp_file(const char **dir)
{
	char path[PATH_MAX];
	int fd;

	*dir = getenv("TMPDIR");
	if (!*dir || !**dir)
		*dir = "/tmp";
	fd = open(*dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0 || errno != EOPNOTSUPP)
		return fd;
	if (snprintf(path, sizeof(path), "%s/sliceleak.XXXXXX", *dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/*
 * A pipe or a device cannot be mapped, and a 2.x log is read in several
 * places at once: its header is checked first (so /dev/zero or /dev/urandom
 * is refused after 16 bytes), then the rest is copied into an unlinked
 * temporary file, which is mapped. Memory stays bounded whatever the input
 * holds; the copy lives in the page cache of $TMPDIR's file system.
 */
static int copy_stream(struct sla_reader *r, int fd)
{
	uint8_t head[sizeof(struct slf_file_header)], buf[1 << 16];
	uint64_t total;
	ssize_t n = read_full(fd, head, sizeof(head));
	const char *dir;
	int tmp, ret;

	if (n < 0) {
		fail_at(r, 0, "cannot read: %s", strerror((int)-n));
		return (int)n;
	}
	r->base = head;
	r->size = (uint64_t)n;
	ret = check_header(r);
	r->base = NULL;
	if (ret < 0)
		return ret;
	tmp = temp_file(&dir);
	if (tmp < 0) {
		int err = errno;

		fail_at(r, 0, "cannot create a temporary copy in %s: %s", dir, strerror(err));
		return -err;
	}
	total = 0;
	for (size_t len = (size_t)n; len > 0; total += len, len = (size_t)n) {
		for (size_t done = 0; done < len;) {
			ssize_t w = write(tmp, (total ? buf : head) + done, len - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				int err = errno;

				fail_at(r, total + done, "cannot copy to a temporary file in %s: %s",
					dir, strerror(err));
				close(tmp);
				return -err;
			}
			done += (size_t)w;
		}
		n = read_full(fd, buf, sizeof(buf));
		if (n < 0) {
			fail_at(r, total + len, "cannot read: %s", strerror((int)-n));
			close(tmp);
			return (int)n;
		}
	}
	ret = map_file(r, tmp, total);
	if (ret == 0)
		r->fd = tmp;
	else
		close(tmp);
	return ret;
}

/*
 * A regular file is mapped; anything else (a pipe, a device) is checked and
 * copied first (copy_stream). Empty files reach check_header(), which says
 * so. The file stays open: holes of a sparse file are skipped with
 * SEEK_DATA instead of being read.
 */
int sla_reader_open(struct sla_reader *r, const char *path)
{
	struct stat st;
	int fd, err = 0, ret;

	memset(r, 0, sizeof(*r));
	r->name = path;
	r->fd = -1;
	r->cut_seq = UINT64_MAX;
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
	if (!S_ISREG(st.st_mode)) {
		ret = copy_stream(r, fd);
		close(fd);
		return ret < 0 ? ret : check_header(r);
	}
	if (st.st_size > 0) {
		ret = map_file(r, fd, (uint64_t)st.st_size);
		if (ret < 0) {
			err = -ret;
			goto out_close;
		}
		r->fd = fd;
		return check_header(r);
	}
	close(fd);
	return check_header(r);

out_close:
	close(fd);
	return -err;
}

void sla_reader_describe(const struct sla_reader *r, int err, char *buf, size_t len)
{
	if (err == -EBADMSG || err == -EPROTONOSUPPORT)
		snprintf(buf, len, "%s: offset %llu: %s", r->name,
			 (unsigned long long)r->err_offset, r->err_msg);
	else
		snprintf(buf, len, "%s: %s", r->name, r->err_msg);
}

/* Safe after a failed open and twice in a row. */
void sla_reader_close(struct sla_reader *r)
{
	if (r->map) {
		unguard_mapping(r);
		munmap(r->map, r->map_len);
	}
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	free(r->segs);
	free(r->chunks);
	free(r->streams);
	free(r->heap);
	free(r->stack_bits);
	r->map = NULL;
	r->segs = NULL;
	r->segs_cap = 0;
	r->chunks = NULL;
	r->streams = NULL;
	r->heap = NULL;
	r->stack_bits = NULL;
	r->nchunks = r->chunks_cap = r->nstreams = r->streams_cap = r->nheap = 0;
	r->stack_words = 0;
}

/* A minor version this reader does not know (1.1 was the last 1.x, 2.2 the last 2.x). */
static inline bool newer_minor(const struct sla_reader *r)
{
	if (r->major == SLF_VERSION_MAJOR)
		return r->minor > SLF_VERSION_MINOR;
	return r->major == 1 ? r->minor > 1 : r->major == 2 && r->minor > 2;
}

/* 2.x: whether stack id `id` (not 0) has been defined, in merged order. */
static inline bool stack_defined(const struct sla_reader *r, uint64_t id)
{
	if (__builtin_expect(id <= r->stacks_dense, 1))
		return true;
	return id / 64 < r->stack_words && (r->stack_bits[id / 64] >> (id % 64) & 1);
}

/*
 * A stack id field must name the empty stack or one defined earlier (1.x:
 * ids are handed out in order; 2.x: any id defined so far, in merged order).
 * A 2.x log without END is the exception: a killed process leaves the
 * chunks some threads had not written yet, and a stack one of them defined
 * may be used in another thread's chunk that was written. Such a reference
 * becomes the empty stack and is counted (stacks_lost), not an error.
 */
static inline void check_stack(struct sla_reader *r, struct cursor *c, uint64_t *id,
			       const char *field)
{
	/* 2.x keeps next_stack one past its dense prefix: the same fast check */
	if (__builtin_expect(*id < r->next_stack, 1))
		return;
	if (r->major >= 2 && stack_defined(r, *id))
		return;
	if (r->major >= 2 && r->end_off == UINT64_MAX && !c->bad) {
		*id = 0;
		r->stacks_lost++;
		return;
	}
	if (!c->bad && !c->undef)
		c->undef = field;
}

/*
 * 2.x: ids are dense (taken from one counter) but may be defined out of
 * numeric order, by as many threads as were defining stacks at once. An id
 * further than this beyond the count defined so far is corrupt: it would
 * make the bitmap here, and replay's stack table, as large as the id.
 */
#define STACK_ID_SLACK (1u << 16)

/* Why a 2.x STACK cannot define its id, or NULL. */
static const char *stack_id_problem(const struct sla_reader *r, uint64_t id)
{
	if (id == 0)
		return "STACK record: id 0 is the empty stack and cannot be defined";
	if (id > UINT32_MAX)
		return "STACK record: id above 2^32-1";
	if (stack_defined(r, id))
		return "STACK record: id defined twice";
	if (id > r->stacks_defined + STACK_ID_SLACK)
		return "STACK record: id far beyond the ids defined so far (ids are dense)";
	return NULL;
}

static void define_stack(struct sla_reader *r, uint64_t id)
{
	size_t w = (size_t)(id / 64);

	if (w >= r->stack_words) {
		size_t old = r->stack_words;

		sla_xgrow(&r->stack_bits, &r->stack_words, w + 1, sizeof(*r->stack_bits));
		memset(r->stack_bits + old, 0, (r->stack_words - old) * sizeof(*r->stack_bits));
	}
	r->stack_bits[w] |= 1ull << (id % 64);
	r->stacks_defined++;
	while (stack_defined(r, r->stacks_dense + 1))
		r->stacks_dense++;
	r->next_stack = r->stacks_dense + 1; /* check_stack()'s fast path */
}

/* A segs field (MODULE): validates every segment into the scratch array. */
static void get_segs(struct sla_reader *r, struct cursor *c, uint64_t *nsegs,
		     const struct sla_seg **segs)
{
	uint64_t n = get_uv(c, "nsegs");

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
	*nsegs = n;
	*segs = r->segs;
}

/*
 * A pairs field (SCAN_PTRS): every pair is decoded here once, so that replay
 * can iterate them without checks (sla_scan_iter). Locations must stay
 * inside the current region and strictly increase; values must lie in the
 * scan's heap span (the writer records only those). Returns a semantic
 * problem or NULL.
 */
static const char *get_pairs(struct sla_reader *r, struct cursor *c, struct sla_record *o)
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
 * The decoding of every field, generated from records.def: a field of a
 * later major version than the log's reads as 0; a stack field must name a
 * stack defined before (check_stack, once all fields are read).
 */
#define SLA_GET_u8(kind, f)    o->kind.f = get_u8(c, #f);
#define SLA_GET_uv(kind, f)    o->kind.f = get_uv(c, #f);
#define SLA_GET_sv(kind, f)    o->kind.f = slf_unzigzag(get_uv(c, #f));
#define SLA_GET_addr(kind, f)  o->kind.f = get_addr(c, pa, #f);
#define SLA_GET_str(kind, f)   o->kind.f = get_str(c, #f);
#define SLA_GET_segs(kind, f)  get_segs(r, c, &o->kind.n##f, &o->kind.f);
#define SLA_GET_pairs(kind, f) what = get_pairs(r, c, o);
#define SLA_GET_body(kind, f)
#define SLA_ZERO_u8(kind, f)    o->kind.f = 0;
#define SLA_ZERO_uv(kind, f)    o->kind.f = 0;
#define SLA_ZERO_sv(kind, f)    o->kind.f = 0;
#define SLA_ZERO_addr(kind, f)  o->kind.f = 0;
#define SLA_ZERO_str(kind, f)   o->kind.f = (struct sla_str){ "", 0 };
#define SLA_ZERO_segs(kind, f)  o->kind.n##f = 0;
#define SLA_ZERO_pairs(kind, f) o->kind.f = 0;
#define SLA_ZERO_body(kind, f)
#define SLA_DECODE_FIELD(kind, enc, f, show, since)    \
	if (slf_field_in((since), r->major, r->minor)) { \
		SLA_GET_##enc(kind, f)              \
	} else {                                    \
		SLA_ZERO_##enc(kind, f)             \
	}
#define SLA_CHECK_dec(kind, f)
#define SLA_CHECK_hex(kind, f)
#define SLA_CHECK_text(kind, f)
#define SLA_CHECK_bytes(kind, f)
#define SLA_CHECK_stack(kind, f) check_stack(r, c, &o->kind.f, #f);
#define SLA_CHECK_FIELD(kind, enc, f, show, since) SLA_CHECK_##show(kind, f)
#define SLA_DECODE_KIND(NAME, name, value, place)         \
	case SLF_REC_##NAME:                              \
		SLF_FIELDS_##name(SLA_DECODE_FIELD)       \
		SLF_FIELDS_##name(SLA_CHECK_FIELD) break;

/*
 * What a record's fields mean beyond their encoding, for the kinds whose
 * values the format restricts (enum values in range, stack ids, the END
 * count, the scan's sums). Returns the problem or NULL. Only called for a
 * record whose bytes decoded (no c->bad).
 */
static inline const char *check_meaning(struct sla_reader *r, struct sla_record *o)
{
	bool v2 = r->major >= 2;

	switch ((enum slf_kind)o->kind) {
	case SLF_REC_STACK:
		if (!v2) {
			o->stack.id = r->next_stack;
			return r->next_stack > UINT32_MAX ? "more than 2^32 stacks" : NULL;
		}
		return stack_id_problem(r, o->stack.id);
	case SLF_REC_ALLOC:
		/* an entry point of a newer minor version is let through */
		return o->alloc.fn >= SLF_FN_COUNT && !newer_minor(r) ? "ALLOC record: unknown fn"
								       : NULL;
	case SLF_REC_REALLOC:
		if (o->realloc.fn != SLF_FN_REALLOC && o->realloc.fn != SLF_FN_REALLOCARRAY)
			return "REALLOC record: fn is not realloc or reallocarray";
		if (o->realloc.flags & ~(uint64_t)SLF_REALLOC_OLD_FREED)
			return "REALLOC record: unknown flags";
		return NULL;
	case SLF_REC_END:
		if (!v2 && o->end.records != o->index)
			return "END record counts a different number of records than the log holds";
		if (v2 && o->end.records != r->nchunks)
			return "END record counts a different number of CHUNK records than the log holds";
		return NULL;
	case SLF_REC_SCAN_BEGIN:
		return o->scan_begin.heap_lo > o->scan_begin.heap_hi ?
			       "SCAN_BEGIN record: heap_lo above heap_hi" : NULL;
	case SLF_REC_SCAN_REGION:
		/* a region kind of a newer minor version is let through (analysis: a root) */
		if (o->scan_region.kind >= SLF_REGION_KIND_COUNT && !newer_minor(r))
			return "SCAN_REGION record: unknown region kind";
		if ((o->scan_region.start | o->scan_region.size) % 8)
			return "SCAN_REGION record: start or size not a multiple of 8";
		if (o->scan_region.start + o->scan_region.size < o->scan_region.start)
			return "SCAN_REGION record: region wraps around the address space";
		return NULL;
	case SLF_REC_SCAN_END:
		if (o->scan_end.capped > 1)
			return "SCAN_END record: capped is neither 0 nor 1";
		if (o->scan_end.no_maps > 1)
			return "SCAN_END record: no_maps is neither 0 nor 1";
		if (o->scan_end.bytes != r->scan_bytes)
			return "SCAN_END record: bytes differs from the sum of the regions' sizes";
		if (o->scan_end.pointers != r->scan_ptrs)
			return "SCAN_END record: pointers differs from the SCAN_PTRS counts";
		return NULL;
	case SLF_REC_PROCESS:
	case SLF_REC_MODULES_RESET:
	case SLF_REC_MODULE:
	case SLF_REC_THREAD:
	case SLF_REC_TIME: /* time_backwards: set by the caller, which keeps the clocks */
	case SLF_REC_FREE:
	case SLF_REC_SLICE_NEW:
	case SLF_REC_SLICE_DROP:
	case SLF_REC_VIEW_ACQUIRE:
	case SLF_REC_VIEW_RELEASE:
	case SLF_REC_SNAPSHOT:
	case SLF_REC_SCAN_PTRS: /* get_pairs() checks the pairs */
	case SLF_REC_SYNC: /* the index read it already (note_sync) */
	case SLF_REC_CHUNK: /* never decoded here: refused by its place */
	case SLF_REC_KIND_COUNT:
	default:
		return NULL;
	}
}

static inline __attribute__((always_inline)) int
payload_verdict(struct sla_reader *r, struct cursor *c, struct sla_record *o, const char *what);

/*
 * Decodes the payload of a kind this version knows (records.def), or skips
 * an unknown one. Returns 0, or -EBADMSG with the error set.
 */
static inline __attribute__((always_inline)) int
decode_payload(struct sla_reader *r, struct cursor *c, struct sla_record *o, uint64_t *pa)
{
	const char *what = NULL; /* a semantic problem, when the bytes decoded fine */

	if (o->kind < SLF_REC_KIND_COUNT && (what = scan_order(r, o->kind)) != NULL) {
		fail_at(r, o->offset, "%s", what);
		return -EBADMSG;
	}
	switch ((enum slf_kind)o->kind) {
		SLF_RECORDS(SLA_DECODE_KIND)
	case SLF_REC_KIND_COUNT:
	default:
		/* unknown kinds are skipped by length, but never inside a scan */
		if ((what = scan_order(r, o->kind)) != NULL) {
			fail_at(r, o->offset, "%s", what);
			return -EBADMSG;
		}
		return 0;
	}
	return payload_verdict(r, c, o, what);
}

/*
 * After a record's fields were read: its decoding problem, an undefined
 * stack, or what its values mean (check_meaning); then the state a valid
 * record moves along. Returns 0, or -EBADMSG with the error set.
 */
static inline __attribute__((always_inline)) int
payload_verdict(struct sla_reader *r, struct cursor *c, struct sla_record *o, const char *what)
{
	if (c->bad) {
		fail_at(r, (uint64_t)(c->bad_at - r->base),
			"%s record: field %s does not fit its %u-byte payload or is malformed",
			slf_kind_name(o->kind), c->bad, o->payload_len);
		return -EBADMSG;
	}
	if (c->undef) {
		fail_at(r, o->offset, "%s record: %s refers to a stack id not defined yet (%llu defined)",
			slf_kind_name(o->kind), c->undef,
			(unsigned long long)(r->major >= 2 ? r->stacks_defined : r->next_stack - 1));
		return -EBADMSG;
	}
	if (what || (what = check_meaning(r, o)) != NULL) {
		fail_at(r, o->offset, "%s", what);
		return -EBADMSG;
	}
	sla_assert(c->p <= c->end); /* no field read past its payload */
	if (o->kind == SLF_REC_STACK) {
		if (r->major >= 2)
			define_stack(r, o->stack.id);
		else
			r->next_stack++;
	}
	if (o->kind >= SLF_REC_SCAN_BEGIN && o->kind <= SLF_REC_SCAN_END)
		scan_advance(r, o);
	return 0;
}

/* Pages behind the reading position go back to the kernel this many bytes at a time. */
#define RELEASE_CHUNK (8u << 20)

static void release_to(struct sla_reader *r, uint64_t off);

/*
 * Whether the bytes from pos to the end of the file are all zero: what a
 * crashed file system leaves (blocks allocated, never written), and what a
 * sparse file is between its data. Holes are skipped with SEEK_DATA, never
 * read; the pages of data it reads are given back as it goes, so a 2 GiB
 * tail of zeros costs neither 2 GiB of memory nor its reading.
 */
static bool zero_tail(struct sla_reader *r, uint64_t pos)
{
	while (pos < r->size) {
		uint64_t stop;

		if (r->fd >= 0) {
			off_t d = lseek(r->fd, (off_t)pos, SEEK_DATA);

			if (d < 0 && errno == ENXIO)
				return true; /* a hole to the end */
			if (d > (off_t)pos)
				pos = (uint64_t)d < r->size ? (uint64_t)d : r->size;
		}
		stop = pos + RELEASE_CHUNK < r->size ? pos + RELEASE_CHUNK : r->size;
		for (; pos < stop; pos++)
			if (r->base[pos])
				return false;
		release_to(r, pos);
	}
	return true;
}

/*
 * Drops the pages already read from the mapping: without this, a mapped
 * log counts whole in the analyzer's resident memory. They are clean file
 * pages, so touching them again (nobody does) would just read them back.
 */
static void release_behind(struct sla_reader *r)
{
	uint64_t to = r->pos & ~(uint64_t)4095;

	if (r->map && to > r->released)
		madvise((uint8_t *)r->map + r->released, (size_t)(to - r->released), MADV_DONTNEED);
	r->released = to;
}

/* ---- format 2.x: the chunk index and the merge of the threads' streams ---- */

#define NO_CHUNK  UINT32_MAX
#define NO_STREAM UINT32_MAX

/* Records between two looks at how far behind every cursor the pages can go. */
#define RELEASE_EVERY (1u << 16)

enum { V2_INDEX, V2_PROCESS, V2_START, V2_MERGE, V2_END, V2_DONE };

/*
 * One CHUNK of the top level, 16 bytes: a 1.2 GiB log of 64 KiB chunks
 * indexes in about 300 KiB. Its tid and base seq are read again from the
 * file when the chunk is opened (once).
 */
struct sla_chunk {
	uint64_t off;  /* offset of the CHUNK record's kind byte */
	uint32_t next; /* the same thread's next chunk in file order, or NO_CHUNK */
	uint32_t unused;
};

/* One thread's stream: its chunks in file order, read through one cursor. */
struct sla_stream {
	uint64_t tid;
	uint64_t pos;	    /* the next inner record: its seq_delta */
	uint64_t rec;	    /* the next inner record's kind byte (after peek) */
	uint64_t end;	    /* end of the current chunk's payload */
	uint64_t seq;	    /* seq of the next record (after peek), else of the last */
	uint64_t prev_addr; /* the current chunk's decoding state (format.h) */
	struct slf_dense_state dense; /* 3.x: ... and its dense forms' */
	uint64_t body;	    /* 3.x, after peek: the next record's length, or its dense fields */
	unsigned head;	    /* 3.x, after peek: its first byte (a kind, or a dense head) */
	uint64_t time_max;  /* the thread's largest TIME, for time_backwards */
	uint32_t first;	    /* index: first chunk; then the next chunk to open */
	uint32_t last;	    /* index building only: the last chunk so far */
};

static void release_to(struct sla_reader *r, uint64_t off)
{
	uint64_t to = off & ~(uint64_t)4095;

	if (r->map && to > r->released)
		madvise((uint8_t *)r->map + r->released, (size_t)(to - r->released), MADV_DONTNEED);
	if (to > r->released)
		r->released = to;
}

/*
 * The kind byte and length varint of the record at `pos`, checked against
 * `lim` (the end of the file at the top level). Returns 1 with *len and
 * *hdr (bytes of kind + length), 0 when the file ends inside the record
 * (truncation), -EBADMSG when the bytes cannot be a record.
 */
static int top_frame(struct sla_reader *r, uint64_t pos, uint64_t *len, size_t *hdr)
{
	const uint8_t *p = r->base + pos, *end = r->base + r->size;
	size_t n;

	if (p[0] == 0) {
		if (zero_tail(r, pos))
			return 0;
		fail_at(r, pos, "record kind 0 does not exist");
		return -EBADMSG;
	}
	n = end - p > 1 ? slf_get_uv(p + 1, end, len) : 0;
	if (!n) {
		if ((size_t)(end - p - 1) >= SLF_MAX_UV_LEN) {
			fail_at(r, pos + 1, "record length is not a valid varint");
			return -EBADMSG;
		}
		return 0;
	}
	if (*len > SLF_MAX_PAYLOAD) {
		fail_at(r, pos + 1, "record length %llu exceeds the maximum of %u bytes",
			(unsigned long long)*len, SLF_MAX_PAYLOAD);
		return -EBADMSG;
	}
	if (*len > (uint64_t)(end - p - 1 - (ptrdiff_t)n))
		return 0;
	*hdr = 1 + n;
	return 1;
}

/* tid -> stream, open addressing; only while the index is built. */
struct tid_map {
	uint64_t *tids;
	uint32_t *idx; /* NO_STREAM: empty slot */
	size_t cap;    /* a power of two */
};

static uint32_t *tid_slot(struct tid_map *m, uint64_t tid)
{
	size_t i = (size_t)((tid * 0x9e3779b97f4a7c15ull) >> 32) & (m->cap - 1);

	while (m->idx[i] != NO_STREAM && m->tids[i] != tid)
		i = (i + 1) & (m->cap - 1);
	m->tids[i] = tid;
	return &m->idx[i];
}

static void tid_map_grow(struct tid_map *m)
{
	struct tid_map old = *m;

	m->cap = old.cap ? old.cap * 2 : 64;
	m->tids = sla_xmalloc(m->cap * sizeof(*m->tids));
	m->idx = sla_xmalloc(m->cap * sizeof(*m->idx));
	memset(m->idx, 0xff, m->cap * sizeof(*m->idx));
	for (size_t i = 0; i < old.cap; i++)
		if (old.idx[i] != NO_STREAM)
			*tid_slot(m, old.tids[i]) = old.idx[i];
	free(old.tids);
	free(old.idx);
}

/* Appends chunk `off` of thread `tid` to the index. */
static int index_chunk(struct sla_reader *r, struct tid_map *m, uint64_t off, uint64_t tid)
{
	struct sla_stream *s;
	uint32_t *slot, c;

	if (r->nchunks >= NO_CHUNK - 1) {
		fail_at(r, off, "more than 2^32-2 CHUNK records");
		return -EBADMSG;
	}
	if ((r->nstreams + 1) * 2 > m->cap)
		tid_map_grow(m);
	slot = tid_slot(m, tid);
	c = (uint32_t)r->nchunks;
	sla_xgrow(&r->chunks, &r->chunks_cap, r->nchunks + 1, sizeof(*r->chunks));
	r->chunks[r->nchunks++] = (struct sla_chunk){ .off = off, .next = NO_CHUNK };
	if (*slot == NO_STREAM) {
		sla_xgrow(&r->streams, &r->streams_cap, r->nstreams + 1, sizeof(*r->streams));
		*slot = (uint32_t)r->nstreams;
		r->streams[r->nstreams++] = (struct sla_stream){ .tid = tid, .first = c, .last = c };
		return 0;
	}
	s = &r->streams[*slot];
	r->chunks[s->last].next = c;
	s->last = c;
	return 0;
}

/*
 * 2.1: a chunk that starts with a SYNC record says below which seq every
 * thread's records are in the log by the end of that chunk (format.h). The
 * largest such seq is where a log without END is cut: past it, a killed
 * process's threads left their streams at different points. c is at the
 * chunk's first inner record; a malformed one is left for the merge to
 * report.
 */
static void note_sync(struct sla_reader *r, struct cursor c)
{
	uint64_t len, w;

	if (r->major >= 3) { /* kind, seq_delta */
		if (c.p >= c.end || *c.p != SLF_REC_SYNC)
			return;
		c.p++;
		(void)get_uv(&c, "seq_delta");
	} else { /* seq_delta, kind */
		(void)get_uv(&c, "seq_delta");
		if (c.bad || c.p >= c.end || *c.p != SLF_REC_SYNC)
			return;
		c.p++;
	}
	len = get_uv(&c, "length");
	if (c.bad || len > (uint64_t)(c.end - c.p))
		return;
	c.end = c.p + len;
	w = get_uv(&c, "complete_below");
	if (!c.bad && w > r->sync_below)
		r->sync_below = w;
}

/*
 * The first pass over a 2.x log: PROCESS first, then only CHUNKs, END last
 * with nothing after it. Builds the chunk index and the threads' streams;
 * reads no inner record. A record cut by the end of the file (or a zero
 * tail) ends the top level: r->top_trunc.
 */
static int index_v2(struct sla_reader *r)
{
	struct tid_map m = { 0 };
	uint64_t pos = sizeof(struct slf_file_header);
	int ret = 0;

	r->end_off = UINT64_MAX;
	r->top_trunc = UINT64_MAX;
	/* a few bytes every 64 KiB: no read-ahead, no mapping of the pages around */
	if (r->map)
		madvise(r->map, r->map_len, MADV_RANDOM);
	while (ret == 0) {
		uint64_t len = 0, tid = 0, seq = 0;
		size_t hdr = 0;
		unsigned kind;
		int fr;
		struct cursor c = { 0 };

		if (pos >= r->size) {
			if (r->end_off == UINT64_MAX)
				r->top_trunc = r->size;
			break;
		}
		if (r->end_off != UINT64_MAX) {
			fail_at(r, pos, "data after the END record");
			ret = -EBADMSG;
			break;
		}
		if (pos - r->released >= RELEASE_CHUNK)
			release_to(r, pos);
		fr = top_frame(r, pos, &len, &hdr);
		if (fr <= 0) {
			if (fr == 0)
				r->top_trunc = pos;
			ret = fr;
			break;
		}
		kind = r->base[pos];
		if (pos == sizeof(struct slf_file_header) && kind != SLF_REC_PROCESS) {
			fail_at(r, pos, "first record is %s, not PROCESS",
				slf_kind_name(kind) ? slf_kind_name(kind) : "an unknown kind");
			ret = -EBADMSG;
			break;
		}
		switch (kind) {
		case SLF_REC_PROCESS:
			if (pos != sizeof(struct slf_file_header)) {
				fail_at(r, pos, "a second PROCESS record (a 2.x log holds PROCESS, "
						"CHUNK records, END)");
				ret = -EBADMSG;
			}
			break;
		case SLF_REC_CHUNK:
			c.p = r->base + pos + hdr;
			c.end = c.p + len;
			tid = get_uv(&c, "tid");
			seq = get_uv(&c, "seq");
			(void)seq; /* checked against the thread's stream when the chunk is opened */
			if (c.bad) {
				fail_at(r, (uint64_t)(c.bad_at - r->base),
					"CHUNK record: field %s does not fit its %llu-byte payload or "
					"is malformed", c.bad, (unsigned long long)len);
				ret = -EBADMSG;
				break;
			}
			note_sync(r, c);
			ret = index_chunk(r, &m, pos, tid);
			break;
		case SLF_REC_END:
			r->end_off = pos;
			break;
		default:
			if (!slf_kind_known(kind)) {
				r->unknown_skipped++; /* a newer minor's kind (format.h, "Versioning") */
				break;
			}
			fail_at(r, pos, "%s record at the top level of a 2.x log (only PROCESS, "
					"CHUNK and END; the rest lives in CHUNKs)", slf_kind_name(kind));
			ret = -EBADMSG;
			break;
		}
		pos += hdr + len;
	}
	free(m.tids);
	free(m.idx);
	if (r->end_off == UINT64_MAX && r->sync_below)
		r->cut_seq = r->sync_below;
	release_to(r, r->size); /* the tail this walk faulted in, too */
	r->released = 0;	/* the merge reads the file again from the start */
	if (r->map)
		madvise(r->map, r->map_len, MADV_SEQUENTIAL);
	return ret;
}

/*
 * Moves stream `s` to its next chunk: decoding state afresh (format.h), and
 * seq may not go back along a thread's chunks. The chunk's header was
 * checked by index_v2().
 */
static int open_chunk(struct sla_reader *r, struct sla_stream *s)
{
	const struct sla_chunk *ch = &r->chunks[s->first];
	const uint8_t *p = r->base + ch->off, *fend = r->base + r->size;
	uint64_t len = 0, tid = 0, base_seq = 0;
	size_t n = slf_get_uv(p + 1, fend, &len);
	const uint8_t *q = p + 1 + n, *seq_at;

	s->end = (uint64_t)(q - r->base) + len;
	q += slf_get_uv(q, fend, &tid);
	seq_at = q;
	q += slf_get_uv(q, fend, &base_seq);
	if (base_seq < s->seq) {
		fail_at(r, (uint64_t)(seq_at - r->base),
			"CHUNK record: seq %llu of thread %llu goes back from %llu, reached by its "
			"previous chunk", (unsigned long long)base_seq, (unsigned long long)tid,
			(unsigned long long)s->seq);
		return -EBADMSG;
	}
	s->seq = base_seq;
	s->pos = (uint64_t)(q - r->base);
	s->prev_addr = 0;
	s->dense = (struct slf_dense_state){ 0 };
	s->first = ch->next;
	return 0;
}

/*
 * Finds stream s's next record: its seq (s->seq) and where its kind byte is
 * (s->rec), opening the thread's next chunks as needed. Returns 1, 0 when
 * the thread has no record left, or -EBADMSG.
 */
static __attribute__((noinline)) int peek_slow(struct sla_reader *r, struct sla_stream *s)
{
	uint64_t delta = 0;
	size_t n;

	while (s->pos >= s->end) {
		if (s->first == NO_CHUNK)
			return 0;
		if (open_chunk(r, s) < 0)
			return -EBADMSG;
	}
	n = slf_get_uv(r->base + s->pos, r->base + s->end, &delta);
	if (!n) {
		fail_at(r, s->pos, "inner record: seq_delta is not a valid varint or crosses the "
				   "end of its CHUNK");
		return -EBADMSG;
	}
	if (s->seq + delta < s->seq) {
		fail_at(r, s->pos, "inner record: seq overflows 64 bits");
		return -EBADMSG;
	}
	if (s->pos + n >= s->end) {
		fail_at(r, s->pos + n, "inner record crosses the end of its CHUNK (a seq_delta "
				       "and no record)");
		return -EBADMSG;
	}
	s->seq += delta;
	s->rec = s->pos + n;
	return 1;
}

/*
 * 3.x: the record's first byte is its kind, then its seq_delta; or the
 * head of a dense form, with the seq_delta in its low bits or after it.
 */
static __attribute__((noinline)) int peek3_slow(struct sla_reader *r, struct sla_stream *s)
{
	const uint8_t *p, *end;
	uint64_t delta = 0;
	unsigned head;
	size_t n = 0;

	while (s->pos >= s->end) {
		if (s->first == NO_CHUNK)
			return 0;
		if (open_chunk(r, s) < 0)
			return -EBADMSG;
	}
	p = r->base + s->pos;
	end = r->base + s->end;
	head = p[0];
	if (head < SLF_DENSE_MIN || (head & 3) == 3) {
		n = slf_get_uv(p + 1, end, &delta);
		if (!n) {
			fail_at(r, s->pos + 1, "inner record: seq_delta is not a valid varint or "
					       "crosses the end of its CHUNK");
			return -EBADMSG;
		}
	} else {
		delta = (head & 3) + 1;
	}
	if (s->seq + delta < s->seq) {
		fail_at(r, s->pos, "inner record: seq overflows 64 bits");
		return -EBADMSG;
	}
	if (head < SLF_DENSE_MIN && s->pos + 1 + n >= s->end) {
		fail_at(r, s->pos + 1 + n, "inner record crosses the end of its CHUNK (a kind and "
					   "seq_delta, no length)");
		return -EBADMSG;
	}
	s->seq += delta;
	s->rec = s->pos;
	s->head = head;
	s->body = s->pos + 1 + n;
	return 1;
}

/* peek_slow() after the common case: a 1-byte seq_delta, its record's kind byte in the chunk. */
static inline int peek(struct sla_reader *r, struct sla_stream *s)
{
	if (r->major >= 3) {
		/* the common case: a dense form with its seq_delta in its head */
		if (__builtin_expect(s->pos < s->end, 1)) {
			unsigned head = r->base[s->pos];

			if (head >= SLF_DENSE_MIN && (head & 3) != 3 &&
			    __builtin_expect(s->seq + (head & 3) + 1 > s->seq, 1)) {
				s->seq += (head & 3) + 1;
				s->rec = s->pos;
				s->head = head;
				s->body = s->pos + 1;
				return 1;
			}
		}
		return peek3_slow(r, s);
	}
	if (__builtin_expect(s->pos + 1 < s->end && r->base[s->pos] < 0x80, 1)) {
		uint64_t delta = r->base[s->pos];

		if (__builtin_expect(s->seq + delta >= s->seq, 1)) {
			s->seq += delta;
			s->rec = s->pos + 1;
			return 1;
		}
	}
	return peek_slow(r, s);
}

/* Merge order: by seq; equal seqs of two threads (not in a correct log) by file offset. */
static inline bool stream_before(const struct sla_stream *a, const struct sla_stream *b)
{
	return a->seq < b->seq || (a->seq == b->seq && a->rec < b->rec);
}

static void sift_down(struct sla_reader *r, size_t i)
{
	uint32_t x = r->heap[i];

	for (;;) {
		size_t k = 2 * i + 1;

		if (k >= r->nheap)
			break;
		if (k + 1 < r->nheap &&
		    stream_before(&r->streams[r->heap[k + 1]], &r->streams[r->heap[k]]))
			k++;
		if (!stream_before(&r->streams[r->heap[k]], &r->streams[x]))
			break;
		r->heap[i] = r->heap[k];
		i = k;
	}
	r->heap[i] = x;
}

static uint32_t heap_pop(struct sla_reader *r)
{
	uint32_t top = r->heap[0];

	r->heap[0] = r->heap[--r->nheap];
	if (r->nheap)
		sift_down(r, 0);
	return top;
}

/* Every thread's first record, in the heap; the earliest becomes current. */
static int start_merge(struct sla_reader *r)
{
	r->heap = sla_xmalloc((r->nstreams ? r->nstreams : 1) * sizeof(*r->heap));
	r->nheap = 0;
	for (size_t i = 0; i < r->nstreams; i++) {
		int ret = peek(r, &r->streams[i]);

		if (ret < 0)
			return ret;
		if (ret > 0)
			r->heap[r->nheap++] = (uint32_t)i;
	}
	for (size_t i = r->nheap / 2; i-- > 0;)
		sift_down(r, i);
	r->cur = r->nheap ? heap_pop(r) : NO_STREAM;
	r->release_countdown = RELEASE_EVERY;
	return 0;
}

/* Gives back the pages before the lowest position any thread still reads. */
static void release_merged(struct sla_reader *r)
{
	uint64_t lo = r->cur != NO_STREAM ? r->streams[r->cur].pos : r->size;

	for (size_t i = 0; i < r->nheap; i++)
		if (r->streams[r->heap[i]].pos < lo)
			lo = r->streams[r->heap[i]].pos;
	if (lo - r->released >= RELEASE_CHUNK)
		release_to(r, lo);
}

/*
 * decode_payload() is inlined into each per-record path (1.x, 2.x inner), so
 * each knows where its prev_addr lives; the two top-level records of a 2.x
 * log go through this one out-of-line copy.
 */
static __attribute__((noinline)) int decode_payload_top(struct sla_reader *r, struct cursor *c,
							struct sla_record *o, uint64_t *pa)
{
	return decode_payload(r, c, o, pa);
}

/* A record of the top level (PROCESS, END): decoded like a 1.x record. */
static int decode_top(struct sla_reader *r, uint64_t pos, struct sla_record *out)
{
	uint64_t len = 0, pa = 0;
	size_t n = slf_get_uv(r->base + pos + 1, r->base + r->size, &len); /* checked by index_v2 */
	struct cursor c = { .p = r->base + pos + 1 + n };

	c.end = c.p + len;
	out->offset = pos;
	out->index = r->records;
	out->kind = r->base[pos];
	out->payload_len = (uint32_t)len;
	out->tid = 0;
	out->time_ns = r->time_ns;
	out->seq = r->last_seq;
	if (decode_payload_top(r, &c, out, &pa) < 0)
		return -EBADMSG;
	r->records++;
	return 1;
}

/*
 * A dense form's fields (records.def, SLF_DENSE_FIELDS_<name>), into the
 * record of its kind: the same checks as its ordinary form's payload.
 */
#define SLA_HEAD_BIT(bit) ((head >> (bit)) & 1u)
#define SLA_DGET_dflt8(kind, f, bit, arg) o->kind.f = SLA_HEAD_BIT(bit) ? get_u8(c, #f) : (arg);
#define SLA_DGET_dflt(kind, f, bit, arg)  o->kind.f = SLA_HEAD_BIT(bit) ? get_uv(c, #f) : (arg);
#define SLA_DGET_pick(kind, f, bit, arg)  o->kind.f = (arg) + SLA_HEAD_BIT(bit);
#define SLA_DGET_flag(kind, f, bit, arg)  o->kind.f = SLA_HEAD_BIT(bit);
#define SLA_DGET_block(kind, f, bit, arg) \
	o->kind.f = st->prev_block += (uint64_t)slf_unzigzag(get_uv(c, #f)) << 4;
#define SLA_DGET_newblock(kind, f, bit, arg) \
	SLA_DGET_block(kind, f, bit, arg)    \
	slf_dense_push(st, o->kind.f);
#define SLA_DGET_recent(kind, f, bit, arg)                                              \
	{                                                                               \
		unsigned r_ = (head >> (bit)) & 7u;                                     \
                                                                                        \
		if (!r_) {                                                              \
			SLA_DGET_block(kind, f, bit, arg)                               \
		} else if ((o->kind.f = slf_dense_recent(st, r_)) != 0) {               \
			st->prev_block = o->kind.f;                                     \
		} else if (!what) {                                                     \
			what = #kind " record (dense): names a recent block that does not exist"; \
		}                                                                       \
	}
#define SLA_DGET_size(kind, f, bit, arg) \
	o->kind.f = st->prev_size += (uint64_t)slf_unzigzag(get_uv(c, #f));
#define SLA_DGET_stack(kind, f, bit, arg)            \
	if (SLA_HEAD_BIT(bit))                       \
		st->prev_stack = get_uv(c, #f);      \
	o->kind.f = st->prev_stack;
#define SLA_DGET_FIELD(kind, f, coding, bit, arg) SLA_DGET_##coding(kind, f, bit, arg)
#define SLA_DENSE_KIND(NAME, name, base)                                                \
	case (base):                                                                    \
		o->kind = SLF_REC_##NAME;                                               \
		if (head & 0x3cu & ~(unsigned)SLF_DENSE_BITS_##NAME) {                  \
			fail_at(r, o->offset, #NAME " record (dense): a head bit no field " \
					      "uses is set");                           \
			return -EBADMSG;                                                \
		}                                                                       \
		SLF_DENSE_FIELDS_##name(SLA_DGET_FIELD)                                 \
		SLF_FIELDS_##name(SLA_CHECK_FIELD) break;

static __attribute__((noinline)) int decode_dense(struct sla_reader *r, struct sla_stream *s,
						  struct sla_record *out)
{
	struct slf_dense_state *st = &s->dense;
	struct cursor cur = { .p = r->base + s->body, .end = r->base + s->end }, *c = &cur;
	struct sla_record *o = out;
	const char *what = NULL;
	unsigned head = s->head;

	o->offset = s->rec;
	o->index = r->records;
	o->seq = s->seq;
	switch (head & 0xc0u) {
		SLF_DENSE(SLA_DENSE_KIND)
	default:
		sla_assert(0); /* peek() hands out heads from SLF_DENSE_MIN on */
	}
	if (!what)
		what = scan_order(r, o->kind);
	o->payload_len = (uint32_t)(c->p - (r->base + s->body));
	if (payload_verdict(r, c, o, what) < 0)
		return -EBADMSG;
	o->tid = s->tid;
	o->time_ns = r->time_ns;
	s->pos = (uint64_t)(c->p - r->base);
	r->last_seq = s->seq;
	r->records++;
	return 1;
}

/* The next record of thread stream s (peek() found it), decoded in its chunk. */
static int decode_inner(struct sla_reader *r, struct sla_stream *s, struct sla_record *out)
{
	/* the length: 2.x right after the kind; 3.x after kind and seq_delta */
	const uint8_t *p = r->base + (r->major >= 3 ? s->body - 1 : s->rec), *end = r->base + s->end;
	uint64_t len = 0;
	unsigned kind = r->base[s->rec];
	size_t n;
	struct cursor c;

	if (r->major >= 3 && kind >= SLF_DENSE_MIN)
		return decode_dense(r, s, out);
	if (__builtin_expect(kind == 0, 0)) {
		fail_at(r, s->rec, "record kind 0 does not exist");
		return -EBADMSG;
	}
	n = end - p > 1 ? slf_get_uv(p + 1, end, &len) : 0;
	if (__builtin_expect(!n, 0)) {
		fail_at(r, (uint64_t)(p + 1 - r->base), "record length is not a valid varint or "
							"crosses the end of its CHUNK");
		return -EBADMSG;
	}
	if (__builtin_expect(len > (uint64_t)(end - p - 1 - (ptrdiff_t)n), 0)) {
		fail_at(r, s->rec, "%s record crosses the end of its CHUNK",
			slf_kind_name(kind) ? slf_kind_name(kind) : "a");
		return -EBADMSG;
	}
	if (__builtin_expect(kind < 64 && ((SLF_KINDS_KNOWN & ~SLF_KINDS_CHUNK) >> kind & 1), 0)) {
		fail_at(r, s->rec, "%s record inside a CHUNK", slf_kind_name(kind));
		return -EBADMSG;
	}
	out->offset = s->rec;
	out->index = r->records;
	out->kind = kind;
	out->payload_len = (uint32_t)len;
	out->seq = s->seq;
	c.p = p + 1 + n;
	c.end = c.p + len;
	c.bad = NULL;
	c.bad_at = NULL;
	c.undef = NULL;
	if (decode_payload(r, &c, out, &s->prev_addr) < 0)
		return -EBADMSG;
	if (kind == SLF_REC_TIME) {
		/* each thread's clock never goes back; across threads, the latest wins */
		out->time_backwards = out->time.ns < s->time_max;
		if (out->time.ns > s->time_max)
			s->time_max = out->time.ns;
		if (out->time.ns > r->time_ns)
			r->time_ns = out->time.ns;
	}
	out->tid = s->tid;
	out->time_ns = r->time_ns;
	s->pos = (uint64_t)(c.end - r->base);
	r->last_seq = s->seq;
	r->records++;
	return 1;
}

/*
 * The merge reached the cut (r->cut_seq): the records left in every
 * stream are counted, not decoded (r->cut_records). Counting stops at a
 * stream's first malformed frame: past the cut nothing is analysed, so
 * nothing there is reported either.
 */
static void count_cut(struct sla_reader *r)
{
	uint64_t n = 0;

	if (r->cur != NO_STREAM)
		r->heap[r->nheap++] = r->cur;
	for (size_t i = 0; i < r->nheap; i++) {
		struct sla_stream *s = &r->streams[r->heap[i]];

		for (;;) {
			const uint8_t *p = r->base + (r->major >= 3 ? s->body - 1 : s->rec);
			const uint8_t *end = r->base + s->end;
			uint64_t len = 0;
			size_t k;

			n++;
			if (r->major >= 3 && s->head >= SLF_DENSE_MIN) {
				const uint8_t *e = slf_dense_end(s->head, r->base + s->body, end);

				if (!e)
					break;
				s->pos = (uint64_t)(e - r->base);
			} else {
				k = end - p > 1 ? slf_get_uv(p + 1, end, &len) : 0;
				if (!k || len > (uint64_t)(end - p - 1 - (ptrdiff_t)k))
					break;
				s->pos = (uint64_t)(p + 1 - r->base) + k + len;
			}
			if (peek(r, s) <= 0)
				break;
		}
	}
	r->err_msg[0] = '\0'; /* what peek() found past the cut */
	r->nheap = 0;
	r->cur = NO_STREAM;
	r->cut_records = n;
}

/*
 * 2.x: PROCESS, the merged records of every thread, END. A problem found
 * while looking ahead (the next record's seq) is reported by the next call,
 * after the record in hand.
 */
static __attribute__((noinline)) int next_v2(struct sla_reader *r, struct sla_record *out)
{
	struct sla_stream *s;
	int ret;

	if (__builtin_expect(r->phase == V2_MERGE && r->cur != NO_STREAM, 1))
		goto merge; /* the per-record path, first */
	switch (r->phase) {
	case V2_INDEX:
		if (index_v2(r) < 0)
			return -EBADMSG;
		if (r->top_trunc == sizeof(struct slf_file_header)) {
			r->phase = V2_END; /* not even a complete PROCESS */
			return next_v2(r, out);
		}
		r->phase = V2_PROCESS;
		/* fall through */
	case V2_PROCESS:
		ret = decode_top(r, sizeof(struct slf_file_header), out);
		if (ret > 0)
			r->phase = V2_START;
		return ret;
	case V2_START:
		if (start_merge(r) < 0)
			return -EBADMSG;
		r->phase = V2_MERGE;
		/* fall through */
	case V2_MERGE:
		if (r->cur == NO_STREAM) {
			r->phase = V2_END;
			return next_v2(r, out);
		}
merge:
		s = &r->streams[r->cur];
		if (__builtin_expect(s->seq >= r->cut_seq, 0)) {
			count_cut(r);
			r->phase = V2_END;
			return next_v2(r, out);
		}
		if (decode_inner(r, s, out) < 0)
			return -EBADMSG;
		ret = peek(r, s);
		if (ret < 0)
			return 1; /* the error stays in r: the next call returns it */
		if (ret == 0) {
			r->cur = r->nheap ? heap_pop(r) : NO_STREAM;
		} else if (r->nheap && stream_before(&r->streams[r->heap[0]], s)) {
			uint32_t next = r->heap[0];

			r->heap[0] = r->cur;
			sift_down(r, 0);
			r->cur = next;
		}
		/* a pointer scan's records hold kilobytes each: they count for 64 */
		if (out->kind == SLF_REC_SCAN_PTRS && r->release_countdown > 64)
			r->release_countdown -= 63;
		if (__builtin_expect(--r->release_countdown == 0, 0)) {
			r->release_countdown = RELEASE_EVERY;
			release_merged(r);
		}
		return 1;
	case V2_END:
		r->phase = V2_DONE;
		if (r->end_off == UINT64_MAX) {
			r->truncated = true;
			r->trunc_offset = r->top_trunc;
			return 0;
		}
		ret = decode_top(r, r->end_off, out);
		if (ret > 0)
			r->ended = true;
		return ret;
	case V2_DONE:
	default:
		return 0;
	}
}

/*
 * One record: kind byte, length varint, then the payload, each checked
 * against the end of the file before it is read. Running out of file in
 * any of them is truncation, never an error: a killed writer stops
 * anywhere. Context: single-threaded per reader; see reader.h for returns.
 */
static __attribute__((noinline)) int next_v1(struct sla_reader *r, struct sla_record *out)
{
	const uint8_t *p, *end;
	uint64_t len = 0;
	size_t n;
	struct cursor c;

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
		if (zero_tail(r, r->pos)) {
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
	if (__builtin_expect(out->kind < 64 && ((SLF_KINDS_KNOWN & ~SLF_KINDS_V1) >> out->kind & 1),
			     0)) {
		fail_at(r, r->pos, "%s record in a version %u.%u log (%ss are 2.x only)",
			slf_kind_name(out->kind), r->major, r->minor, slf_kind_name(out->kind));
		return -EBADMSG;
	}
	if (decode_payload(r, &c, out, &r->prev_addr) < 0)
		return -EBADMSG;
	out->seq = out->index;
	if (out->kind == SLF_REC_THREAD) {
		r->tid = out->thread.tid;
	} else if (out->kind == SLF_REC_TIME) {
		r->time_ns = out->time.ns;
		out->time_backwards = out->time.ns < r->time_max;
		if (!out->time_backwards)
			r->time_max = out->time.ns;
	}
	else if (out->kind == SLF_REC_END)
		r->ended = true;
	out->tid = r->tid;
	out->time_ns = r->time_ns;
	r->pos = (uint64_t)(c.end - r->base);
	r->records++;
	return 1;
}

/* One entry, two layouts: each path is its own function (their registers and frames differ). */
int sla_reader_next(struct sla_reader *r, struct sla_record *out)
{
	if (__builtin_expect(r->err_msg[0] != '\0', 0))
		return -EBADMSG;
	return r->major >= 2 ? next_v2(r, out) : next_v1(r, out);
}
