/*
 * analyzer/replay/replay.h - validated records -> the live state of one log.
 *
 * Replay gives each record its meaning: blocks appear and disappear, views
 * are created and dropped, stacks and modules accumulate, and the running
 * figures (live and peak heap, totals, temporaries, per-stack statistics) are
 * kept up to date. Nothing in a record can make replay fail: situations that
 * a correct log should not contain (a free of an address that is not live, a
 * double free, a view on no block, a release without acquire, time going
 * backwards, ...) are counted in st->anomalies and replay goes on, doing the
 * most sensible thing (documented per handler in replay.c).
 *
 * The reader has already checked everything structural (field bounds, enum
 * values, stack ids defined before use), so replay trusts those.
 *
 * Heap peak: st->peak_bytes/peak_blocks/peak_time_ns is the highest live heap
 * so far. Which stacks held it is kept lazily in O(1) per event: a stack's
 * figures at the peak are sites[id].peak_* when sites[id].peak_epoch ==
 * st->peak_epoch, else its current live_* (see sla_site_at_peak()).
 *
 * Use (the fuzz harness and the tests do exactly this):
 *
 *	struct sla_state *st = sla_state_new(name);
 *	int err = sla_replay_run(st, &reader, UINT64_MAX);   // 0 or -EBADMSG
 *	...
 *	sla_state_free(st);
 */
#pragma once

#include <stdint.h>

#include "reader.h"
#include "state.h"

/* Applies one record to the state. Context: any record the reader returned. */
void sla_replay_record(struct sla_state *st, const struct sla_record *rec);

/*
 * Reads and applies records until the end of the log or until `max_records`
 * records have been applied. Returns 0 (st->ended / st->truncated tell how
 * the log ended, when it was reached) or the reader's negative error, with
 * the records before the bad one applied.
 */
int sla_replay_run(struct sla_state *st, struct sla_reader *r, uint64_t max_records);

/*
 * Right after the records up to a SNAPSHOT were applied: applies the pointer
 * scan that follows it, if the next record is a SCAN_BEGIN (st->scan then
 * describes it, complete or not when the log ends inside it, and st->graph
 * holds its heap graph when the state collects scans). Returns 0 or the
 * reader's negative error.
 */
int sla_replay_scan(struct sla_state *st, struct sla_reader *r);

/* A stack's live bytes and blocks at the heap peak. */
void sla_site_at_peak(const struct sla_state *st, uint32_t stack, uint64_t *bytes,
		      uint64_t *blocks);
