/*
 * analyzer/tests/test_merge.c - format 2.0: the chunk index and the merge of
 * the threads' streams by seq, each chunk decoding alone, explicit stack ids
 * out of order, the moving realloc, every 2.x error at its exact offset,
 * truncation at every byte, thousands of threads, and 1.x unchanged beside.
 */
#include <errno.h>
#include <string.h>

#include "reader.h"
#include "replay.h"
#include "stacks.h"
#include "state.h"
#include "check.h"
#include "logbuf.h"

#define MAXREC 20000

static struct sla_record recs[MAXREC];

/* Reads the whole buffer into recs[]; returns the count, the result in *err. */
static int read_all(struct logbuf *b, struct sla_reader *r, int *err)
{
	struct sla_record rec;
	int n = 0;

	*err = sla_reader_init_mem(r, b->data, b->len, "m");
	if (*err)
		return 0;
	while ((*err = sla_reader_next(r, &rec)) > 0)
		if (n < MAXREC)
			recs[n++] = rec;
	return n;
}

/* Expects a 2.x log refused at `at`, `what` in the message. */
static void expect_corrupt(struct logbuf *b, uint64_t at, const char *what, int line)
{
	struct sla_reader r;
	int err;

	read_all(b, &r, &err);
	CHECK(err == -EBADMSG);
	CHECK_EQ_U(r.err_offset, at);
	CHECK(strstr(r.err_msg, what) != NULL);
	if (err != -EBADMSG || r.err_offset != at || !strstr(r.err_msg, what))
		fprintf(stderr, "  line %d: expected '%s' at %llu, got err %d at %llu: %s\n", line,
			what, (unsigned long long)at, err, (unsigned long long)r.err_offset,
			r.err_msg);
	sla_reader_close(&r);
	lb_free(b);
}
#define EXPECT_CORRUPT(b, at, what) expect_corrupt(b, at, what, __LINE__)

static void v2_start(struct logbuf *b)
{
	lb_init_v2(b);
	lb_process(b, 7, 1, "/bin/mt");
}

/* Two threads interleaved by seq over several chunks; per-chunk address deltas. */
static void test_interleaved(void)
{
	struct logbuf b;
	struct sla_reader r;
	uint64_t a1_off, b1_off, a2_off;
	int n, err;
	static const struct {
		uint64_t tid, seq;
		unsigned kind;
	} want[] = {
		{ 10, 1, SLF_REC_TIME },  { 10, 1, SLF_REC_ALLOC }, { 20, 2, SLF_REC_TIME },
		{ 20, 3, SLF_REC_ALLOC }, { 10, 4, SLF_REC_ALLOC }, { 20, 5, SLF_REC_FREE },
		{ 10, 6, SLF_REC_TIME },  { 10, 6, SLF_REC_FREE },  { 20, 7, SLF_REC_ALLOC },
		{ 10, 8, SLF_REC_FREE },
	};

	v2_start(&b);
	a1_off = b.len;
	lb_chunk_begin(&b, 10, 1);
	b.seq_step = 0;
	lb_seq(&b, 1);
	lb_time(&b, 5000);
	lb_alloc(&b, 0x7f0000001000, 16, 0);
	lb_seq(&b, 4);
	lb_alloc(&b, 0x7f0000002000, 32, 0);
	lb_chunk_end(&b);
	b1_off = b.len;
	lb_chunk_begin(&b, 20, 2);
	lb_seq(&b, 2);
	lb_time(&b, 4000); /* behind thread 10's clock: time_ns stays at 5000 */
	lb_seq(&b, 3);
	lb_alloc(&b, 0x600000000100, 48, 0);
	lb_seq(&b, 5);
	lb_free_rec(&b, 0x7f0000001000); /* thread 10's block */
	lb_seq(&b, 7);
	lb_alloc(&b, 0x600000000200, 64, 0);
	lb_chunk_end(&b);
	a2_off = b.len;
	lb_chunk_begin(&b, 10, 6);
	lb_seq(&b, 6);
	lb_time(&b, 9000);
	lb_free_rec(&b, 0x7f0000002000); /* decodes against 0: a chunk starts afresh */
	lb_seq(&b, 8);
	lb_free_rec(&b, 0x600000000100);
	lb_chunk_end(&b);
	lb_end(&b, 0);

	n = read_all(&b, &r, &err);
	CHECK(err == 0 && r.ended && !r.truncated);
	CHECK_EQ_U(n, 12);
	CHECK_EQ_U(recs[0].kind, SLF_REC_PROCESS);
	CHECK_EQ_U(recs[11].kind, SLF_REC_END);
	CHECK_EQ_U(recs[11].end.records, 3);
	CHECK_EQ_U(recs[11].index, 11);
	for (int i = 0; i < 10; i++) {
		const struct sla_record *x = &recs[i + 1];

		CHECK_EQ_U(x->tid, want[i].tid);
		CHECK_EQ_U(x->seq, want[i].seq);
		CHECK_EQ_U(x->kind, want[i].kind);
		CHECK_EQ_U(x->index, i + 1);
		CHECK(x->offset > a1_off && x->offset < b.len);
		CHECK(b.data[x->offset] == x->kind); /* the inner record's own kind byte */
	}
	/* offsets: the first inner record sits after kind, length, tid, base, seq_delta */
	CHECK_EQ_U(recs[1].offset, a1_off + 5);
	CHECK(recs[3].offset > b1_off && recs[3].offset < a2_off);
	CHECK_EQ_U(recs[2].alloc.addr, 0x7f0000001000);
	CHECK_EQ_U(recs[5].alloc.addr, 0x7f0000002000);
	CHECK_EQ_U(recs[6].free.addr, 0x7f0000001000);
	CHECK_EQ_U(recs[8].free.addr, 0x7f0000002000);
	CHECK_EQ_U(recs[10].free.addr, 0x600000000100);
	CHECK_EQ_U(recs[9].alloc.addr, 0x600000000200);
	/* time: the largest so far, never back; a thread behind is not "backwards" */
	CHECK_EQ_U(recs[2].time_ns, 5000);
	CHECK_EQ_U(recs[3].time_ns, 5000);
	CHECK(!recs[3].time_backwards);
	CHECK_EQ_U(recs[3].time.ns, 4000);
	CHECK_EQ_U(recs[7].time_ns, 9000);
	CHECK_EQ_U(recs[11].time_ns, 9000);
	sla_reader_close(&r);

	/* replay: every block accounted, no anomaly at all */
	{
		struct sla_state *st = sla_state_new("m");

		CHECK(sla_reader_init_mem(&r, b.data, b.len, "m") == 0);
		CHECK(sla_replay_run(st, &r, UINT64_MAX) == 0);
		CHECK_EQ_U(st->allocs, 4);
		CHECK_EQ_U(st->frees, 3);
		CHECK_EQ_U(st->live_blocks, 1);
		for (int a = 0; a < SLA_ANOM_COUNT; a++)
			CHECK_EQ_U(st->anomalies[a], 0);
		CHECK_EQ_U(st->time_ns, 9000);
		sla_state_free(st);
		sla_reader_close(&r);
	}
	lb_free(&b);
}

/*
 * Records sharing one seq: a module map and a scan of thread 1, each spanning
 * two of its chunks, with thread 2's chunk in between in the file.
 */
static void test_equal_seq_runs(void)
{
	struct logbuf b;
	struct sla_reader r;
	int n, err;
	static const unsigned want[] = {
		SLF_REC_PROCESS, SLF_REC_ALLOC /* t2 @4 */, SLF_REC_MODULES_RESET, SLF_REC_MODULE,
		SLF_REC_MODULE, SLF_REC_ALLOC /* t2 @6 */, SLF_REC_SCAN_BEGIN, SLF_REC_SCAN_REGION,
		SLF_REC_SCAN_PTRS, SLF_REC_SCAN_END, SLF_REC_FREE /* t2 @9 */, SLF_REC_END,
	};
	uint64_t loc = 0x601008, val = 0x10010;

	v2_start(&b);
	lb_chunk_begin(&b, 1, 5);
	b.seq_step = 0;
	lb_seq(&b, 5);
	lb_modules_reset(&b);
	lb_module(&b, 0x400000, "/bin/mt", 0, 0x1000);
	lb_chunk_end(&b);
	lb_chunk_begin(&b, 2, 4);
	lb_seq(&b, 4);
	lb_alloc(&b, 0x10010, 8, 0);
	lb_seq(&b, 6);
	lb_alloc(&b, 0x10020, 8, 0);
	lb_seq(&b, 9);
	lb_free_rec(&b, 0x10020);
	lb_chunk_end(&b);
	lb_chunk_begin(&b, 1, 5); /* the same seq again: the map goes on */
	lb_seq(&b, 5);
	lb_module(&b, 0x7f0000000000, "/lib/libc.so.6", 0, 0x1000);
	lb_seq(&b, 8);
	lb_scan_begin(&b, 0x10000, 0x20000);
	lb_scan_region(&b, SLF_REGION_GLOBALS, 0x601000, 0x100);
	lb_chunk_end(&b);
	lb_chunk_begin(&b, 1, 8);
	lb_scan_ptrs(&b, 1, &loc, &val);
	lb_scan_end(&b, 0);
	lb_chunk_end(&b);
	lb_end(&b, 0);

	n = read_all(&b, &r, &err);
	CHECK(err == 0 && r.ended);
	CHECK_EQ_U(n, 12);
	for (int i = 0; i < n && i < 12; i++)
		CHECK_EQ_U(recs[i].kind, want[i]);
	CHECK_EQ_U(recs[4].module.bias, 0x7f0000000000);
	CHECK_EQ_U(recs[4].tid, 1);
	CHECK_EQ_U(recs[5].tid, 2);
	CHECK_EQ_U(recs[9].scan_end.pointers, 1);
	sla_reader_close(&r);
	lb_free(&b);
}

/* Stack ids defined out of numeric order, a parent with a larger id, used across threads. */
static void test_stack_ids_out_of_order(void)
{
	struct logbuf b;
	struct sla_reader r;
	struct sla_state *st;
	struct sla_stackset *set;
	struct sla_symbolizer *sym;
	const struct sla_frame *f;
	int n, err;
	uint32_t g5, g4;

	v2_start(&b);
	lb_chunk_begin(&b, 1, 1);
	b.seq_step = 0; /* the map shares one seq */
	lb_seq(&b, 1);
	lb_modules_reset(&b);
	lb_module(&b, 0x400000, "/bin/mt", 0, 0x100000);
	b.seq_step = 1;
	lb_seq(&b, 3);
	lb_stack_id(&b, 5, 0, 0x401000); /* 5 before 1..4 */
	lb_seq(&b, 7);
	lb_alloc(&b, 0x1000, 100, 4); /* thread 2 defined 4 at seq 5 */
	lb_chunk_end(&b);
	lb_chunk_begin(&b, 2, 2);
	lb_seq(&b, 2);
	lb_stack_id(&b, 1, 0, 0x401100);
	lb_seq(&b, 4);
	lb_stack_id(&b, 3, 1, 0x401200);
	lb_seq(&b, 5);
	lb_stack_id(&b, 4, 5, 0x401300); /* its parent has the larger id */
	lb_seq(&b, 6);
	lb_alloc(&b, 0x2000, 200, 5);
	lb_seq(&b, 8);
	lb_stack_id(&b, 2, 4, 0x401400); /* the hole filled last */
	lb_alloc(&b, 0x3000, 300, 2);
	lb_chunk_end(&b);
	lb_end(&b, 0);

	n = read_all(&b, &r, &err);
	CHECK(err == 0 && r.ended);
	CHECK_EQ_U(n, 12);
	CHECK_EQ_U(recs[3].stack.id, 1);
	CHECK_EQ_U(recs[4].stack.id, 5);
	CHECK_EQ_U(recs[6].stack.id, 4);
	CHECK_EQ_U(recs[6].stack.parent, 5);
	sla_reader_close(&r);

	st = sla_state_new("m");
	CHECK(sla_reader_init_mem(&r, b.data, b.len, "m") == 0);
	CHECK(sla_replay_run(st, &r, UINT64_MAX) == 0);
	sla_reader_close(&r);
	CHECK_EQ_U(st->nstacks, 6);
	CHECK_EQ_U(st->stacks[4].parent, 5);
	CHECK_EQ_U(st->stacks[2].parent, 4);
	CHECK_EQ_U(st->sites[4].allocs, 1);
	CHECK_EQ_U(st->sites[5].allocs, 1);
	CHECK_EQ_U(st->sites[2].live_bytes, 300);
	set = sla_stackset_new();
	sym = sla_symbolizer_new(SLA_SYM_NONE);
	/* intern the deep one first: its ancestors (larger and smaller ids) on the way */
	CHECK(sla_stackset_intern(set, st, 2) != 0);
	g4 = sla_stackset_intern(set, st, 4);
	g5 = sla_stackset_intern(set, st, 5);
	CHECK(g4 != g5 && g4 && g5);
	CHECK_EQ_U(sla_stackset_frames(set, sla_stackset_intern(set, st, 2), sym, &f), 3);
	CHECK_EQ_U(f[0].address, 0x401400);
	CHECK_EQ_U(f[1].address, 0x401300);
	CHECK_EQ_U(f[2].address, 0x401000);
	CHECK_EQ_U(sla_stackset_frames(set, g5, sym, &f), 1);
	sla_symbolizer_free(sym);
	sla_stackset_free(set);
	sla_state_free(st);
	lb_free(&b);
}

/*
 * A moving realloc: FREE(old) at seq 3, another thread is handed old_addr at
 * seq 4, REALLOC(flags 1) at seq 5. No anomaly; counted as one realloc (one
 * free, one allocation), like the same realloc in a 1.x log.
 */
static void test_moving_realloc(void)
{
	struct logbuf b;
	struct sla_reader r;
	struct sla_state *st, *st1;

	v2_start(&b);
	lb_chunk_begin(&b, 1, 1);
	lb_seq(&b, 1);
	lb_stack(&b, 0, 0x401000);
	lb_seq(&b, 2);
	lb_alloc(&b, 0x5000, 100, 1);
	lb_seq(&b, 3);
	lb_free_rec(&b, 0x5000);
	lb_seq(&b, 5);
	lb_realloc_flags(&b, 0x5000, 0x9000, 400, 1, SLF_REALLOC_OLD_FREED);
	lb_chunk_end(&b);
	lb_chunk_begin(&b, 2, 4);
	lb_seq(&b, 4);
	lb_alloc(&b, 0x5000, 50, 1); /* old_addr, reused at once */
	lb_chunk_end(&b);
	lb_end(&b, 0);

	st = sla_state_new("m");
	CHECK(sla_reader_init_mem(&r, b.data, b.len, "m") == 0);
	CHECK(sla_replay_run(st, &r, UINT64_MAX) == 0);
	sla_reader_close(&r);
	for (int a = 0; a < SLA_ANOM_COUNT; a++)
		CHECK_EQ_U(st->anomalies[a], 0);
	CHECK_EQ_U(st->live_blocks, 2);
	CHECK_EQ_U(st->live_bytes, 450);
	CHECK(sla_state_find_block(st, 0x9000) != NULL);
	CHECK(sla_state_find_block(st, 0x5000) != NULL);
	CHECK_EQ_U(st->allocs, 3);
	CHECK_EQ_U(st->frees, 1);
	CHECK_EQ_U(st->temps, 0); /* the FREE half of a realloc is no temporary */
	CHECK_EQ_U(st->sites[1].temps, 0);
	lb_free(&b);

	/* the same program in 1.x: the same figures */
	lb_init(&b);
	lb_process(&b, 7, 1, "/bin/mt");
	lb_thread(&b, 1);
	lb_stack(&b, 0, 0x401000);
	lb_alloc(&b, 0x5000, 100, 1);
	lb_realloc(&b, 0x5000, 0x9000, 400, 1);
	lb_thread(&b, 2);
	lb_alloc(&b, 0x5000, 50, 1);
	lb_end(&b, 0);
	st1 = sla_state_new("m");
	CHECK(sla_reader_init_mem(&r, b.data, b.len, "m") == 0);
	CHECK(sla_replay_run(st1, &r, UINT64_MAX) == 0);
	sla_reader_close(&r);
	CHECK_EQ_U(st1->allocs, st->allocs);
	CHECK_EQ_U(st1->frees, st->frees);
	CHECK_EQ_U(st1->temps, st->temps);
	CHECK_EQ_U(st1->live_bytes, st->live_bytes);
	sla_state_free(st1);
	sla_state_free(st);
	lb_free(&b);

	/* a plain FREE right after an allocation still counts its temporary */
	v2_start(&b);
	lb_chunk_begin(&b, 1, 1);
	lb_alloc(&b, 0x5000, 100, 0);
	lb_free_rec(&b, 0x5000);
	lb_alloc(&b, 0x6000, 100, 0);
	lb_free_rec(&b, 0x6000);
	lb_realloc_flags(&b, 0x5000, 0x7000, 10, 0, SLF_REALLOC_OLD_FREED); /* not after its FREE */
	lb_chunk_end(&b);
	lb_end(&b, 0);
	st = sla_state_new("m");
	CHECK(sla_reader_init_mem(&r, b.data, b.len, "m") == 0);
	CHECK(sla_replay_run(st, &r, UINT64_MAX) == 0);
	sla_reader_close(&r);
	CHECK_EQ_U(st->temps, 2);
	sla_state_free(st);
	lb_free(&b);
}

/* Appends a chunk of raw inner bytes. Returns the offset of the CHUNK record. */
static uint64_t raw_chunk(struct logbuf *b, uint64_t tid, uint64_t base, const void *body,
			  size_t n)
{
	uint64_t at = b->len;

	lb_chunk_begin(b, tid, base);
	lb_chunk_raw(b, body, n);
	lb_chunk_end(b);
	return at;
}

/* Every 2.x error, at the offset of the offending byte. */
static void test_errors(void)
{
	struct logbuf b;
	uint64_t at, ch;

	/* a kind other than PROCESS, CHUNK, END at the top level */
	v2_start(&b);
	at = b.len;
	lb_time(&b, 5);
	lb_end(&b, 0);
	EXPECT_CORRUPT(&b, at, "TIME record at the top level");

	/* the first record must be PROCESS; only one PROCESS */
	lb_init_v2(&b);
	lb_chunk_begin(&b, 1, 1);
	lb_time(&b, 1);
	lb_chunk_end(&b);
	EXPECT_CORRUPT(&b, 16, "first record is CHUNK");
	v2_start(&b);
	at = b.len;
	lb_process(&b, 8, 1, "/x");
	EXPECT_CORRUPT(&b, at, "a second PROCESS");

	/* PROCESS, THREAD, CHUNK, END inside a chunk */
	{
		static const unsigned kinds[] = { SLF_REC_PROCESS, SLF_REC_THREAD, SLF_REC_CHUNK,
						  SLF_REC_END };

		for (size_t k = 0; k < 4; k++) {
			uint8_t body[] = { 0, (uint8_t)kinds[k], 2, 0, 0 };
			v2_start(&b);
			lb_chunk_begin(&b, 1, 1);
			lb_time(&b, 1);
			lb_chunk_end(&b);
			at = raw_chunk(&b, 1, 2, body, sizeof(body));
			lb_end(&b, 0);
			/* CHUNK kind, 1-byte length, tid, base, seq_delta */
			EXPECT_CORRUPT(&b, at + 5, "inside a CHUNK");
		}
	}

	/* an inner record crossing its chunk's end; a seq_delta and nothing after it */
	{
		uint8_t body[] = { 0, SLF_REC_TIME, 5, 1, 2 };
		uint8_t lone[] = { 0, SLF_REC_TIME, 1, 1, 3 };

		v2_start(&b);
		at = raw_chunk(&b, 1, 2, body, sizeof(body));
		lb_end(&b, 0);
		EXPECT_CORRUPT(&b, at + 5, "TIME record crosses the end of its CHUNK");
		v2_start(&b);
		at = raw_chunk(&b, 1, 2, lone, sizeof(lone));
		lb_end(&b, 0);
		EXPECT_CORRUPT(&b, at + 9, "a seq_delta and no record");
		lone[4] = 0x80; /* a varint cut by the chunk's end */
		v2_start(&b);
		at = raw_chunk(&b, 1, 2, lone, sizeof(lone));
		lb_end(&b, 0);
		EXPECT_CORRUPT(&b, at + 8, "seq_delta is not a valid varint");
	}

	/* a CHUNK whose tid or seq does not fit its payload */
	v2_start(&b);
	at = b.len;
	{
		uint8_t rec[] = { SLF_REC_CHUNK, 2, 5, 0x80 };

		lb_raw(&b, rec, sizeof(rec));
	}
	lb_end(&b, 0);
	EXPECT_CORRUPT(&b, at + 3, "field seq");

	/* seq going back along a thread's chunks */
	v2_start(&b);
	lb_chunk_begin(&b, 1, 10);
	lb_seq(&b, 12);
	lb_time(&b, 1);
	lb_chunk_end(&b);
	lb_chunk_begin(&b, 2, 1);
	lb_seq(&b, 1);
	lb_time(&b, 1);
	lb_chunk_end(&b);
	ch = b.len;
	lb_chunk_begin(&b, 1, 11);
	lb_seq(&b, 11);
	lb_time(&b, 2);
	lb_chunk_end(&b);
	lb_end(&b, 0);
	EXPECT_CORRUPT(&b, ch + 3, "goes back"); /* kind, length, tid: the base seq */

	/* STACK ids: 0, above 2^32-1, twice, far beyond the ids defined */
	{
		static const uint64_t ids[] = { 0, 1ull << 32, 1, 200000 };
		static const char *const what[] = { "id 0", "above 2^32-1", "defined twice",
						    "far beyond" };

		for (size_t k = 0; k < 4; k++) {
			v2_start(&b);
			lb_chunk_begin(&b, 1, 1);
			lb_stack_id(&b, 1, 0, 0x401000);
			ch = b.len;
			at = b.clen;
			lb_stack_id(&b, ids[k], 0, 0x401000);
			lb_chunk_end(&b);
			lb_end(&b, 0);
			/* the record's kind byte: after the CHUNK's 4 header bytes and its seq_delta */
			EXPECT_CORRUPT(&b, ch + 4 + at + 1, what[k]);
		}
	}

	/* a parent, an event's stack id not defined yet in merged order (defined later by seq) */
	v2_start(&b);
	lb_chunk_begin(&b, 2, 2);
	lb_seq(&b, 2);
	lb_stack_id(&b, 1, 0, 0x401000); /* earlier in the file, later in the order */
	lb_chunk_end(&b);
	at = b.len + 5; /* CHUNK header (4 bytes), seq_delta */
	lb_chunk_begin(&b, 1, 1);
	lb_seq(&b, 1);
	lb_alloc(&b, 0x1000, 1, 1);
	lb_chunk_end(&b);
	lb_end(&b, 0);
	EXPECT_CORRUPT(&b, at, "stack refers to a stack id not defined yet");
	v2_start(&b);
	lb_chunk_begin(&b, 1, 1);
	at = b.len + 4 + b.clen + 1;
	lb_stack_id(&b, 1, 2, 0x401000);
	lb_stack_id(&b, 2, 0, 0x401000);
	lb_chunk_end(&b);
	lb_end(&b, 0);
	EXPECT_CORRUPT(&b, at, "parent refers to a stack id not defined yet");

	/* REALLOC flags with unknown bits; REALLOC without its flags */
	v2_start(&b);
	lb_chunk_begin(&b, 1, 1);
	lb_alloc(&b, 0x1000, 1, 0);
	at = b.len + 4 + b.clen + 1;
	lb_realloc_flags(&b, 0x1000, 0x2000, 2, 0, 2);
	lb_chunk_end(&b);
	lb_end(&b, 0);
	EXPECT_CORRUPT(&b, at, "unknown flags");
	v2_start(&b);
	lb_chunk_begin(&b, 1, 1);
	at = b.len + 4 + b.clen + 1;
	b.v2 = 0; /* the 1.x layout inside a 2.x chunk */
	lb_realloc(&b, 0x1000, 0x2000, 2, 0);
	b.v2 = 1;
	lb_chunk_end(&b);
	lb_end(&b, 0);
	/* kind, length, fn, two 2-byte addrs, size, stack: the payload's end */
	EXPECT_CORRUPT(&b, at + 9, "field flags");

	/* END counting something else than the CHUNK records; data after END */
	v2_start(&b);
	lb_chunk_begin(&b, 1, 1);
	lb_time(&b, 1);
	lb_chunk_end(&b);
	at = b.len;
	b.chunks = 5;
	lb_end(&b, 0);
	EXPECT_CORRUPT(&b, at, "END record counts a different number of CHUNK");
	v2_start(&b);
	lb_end(&b, 0);
	at = b.len;
	lb_chunk_begin(&b, 1, 1);
	lb_time(&b, 1);
	lb_chunk_end(&b);
	EXPECT_CORRUPT(&b, at, "data after the END record");

	/* a scan broken by another thread's record, in merged order */
	v2_start(&b);
	lb_chunk_begin(&b, 1, 5);
	lb_seq(&b, 5);
	lb_scan_begin(&b, 0x10000, 0x20000);
	lb_seq(&b, 7);
	lb_scan_region(&b, SLF_REGION_GLOBALS, 0x601000, 0x100);
	lb_scan_end(&b, 0);
	lb_chunk_end(&b);
	lb_chunk_begin(&b, 2, 6);
	lb_seq(&b, 6);
	at = b.len + 4 + b.clen + 1;
	lb_time(&b, 1);
	lb_chunk_end(&b);
	lb_end(&b, 0);
	EXPECT_CORRUPT(&b, at, "inside a scan");

	/* what 1.x already checks holds inside chunks too: an unknown fn */
	v2_start(&b);
	lb_chunk_begin(&b, 1, 1);
	at = b.len + 4 + b.clen + 1;
	p_u8(&b, 99);
	p_addr(&b, 0x1000);
	p_uv(&b, 1);
	p_uv(&b, 0);
	p_uv(&b, 0);
	lb_emit(&b, SLF_REC_ALLOC);
	lb_chunk_end(&b);
	lb_end(&b, 0);
	EXPECT_CORRUPT(&b, at, "unknown fn");

	/* a CHUNK in a 1.x log */
	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	at = b.len;
	p_uv(&b, 1);
	p_uv(&b, 1);
	lb_emit(&b, SLF_REC_CHUNK);
	EXPECT_CORRUPT(&b, at, "CHUNKs are 2.x only");
}

/* A 3-thread log; per chunk its offset, end and number of inner records. */
struct chunk_info {
	uint64_t off, end;
	int n;
};

static size_t build_three(struct logbuf *b, struct chunk_info *ci)
{
	size_t k = 0;
	uint64_t seq = 1;

	v2_start(b);
	for (int round = 0; round < 3; round++) {
		for (uint64_t t = 1; t <= 3; t++) {
			ci[k].off = b->len;
			lb_chunk_begin(b, t, seq);
			lb_seq(b, seq);
			lb_time(b, 1000 * seq);
			lb_alloc(b, 0x10000 * t + 0x100 * (uint64_t)round, 16, 0);
			lb_free_rec(b, 0x10000 * t + 0x100 * (uint64_t)round);
			seq = b->seq;
			lb_chunk_end(b);
			ci[k].end = b->len;
			ci[k++].n = 3;
		}
	}
	lb_end(b, 0);
	return k;
}

/* Cut at every byte: the complete chunks' records, then truncated at the cut chunk. */
static void test_truncation(void)
{
	struct logbuf b;
	struct chunk_info ci[16];
	size_t nch = build_three(&b, ci);
	uint64_t proc_end = ci[0].off;
	int bad = 0;

	for (size_t cut = 16; cut < b.len; cut++) {
		struct sla_reader r;
		struct sla_record rec;
		uint64_t want = 0, want_off = 16, got = 0;
		int err;

		if (cut >= proc_end) {
			want = 1;
			want_off = proc_end;
		}
		for (size_t k = 0; k < nch; k++)
			if (ci[k].end <= cut) {
				want += (uint64_t)ci[k].n;
				want_off = ci[k].end;
			}
		if (sla_reader_init_mem(&r, b.data, cut, "cut") != 0) {
			bad++;
			continue;
		}
		while ((err = sla_reader_next(&r, &rec)) > 0)
			got++;
		if (err != 0 || !r.truncated || r.ended || got != want || r.trunc_offset != want_off) {
			if (bad++ < 3)
				fprintf(stderr, "cut %zu: err %d got %llu want %llu off %llu want %llu %s\n",
					cut, err, (unsigned long long)got, (unsigned long long)want,
					(unsigned long long)r.trunc_offset,
					(unsigned long long)want_off, r.err_msg);
		}
		sla_reader_close(&r);
	}
	CHECK_EQ_U(bad, 0);
	lb_free(&b);
}

/*
 * A killed process: thread 2 defined stack 1 in a chunk it never wrote,
 * thread 1's written chunk uses it. Without END that reads as the empty
 * stack, counted in stacks_lost; the same log with END is corrupt (above).
 */
static void test_killed_stack_lost(void)
{
	struct logbuf b;
	struct sla_reader r;
	struct sla_record rec;
	uint64_t stack = 99;
	int err;

	v2_start(&b);
	lb_chunk_begin(&b, 1, 5);
	lb_seq(&b, 5);
	lb_alloc(&b, 0x1000, 1, 1);
	lb_chunk_end(&b);
	CHECK_EQ_U(sla_reader_init_mem(&r, b.data, b.len, "killed"), 0);
	while ((err = sla_reader_next(&r, &rec)) > 0)
		if (rec.kind == SLF_REC_ALLOC)
			stack = rec.alloc.stack;
	CHECK_EQ_U(err, 0);
	CHECK(r.truncated);
	CHECK_EQ_U(stack, 0);
	CHECK_EQ_U(r.stacks_lost, 1);
	sla_reader_close(&r);
	lb_free(&b);
}

/*
 * A killed two-thread process: thread 1 wrote seqs 1-2 and held 4 (FREE of
 * 0x2000) unwritten; thread 2 freed thread 1's block at 3 and reused
 * 0x2000 at 7. Merged whole, that is an ALLOC on a live block; the reader
 * stops at 4, the largest SYNC, and counts the 3 records after it.
 */
static void build_killed(struct logbuf *b, bool end)
{
	lb_init_version(b, 2, 1);
	b->v2 = 1;
	b->seq_step = 1;
	lb_process(b, 7, 1, "/bin/mt");
	lb_chunk_begin(b, 1, 1);
	lb_seq(b, 1);
	lb_alloc(b, 0x1000, 16, 0);
	lb_alloc(b, 0x2000, 16, 0);
	lb_chunk_end(b);
	lb_chunk_begin(b, 2, 3);
	lb_seq(b, 3);
	lb_rec_sync(b, 3);
	lb_seq(b, 3);
	lb_free_rec(b, 0x1000);
	lb_seq(b, 5);
	lb_alloc(b, 0x3000, 16, 0);
	lb_chunk_end(b);
	lb_chunk_begin(b, 2, 6);
	lb_seq(b, 6);
	lb_rec_sync(b, 4);
	lb_alloc(b, 0x2000, 32, 0);
	lb_chunk_end(b);
	if (end)
		lb_end(b, 0);
}

static void test_killed_cut(void)
{
	struct logbuf b;
	struct sla_reader r;
	struct sla_state *st;
	int n, err;

	build_killed(&b, false);
	n = read_all(&b, &r, &err);
	CHECK(err == 0 && r.truncated && !r.ended);
	CHECK_EQ_U(r.cut_seq, 4);
	CHECK_EQ_U(r.cut_records, 3);
	CHECK_EQ_U(n, 5); /* PROCESS, ALLOC, ALLOC, SYNC, FREE */
	CHECK_EQ_U(recs[n - 1].kind, SLF_REC_FREE);
	for (int i = 1; i < n; i++)
		CHECK(recs[i].seq < 4);
	sla_reader_close(&r);
	st = sla_state_new("k");
	CHECK(sla_reader_init_mem(&r, b.data, b.len, "k") == 0);
	CHECK(sla_replay_run(st, &r, UINT64_MAX) == 0);
	sla_reader_close(&r);
	CHECK_EQ_U(st->anomalies[SLA_ANOM_alloc_on_live], 0);
	CHECK_EQ_U(st->live_blocks, 1);
	sla_state_free(st);
	lb_free(&b);

	/* the same streams with END: nothing is cut, every record is read */
	build_killed(&b, true);
	n = read_all(&b, &r, &err);
	CHECK(err == 0 && r.ended);
	CHECK_EQ_U(r.cut_seq, UINT64_MAX);
	CHECK_EQ_U(n, 9);
	sla_reader_close(&r);
	lb_free(&b);

	/* no SYNC (a 2.0 writer): no point is known, nothing is cut */
	v2_start(&b);
	lb_chunk_begin(&b, 1, 1);
	lb_seq(&b, 1);
	lb_alloc(&b, 0x1000, 16, 0);
	lb_chunk_end(&b);
	n = read_all(&b, &r, &err);
	CHECK(err == 0 && r.truncated);
	CHECK_EQ_U(r.cut_seq, UINT64_MAX);
	CHECK_EQ_U(n, 2);
	sla_reader_close(&r);
	lb_free(&b);
}

/* 5000 short-lived threads, one chunk each, the file in reverse seq order. */
static void test_many_threads(void)
{
	enum { N = 5000 };
	struct logbuf b;
	struct sla_reader r;
	struct sla_state *st;
	int n, err, sorted = 1;

	v2_start(&b);
	for (uint64_t t = N; t >= 1; t--) {
		lb_chunk_begin(&b, 100000 + t, t);
		lb_seq(&b, t);
		lb_alloc(&b, 0x100000 + t * 64, 32, 0);
		lb_seq(&b, N + t);
		lb_free_rec(&b, 0x100000 + t * 64);
		lb_chunk_end(&b);
	}
	lb_end(&b, 0);
	n = read_all(&b, &r, &err);
	CHECK(err == 0 && r.ended);
	CHECK_EQ_U(n, 2 * N + 2);
	for (int i = 1; i + 1 < n; i++)
		sorted &= recs[i].seq == (uint64_t)i;
	CHECK(sorted);
	CHECK_EQ_U(recs[1].tid, 100001);
	CHECK_EQ_U(recs[N + 1].kind, SLF_REC_FREE);
	sla_reader_close(&r);
	st = sla_state_new("m");
	CHECK(sla_reader_init_mem(&r, b.data, b.len, "m") == 0);
	CHECK(sla_replay_run(st, &r, UINT64_MAX) == 0);
	sla_reader_close(&r);
	CHECK_EQ_U(st->allocs, N);
	CHECK_EQ_U(st->frees, N);
	CHECK_EQ_U(st->anomalies[SLA_ANOM_free_unknown], 0);
	sla_state_free(st);
	lb_free(&b);
}

/*
 * A newer 2.x minor: unknown kinds, inside a chunk or at the top level, and
 * trailing fields are skipped by their length (format.h, "Versioning"); the
 * top level's are counted by the reader, the inner ones handed out.
 */
static void test_newer_minor(void)
{
	struct logbuf b;
	struct sla_reader r;
	int n, err;

	lb_init_version(&b, 2, 3); /* a 2.x minor after 2.2, the last */
	b.v2 = 1;
	b.seq = 1;
	b.seq_step = 1;
	lb_process(&b, 1, 0, "x");
	lb_chunk_begin(&b, 1, 1);
	p_uv(&b, 7);
	lb_emit(&b, 200);
	p_uv(&b, 1234);
	p_uv(&b, 99); /* a field a later minor appended */
	lb_emit(&b, SLF_REC_TIME);
	lb_chunk_end(&b);
	p_uv(&b, 3);
	lb_emit(&b, 201); /* at the top level */
	lb_end(&b, 0);
	n = read_all(&b, &r, &err);
	CHECK(err == 0 && r.ended);
	CHECK_EQ_U(n, 4);
	CHECK_EQ_U(r.unknown_skipped, 1);
	CHECK_EQ_U(recs[1].kind, 200);
	CHECK_EQ_U(recs[2].time.ns, 1234);
	CHECK_EQ_U(recs[2].seq, 2);
	sla_reader_close(&r);
	lb_free(&b);
}

/* 1.x next to 2.x: seq is the index, STACK ids count up, tid from THREAD. */
static void test_v1_unchanged(void)
{
	struct logbuf b;
	struct sla_reader r;
	int n, err;

	lb_init(&b);
	lb_process(&b, 1, 0, "x");
	lb_thread(&b, 5);
	lb_stack(&b, 0, 0x401000);
	lb_time(&b, 10);
	lb_alloc(&b, 0x1000, 1, 1);
	lb_time(&b, 5);
	lb_realloc(&b, 0x1000, 0x2000, 2, 1);
	lb_end(&b, 0);
	n = read_all(&b, &r, &err);
	CHECK(err == 0 && r.ended);
	CHECK_EQ_U(n, 8);
	for (int i = 0; i < n; i++)
		CHECK_EQ_U(recs[i].seq, (uint64_t)i);
	CHECK_EQ_U(recs[2].stack.id, 1);
	CHECK_EQ_U(recs[4].tid, 5);
	CHECK(recs[5].time_backwards);
	CHECK_EQ_U(recs[5].time_ns, 5); /* 1.x: the latest TIME, as before */
	CHECK_EQ_U(recs[6].realloc.flags, 0);
	sla_reader_close(&r);
	lb_free(&b);
}


/*
 * 3.0's dense forms (records.def, SLF_DENSE): every coding, mixed with
 * ordinary records of the same kinds, come out as the records they encode,
 * with their seqs; the fields the head implies (default fn and align, the
 * previous stack, a recent block) included.
 */
static void test_dense(void)
{
	struct logbuf b;
	struct sla_reader r;
	int n, err;

	lb_init_v3(&b);
	lb_process(&b, 7, 1, "/bin/d");
	lb_chunk_begin(&b, 10, 1);
	lb_time(&b, 5);		      /* seq 1 */
	lb_stack(&b, 0, 0x401000);    /* 2: stack 1 */
	lb_stack(&b, 1, 0x401100);    /* 3: stack 2 */
	lb_dense_alloc(&b, SLF_FN_MALLOC, 0x10000, 48, 0, 2);	/* 4 */
	lb_dense_alloc(&b, SLF_FN_CALLOC, 0x20000, 4096, 64, 2); /* 5: fn, align explicit */
	lb_seq(&b, 7);
	lb_dense_alloc(&b, SLF_FN_MALLOC, 0x8000, 16, 0, 1);	/* 7: delta 2, stack changes */
	lb_alloc(&b, 0x30008, 8, 1);	/* 8: ordinary (unaligned), its own prev_addr chain */
	lb_seq(&b, 11);
	lb_dense_free(&b, 0x10000);	/* 11: delta 3, the 3rd most recent block */
	lb_seq(&b, 100);
	lb_dense_free(&b, 0x40000);	/* 100: delta 89 after the head, an explicit block */
	lb_seq(&b, 100);
	b.seq_step = 0;
	lb_dense_realloc(&b, SLF_FN_REALLOCARRAY, 0x20000, 0x50000, 8192, 1, 1); /* 100: delta 0 */
	b.seq_step = 1;
	lb_dense_free(&b, 0x50000);	/* 100: the last block, the realloc's new one */
	lb_dense_realloc(&b, SLF_FN_REALLOC, 0x8000, 0x8000, 17, 2, 0); /* 101 */
	lb_chunk_end(&b);
	lb_seq(&b, 200);
	lb_chunk_begin(&b, 10, 200);	/* state afresh: prev_stack 0, no recent blocks */
	lb_dense_alloc(&b, SLF_FN_MALLOC, 0x10000, 48, 0, 0);	/* 200 */
	lb_dense_free(&b, 0x10000);	/* 201 */
	lb_chunk_end(&b);
	lb_end(&b, 0);
	n = read_all(&b, &r, &err);
	CHECK(err == 0 && r.ended);
	CHECK_EQ_U(n, 16);
	CHECK_EQ_U(recs[4].kind, SLF_REC_ALLOC);
	CHECK(recs[4].alloc.fn == SLF_FN_MALLOC && recs[4].alloc.addr == 0x10000 &&
	      recs[4].alloc.size == 48 && recs[4].alloc.align == 0 && recs[4].alloc.stack == 2);
	CHECK_EQ_U(recs[4].seq, 4);
	CHECK(recs[5].alloc.fn == SLF_FN_CALLOC && recs[5].alloc.addr == 0x20000 &&
	      recs[5].alloc.size == 4096 && recs[5].alloc.align == 64 && recs[5].alloc.stack == 2);
	CHECK(recs[6].alloc.addr == 0x8000 && recs[6].alloc.size == 16 && recs[6].alloc.stack == 1);
	CHECK_EQ_U(recs[6].seq, 7);
	CHECK(recs[7].kind == SLF_REC_ALLOC && recs[7].alloc.addr == 0x30008);
	CHECK(recs[8].kind == SLF_REC_FREE && recs[8].free.addr == 0x10000);
	CHECK_EQ_U(recs[8].seq, 11);
	CHECK(recs[9].free.addr == 0x40000 && recs[9].seq == 100);
	CHECK_EQ_U(recs[10].kind, SLF_REC_REALLOC);
	CHECK(recs[10].realloc.fn == SLF_FN_REALLOCARRAY && recs[10].realloc.old_addr == 0x20000 &&
	      recs[10].realloc.new_addr == 0x50000 && recs[10].realloc.size == 8192 &&
	      recs[10].realloc.stack == 1 && recs[10].realloc.flags == SLF_REALLOC_OLD_FREED);
	CHECK_EQ_U(recs[10].seq, 100);
	CHECK(recs[11].free.addr == 0x50000 && recs[11].seq == 100);
	CHECK(recs[12].realloc.fn == SLF_FN_REALLOC && recs[12].realloc.old_addr == 0x8000 &&
	      recs[12].realloc.new_addr == 0x8000 && recs[12].realloc.size == 17 &&
	      recs[12].realloc.stack == 2 && recs[12].realloc.flags == 0);
	CHECK(recs[13].kind == SLF_REC_ALLOC && recs[13].alloc.stack == 0 && recs[13].seq == 200);
	CHECK(recs[14].kind == SLF_REC_FREE && recs[14].free.addr == 0x10000);
	sla_reader_close(&r);
	lb_free(&b);

	/* what the writer may not put in a dense form */
	CHECK(!slf_dense_fits_alloc(0, SLF_FN_MALLOC, 0x10008, 8, 0, 0));
	CHECK(!slf_dense_fits_free(0, 0x10004));
	CHECK(!slf_dense_fits_realloc(0, SLF_FN_MALLOC, 0x10000, 0x10000, 8, 0, 0));
	CHECK(!slf_dense_fits_realloc(0, SLF_FN_REALLOC, 0x10000, 0x10000, 8, 0, 2));
	CHECK(slf_dense_fits_realloc(0, SLF_FN_REALLOCARRAY, 0x10000, 0x20000, 8, 9, 1));
}

/* A 3.0 log with a chunk of thread 10 open at seq 1. */
static void dense_start(struct logbuf *b)
{
	lb_init_v3(b);
	lb_process(b, 7, 1, "/bin/d");
	lb_chunk_begin(b, 10, 1);
}

/* A dense record that cannot be one, each refused at its head byte. */
static void test_dense_errors(void)
{
	struct logbuf b;
	uint64_t at;
	uint8_t raw[2];

	/* a head bit no field of FREE uses */
	dense_start(&b);
	lb_dense_alloc(&b, SLF_FN_MALLOC, 0x10000, 48, 0, 0);
	at = b.len + b.clen + 4; /* the CHUNK's kind, length, tid, base seq first */
	raw[0] = 0x40 | 0x20;
	lb_chunk_raw(&b, raw, 1);
	lb_chunk_end(&b);
	lb_end(&b, 0);
	EXPECT_CORRUPT(&b, at, "a head bit no field uses is set");

	/* a FREE naming the 2nd most recent block when there was one */
	dense_start(&b);
	lb_dense_alloc(&b, SLF_FN_MALLOC, 0x10000, 48, 0, 0);
	at = b.len + b.clen + 4;
	raw[0] = 0x40 | 2 << 2;
	lb_chunk_raw(&b, raw, 1);
	lb_chunk_end(&b);
	lb_end(&b, 0);
	EXPECT_CORRUPT(&b, at, "names a recent block that does not exist");

	/* a dense ALLOC whose fields run past the end of its chunk */
	dense_start(&b);
	at = b.len + b.clen + 4 + 1;
	raw[0] = 0x80;
	raw[1] = 0x81; /* a varint that does not end */
	lb_chunk_raw(&b, raw, 2);
	lb_chunk_end(&b);
	lb_end(&b, 0);
	EXPECT_CORRUPT(&b, at, "field addr does not fit");

	/* a dense record inside a scan */
	dense_start(&b);
	b.seq_step = 0;
	lb_rec_scan_begin(&b, 0x1000, 0x2000);
	at = b.len + b.clen + 4;
	lb_dense_free(&b, 0x1000);
	lb_chunk_end(&b);
	lb_end(&b, 0);
	EXPECT_CORRUPT(&b, at, "inside a scan");
}

int main(void)
{
	test_interleaved();
	test_equal_seq_runs();
	test_stack_ids_out_of_order();
	test_moving_realloc();
	test_errors();
	test_truncation();
	test_killed_stack_lost();
	test_many_threads();
	test_newer_minor();
	test_killed_cut();
	test_v1_unchanged();
	test_dense();
	test_dense_errors();
	return check_result();
}
