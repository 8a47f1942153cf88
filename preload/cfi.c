/*
 * preload/cfi.c - the fast stack walk: compiled .eh_frame rules, x86-64.
 *
 * Why: unw_backtrace() costs ~8-9 ns per frame here (its trace cache is a
 * generic structure behind several calls per frame), and stack capture was
 * half of the shim's cost. This walk reads the same DWARF call-frame
 * information, reduced once per code address to a 64-bit rule, from a
 * process-wide cache that readers probe without any lock or atomic
 * read-modify-write, and first from a per-thread memo of the previous
 * capture's rules by frame index (so reading a frame does not wait for a
 * probe keyed by the frame just read). Measured per extra frame of a
 * malloc call chain under the shim: 1.7 ns with the frame hashing
 * (unw_backtrace(): 7.3 ns).
 *
 * Exactness: the walk mirrors libunwind 1.6's tdep_trace (x86_64/Gtrace.c),
 * which unw_backtrace() uses: the first frame is looked up at its pc, the
 * others at return address - 1; CFA = rsp or rbp + offset, return address at
 * CFA-8, rbp reloaded when saved; a frame whose return address or rbp rule is
 * "undefined" is the last one (its ip is recorded, nothing after it); a
 * return address below 0x4000 ends the trace and is not recorded. Every rule
 * this file compiles is one libunwind classifies as a "standard frame" (it
 * accepts a subset: anything else is "no fast rule"), so wherever the walk
 * succeeds libunwind's fast trace would have produced the same addresses.
 * Whenever a frame has no fast rule or a sanity check fails, the caller
 * redoes the capture with unw_backtrace() (unwind.c): the result is always
 * libunwind's. unwind_check=1 compares both on every capture.
 *
 * Rules come from the object's .eh_frame, found through PT_GNU_EH_FRAME
 * (.eh_frame_hdr's sorted table) with glibc's _dl_find_object(), which takes
 * no lock and is async-signal-safe (glibc >= 2.35). The CIE/FDE parser and
 * the DW_CFA interpreter are our own and refuse what they cannot express
 * exactly: a CFA expression or a CFA on a register other than rsp/rbp, 'S'
 * (signal frame) CIEs, unknown augmentations or opcodes, expression and
 * val_* rules, rbp/RA rules other than offset/same/undefined, RA not at
 * CFA-8, registers libunwind does not track (>= 17), no FDE.
 *
 * Context: runs inside malloc hooks of arbitrary programs, any thread,
 * signal handlers included, guard held. Memory is mmap'd only; the insert
 * lock is only ever try-locked (a handler that interrupted an insert just
 * does not cache its rule); the walk reads memory only inside the calling
 * thread's stack mapping, found once per thread from /proc/self/maps with
 * plain system calls.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cfi.h"
#include "internal.h"

#if !defined(SLP_FAST_UNWIND)
/* Not x86-64, or a glibc without _dl_find_object (meson.build decides). */
int slp_cfi_backtrace(void **buf, int max, struct slp_cfi_sum *sum)
{
	(void)buf;
	(void)max;
	(void)sum;
	return -1;
}

void slp_cfi_flush(void)
{
}

void slp_cfi_fork_child(void)
{
}
#else

/* ---- rules ------------------------------------------------------------- */

/*
 * One code address's rule, 64 bits (so a reader never sees half of one):
 *   bits  0-31  CFA offset (signed; libunwind's limit is |off| < 2^28)
 *   bits 32-47  rbp save slot, offset from the CFA (signed; |off| < 2^14)
 *   bit  48     CFA is rsp + offset (else rbp + offset)
 *   bit  49     rbp saved (else unchanged)
 *   bit  50     last frame (return address or rbp undefined)
 *   bit  51     no fast rule
 *   bits 52-63  epoch of the cache when compiled (slp_cfi_flush bumps it)
 */
#define R_CFA_RSP (1ull << 48)
#define R_RBP_SAVED (1ull << 49)
#define R_LAST (1ull << 50)
#define R_NOFAST (1ull << 51)
#define R_EPOCH_SHIFT 52
#define R_EPOCH_MASK 0xfffu

static inline int32_t rule_cfa_off(uint64_t r)
{
	return (int32_t)(uint32_t)r;
}

static inline int16_t rule_rbp_off(uint64_t r)
{
	return (int16_t)(uint16_t)(r >> 32);
}

static inline unsigned rule_epoch(uint64_t r)
{
	return (unsigned)(r >> R_EPOCH_SHIFT);
}

/* ---- reading .eh_frame ------------------------------------------------- */

/* A bounded reader over one object's mapping: a corrupt table ends in "no rule". */
struct rd {
	const uint8_t *p;
	const uint8_t *end;
};

static bool rd_bytes(struct rd *r, void *out, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		return false;
	memcpy(out, r->p, n);
	r->p += n;
	return true;
}

static bool rd_u8(struct rd *r, uint8_t *v)
{
	return rd_bytes(r, v, 1);
}

static bool rd_uleb(struct rd *r, uint64_t *v)
{
	uint64_t x = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		if (r->p >= r->end || shift > 63)
			return false;
		b = *r->p++;
		x |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	*v = x;
	return true;
}

static bool rd_sleb(struct rd *r, int64_t *v)
{
	uint64_t x = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		if (r->p >= r->end || shift > 63)
			return false;
		b = *r->p++;
		x |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (shift < 64 && (b & 0x40))
		x |= ~0ull << shift;
	*v = (int64_t)x;
	return true;
}

/* DW_EH_PE_* */
#define PE_OMIT 0xff
#define PE_ABSPTR 0x00
#define PE_ULEB128 0x01
#define PE_UDATA2 0x02
#define PE_UDATA4 0x03
#define PE_UDATA8 0x04
#define PE_SLEB128 0x09
#define PE_SDATA2 0x0a
#define PE_SDATA4 0x0b
#define PE_SDATA8 0x0c
#define PE_PCREL 0x10
#define PE_DATAREL 0x30
#define PE_INDIRECT 0x80

/*
 * An encoded pointer. pcrel is relative to the field itself, datarel to
 * `dbase` (0: not allowed here). With skip_only the value is read past and
 * not interpreted (the personality pointer: indirect, never needed).
 */
static bool rd_enc(struct rd *r, uint8_t enc, uintptr_t dbase, bool skip_only, uint64_t *v)
{
	uintptr_t at = (uintptr_t)r->p;
	uint64_t x = 0;
	bool ok;

	switch (enc & 0x0f) {
	case PE_ABSPTR:
	case PE_UDATA8:
	case PE_SDATA8:
		ok = rd_bytes(r, &x, 8);
		break;
	case PE_UDATA4: {
		uint32_t u;

		ok = rd_bytes(r, &u, 4);
		x = u;
		break;
	}
	case PE_SDATA4: {
		int32_t s;

		ok = rd_bytes(r, &s, 4);
		x = (uint64_t)(int64_t)s;
		break;
	}
	case PE_UDATA2: {
		uint16_t u;

		ok = rd_bytes(r, &u, 2);
		x = u;
		break;
	}
	case PE_SDATA2: {
		int16_t s;

		ok = rd_bytes(r, &s, 2);
		x = (uint64_t)(int64_t)s;
		break;
	}
	case PE_ULEB128:
		ok = rd_uleb(r, &x);
		break;
	case PE_SLEB128: {
		int64_t s;

		ok = rd_sleb(r, &s);
		x = (uint64_t)s;
		break;
	}
	default:
		return false;
	}
	if (!ok)
		return false;
	if (skip_only)
		return true;
	if (enc & PE_INDIRECT)
		return false;
	switch (enc & 0x70) {
	case 0:
		break;
	case PE_PCREL:
		x += at;
		break;
	case PE_DATAREL:
		if (!dbase)
			return false;
		x += dbase;
		break;
	default: /* textrel, funcrel, aligned: not used on x86-64 Linux */
		return false;
	}
	*v = x;
	return true;
}

/* One CFI entry's header: [start, end) is its content after the length. */
static bool rd_entry(const uint8_t *at, const uint8_t *lo, const uint8_t *hi, struct rd *body,
		     bool *is64)
{
	struct rd r = { at, hi };
	uint32_t len32;
	uint64_t len;

	if (at < lo || at >= hi || !rd_bytes(&r, &len32, 4) || len32 == 0)
		return false;
	*is64 = len32 == 0xffffffffu;
	if (*is64) {
		if (!rd_bytes(&r, &len, 8))
			return false;
	} else {
		len = len32;
	}
	if (len > (uint64_t)(hi - r.p))
		return false;
	body->p = r.p;
	body->end = r.p + len;
	return true;
}

/* ---- the DW_CFA interpreter --------------------------------------------- */

#define NREGS 17 /* x86-64 DWARF 0-16: the registers libunwind tracks (16 = RA) */
#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16
#define MAX_REMEMBER 8

enum { K_SAME = 0, K_UNDEF, K_OFFSET, K_REGISTER, K_OTHER };

struct row {
	int64_t cfa_off;
	uint32_t cfa_reg;
	bool cfa_expr;
	uint8_t kind[NREGS];
	int64_t off[NREGS];
};

struct cie {
	uint64_t code_align;
	int64_t data_align;
	uint8_t fde_enc;
	bool has_z;
	struct rd insns;
};

/*
 * Runs CFA instructions [r) from location `loc` up to and including the
 * row for `target` (instructions past an advance beyond target are not
 * run: libunwind's "process everything up to and including end_ip").
 * `init` is the CIE's row (DW_CFA_restore), NULL while running the CIE.
 */
static bool run_cfi(struct rd r, const struct cie *c, uint64_t loc, uint64_t target,
		    struct row *st, const struct row *init)
{
	struct row saved[MAX_REMEMBER];
	unsigned nsaved = 0;

	while (r.p < r.end) {
		uint8_t op, hi2, lo6;
		uint64_t reg = 0, u = 0, delta = 0;
		int64_t s = 0;

		if (!rd_u8(&r, &op))
			return false;
		hi2 = op & 0xc0;
		lo6 = op & 0x3f;
		if (hi2 == 0x40) { /* advance_loc */
			delta = lo6;
			goto advance;
		}
		if (hi2 == 0x80) { /* offset */
			reg = lo6;
			if (!rd_uleb(&r, &u))
				return false;
			s = (int64_t)u * c->data_align;
			goto set_offset;
		}
		if (hi2 == 0xc0) { /* restore */
			reg = lo6;
			goto restore;
		}
		switch (op) {
		case 0x00: /* nop */
			continue;
		case 0x01: { /* set_loc */
			uint64_t to;

			if (!rd_enc(&r, c->fde_enc, 0, false, &to))
				return false;
			if (to > target)
				return true;
			loc = to;
			continue;
		}
		case 0x02: { /* advance_loc1 */
			uint8_t d;

			if (!rd_u8(&r, &d))
				return false;
			delta = d;
			goto advance;
		}
		case 0x03: { /* advance_loc2 */
			uint16_t d;

			if (!rd_bytes(&r, &d, 2))
				return false;
			delta = d;
			goto advance;
		}
		case 0x04: { /* advance_loc4 */
			uint32_t d;

			if (!rd_bytes(&r, &d, 4))
				return false;
			delta = d;
			goto advance;
		}
		case 0x05: /* offset_extended */
			if (!rd_uleb(&r, &reg) || !rd_uleb(&r, &u))
				return false;
			s = (int64_t)u * c->data_align;
			goto set_offset;
		case 0x11: /* offset_extended_sf */
			if (!rd_uleb(&r, &reg) || !rd_sleb(&r, &s))
				return false;
			s *= c->data_align;
			goto set_offset;
		case 0x2f: /* GNU_negative_offset_extended */
			if (!rd_uleb(&r, &reg) || !rd_uleb(&r, &u))
				return false;
			s = -((int64_t)u * c->data_align);
			goto set_offset;
		case 0x06: /* restore_extended */
			if (!rd_uleb(&r, &reg))
				return false;
			goto restore;
		case 0x07: /* undefined */
		case 0x08: /* same_value */
			if (!rd_uleb(&r, &reg) || reg >= NREGS)
				return false;
			st->kind[reg] = op == 0x07 ? K_UNDEF : K_SAME;
			st->off[reg] = 0;
			continue;
		case 0x09: /* register */
			if (!rd_uleb(&r, &reg) || !rd_uleb(&r, &u) || reg >= NREGS || u >= NREGS)
				return false;
			st->kind[reg] = K_REGISTER;
			st->off[reg] = (int64_t)u;
			continue;
		case 0x0a: /* remember_state */
			if (nsaved == MAX_REMEMBER)
				return false;
			saved[nsaved++] = *st;
			continue;
		case 0x0b: /* restore_state: the CFA rule is restored too (libunwind does) */
			if (nsaved == 0)
				return false;
			*st = saved[--nsaved];
			continue;
		case 0x0c: /* def_cfa */
			if (!rd_uleb(&r, &reg) || !rd_uleb(&r, &u))
				return false;
			st->cfa_reg = (uint32_t)(reg > 0xffff ? 0xffff : reg);
			st->cfa_off = (int64_t)u;
			st->cfa_expr = false;
			continue;
		case 0x12: /* def_cfa_sf */
			if (!rd_uleb(&r, &reg) || !rd_sleb(&r, &s))
				return false;
			st->cfa_reg = (uint32_t)(reg > 0xffff ? 0xffff : reg);
			st->cfa_off = s * c->data_align;
			st->cfa_expr = false;
			continue;
		case 0x0d: /* def_cfa_register */
			if (!rd_uleb(&r, &reg))
				return false;
			st->cfa_reg = (uint32_t)(reg > 0xffff ? 0xffff : reg);
			continue;
		case 0x0e: /* def_cfa_offset */
			if (!rd_uleb(&r, &u))
				return false;
			st->cfa_off = (int64_t)u;
			continue;
		case 0x13: /* def_cfa_offset_sf */
			if (!rd_sleb(&r, &s))
				return false;
			st->cfa_off = s * c->data_align;
			continue;
		case 0x0f: /* def_cfa_expression */
			if (!rd_uleb(&r, &u) || u > (uint64_t)(r.end - r.p))
				return false;
			r.p += u;
			st->cfa_expr = true;
			continue;
		case 0x10: /* expression */
		case 0x16: /* val_expression */
			if (!rd_uleb(&r, &reg) || !rd_uleb(&r, &u) || u > (uint64_t)(r.end - r.p))
				return false;
			r.p += u;
			if (reg >= NREGS)
				return false;
			st->kind[reg] = K_OTHER;
			continue;
		case 0x14: /* val_offset */
			if (!rd_uleb(&r, &reg) || !rd_uleb(&r, &u) || reg >= NREGS)
				return false;
			st->kind[reg] = K_OTHER;
			continue;
		case 0x15: /* val_offset_sf */
			if (!rd_uleb(&r, &reg) || !rd_sleb(&r, &s) || reg >= NREGS)
				return false;
			st->kind[reg] = K_OTHER;
			continue;
		case 0x2e: /* GNU_args_size: only matters to the personality routine */
			if (!rd_uleb(&r, &u))
				return false;
			continue;
		default: /* GNU_window_save, vendor or unknown opcodes */
			return false;
		}
advance:
		if (delta * c->code_align > target - loc || loc > target)
			return true; /* the next row starts past target */
		loc += delta * c->code_align;
		continue;
set_offset:
		if (reg >= NREGS)
			return false;
		st->kind[reg] = K_OFFSET;
		st->off[reg] = s;
		continue;
restore:
		if (reg >= NREGS || !init)
			return false;
		st->kind[reg] = init->kind[reg];
		st->off[reg] = init->off[reg];
		continue;
	}
	return true;
}

static bool parse_cie(struct rd body, struct cie *c)
{
	uint32_t id;
	uint8_t version, b;
	const char *aug;
	size_t aug_len;
	uint64_t u, zlen = 0;
	const uint8_t *zend = NULL;

	if (!rd_bytes(&body, &id, 4) || id != 0 || !rd_u8(&body, &version))
		return false;
	if (version != 1 && version != 3)
		return false;
	aug = (const char *)body.p;
	aug_len = strnlen(aug, (size_t)(body.end - body.p));
	if (aug_len == (size_t)(body.end - body.p))
		return false;
	body.p += aug_len + 1;
	if (!rd_uleb(&body, &c->code_align) || !rd_sleb(&body, &c->data_align))
		return false;
	if (version == 1) {
		if (!rd_u8(&body, &b))
			return false;
		u = b;
	} else if (!rd_uleb(&body, &u)) {
		return false;
	}
	if (u != REG_RA)
		return false;
	c->fde_enc = PE_ABSPTR;
	c->has_z = aug[0] == 'z';
	if (c->has_z) {
		if (!rd_uleb(&body, &zlen) || zlen > (uint64_t)(body.end - body.p))
			return false;
		zend = body.p + zlen;
	} else if (aug_len != 0) {
		return false; /* "eh" and other pre-'z' forms */
	}
	for (size_t i = 1; i < aug_len; i++) {
		switch (aug[i]) {
		case 'R':
			if (!rd_u8(&body, &c->fde_enc))
				return false;
			break;
		case 'P': {
			uint64_t ignored;

			if (!rd_u8(&body, &b) || b == PE_OMIT ||
			    !rd_enc(&body, b, 0, true, &ignored))
				return false;
			break;
		}
		case 'L':
			if (!rd_u8(&body, &b))
				return false;
			break;
		default: /* 'S' (signal frame) and anything unknown */
			return false;
		}
	}
	if (c->has_z) {
		if (body.p > zend)
			return false;
		body.p = zend;
	}
	if (c->fde_enc == PE_OMIT)
		return false;
	c->insns = body;
	return true;
}

/*
 * The rule of lookup address `pc`, compiled from its FDE; R_NOFAST when
 * there is no exact one. Pure: reads the loaded object only.
 */
static uint64_t compile_rule(uintptr_t pc)
{
	struct dl_find_object fo;
	const uint8_t *lo, *hi, *hdr;
	struct rd r, fde, cieb;
	uint8_t version, ptr_enc, count_enc, table_enc;
	uint64_t eh_frame, count, pc_begin, pc_range, u;
	size_t a, b;
	int32_t cie_off32;
	bool is64, cie64;
	struct cie c;
	struct row init, st;

	if (_dl_find_object((void *)pc, &fo) != 0 || !fo.dlfo_eh_frame)
		return R_NOFAST;
	lo = fo.dlfo_map_start;
	hi = fo.dlfo_map_end;
	hdr = fo.dlfo_eh_frame;
	if (hdr < lo || hdr >= hi)
		return R_NOFAST;
	r = (struct rd){ hdr, hi };
	if (!rd_u8(&r, &version) || version != 1 || !rd_u8(&r, &ptr_enc) ||
	    !rd_u8(&r, &count_enc) || !rd_u8(&r, &table_enc))
		return R_NOFAST;
	if (table_enc != (PE_DATAREL | PE_SDATA4))
		return R_NOFAST;
	if (!rd_enc(&r, ptr_enc, (uintptr_t)hdr, false, &eh_frame) ||
	    !rd_enc(&r, count_enc, (uintptr_t)hdr, false, &count) || count == 0 ||
	    count > (uint64_t)(hi - r.p) / 8)
		return R_NOFAST;

	/* the last table entry whose initial location is <= pc */
	{
		const uint8_t *tab = r.p;
		int64_t rel = (int64_t)pc - (int64_t)(uintptr_t)hdr;
		int32_t loc, off;

		a = 0;
		b = (size_t)count;
		while (b - a > 1) {
			size_t m = a + (b - a) / 2;

			memcpy(&loc, tab + 8 * m, 4);
			if ((int64_t)loc <= rel)
				a = m;
			else
				b = m;
		}
		memcpy(&loc, tab + 8 * a, 4);
		if ((int64_t)loc > rel)
			return R_NOFAST;
		memcpy(&off, tab + 8 * a + 4, 4);
		if (!rd_entry(hdr + off, lo, hi, &fde, &is64))
			return R_NOFAST;
	}

	/* the FDE's CIE */
	{
		const uint8_t *field = fde.p;
		uint64_t cie_off;

		if (is64) {
			if (!rd_bytes(&fde, &cie_off, 8))
				return R_NOFAST;
		} else {
			if (!rd_bytes(&fde, &cie_off32, 4))
				return R_NOFAST;
			cie_off = (uint32_t)cie_off32;
		}
		if (cie_off == 0 || cie_off > (uint64_t)(field - lo))
			return R_NOFAST; /* a CIE where an FDE should be */
		if (!rd_entry(field - cie_off, lo, hi, &cieb, &cie64) || !parse_cie(cieb, &c))
			return R_NOFAST;
	}
	if (!rd_enc(&fde, c.fde_enc, 0, false, &pc_begin) ||
	    !rd_enc(&fde, c.fde_enc & 0x0f, 0, false, &pc_range))
		return R_NOFAST;
	if (pc < pc_begin || pc - pc_begin >= pc_range)
		return R_NOFAST;
	if (c.has_z) {
		if (!rd_uleb(&fde, &u) || u > (uint64_t)(fde.end - fde.p))
			return R_NOFAST;
		fde.p += u;
	}

	memset(&init, 0, sizeof(init));
	init.cfa_reg = 0xffff;
	if (!run_cfi(c.insns, &c, pc_begin, UINT64_MAX, &init, NULL))
		return R_NOFAST;
	st = init;
	if (!run_cfi(fde, &c, pc_begin, pc, &st, &init))
		return R_NOFAST;

	/* what libunwind's fast trace calls a standard frame, and nothing else */
	uint64_t rule = 0;

	if (st.cfa_expr || (st.cfa_reg != REG_RSP && st.cfa_reg != REG_RBP))
		return R_NOFAST;
	if (st.cfa_off <= -(1 << 28) || st.cfa_off >= (1 << 28))
		return R_NOFAST;
	for (unsigned i = 0; i < NREGS; i++)
		if (st.kind[i] == K_OTHER)
			return R_NOFAST;
	if (st.kind[REG_RSP] != K_SAME && st.kind[REG_RSP] != K_UNDEF)
		return R_NOFAST;
	switch (st.kind[REG_RA]) {
	case K_UNDEF:
		rule |= R_LAST;
		break;
	case K_OFFSET:
		if (st.off[REG_RA] != -8)
			return R_NOFAST;
		break;
	default:
		return R_NOFAST;
	}
	switch (st.kind[REG_RBP]) {
	case K_UNDEF:
		rule |= R_LAST; /* libunwind: a null rbp location ends the chain */
		break;
	case K_SAME:
		break;
	case K_OFFSET:
		if (st.off[REG_RBP] <= -(1 << 14) || st.off[REG_RBP] >= (1 << 14) ||
		    st.off[REG_RBP] % 8 != 0)
			return R_NOFAST;
		rule |= R_RBP_SAVED | (uint64_t)(uint16_t)(int16_t)st.off[REG_RBP] << 32;
		break;
	default:
		return R_NOFAST;
	}
	if (st.cfa_reg == REG_RSP)
		rule |= R_CFA_RSP;
	rule |= (uint32_t)(int32_t)st.cfa_off;
	return rule;
}

/* ---- the rule cache ------------------------------------------------------ */

/*
 * Open addressing on the lookup address, at most half full. A slot's key
 * goes from 0 to an address once and never changes in that table; its rule
 * is one 64-bit word, written before the key is published (release), and
 * rewritten in place when a flush made it stale (the epoch in the rule).
 * Readers: acquire-load the key, then the rule; no lock, no RMW. A grown
 * table is published with a release store; the old one is never unmapped
 * (a reader may still be probing it): growth doubles, so what is kept is
 * at most the size of the live table.
 */
struct slot {
	_Atomic uint64_t key;
	_Atomic uint64_t rule;
};

struct table {
	size_t mask;
	unsigned shift; /* 64 - log2(slots) */
	size_t used;
	struct slot slot[];
};

#define MIN_SLOTS 4096

static _Atomic(struct table *) cur_table;
static _Atomic unsigned cur_epoch; /* flushes so far; rules carry its low 12 bits */
static atomic_flag insert_lock = ATOMIC_FLAG_INIT;

static inline size_t slot_of(const struct table *t, uint64_t addr)
{
	return (size_t)((addr * 0x9e3779b97f4a7c15ull) >> t->shift);
}

static struct table *table_new(size_t slots)
{
	size_t bytes = sizeof(struct table) + slots * sizeof(struct slot);
	struct table *t = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
	unsigned bits = 0;

	if (t == MAP_FAILED)
		return NULL;
	while ((1ull << bits) < slots)
		bits++;
	t->mask = slots - 1;
	t->shift = 64 - bits;
	t->used = 0;
	return t; /* slots are zero: fresh anonymous memory */
}

/* Context: insert lock held. Returns the slot for addr (existing or empty). */
static struct slot *probe(struct table *t, uint64_t addr)
{
	size_t i = slot_of(t, addr);

	for (;;) {
		uint64_t k = atomic_load_explicit(&t->slot[i].key, memory_order_relaxed);

		if (k == addr || k == 0)
			return &t->slot[i];
		i = (i + 1) & t->mask;
	}
}

/* Context: insert lock held. A table twice as large, holding the current rules. */
static struct table *grow(struct table *old, unsigned epoch)
{
	struct table *t = table_new(old ? 2 * (old->mask + 1) : MIN_SLOTS);

	if (!t || !old)
		return t;
	for (size_t i = 0; i <= old->mask; i++) {
		uint64_t k = atomic_load_explicit(&old->slot[i].key, memory_order_relaxed);
		uint64_t r = atomic_load_explicit(&old->slot[i].rule, memory_order_relaxed);

		if (k && rule_epoch(r) == epoch) {
			struct slot *s = probe(t, k);

			atomic_store_explicit(&s->rule, r, memory_order_relaxed);
			atomic_store_explicit(&s->key, k, memory_order_relaxed);
			t->used++;
		}
	}
	return t;
}

/* Caches rule for addr if nobody else is inserting right now (never waits). */
static void insert(uint64_t addr, uint64_t rule, unsigned epoch)
{
	struct table *t;
	struct slot *s;

	if (atomic_flag_test_and_set_explicit(&insert_lock, memory_order_acquire))
		return;
	t = atomic_load_explicit(&cur_table, memory_order_relaxed);
	if (!t || 2 * (t->used + 1) > t->mask + 1) {
		struct table *n = grow(t, epoch);

		if (!n)
			goto out;
		atomic_store_explicit(&cur_table, n, memory_order_release);
		t = n;
	}
	s = probe(t, addr);
	atomic_store_explicit(&s->rule, rule, memory_order_release);
	if (atomic_load_explicit(&s->key, memory_order_relaxed) == 0) {
		atomic_store_explicit(&s->key, addr, memory_order_release);
		t->used++;
	}
out:
	atomic_flag_clear_explicit(&insert_lock, memory_order_release);
}

/* A cache miss: compile the rule and cache it. */
static SLP_COLD uint64_t miss(uint64_t addr, unsigned epoch)
{
	uint64_t r = compile_rule((uintptr_t)addr) | (uint64_t)epoch << R_EPOCH_SHIFT;

	insert(addr, r, epoch);
	return r;
}

/* The rule of lookup address addr: the cache, or compiled now and cached. */
static inline uint64_t rule_for(struct table *t, uint64_t addr, unsigned epoch)
{
	if (SLP_LIKELY(t != NULL)) {
		size_t i = slot_of(t, addr);

		for (;;) {
			uint64_t k = atomic_load_explicit(&t->slot[i].key, memory_order_acquire);

			if (SLP_LIKELY(k == addr)) {
				uint64_t r = atomic_load_explicit(&t->slot[i].rule,
								  memory_order_acquire);

				if (SLP_LIKELY(rule_epoch(r) == epoch))
					return r;
				break;
			}
			if (k == 0)
				break;
			i = (i + 1) & t->mask;
		}
	}
	return miss(addr, epoch);
}

/*
 * After dlclose. Bumping the epoch makes every cached rule stale at once;
 * when the 12-bit epoch wraps, an old rule could look current again, so
 * then a fresh table replaces the old one (which is kept mapped).
 */
void slp_cfi_flush(void)
{
	unsigned e;

	while (atomic_flag_test_and_set_explicit(&insert_lock, memory_order_acquire))
		sched_yield(); /* dlclose: never a signal handler that interrupted an insert */
	e = atomic_load_explicit(&cur_epoch, memory_order_relaxed) + 1;
	if ((e & R_EPOCH_MASK) == 0)
		atomic_store_explicit(&cur_table, NULL, memory_order_release);
	atomic_store_explicit(&cur_epoch, e, memory_order_release);
	atomic_flag_clear_explicit(&insert_lock, memory_order_release);
}

void slp_cfi_fork_child(void)
{
	atomic_flag_clear_explicit(&insert_lock, memory_order_relaxed);
}

/* ---- this thread's stack --------------------------------------------------- */

/*
 * [lo, hi): the mapping that held this thread's stack pointer at its first
 * capture (a glibc thread's hi is cut at its thread descriptor, which sits
 * above its stack in the same mapping). Reads stay in [sp, hi): mapped for
 * as long as the thread runs on this stack.
 */
struct bounds {
	uintptr_t lo, hi;
	uintptr_t map_hi; /* end of the mapping: identifies it when the main stack grows */
	unsigned misses;  /* captures off the known stack (rate-limits re-reading maps) */
	bool known;	  /* maps was read once (lo, hi stay 0 if that failed) */
};

static _Thread_local struct bounds tls_bounds __attribute__((tls_model("initial-exec")));

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* The mapping holding sp, from /proc/thread-self/maps (plain system calls only). */
static bool mapping_of(uintptr_t sp, uintptr_t *lo, uintptr_t *hi)
{
	char buf[1024];
	uintptr_t a = 0, b = 0;
	int field = 0; /* 0: start, 1: end, 2: rest of the line */
	bool found = false;
	ssize_t n;
	int fd = slp_proc_open("maps");

	if (fd < 0)
		return false;
	while (!found && (n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n && !found; i++) {
			char ch = buf[i];
			int v = hexval(ch);

			if (ch == '\n') {
				field = 0;
				a = b = 0;
			} else if (field == 0) {
				if (v >= 0)
					a = a << 4 | (uintptr_t)v;
				else
					field = ch == '-' ? 1 : 2;
			} else if (field == 1) {
				if (v >= 0) {
					b = b << 4 | (uintptr_t)v;
				} else {
					field = 2;
					if (sp >= a && sp < b) {
						*lo = a;
						*hi = b;
						found = true;
					}
				}
			}
		}
	}
	close(fd);
	return found;
}

static SLP_COLD bool learn_bounds(uintptr_t sp)
{
	struct bounds *bd = &tls_bounds;
	uintptr_t lo, hi, self = (uintptr_t)pthread_self();

	/* after the first try, re-read maps only at the 2nd, 4th, 8th ... miss */
	bd->misses++;
	if (bd->known && (bd->misses & (bd->misses - 1)))
		return false;
	bd->known = true;
	if (!mapping_of(sp, &lo, &hi))
		return false; /* no /proc (a sandbox): libunwind does these captures */
	if (bd->map_hi == 0) {
		bd->lo = lo;
		bd->map_hi = hi;
		bd->hi = self > sp && self < hi ? self : hi;
		return sp < bd->hi;
	}
	/* the main thread's stack grew down: same mapping, lower start */
	if (hi == bd->map_hi && lo < bd->lo) {
		bd->lo = lo;
		return sp >= bd->lo && sp < bd->hi;
	}
	return false; /* another stack: sigaltstack, a coroutine */
}

/* ---- the walk ------------------------------------------------------------- */

/*
 * This thread's rules of its previous capture, by frame index. Successive
 * captures of a thread mostly share their outer frames, and a rule found
 * here comes from an address that does not depend on the frame just read:
 * the walk's chain of dependent loads shrinks to the stack reads (a cache
 * probe hashes the return address first). Never touched by two walks at
 * once: the walk runs with the guard held, so a signal handler that
 * interrupts it records nothing.
 */
#define MEMO 64

/* A rule decoded for the walk (the memo keeps them so). */
#define F_CFA_RSP 1
#define F_RBP_SAVED 2
#define F_LAST 4
#define F_NOFAST 8

struct memo {
	uint64_t key; /* lookup address; 0: none */
	int32_t cfa_off;
	int16_t rbp_off;
	uint8_t flags;
};

static inline struct memo decode(uint64_t key, uint64_t r)
{
	struct memo m = { key, rule_cfa_off(r), rule_rbp_off(r), 0 };

	m.flags = (uint8_t)(((r & R_CFA_RSP) ? F_CFA_RSP : 0) | ((r & R_RBP_SAVED) ? F_RBP_SAVED : 0) |
			    ((r & R_LAST) ? F_LAST : 0) | ((r & R_NOFAST) ? F_NOFAST : 0));
	return m;
}

static _Thread_local struct memo tls_memo[MEMO] __attribute__((tls_model("initial-exec")));
/* cur_epoch when tls_memo was filled: a flush empties it (the whole count, no wrap) */
static _Thread_local unsigned tls_memo_epoch __attribute__((tls_model("initial-exec")));

/*
 * The previous walk of this thread, as the memory reads it made: the walk
 * is a function of its starting registers, the rules (fixed within an
 * epoch) and the words it reads, so a walk that starts from the same sp
 * (and the same rbp, where a frame's CFA came from the rbp it started
 * with) and finds every word it read last time unchanged would produce
 * the same frames. Checking that costs independent loads, where the walk
 * is a chain of dependent ones (each frame's CFA waits for the previous
 * frame's words): a loop that allocates from one call site pays the
 * check, not the walk.
 */
#define REPLAY_READS (2 * (SLP_MAX_DEPTH + SLP_MAX_SKIP) + 2)

struct replay {
	uintptr_t sp0, fp0; /* registers the walk started from */
	unsigned epoch;	    /* cur_epoch of its rules */
	int max;
	int n;		    /* its result; -1: nothing to replay */
	struct slp_cfi_sum sum; /* and what it worked out about it */
	bool need_fp0;	    /* a CFA was computed from fp0 */
	unsigned nreads;
	uintptr_t at[REPLAY_READS]; /* the words read, in order */
	uintptr_t val[REPLAY_READS];
	void *out[SLP_MAX_DEPTH + SLP_MAX_SKIP];
};

static _Thread_local struct replay tls_replay __attribute__((tls_model("initial-exec"))) = { .n = -1 };

/* Whether the previous walk would repeat itself exactly: then buf gets its result. */
static inline bool replayed(const struct replay *rp, uintptr_t sp, uintptr_t fp, unsigned epoch,
			    int max, void **buf)
{
	if (rp->n < 0 || rp->sp0 != sp || rp->epoch != epoch || rp->max != max ||
	    (rp->need_fp0 && rp->fp0 != fp))
		return false;
	for (unsigned i = 0; i < rp->nreads; i++)
		if (*(const uintptr_t *)rp->at[i] != rp->val[i])
			return false;
	memcpy(buf, rp->out, (size_t)rp->n * sizeof(void *));
	return true;
}

__attribute__((noinline)) int slp_cfi_backtrace(void **buf, int max, struct slp_cfi_sum *sum)
{
	uintptr_t pc, sp, fp, sp0, hi, fp0;
	struct table *t;
	unsigned epoch, full_epoch;
	uintptr_t adj = 0; /* 0 for the first frame (its pc), then 1 (return address - 1) */
	int n = 0;
	struct replay *rp = sum ? &tls_replay : NULL;
	struct slp_cfi_sum acc = { 0 }; /* trimming and hashing as the frames come */
	bool own = true;		/* still in the shim's own leading frames */
	bool fp_read = false; /* fp came from a word of the stack, not from fp0 */
	uintptr_t fp_at = 0;  /* that word's address, until a CFA used it */
	unsigned nreads = 0;

	/*
	 * Our own registers. rbp is read first: the compiler may pick rbp for
	 * an output. The pc is the address just past this block, whose CFI row
	 * describes exactly the state the block saw (it changes no register
	 * the CFI speaks of).
	 */
	__asm__ volatile("movq %%rbp, %0\n\t"
			 "movq %%rsp, %1\n\t"
			 "leaq 0(%%rip), %2"
			 : "=r"(fp), "=r"(sp), "=r"(pc));
	sp0 = sp;
	if (SLP_UNLIKELY(!tls_bounds.known || sp < tls_bounds.lo || sp >= tls_bounds.hi) &&
	    !learn_bounds(sp))
		return -1;
	hi = tls_bounds.hi;
	if (sp & 7)
		return -1;
	t = atomic_load_explicit(&cur_table, memory_order_acquire);
	epoch = atomic_load_explicit(&cur_epoch, memory_order_acquire);
	if (SLP_UNLIKELY(epoch != tls_memo_epoch)) {
		memset(tls_memo, 0, sizeof(tls_memo));
		tls_memo_epoch = epoch;
	}
	fp0 = fp;
	full_epoch = epoch;
	if (rp) {
		if (replayed(rp, sp, fp, epoch, max, buf)) {
			*sum = rp->sum;
			sum->replayed = true;
			return rp->n;
		}
		rp->n = -1;
		rp->need_fp0 = false;
		slp_hash_start(&acc.sums);
	}
	epoch &= R_EPOCH_MASK;
	for (unsigned i = 0; n < max; i++) {
		uint64_t look = pc - adj;
		struct memo e;
		uintptr_t cfa, ra;

		if (SLP_LIKELY(i < MEMO)) {
			struct memo *m = &tls_memo[i];

			if (SLP_UNLIKELY(m->key != look))
				*m = decode(look, rule_for(t, look, epoch));
			e = *m;
		} else {
			e = decode(look, rule_for(t, look, epoch));
		}
		if (SLP_UNLIKELY(e.flags & (F_LAST | F_NOFAST))) {
			if (e.flags & F_NOFAST)
				return -1;
			break;
		}
		if (e.flags & F_CFA_RSP) {
			cfa = sp + (uintptr_t)(intptr_t)e.cfa_off;
		} else {
			cfa = fp + (uintptr_t)(intptr_t)e.cfa_off;
			if (rp && !fp_read) {
				rp->need_fp0 = true;
			} else if (rp && fp_at) { /* the word fp came from matters: check it too */
				rp->at[nreads] = fp_at;
				rp->val[nreads++] = fp;
				fp_at = 0;
			}
		}
		/* aligned, strictly outward, on this stack (so cfa - 8 >= sp0) */
		if (SLP_UNLIKELY((cfa & 7) || cfa <= sp || cfa > hi))
			return -1;
		ra = *(const uintptr_t *)(cfa - 8);
		if (rp) {
			rp->at[nreads] = cfa - 8;
			rp->val[nreads++] = ra;
		}
		if (e.flags & F_RBP_SAVED) {
			uintptr_t at = cfa + (uintptr_t)(intptr_t)e.rbp_off;

			if (SLP_UNLIKELY(at < sp0 || at > hi - 8))
				return -1;
			fp = *(const uintptr_t *)at;
			fp_read = true;
			fp_at = at; /* a word that matters only if a CFA comes from it */
		}
		sp = cfa;
		adj = 1;
		if (ra < 0x4000)
			break;
		pc = ra;
		buf[n++] = (void *)ra;
		if (!rp)
			continue;
		if (own && slp_is_self(ra)) {
			acc.first++;
		} else if (acc.n < slp_st.depth) {
			own = false;
			slp_hash_add(&acc.sums, ra);
			acc.n++;
		}
	}
	if (rp) {
		rp->sp0 = sp0;
		rp->fp0 = fp0;
		rp->epoch = full_epoch;
		rp->max = max;
		rp->nreads = nreads;
		memcpy(rp->out, buf, (size_t)n * sizeof(void *));
		rp->n = n;
		rp->sum = acc;
		*sum = acc;
	}
	return n;
}
#endif /* SLP_FAST_UNWIND */
