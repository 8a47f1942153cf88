/*
 * analyzer/replay/replay.c - validated records -> the live state of one log.
 *
 * One handler per record kind, in a table indexed by kind; unknown kinds
 * (a newer minor version) have no handler and are skipped.
 */
#include <inttypes.h>
#include <string.h>

#include <sliceleak/format.h>

#include "heapgraph.h"
#include "replay.h"
#include "sampling.h"
#include "xalloc.h"
#include "state.h"
#include "trace.h"
#include "units.h"

typedef void (*replay_fn)(struct sla_state *st, const struct sla_record *rec);

static inline void anomaly(struct sla_state *st, enum sla_anomaly a)
{
	st->anomalies[a]++;
}

/*
 * A free or realloc of a block the log never allocated: an anomaly, but in
 * a log whose recording started late (start=signal), where it is a block
 * from before the start.
 */
static void unknown_block(struct sla_state *st, enum sla_anomaly a)
{
	if (st->process_flags & SLF_PROCESS_LATE_START)
		st->before_start++;
	else
		anomaly(st, a);
}

/*
 * Before a stack's live figures change: if they have not been saved since
 * the latest heap peak, they are what the stack held at that peak.
 */
static inline void site_save_peak(struct sla_state *st, struct sla_site *s)
{
	if (s->peak_epoch != st->peak_epoch) {
		s->peak_bytes = s->live_bytes;
		s->peak_blocks = s->live_blocks;
		s->peak_epoch = st->peak_epoch;
	}
}

void sla_site_at_peak(const struct sla_state *st, uint32_t stack, uint64_t *bytes,
		      uint64_t *blocks)
{
	const struct sla_site *s = &st->sites[stack];
	bool saved = s->peak_epoch == st->peak_epoch;

	*bytes = saved ? s->peak_bytes : s->live_bytes;
	*blocks = saved ? s->peak_blocks : s->live_blocks;
}

/* Makes a block live and does all the accounting of an allocation. */
static struct sla_block *add_block(struct sla_state *st, uint64_t addr, uint64_t size,
				   uint32_t stack, uint64_t time)
{
	struct sla_site *s = &st->sites[stack];
	struct sla_block *b = sla_state_add_block(st, addr, size, stack);
	uint64_t wbytes = sla_wbytes(st, size), wblocks = sla_wblocks(st, size);

	site_save_peak(st, s);
	s->allocs += wblocks;
	s->alloc_bytes = sla_sat_add(s->alloc_bytes, wbytes);
	s->live_bytes = sla_sat_add(s->live_bytes, wbytes);
	s->live_blocks += wblocks;
	st->allocs += wblocks;
	st->bytes_allocated = sla_sat_add(st->bytes_allocated, wbytes);
	st->live_bytes = sla_sat_add(st->live_bytes, wbytes);
	st->live_blocks += wblocks;
	if (!sla_exact(st, size))
		st->live_var += sla_wvar(st, size);
	st->last_alloc = addr;
	if (st->live_bytes > st->peak_bytes) {
		/* a new peak: every stack's current figures are its peak figures now */
		st->peak_bytes = st->live_bytes;
		st->peak_blocks = st->live_blocks;
		st->peak_var = st->live_var;
		st->peak_time_ns = time;
		st->peak_epoch++;
	}
	if (sla_traced(addr, size))
		sla_trace(addr, "allocated, %" PRIu64 " bytes, stack %u, at %.6f s (record %" PRIu64 ")",
			  size, stack, (double)time / 1e9, st->records);
	return b;
}

/*
 * Ends a live block and does the accounting of a free. An annotated view
 * whose owner is this block (the owner key is the block's address: the
 * object that was told to sliceleak_view_acquire) ends with it: the
 * program freed the holder, and with it the reference.
 */
static void remove_block(struct sla_state *st, struct sla_block *b)
{
	struct sla_site *s = &st->sites[b->stack];
	uint64_t wbytes = sla_wbytes(st, b->size), wblocks = sla_wblocks(st, b->size);

	if (st->owner_views.count)
		sla_state_owner_release(st, b->addr);
	if (sla_block_nviews(st, b))
		anomaly(st, SLA_ANOM_free_with_views);
	if (sla_traced(b->addr, b->size))
		sla_trace(b->addr, "freed at %.6f s (record %" PRIu64 ")%s", (double)st->time_ns / 1e9,
			  st->records, sla_block_nviews(st, b) ? ", with live views" : "");
	site_save_peak(st, s);
	s->live_bytes = sla_sat_sub(s->live_bytes, wbytes);
	s->live_blocks = sla_sat_sub(s->live_blocks, wblocks);
	st->live_bytes = sla_sat_sub(st->live_bytes, wbytes);
	st->live_blocks = sla_sat_sub(st->live_blocks, wblocks);
	if (!sla_exact(st, b->size))
		st->live_var = fmax(st->live_var - sla_wvar(st, b->size), 0);
	st->frees += wblocks;
	sla_state_remove_block(st, b);
}

/* The first PROCESS record names the process; a later one is an anomaly. */
static void on_process(struct sla_state *st, const struct sla_record *rec)
{
	if (st->exe) {
		anomaly(st, SLA_ANOM_extra_process); /* the first one describes the log */
		return;
	}
	st->pid = rec->process.pid;
	st->ppid = rec->process.ppid;
	st->start_ns = rec->process.start_ns;
	st->exe = sla_xstrndup(rec->process.exe.ptr, rec->process.exe.len);
	if (rec->process.interposer.len)
		st->interposer = sla_xstrndup(rec->process.interposer.ptr,
					      rec->process.interposer.len);
	st->process_flags = rec->process.flags;
	st->sample_bytes = rec->process.sample_bytes;
	st->exact_bytes = rec->process.exact_bytes;
}

static void on_modules_reset(struct sla_state *st, const struct sla_record *rec)
{
	(void)rec;
	sla_state_reset_modules(st);
}

static void on_module(struct sla_state *st, const struct sla_record *rec)
{
	sla_state_add_module(st, rec->module.bias, rec->module.path.ptr, rec->module.path.len,
			     (const uint8_t *)rec->module.build_id.ptr, rec->module.build_id.len,
			     rec->module.segs, (size_t)rec->module.nsegs);
}

static void on_stack(struct sla_state *st, const struct sla_record *rec)
{
	/* 1.x: id is the next one; 2.x: any id, in any order (the reader checked it) */
	sla_state_define_stack(st, (uint32_t)rec->stack.id, (uint32_t)rec->stack.parent,
			       rec->stack.ip);
}

static void on_thread(struct sla_state *st, const struct sla_record *rec)
{
	(void)st;
	(void)rec; /* the reader carries the thread in every record's context */
}

/*
 * Time never decreases in a correct log; if it does, keep the later time.
 * The reader says what "decreases" means: 1.x, below the latest time; 2.x,
 * below an earlier TIME of the same thread (threads' TIME records are
 * merged by seq, so one thread's clock reading may trail another's).
 */
static void on_time(struct sla_state *st, const struct sla_record *rec)
{
	if (rec->time_backwards)
		anomaly(st, SLA_ANOM_time_backwards);
	if (rec->time.ns > st->time_ns)
		st->time_ns = rec->time.ns;
}

/* An allocation at a live address: the old block was lost; replace it. */
static void on_alloc(struct sla_state *st, const struct sla_record *rec)
{
	struct sla_block *old = sla_state_find_block(st, rec->alloc.addr);

	if (old) {
		anomaly(st, SLA_ANOM_alloc_on_live);
		remove_block(st, old);
	}
	sla_state_forget_freed(st, rec->alloc.addr);
	add_block(st, rec->alloc.addr, rec->alloc.size, (uint32_t)rec->alloc.stack, st->time_ns);
}

/*
 * A free of an address that is not live is a double free when we saw it
 * freed, else a foreign block (a fork child freeing its parent's blocks).
 * free(NULL) is not an event.
 */
static void on_free(struct sla_state *st, const struct sla_record *rec)
{
	uint64_t addr = rec->free.addr;
	struct sla_last_free *lf = &st->last_free[rec->tid % 64];
	struct sla_block *b;

	lf->tid = rec->tid;
	lf->addr = addr;
	lf->temp = 0;
	if (!addr)
		return;
	b = sla_state_find_block(st, addr);
	if (!b) {
		if (sla_state_forget_freed(st, addr)) {
			anomaly(st, SLA_ANOM_double_free);
			sla_state_remember_freed(st, addr);
		} else {
			unknown_block(st, SLA_ANOM_free_unknown);
		}
		return;
	}
	/*
	 * A temporary: freed with no other allocation in between (frees of
	 * other blocks in between do not matter). A sampled log cannot tell:
	 * the allocations in between are mostly not in it.
	 */
	if (st->last_alloc == addr && !sla_sampled(st)) {
		lf->temp = sla_wblocks(st, b->size);
		st->temps += lf->temp;
		st->sites[b->stack].temps += lf->temp;
		st->last_alloc = UINT64_MAX;
		lf->stack = b->stack;
	}
	remove_block(st, b);
	sla_state_remember_freed(st, addr);
}

/*
 * A realloc is the free of the old block and an allocation of the new one
 * (counted in both totals). An old address that is not live (a parent's
 * block in a fork child) still yields the new block. A block resized in
 * place keeps its views (a buffer library may realloc a buffer it has
 * annotated); a block that moved loses them (they point into freed memory:
 * free_with_views).
 */
static void on_realloc(struct sla_state *st, const struct sla_record *rec)
{
	uint64_t old_addr = rec->realloc.old_addr, new_addr = rec->realloc.new_addr;
	struct sla_block *b = NULL, held = { .addr = new_addr };
	bool in_place = false;

	if (rec->realloc.flags & SLF_REALLOC_OLD_FREED) {
		/*
		 * 2.x moving realloc: the FREE just before, in this thread's
		 * stream, already ended the old block (frees, views, double-free
		 * memory: all as for the free half of a 1.x REALLOC), so there is
		 * no anomaly to count here even if another thread got old_addr in
		 * between. The pair counts as one free and one allocation, as a
		 * 1.x REALLOC does; only a temporary counted by that FREE is taken
		 * back, because a 1.x REALLOC never counts one (the block was
		 * resized, not thrown away).
		 */
		struct sla_last_free *lf = &st->last_free[rec->tid % 64];

		if (lf->temp && lf->tid == rec->tid && lf->addr == old_addr) {
			st->temps -= lf->temp;
			st->sites[lf->stack].temps -= lf->temp;
		}
		lf->temp = 0;
		old_addr = 0; /* nothing left to end */
	}
	if (old_addr) {
		b = sla_state_find_block(st, old_addr);
		if (b) {
			in_place = old_addr == new_addr && sla_block_nviews(st, b);
			if (in_place)
				sla_state_move_views(st, &held, b);
			remove_block(st, b);
		} else {
			unknown_block(st, SLA_ANOM_realloc_unknown);
		}
	}
	b = sla_state_find_block(st, new_addr);
	if (b) {
		anomaly(st, SLA_ANOM_alloc_on_live);
		remove_block(st, b);
	}
	sla_state_forget_freed(st, new_addr);
	b = add_block(st, new_addr, rec->realloc.size, (uint32_t)rec->realloc.stack, st->time_ns);
	if (in_place)
		sla_state_move_views(st, b, &held);
}

/* True when [ptr, ptr + len) does not fit in the block (overflow-safe). */
static bool outside(const struct sla_block *b, uint64_t ptr, uint64_t len)
{
	return ptr < b->addr || ptr - b->addr > b->size || len > b->size - (ptr - b->addr);
}

/* A reference on no live block cannot pin anything: counted, not kept. */
static void on_slice_new(struct sla_state *st, const struct sla_record *rec)
{
	struct sla_block *b = sla_state_find_block(st, rec->slice_new.block);

	if (!b) {
		anomaly(st, SLA_ANOM_slice_no_block);
		return;
	}
	if (outside(b, rec->slice_new.ptr, rec->slice_new.len))
		anomaly(st, SLA_ANOM_view_outside_block);
	sla_state_slice_add(st, b, rec->slice_new.ptr, rec->slice_new.len,
			    (uint32_t)rec->slice_new.stack, st->time_ns);
}

static void on_slice_drop(struct sla_state *st, const struct sla_record *rec)
{
	if (!sla_state_slice_drop(st, rec->slice_drop.block, rec->slice_drop.ptr,
				  rec->slice_drop.len))
		anomaly(st, SLA_ANOM_slice_drop_unknown);
}

/*
 * The block is the live block holding ptr. With none, the owner's previous
 * view is still replaced (released): the owner moved on. In a sampled log
 * a view on no recorded block is on a block the sampler passed over (the
 * writer cannot tell which block holds ptr): not an anomaly.
 */
static void on_view_acquire(struct sla_state *st, const struct sla_record *rec)
{
	uint64_t ptr = rec->view_acquire.ptr, len = rec->view_acquire.len;
	struct sla_block *b = sla_state_block_containing(st, ptr);

	if (!b) {
		if (!sla_sampled(st))
			anomaly(st, SLA_ANOM_view_no_block);
		sla_state_owner_release(st, rec->view_acquire.owner);
		return;
	}
	if (outside(b, ptr, len))
		anomaly(st, SLA_ANOM_view_outside_block);
	sla_state_owner_set(st, rec->view_acquire.owner, b, ptr, len,
			    (uint32_t)rec->view_acquire.stack, st->time_ns);
}

static void on_view_release(struct sla_state *st, const struct sla_record *rec)
{
	if (!sla_state_owner_release(st, rec->view_release.owner) && !sla_sampled(st))
		anomaly(st, SLA_ANOM_release_without_acquire);
}

static void on_snapshot(struct sla_state *st, const struct sla_record *rec)
{
	(void)st;
	(void)rec; /* evaluation points are the driver's (analysis.c) business */
}

/* END: a clean end, with the writer's count of events it lost. */
static void on_end(struct sla_state *st, const struct sla_record *rec)
{
	st->ended = true;
	st->dropped = rec->end.dropped;
	/* the end's scan is the one written just before END (format.h) */
	st->scan_at_end = st->scan.complete && st->scan.end_at == st->records;
}

/*
 * A pointer scan (format 1.1). The reader has checked its structure, so
 * these handlers see BEGIN, (REGION, PTRS*)*, END in that order, with
 * nothing in between. Only the evaluation state (collect_scans) makes the
 * heap graph of it, word by word (heapgraph.h); pass 1 of an analysis at a
 * snapshot or at the peak needs none. A new scan replaces the previous one.
 */
static void on_scan_begin(struct sla_state *st, const struct sla_record *rec)
{
	struct sla_scan *sc = &st->scan;

	sc->open = true;
	sc->complete = false;
	sc->capped = false;
	sc->unread = false;
	sc->in_region = false;
	sc->heap_lo = rec->scan_begin.heap_lo;
	sc->heap_hi = rec->scan_begin.heap_hi;
	sc->bytes = 0;
	if (st->collect_scans)
		sla_heapgraph_begin(st);
}

static void on_scan_region(struct sla_state *st, const struct sla_record *rec)
{
	st->scan.in_region = true;
	if (st->collect_scans)
		sla_heapgraph_region(st, rec->scan_region.kind, rec->scan_region.start,
				     rec->scan_region.size);
}

static void on_scan_ptrs(struct sla_state *st, const struct sla_record *rec)
{
	struct sla_scan_iter it;
	uint64_t loc, val;

	if (!st->collect_scans || !st->scan.in_region || !st->graph)
		return;
	sla_scan_iter_init(&it, rec);
	while (sla_scan_iter_next(&it, &loc, &val))
		sla_heapgraph_word(st, loc, val);
}

static void on_scan_end(struct sla_state *st, const struct sla_record *rec)
{
	struct sla_scan *sc = &st->scan;

	sc->open = false;
	sc->complete = true;
	sc->capped = rec->scan_end.capped != 0;
	sc->unread = rec->scan_end.unread != 0 || rec->scan_end.no_maps != 0;
	sc->bytes = rec->scan_end.bytes;
	sc->end_at = st->records + 1; /* this record counted */
	st->scans++;
	if (st->collect_scans)
		sla_heapgraph_end(st);
}

static const replay_fn replay_table[SLF_REC_KIND_COUNT] = {
	[SLF_REC_PROCESS] = on_process,
	[SLF_REC_MODULES_RESET] = on_modules_reset,
	[SLF_REC_MODULE] = on_module,
	[SLF_REC_STACK] = on_stack,
	[SLF_REC_THREAD] = on_thread,
	[SLF_REC_TIME] = on_time,
	[SLF_REC_ALLOC] = on_alloc,
	[SLF_REC_FREE] = on_free,
	[SLF_REC_REALLOC] = on_realloc,
	[SLF_REC_SLICE_NEW] = on_slice_new,
	[SLF_REC_SLICE_DROP] = on_slice_drop,
	[SLF_REC_VIEW_ACQUIRE] = on_view_acquire,
	[SLF_REC_VIEW_RELEASE] = on_view_release,
	[SLF_REC_SNAPSHOT] = on_snapshot,
	[SLF_REC_END] = on_end,
	[SLF_REC_SCAN_BEGIN] = on_scan_begin,
	[SLF_REC_SCAN_REGION] = on_scan_region,
	[SLF_REC_SCAN_PTRS] = on_scan_ptrs,
	[SLF_REC_SCAN_END] = on_scan_end,
};

/*
 * Dispatch by kind. A kind of records.def without a handler changes nothing
 * replay keeps (an analysis of its own may read it); a kind this version
 * does not know is counted and skipped.
 */
void sla_replay_record(struct sla_state *st, const struct sla_record *rec)
{
	if (rec->kind < SLF_REC_KIND_COUNT && replay_table[rec->kind])
		replay_table[rec->kind](st, rec);
	else if (!slf_kind_known(rec->kind))
		st->unknown_records++; /* a newer minor version's kind: skipped */
	st->records++;
}

/*
 * After a stop right behind a SNAPSHOT: the scan the shim wrote just after
 * it, if the next record starts one. A scan changes no block or view, so
 * the state stays the snapshot's; any other next record is left unapplied.
 */
int sla_replay_scan(struct sla_state *st, struct sla_reader *r)
{
	struct sla_record rec;
	int err;

	err = sla_reader_next(r, &rec);
	if (err <= 0 || rec.kind != SLF_REC_SCAN_BEGIN)
		return err < 0 ? err : 0;
	sla_replay_record(st, &rec);
	while ((err = sla_reader_next(r, &rec)) > 0) {
		sla_replay_record(st, &rec);
		if (rec.kind == SLF_REC_SCAN_END)
			return 0;
	}
	return err;
}

/* The reader/replay loop the tests and the fuzz harness use. */
int sla_replay_run(struct sla_state *st, struct sla_reader *r, uint64_t max_records)
{
	struct sla_record rec;
	int err = 0;

	while (st->records < max_records && (err = sla_reader_next(r, &rec)) > 0)
		sla_replay_record(st, &rec);
	if (err < 0)
		return err;
	if (r->truncated)
		st->truncated = true;
	return 0;
}
