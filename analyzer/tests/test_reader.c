/*
 * analyzer/tests/test_reader.c - the reader on synthetic logs: decoding,
 * decoding context, truncation at every byte, and each class of corruption.
 */
#include <errno.h>
#include <string.h>

#include "../reader.h"
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
	CHECK_EQ_U(r.major, SLF_VERSION_MAJOR);
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
	CHECK(strstr(r.err_msg, "2.3") != NULL && strstr(r.err_msg, "1.0") != NULL);
	lb_free(&b);

	/* A newer minor version reads; its unknown kinds and trailing fields are skipped. */
	lb_init_version(&b, SLF_VERSION_MAJOR, SLF_VERSION_MINOR + 1);
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

int main(void)
{
	test_decode();
	test_truncation_everywhere();
	test_header();
	test_corrupt();
	return check_result();
}
