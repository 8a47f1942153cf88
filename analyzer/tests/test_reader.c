/*
 * analyzer/tests/test_reader.c - the reader on synthetic logs: decoding,
 * decoding context, truncation at every byte, and each class of corruption.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reader.h"
#include "check.h"
#include "logbuf.h"

/* A small log using every kind of record. */
static void build_log(struct logbuf *b)
{
	uint64_t s1, s2;

	lb_init(b);
	lb_process(b, 42, 1, "/bin/app");
	lb_modules_reset(b);
	lb_module(b, 0x555500000000, "/bin/app", 0x1000, 0x2000);
	s1 = lb_stack(b, 0, 0x555500001234);
	s2 = lb_stack(b, s1, 0x555500001500);
	lb_thread(b, 43);
	lb_time(b, 1000);
	lb_alloc(b, 0x7f0000001000, 100, s2);
	lb_realloc(b, 0x7f0000001000, 0x7f0000009000, 200, s1);
	lb_slice_new(b, 0x7f0000009000, 0x7f0000009010, 5, 190, s2);
	lb_slice_drop(b, 0x7f0000009000, 0x7f0000009010, 5);
	lb_view_acquire(b, 0xdead, 0x7f0000009020, 7, s1);
	lb_view_release(b, 0xdead, s1);
	lb_time(b, 2000);
	lb_snapshot(b, "after", s2);
	lb_free_rec(b, 0x7f0000009000);
	lb_end(b, 0);
}

static int read_all(struct sla_reader *r, struct sla_record *recs, int max)
{
	int n = 0, err;

	while (n < max && (err = sla_reader_next(r, &recs[n])) > 0)
		n++;
	return n;
}

static void test_decode(void)
{
	struct logbuf b;
	struct sla_reader r;
	struct sla_record rec[32];
	int n;

	build_log(&b);
	CHECK(sla_reader_init_mem(&r, b.data, b.len, "mem") == 0);
	CHECK_EQ_U(r.major, 1); /* build_log() writes the flat 1.x layout */
	n = read_all(&r, rec, 32);
	CHECK_EQ_U(n, 17);
	CHECK(r.ended);
	CHECK(!r.truncated);
	CHECK(sla_reader_next(&r, &rec[31]) == 0);
	CHECK_EQ_U(rec[0].kind, SLF_REC_PROCESS);
	CHECK_EQ_U(rec[0].offset, 16);
	CHECK_EQ_U(rec[0].process.pid, 42);
	CHECK(rec[0].process.exe.len == 8 && !memcmp(rec[0].process.exe.ptr, "/bin/app", 8));
	CHECK_EQ_U(rec[0].process.cmdline.len, 9);
	CHECK_EQ_U(rec[2].module.bias, 0x555500000000);
	CHECK_EQ_U(rec[2].module.nsegs, 1);
	CHECK_EQ_U(rec[2].module.segs[0].vaddr, 0x1000);
	CHECK_EQ_U(rec[2].module.segs[0].flags, 5);
	CHECK_EQ_U(rec[2].module.build_id.len, 2);
	CHECK_EQ_U(rec[3].stack.id, 1);
	CHECK_EQ_U(rec[4].stack.id, 2);
	CHECK_EQ_U(rec[4].stack.parent, 1);
	CHECK_EQ_U(rec[4].stack.ip, 0x555500001500);
	CHECK_EQ_U(rec[7].alloc.addr, 0x7f0000001000);
	CHECK_EQ_U(rec[7].alloc.size, 100);
	CHECK_EQ_U(rec[7].tid, 43);
	CHECK_EQ_U(rec[7].time_ns, 1000);
	CHECK_EQ_U(rec[8].realloc.old_addr, 0x7f0000001000);
	CHECK_EQ_U(rec[8].realloc.new_addr, 0x7f0000009000);
	CHECK_EQ_U(rec[9].slice_new.ptr, 0x7f0000009010);
	CHECK_EQ_U(rec[9].slice_new.cap, 190);
	CHECK_EQ_U(rec[10].slice_drop.block, 0x7f0000009000);
	CHECK_EQ_U(rec[11].view_acquire.owner, 0xdead);
	CHECK_EQ_U(rec[11].view_acquire.ptr, 0x7f0000009020);
	CHECK_EQ_U(rec[12].view_release.owner, 0xdead);
	CHECK(rec[14].snapshot.label.len == 5 && !memcmp(rec[14].snapshot.label.ptr, "after", 5));
	CHECK_EQ_U(rec[14].time_ns, 2000);
	CHECK_EQ_U(rec[15].free.addr, 0x7f0000009000);
	CHECK_EQ_U(rec[16].end.records, 16);
	sla_reader_close(&r);
	lb_free(&b);
}

/* A log cut at any byte after the header reads up to its last complete record. */
static void test_truncation_everywhere(void)
{
	struct logbuf b;
	struct sla_record rec;
	int bad = 0;

	build_log(&b);
	for (size_t cut = sizeof(struct slf_file_header); cut < b.len; cut++) {
		struct sla_reader r;
		int err;
		uint64_t last_end = sizeof(struct slf_file_header);

		if (sla_reader_init_mem(&r, b.data, cut, "cut") != 0) {
			bad++;
			continue;
		}
		while ((err = sla_reader_next(&r, &rec)) > 0)
			last_end = r.pos;
		if (err != 0 || !r.truncated || r.ended || r.trunc_offset != last_end)
			bad++;
		sla_reader_close(&r);
	}
	CHECK_EQ_U(bad, 0);
	lb_free(&b);
}

/* Reads a whole buffer; returns the final result (0 or -errno) and the closed reader in *r. */
static int run(struct logbuf *b, struct sla_reader *r)
{
	struct sla_record rec;
	int err = sla_reader_init_mem(r, b->data, b->len, "t");

	if (err)
		return err;
	while ((err = sla_reader_next(r, &rec)) > 0)
		;
	sla_reader_close(r); /* frees the scratch only: the outcome fields stay readable */
	return err;
}

static void test_header(void)
{
	struct logbuf b;
	struct sla_reader r;
	static const uint8_t text[] = "hello world, not a log at all";

	CHECK(sla_reader_init_mem(&r, text, 0, "e") == -EBADMSG);
	CHECK(strstr(r.err_msg, "empty") != NULL);
	CHECK(sla_reader_init_mem(&r, text, sizeof(text), "t") == -EBADMSG);
	CHECK(strstr(r.err_msg, "magic") != NULL);

	lb_init_version(&b, SLF_VERSION_MAJOR + 1, 3);
	lb_process(&b, 1, 0, "x");
	CHECK(sla_reader_init_mem(&r, b.data, b.len, "n") == -EPROTONOSUPPORT);
	{
		char ours[32], theirs[32];

		snprintf(ours, sizeof(ours), "(%d.%d)", SLF_VERSION_MAJOR, SLF_VERSION_MINOR);
		snprintf(theirs, sizeof(theirs), "%d.3", SLF_VERSION_MAJOR + 1);
		CHECK(strstr(r.err_msg, theirs) != NULL && strstr(r.err_msg, ours) != NULL);
	}
	lb_free(&b);

	/* A newer minor version reads; its unknown kinds and trailing fields are skipped. */
	lb_init_version(&b, 1, 2); /* a 1.x minor after 1.1 */
	lb_process(&b, 1, 0, "x");
	p_uv(&b, 7);
	p_uv(&b, 8);
	lb_emit(&b, 200);
	p_uv(&b, 99);
	p_uv(&b, 12345); /* a field appended by a later minor version */
	lb_emit(&b, SLF_REC_THREAD);
	lb_end(&b, 0);
	CHECK(run(&b, &r) == 0);
	CHECK(r.ended);
	CHECK_EQ_U(r.records, 4);
	CHECK_EQ_U(r.tid, 99);
	lb_free(&b);

	/* a zero-filled tail (unwritten blocks after a crash) is a truncation */
	build_log(&b);
	b.len -= 4; /* drop END: kind, length, two 1-byte varints */
	{
		size_t good = b.len;
		static const uint8_t zeros[100];

		lb_raw(&b, zeros, sizeof(zeros));
		CHECK(run(&b, &r) == 0);
		CHECK(r.truncated && !r.ended);
		CHECK_EQ_U(r.trunc_offset, good);
		CHECK_EQ_U(r.records, 16);
		/* but a zero kind byte followed by anything else is corrupt */
		b.data[b.len - 1] = 1;
		CHECK(run(&b, &r) == -EBADMSG);
		CHECK_EQ_U(r.err_offset, good);
	}
	lb_free(&b);

	/* cut inside the header: not analysable */
	build_log(&b);
	CHECK(sla_reader_init_mem(&r, b.data, 10, "h") == -EBADMSG);
	lb_free(&b);
}

/* Each corruption gives -EBADMSG with the offset of the bad record or field. */
static void test_corrupt(void)
{
	struct logbuf b;
	struct sla_reader r;
	size_t at;

	/* a stack id that was never defined */
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	at = b.len;
	lb_alloc(&b, 0x1000, 10, 5);
	CHECK(run(&b, &r) == -EBADMSG);
	CHECK_EQ_U(r.err_offset, at);
	CHECK(strstr(r.err_msg, "stack") != NULL);
	lb_free(&b);

	/* a payload shorter than its fields */
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	at = b.len;
	p_u8(&b, 0);
	p_addr(&b, 0x1000);
	lb_emit(&b, SLF_REC_ALLOC);
	lb_end(&b, 0);
	CHECK(run(&b, &r) == -EBADMSG);
	CHECK(r.err_offset > at && r.err_offset < at + 6);
	CHECK(strstr(r.err_msg, "size") != NULL);
	lb_free(&b);

	/* a length beyond the maximum */
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	at = b.len;
	{
		uint8_t rec[16] = { SLF_REC_TIME };
		size_t n = 1 + slf_put_uv(rec + 1, SLF_MAX_PAYLOAD + 1);

		lb_raw(&b, rec, n);
		lb_raw(&b, rec, 16);
	}
	CHECK(run(&b, &r) == -EBADMSG);
	CHECK_EQ_U(r.err_offset, at + 1);
	lb_free(&b);

	/* the first record must be PROCESS */
	lb_init(&b);
	lb_thread(&b, 1);
	CHECK(run(&b, &r) == -EBADMSG);
	CHECK_EQ_U(r.err_offset, 16);
	lb_free(&b);

	/* END must count the records before it, and nothing may follow it */
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	b.records = 7;
	lb_end(&b, 0);
	CHECK(run(&b, &r) == -EBADMSG);
	lb_free(&b);
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	lb_end(&b, 0);
	at = b.len;
	lb_thread(&b, 1);
	CHECK(run(&b, &r) == -EBADMSG);
	CHECK_EQ_U(r.err_offset, at);
	lb_free(&b);

	/* an unknown allocation function */
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	p_u8(&b, 99);
	p_addr(&b, 0x1000);
	p_uv(&b, 1);
	p_uv(&b, 0);
	p_uv(&b, 0);
	lb_emit(&b, SLF_REC_ALLOC);
	CHECK(run(&b, &r) == -EBADMSG);
	lb_free(&b);

	/* a string longer than its payload */
	lb_init(&b);
	p_uv(&b, 1);
	p_uv(&b, 0);
	p_uv(&b, 0);
	p_uv(&b, 0);
	p_uv(&b, 200); /* exe: 200 bytes announced, none there */
	lb_emit(&b, SLF_REC_PROCESS);
	CHECK(run(&b, &r) == -EBADMSG);
	CHECK(strstr(r.err_msg, "exe") != NULL);
	lb_free(&b);

	/* a MODULE announcing more segments than its payload can hold */
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	p_uv(&b, 0);
	p_str(&b, "m", 1);
	p_str(&b, "", 0);
	p_uv(&b, 1000000);
	lb_emit(&b, SLF_REC_MODULE);
	CHECK(run(&b, &r) == -EBADMSG);
	CHECK(strstr(r.err_msg, "nsegs") != NULL);
	lb_free(&b);

	/* a 10-byte length varint that overflows */
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	{
		static const uint8_t rec[12] = { SLF_REC_TIME, 0xff, 0xff, 0xff, 0xff, 0xff,
						 0xff, 0xff, 0xff, 0xff, 0x7f, 0 };

		lb_raw(&b, rec, sizeof(rec));
	}
	CHECK(run(&b, &r) == -EBADMSG);
	lb_free(&b);
}

/* A scan over two regions, the pairs read back exactly through the iterator. */
static void test_scan_decode(void)
{
	static const uint64_t locs[] = { 0x601000, 0x601008, 0x601ff8 };
	static const uint64_t vals[] = { 0x10000, 0x10fff, 0x10000 };
	uint64_t many_l[300], many_v[300], loc, val;
	struct logbuf b;
	struct sla_reader r;
	struct sla_record rec;
	struct sla_scan_iter it;
	size_t n = 0, ptrs = 0, regions = 0;
	bool ok = true;

	for (size_t i = 0; i < 300; i++) {
		many_l[i] = 0x7f0000000000ull + 8 * (i * 3 + 1);
		many_v[i] = 0x20000 - 16 * i; /* decreasing: negative deltas */
	}
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	lb_alloc(&b, 0x10000, 0x10000, 0);
	lb_scan_begin(&b, 0x10000, 0x20000);
	lb_scan_region(&b, SLF_REGION_GLOBALS, 0x601000, 0x1000);
	lb_scan_ptrs(&b, 3, locs, vals);
	lb_scan_region(&b, SLF_REGION_ANON, 0x7f0000000000ull, 0x2000);
	lb_scan_ptrs(&b, 300, many_l, many_v); /* three records */
	lb_scan_region(&b, SLF_REGION_HEAP, 0x400000, 0); /* an empty region */
	lb_scan_end(&b, 1);
	lb_end(&b, 0);

	CHECK(sla_reader_init_mem(&r, b.data, b.len, "scan") == 0);
	while (sla_reader_next(&r, &rec) > 0) {
		switch (rec.kind) {
		case SLF_REC_SCAN_BEGIN:
			CHECK_EQ_U(rec.scan_begin.heap_lo, 0x10000);
			CHECK_EQ_U(rec.scan_begin.heap_hi, 0x20000);
			break;
		case SLF_REC_SCAN_REGION:
			regions++;
			if (regions == 1) {
				CHECK_EQ_U(rec.scan_region.kind, SLF_REGION_GLOBALS);
				CHECK_EQ_U(rec.scan_region.start, 0x601000);
				CHECK_EQ_U(rec.scan_region.size, 0x1000);
			}
			break;
		case SLF_REC_SCAN_PTRS:
			sla_scan_iter_init(&it, &rec);
			while (sla_scan_iter_next(&it, &loc, &val)) {
				if (n < 3)
					ok &= loc == locs[n] && val == vals[n];
				else
					ok &= loc == many_l[n - 3] && val == many_v[n - 3];
				n++;
			}
			ptrs++;
			break;
		case SLF_REC_SCAN_END:
			CHECK_EQ_U(rec.scan_end.bytes, 0x3000);
			CHECK_EQ_U(rec.scan_end.pointers, 303);
			CHECK_EQ_U(rec.scan_end.capped, 1);
			break;
		}
	}
	CHECK(r.ended && !r.truncated && !r.err_msg[0]);
	CHECK(ok);
	CHECK_EQ_U(n, 303);
	CHECK_EQ_U(ptrs, 4);
	CHECK_EQ_U(regions, 3);
	sla_reader_close(&r);
	lb_free(&b);

	/* a log cut inside a scan is truncated, not corrupt */
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	lb_scan_begin(&b, 0x10000, 0x20000);
	lb_scan_region(&b, SLF_REGION_STACK, 0x7ffe0000, 0x100);
	CHECK(run(&b, &r) == 0 && r.truncated);
	lb_free(&b);
}

/* Starts a log with an open scan over one GLOBALS region [0x601000, +0x100). */
static void scan_prologue(struct logbuf *b)
{
	lb_init(b);
	lb_process(b, 1, 0, "x");
	lb_scan_begin(b, 0x10000, 0x20000);
	lb_scan_region(b, SLF_REGION_GLOBALS, 0x601000, 0x100);
}

/* Expects the log to be refused at offset `at` with `what` in the message. */
static void expect_corrupt(struct logbuf *b, size_t at, const char *what)
{
	struct sla_reader r;

	CHECK(run(b, &r) == -EBADMSG);
	CHECK_EQ_U(r.err_offset, at);
	CHECK(strstr(r.err_msg, what) != NULL);
	if (!strstr(r.err_msg, what) || r.err_offset != at)
		fprintf(stderr, "  expected '%s', got: %s\n", what, r.err_msg);
	lb_free(b);
}

/* The scan's structure and every field of its records are checked. */
static void test_scan_corrupt(void)
{
	struct logbuf b;
	size_t at;

	/* a record of another kind inside a scan */
	scan_prologue(&b);
	at = b.len;
	lb_time(&b, 5);
	expect_corrupt(&b, at, "inside a scan");

	/* an unknown kind inside a scan is not skipped either */
	scan_prologue(&b);
	at = b.len;
	p_uv(&b, 1);
	lb_emit(&b, 200);
	expect_corrupt(&b, at, "inside a scan");

	/* END inside a scan */
	scan_prologue(&b);
	at = b.len;
	lb_end(&b, 0);
	expect_corrupt(&b, at, "inside a scan");

	/* SCAN_BEGIN inside a scan */
	scan_prologue(&b);
	at = b.len;
	lb_scan_begin(&b, 0x10000, 0x20000);
	expect_corrupt(&b, at, "SCAN_BEGIN inside");

	/* SCAN_REGION, SCAN_PTRS, SCAN_END outside a scan */
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	at = b.len;
	lb_scan_region(&b, SLF_REGION_GLOBALS, 0x601000, 0x100);
	expect_corrupt(&b, at, "outside a scan");
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	at = b.len;
	lb_scan_end(&b, 0);
	expect_corrupt(&b, at, "outside a scan");

	/* SCAN_PTRS before any region */
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	lb_scan_begin(&b, 0x10000, 0x20000);
	at = b.len;
	lb_scan_ptr(&b, 0x601000, 0x10000);
	expect_corrupt(&b, at, "before the scan's first SCAN_REGION");

	/* a location past the region's end, and locations out of order */
	scan_prologue(&b);
	at = b.len;
	lb_scan_ptr(&b, 0x601100, 0x10000);
	expect_corrupt(&b, at, "outside its region");
	scan_prologue(&b);
	at = b.len;
	{
		static const uint64_t l[] = { 0x601010, 0x601010 }, v[] = { 0x10000, 0x10000 };

		lb_scan_ptrs(&b, 2, l, v);
	}
	expect_corrupt(&b, at, "out of order");

	/* a gap so large that gap * 8 wraps to a location inside the region */
	scan_prologue(&b);
	at = b.len;
	p_uv(&b, 1);
	p_uv(&b, (1ull << 61) + 2);
	p_uv(&b, 0);
	lb_emit(&b, SLF_REC_SCAN_PTRS);
	expect_corrupt(&b, at, "outside its region");

	/* a value outside the heap span */
	scan_prologue(&b);
	at = b.len;
	lb_scan_ptr(&b, 0x601000, 0x20008);
	expect_corrupt(&b, at, "heap span");
	scan_prologue(&b);
	at = b.len;
	lb_scan_ptr(&b, 0x601000, 0xfff8);
	expect_corrupt(&b, at, "heap span");

	/* more pairs announced than the payload holds */
	scan_prologue(&b);
	at = b.len;
	p_uv(&b, 5);
	p_uv(&b, 0);
	p_uv(&b, 0);
	lb_emit(&b, SLF_REC_SCAN_PTRS);
	expect_corrupt(&b, at + 2, "count");

	/* regions: unaligned, wrapping, an unknown kind */
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	lb_scan_begin(&b, 0x10000, 0x20000);
	at = b.len;
	lb_scan_region(&b, SLF_REGION_GLOBALS, 0x601004, 0x100);
	expect_corrupt(&b, at, "multiple of 8");
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	lb_scan_begin(&b, 0x10000, 0x20000);
	at = b.len;
	lb_scan_region(&b, SLF_REGION_GLOBALS, 0xfffffffffffff000ull, 0x2000);
	expect_corrupt(&b, at, "wraps");
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	lb_scan_begin(&b, 0x10000, 0x20000);
	at = b.len;
	lb_scan_region(&b, SLF_REGION_KIND_COUNT, 0x601000, 0x100);
	expect_corrupt(&b, at, "unknown region kind");

	/* SCAN_BEGIN with its span upside down */
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	at = b.len;
	lb_scan_begin(&b, 0x20000, 0x10000);
	expect_corrupt(&b, at, "heap_lo above heap_hi");

	/* SCAN_END's sums and flag */
	scan_prologue(&b);
	lb_scan_ptr(&b, 0x601000, 0x10000);
	b.scan_ptrs = 2;
	at = b.len;
	lb_scan_end(&b, 0);
	expect_corrupt(&b, at, "pointers differs");
	scan_prologue(&b);
	b.scan_bytes = 8;
	at = b.len;
	lb_scan_end(&b, 0);
	expect_corrupt(&b, at, "bytes differs");
	scan_prologue(&b);
	at = b.len;
	lb_scan_end(&b, 2);
	expect_corrupt(&b, at, "capped");
}

/*
 * A log that another process cuts shorter while it is being read: the
 * mapping faults past the new end. The reader's process (a child here) must
 * say which file and where, and exit 2; no silent SIGBUS.
 */
static void test_shrunk_while_read(void)
{
	char path[] = "/tmp/test_reader.XXXXXX", err[512] = "";
	struct logbuf b;
	int fd = mkstemp(path), pipefd[2], status = 0;
	ssize_t n;
	pid_t pid;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	lb_init(&b);
	lb_process(&b, 42, 1, "/bin/app");
	lb_thread(&b, 43);
	for (uint64_t i = 0; i < 400000; i++) { /* ~4 MB: far past the pages read first */
		lb_alloc(&b, 0x7f0000001000 + i * 64, 48, 0);
		lb_free_rec(&b, 0x7f0000001000 + i * 64);
	}
	CHECK(write(fd, b.data, b.len) == (ssize_t)b.len);
	lb_free(&b);
	CHECK(pipe(pipefd) == 0);
	pid = fork();
	if (pid == 0) {
		struct sla_reader r;
		struct sla_record rec;

		dup2(pipefd[1], STDERR_FILENO);
		if (sla_reader_open(&r, path) < 0)
			_exit(10);
		for (int i = 0; i < 100; i++)
			if (sla_reader_next(&r, &rec) <= 0)
				_exit(11);
		if (ftruncate(fd, 4096) < 0)
			_exit(12);
		while (sla_reader_next(&r, &rec) > 0)
			;
		_exit(13); /* read to the end as if nothing happened */
	}
	close(pipefd[1]);
	n = read(pipefd[0], err, sizeof(err) - 1);
	err[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	CHECK(strstr(err, path) && strstr(err, ": offset 4096: ") &&
	      strstr(err, "became shorter while it was being read"));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 2 || !strstr(err, path))
		fprintf(stderr, "child status %#x, stderr: %s\n", status, err);
	close(fd);
	unlink(path);
}

int main(void)
{
	test_decode();
	test_truncation_everywhere();
	test_header();
	test_corrupt();
	test_scan_decode();
	test_scan_corrupt();
	test_shrunk_while_read();
	return check_result();
}
