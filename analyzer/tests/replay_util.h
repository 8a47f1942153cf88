/*
 * analyzer/tests/replay_util.h - replays a logbuf into a fresh state.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#include "reader.h"
#include "replay.h"
#include "state.h"
#include "logbuf.h"

/* Replays the whole buffer; aborts the test on a reader error (a bug in the test). */
static inline struct sla_state *replay_buf(struct logbuf *b)
{
	struct sla_reader r;
	struct sla_state *st = sla_state_new("mem");

	if (sla_reader_init_mem(&r, b->data, b->len, "mem") || sla_replay_run(st, &r, UINT64_MAX)) {
		fprintf(stderr, "replay_buf: %s at %llu\n", r.err_msg,
			(unsigned long long)r.err_offset);
		abort();
	}
	sla_reader_close(&r);
	return st;
}

/* A log with a process, one module and `n` stacks s[1..n] (each a single frame). */
static inline void start_log(struct logbuf *b, uint64_t *s, int n)
{
	lb_init(b);
	lb_process(b, 100, 1, "/bin/t");
	lb_modules_reset(b);
	lb_module(b, 0x400000, "/bin/t", 0, 0x100000);
	lb_thread(b, 100);
	for (int i = 1; i <= n; i++)
		s[i] = lb_stack(b, 0, 0x401000 + (uint64_t)i * 0x10);
}
