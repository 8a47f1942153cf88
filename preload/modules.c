/*
 * preload/modules.c - the module map: which ELF object sits where.
 *
 * Written at start and again whenever the loader's list changed, so that
 * offline symbolization of every recorded ip is exact: one MODULES_RESET,
 * then one MODULE per dl_iterate_phdr() entry with its load bias, real
 * path, GNU build-id (read from the PT_NOTE in memory) and PT_LOAD segments.
 *
 * Change detection, without wrapping dlopen() (a dlopen wrapper would make
 * libsliceleak.so the "caller" and break the RUNPATH lookup of the real
 * caller): a new stack edge whose ip lies in no known executable segment
 * makes us compare the loader's adds/subs counters with those of our last
 * scan; a dlclose() (wrapped, see hooks_dl.c) marks the map dirty.
 *
 * Context: lock held (or single-threaded start-up / fork child), guard held.
 */
#include <elf.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "internal.h"

#define MAX_SEGS 64
#define MAX_BUILD_ID 64

struct scan {
	bool write;	     /* emit MODULE records (false: only ranges and self) */
	unsigned index;	     /* entries seen */
	uintptr_t vdso;	     /* AT_SYSINFO_EHDR */
	size_t nranges;
	unsigned long long adds, subs;
};

static bool has_counters(size_t size)
{
	return size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(unsigned long long);
}

/* Finds NT_GNU_BUILD_ID in the object's notes, in memory. Returns its length or 0. */
static size_t find_build_id(const struct dl_phdr_info *info, const uint8_t **id)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const uint8_t *p, *end;

		if (ph->p_type != PT_NOTE)
			continue;
		p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while ((size_t)(end - p) >= sizeof(ElfW(Nhdr))) {
			const ElfW(Nhdr) *nh = (const void *)p;
			size_t name = (nh->n_namesz + 3u) & ~3u, desc = (nh->n_descsz + 3u) & ~3u;
			const uint8_t *d = p + sizeof(*nh) + name;

			if (name > (size_t)(end - p) || desc > (size_t)(end - p) ||
			    sizeof(*nh) + name + desc > (size_t)(end - p))
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    !memcmp(p + sizeof(*nh), "GNU", 4) && nh->n_descsz <= MAX_BUILD_ID) {
				*id = d;
				return nh->n_descsz;
			}
			p = d + desc;
		}
	}
	return 0;
}

/* The path to record for an entry: real exe path, "[vdso]", or an absolute path. */
static const char *module_path(const struct dl_phdr_info *info, const struct scan *sc,
			       char *buf, size_t size)
{
	const char *name = info->dlpi_name;

	if (sc->vdso &&
	    (uintptr_t)info->dlpi_phdr == sc->vdso + ((const ElfW(Ehdr) *)sc->vdso)->e_phoff)
		return "[vdso]";
	if (sc->index == 0 && (!name || !name[0]))
		return slp_st.exe;
	if (!name)
		return "";
	if (name[0] != '/' && name[0] && realpath(name, buf))
		return buf;
	(void)size;
	return name;
}

static void add_range(struct scan *sc, uintptr_t lo, uintptr_t hi)
{
	struct slp_modules *m = &slp_st.mods;
	uintptr_t self = (uintptr_t)&slp_modules_find_self;

	if (self >= lo && self < hi) {
		m->self_lo = lo;
		m->self_hi = hi;
	}
	if (sc->nranges < SLP_MAX_RANGES)
		m->ranges[sc->nranges++] = (struct slp_range){ lo, hi };
}

static void write_module(const struct dl_phdr_info *info, const struct scan *sc)
{
	char buf[PATH_MAX];
	const char *path = module_path(info, sc, buf, sizeof(buf));
	const uint8_t *bid = NULL;
	size_t bid_len = find_build_id(info, &bid);
	size_t plen = strnlen(path, PATH_MAX);
	unsigned nsegs = 0;
	uint8_t *p;

	for (int i = 0; i < info->dlpi_phnum; i++)
		nsegs += info->dlpi_phdr[i].p_type == PT_LOAD && nsegs < MAX_SEGS;
	p = slp_rec_begin(SLF_REC_MODULE,
			  4 * SLF_MAX_UV_LEN + plen + bid_len + nsegs * 3 * SLF_MAX_UV_LEN);
	p = slp_put_uv(p, info->dlpi_addr);
	p = slp_put_str(p, path, plen);
	p = slp_put_str(p, bid, bid_len);
	p = slp_put_uv(p, nsegs);
	for (int i = 0, k = 0; i < info->dlpi_phnum && k < (int)nsegs; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		p = slp_put_uv(p, ph->p_vaddr);
		p = slp_put_uv(p, ph->p_memsz);
		p = slp_put_uv(p, ph->p_flags);
		k++;
	}
	slp_rec_end(p);
}

static int scan_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct scan *sc = data;

	if (sc->index == 0 && has_counters(size)) {
		sc->adds = info->dlpi_adds;
		sc->subs = info->dlpi_subs;
	}
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X))
			add_range(sc, info->dlpi_addr + ph->p_vaddr,
				  info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
	}
	if (sc->write)
		write_module(info, sc);
	sc->index++;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct slp_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void scan(bool write)
{
	struct scan sc = { .write = write, .vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR) };
	struct slp_modules *m = &slp_st.mods;

	dl_iterate_phdr(scan_cb, &sc);
	qsort(m->ranges, sc.nranges, sizeof(m->ranges[0]), cmp_range);
	m->nranges = sc.nranges;
	m->adds = sc.adds;
	m->subs = sc.subs;
}

/* Learns our own text range (frames to skip) and the map, writing nothing. */
void slp_modules_find_self(void)
{
	scan(false);
}

/*
 * Returns true when objects were unloaded since the previous map: their
 * addresses may now hold other code, so stack ids interned before must
 * not be reused for new events (the caller forgets them).
 */
bool slp_modules_write(void)
{
	unsigned long long subs = slp_st.mods.subs;
	uint8_t *p;

	atomic_store_explicit(&slp_st.mods.dirty, false, memory_order_relaxed);
	p = slp_rec_begin(SLF_REC_MODULES_RESET, 0);
	slp_rec_end(p);
	scan(true);
	if (slp_opt.verbose)
		slp_warn("module map written (%zu executable segments)", slp_st.mods.nranges);
	return slp_st.mods.subs != subs;
}

static int counters_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	unsigned long long *c = data;

	if (has_counters(size)) {
		c[0] = info->dlpi_adds;
		c[1] = info->dlpi_subs;
	}
	return 1; /* the first entry carries the counters: stop */
}

void slp_modules_refresh_if_changed(void)
{
	unsigned long long c[2] = { 0, 0 };

	dl_iterate_phdr(counters_cb, c);
	if (c[0] != slp_st.mods.adds || c[1] != slp_st.mods.subs)
		slp_modules_write();
}

/* Binary search in the sorted executable segments. */
bool slp_modules_knows(uintptr_t ip)
{
	const struct slp_modules *m = &slp_st.mods;
	size_t lo = 0, hi = m->nranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ip < m->ranges[mid].lo)
			hi = mid;
		else if (ip >= m->ranges[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}
