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
 * makes the recording thread compare the loader's adds/subs counters with
 * those of the last map (stacks.c, record.c); a dlclose() (wrapped, see
 * hooks_dl.c) marks the map dirty.
 *
 * Lock order. dl_iterate_phdr() holds the loader's lock while it runs its
 * callback, and a program may allocate inside its own callback, i.e. wait
 * for our locks while holding the loader's. So the loader is NEVER called
 * with a stream or the dict lock held: slp_modules_sync() scans into a
 * scratch buffer under map_lock (only ever try-locked, so it cannot close
 * a cycle either), then takes them just to copy the records in.
 * (A fork child whose loader lock may be held - loader_gate.c - never scans.)
 *
 * Context: guard held.
 */
#include <elf.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "guard.h"
#include "internal.h"

#define MAX_SEGS 64
#define MAX_BUILD_ID 64
#define REC_HDR 5 /* scratch framing: kind byte + 32-bit payload length */

static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

/* The last scan, built with no stream locked. Protected by map_lock. */
static struct scratch {
	uint8_t *buf;	  /* framed records: kind, u32 length, payload */
	size_t used;
	size_t size;
	bool oom;	  /* a record did not fit: do not emit a partial map */
	size_t nranges;	  /* executable segments, sorted after the scan */
	struct slp_range ranges[SLP_MAX_RANGES];
	size_t ndata;	  /* writable segments of the program's objects (scan.c) */
	struct slp_range data[SLP_MAX_RANGES];
	uintptr_t self_lo; /* our own text */
	uintptr_t self_hi;
	struct slp_range self_data; /* our own writable segments (one span) */
	struct slp_range libc_text; /* libc's and ld.so's executable spans: the */
	struct slp_range ld_text;   /* code that runs exit() (scan.c's stack start) */
	unsigned long long adds, subs; /* the loader's counters at the scan */
} sc_buf;

struct scan {
	bool encode;	/* encode MODULE records (false: only ranges and self) */
	unsigned index; /* entries seen */
	uintptr_t vdso; /* AT_SYSINFO_EHDR */
};

static bool has_counters(size_t size)
{
	return size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(unsigned long long);
}

/*
 * Finds the note (owner, type) in the object's PT_NOTE segments, in memory.
 * Returns its descriptor's length (0: none, or longer than max) and where
 * it is in *found.
 */
static size_t find_note(const struct dl_phdr_info *info, const char *owner, uint32_t type,
			size_t max, const uint8_t **found)
{
	size_t olen = strlen(owner) + 1;

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
			if (nh->n_type == type && nh->n_namesz >= olen && /* Go pads "Go" to 4 */
			    !memcmp(p + sizeof(*nh), owner, olen) && nh->n_descsz <= max) {
				*found = d;
				return nh->n_descsz;
			}
			p = d + desc;
		}
	}
	return 0;
}

/* The path to record for an entry: real exe path, "[vdso]", or an absolute path. */
static const char *module_path(const struct dl_phdr_info *info, const struct scan *sc,
			       char *buf)
{
	const char *name = info->dlpi_name;

	if (sc->vdso &&
	    (uintptr_t)info->dlpi_phdr == sc->vdso + ((const ElfW(Ehdr) *)sc->vdso)->e_phoff)
		return "[vdso]";
	if (sc->index == 0 && (!name || !name[0]))
		return slp_st.exe;
	if (!name)
		return "";
	if (name[0] != '/' && name[0] && realpath(name, buf)) /* buf: PATH_MAX bytes */
		return buf;
	return name;
}

static void add_range(uintptr_t lo, uintptr_t hi)
{
	uintptr_t self = (uintptr_t)&slp_modules_find_self;

	if (self >= lo && self < hi) {
		sc_buf.self_lo = lo;
		sc_buf.self_hi = hi;
	}
	if (sc_buf.nranges < SLP_MAX_RANGES)
		sc_buf.ranges[sc_buf.nranges++] = (struct slp_range){ lo, hi };
}

/* Room for one framed record of up to max payload bytes; NULL when out of memory. */
static uint8_t *scratch_begin(unsigned kind, size_t max)
{
	size_t need = sc_buf.used + REC_HDR + max;

	if (need > sc_buf.size) {
		size_t size = sc_buf.size ? sc_buf.size : 64 * 1024;
		void *p;

		while (size < need)
			size *= 2;
		p = sc_buf.buf ? mremap(sc_buf.buf, sc_buf.size, size, MREMAP_MAYMOVE) :
				 mmap(NULL, size, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			sc_buf.oom = true;
			return NULL;
		}
		sc_buf.buf = p;
		sc_buf.size = size;
	}
	sc_buf.buf[sc_buf.used] = (uint8_t)kind;
	return sc_buf.buf + sc_buf.used + REC_HDR;
}

static void scratch_end(uint8_t *end)
{
	uint8_t *rec = sc_buf.buf + sc_buf.used;
	uint32_t len = (uint32_t)(end - (rec + REC_HDR));

	memcpy(rec + 1, &len, sizeof(len));
	sc_buf.used += REC_HDR + len;
}

static void encode_module(const struct dl_phdr_info *info, const struct scan *sc)
{
	char buf[PATH_MAX];
	const char *path = module_path(info, sc, buf);
	const uint8_t *bid = NULL;
	size_t bid_len = find_note(info, "GNU", NT_GNU_BUILD_ID, MAX_BUILD_ID, &bid);
	size_t plen = strnlen(path, PATH_MAX);
	unsigned nsegs = 0;
	uint8_t *p;

	for (int i = 0; i < info->dlpi_phnum; i++)
		nsegs += info->dlpi_phdr[i].p_type == PT_LOAD && nsegs < MAX_SEGS;
	p = scratch_begin(SLF_REC_MODULE,
			  4 * SLF_MAX_UV_LEN + plen + bid_len + nsegs * 3 * SLF_MAX_UV_LEN);
	if (!p)
		return;
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
	scratch_end(p);
}

/* Is this object libsliceleak.so itself? (its text holds our own code) */
static bool is_self(const struct dl_phdr_info *info)
{
	uintptr_t self = (uintptr_t)&slp_modules_find_self;

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && self >= lo &&
		    self < lo + ph->p_memsz)
			return true;
	}
	return false;
}

/*
 * Writable PT_LOAD segments: the globals the pointer scan reads (scan.c).
 * Ours are kept apart: they hold the writer's state (the last address
 * written, for one) and must be neither scanned nor taken for the
 * program's anonymous memory (the .bss tail is an anonymous mapping).
 */
static void add_data(const struct dl_phdr_info *info)
{
	bool self = is_self(info);

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) || lo >= hi)
			continue;
		if (self) {
			if (!sc_buf.self_data.lo || lo < sc_buf.self_data.lo)
				sc_buf.self_data.lo = lo;
			if (hi > sc_buf.self_data.hi)
				sc_buf.self_data.hi = hi;
		} else if (sc_buf.ndata < SLP_MAX_RANGES) {
			sc_buf.data[sc_buf.ndata++] = (struct slp_range){ lo, hi };
		}
	}
}

/* The span of an object's executable segments. */
static struct slp_range text_span(const struct dl_phdr_info *info)
{
	struct slp_range r = { UINTPTR_MAX, 0 };

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		r.lo = lo < r.lo ? lo : r.lo;
		r.hi = lo + ph->p_memsz > r.hi ? lo + ph->p_memsz : r.hi;
	}
	return r.lo < r.hi ? r : (struct slp_range){ 0, 0 };
}

static int scan_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct scan *sc = data;
	struct slp_range text = text_span(info);
	uintptr_t libc_fn = (uintptr_t)slp_real.free;

	if (libc_fn >= text.lo && libc_fn < text.hi)
		sc_buf.libc_text = text;
	if (info->dlpi_addr && info->dlpi_addr == (uintptr_t)getauxval(AT_BASE))
		sc_buf.ld_text = text;

	if (sc->index == 0 && has_counters(size)) {
		sc_buf.adds = info->dlpi_adds;
		sc_buf.subs = info->dlpi_subs;
	}
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X))
			add_range(info->dlpi_addr + ph->p_vaddr,
				  info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
	}
	add_data(info);
	if (sc->encode)
		encode_module(info, sc);
	sc->index++;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct slp_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Scans the loader's list into sc_buf. Context: map_lock held, no stream locked. */
static void scan(bool encode)
{
	struct scan sc = { .encode = encode, .vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR) };
	uint8_t *p;

	sc_buf.used = 0;
	sc_buf.nranges = 0;
	sc_buf.ndata = 0;
	sc_buf.self_data = (struct slp_range){ 0, 0 };
	sc_buf.oom = false;
	if (encode && (p = scratch_begin(SLF_REC_MODULES_RESET, 0)) != NULL)
		scratch_end(p);
	dl_iterate_phdr(scan_cb, &sc);
	qsort(sc_buf.ranges, sc_buf.nranges, sizeof(sc_buf.ranges[0]), cmp_range);
}

/*
 * Learns our own text range (frames to skip), writing nothing.
 * Context: start-up, before anything is recorded.
 */
void slp_modules_find_self(void)
{
	pthread_mutex_lock(&map_lock);
	scan(false);
	slp_st.mods.self_lo = sc_buf.self_lo;
	slp_st.mods.self_hi = sc_buf.self_hi;
	slp_st.mods.self_data = sc_buf.self_data;
	slp_st.mods.libc_text = sc_buf.libc_text;
	slp_st.mods.ld_text = sc_buf.ld_text;
	pthread_mutex_unlock(&map_lock);
}

/*
 * Copies the scanned map into the log and makes it the known one. After
 * an unload the stacks interned so far are forgotten: their addresses may
 * now hold other code. All of it at one seq, taken under the dict lock, so
 * that every stack defined against this map comes after it (stacks.c).
 * Context: map_lock and the dict lock held, out locked.
 */
static void emit_locked(struct slp_stream *out)
{
	struct slp_modules *m = &slp_st.mods;
	bool unloaded = sc_buf.subs != m->subs;

	out->cur_seq = slp_stream_seq(out);
	for (size_t off = 0; off < sc_buf.used;) {
		uint32_t len;
		uint8_t *p;

		memcpy(&len, sc_buf.buf + off + 1, sizeof(len));
		p = slp_rec_begin(out, sc_buf.buf[off], len);
		memcpy(p, sc_buf.buf + off + REC_HDR, len);
		slp_rec_end(out, p + len);
		off += REC_HDR + len;
	}
	memcpy(m->ranges, sc_buf.ranges, sc_buf.nranges * sizeof(m->ranges[0]));
	m->nranges = sc_buf.nranges;
	memcpy(m->data, sc_buf.data, sc_buf.ndata * sizeof(m->data[0]));
	m->ndata = sc_buf.ndata;
	m->self_data = sc_buf.self_data;
	m->adds = sc_buf.adds;
	m->subs = sc_buf.subs;
	if (unloaded)
		slp_stacks_forget();
	if (slp_opt.verbose)
		slp_warn("module map written (%zu executable segments)", m->nranges);
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

/*
 * Brings the module map in the log up to date: when `force` (a new log)
 * or when the loader's counters moved since the last map (a dlclose that
 * only dropped a reference changes nothing and writes nothing).
 * Gives up at once if another thread is scanning: it writes a map at
 * least as new. Context: guard held; out NULL (this thread's stream is
 * locked here) or the caller's stream, locked.
 */
void slp_modules_sync(struct slp_stream *out, bool force)
{
	unsigned long long c[2] = { 0, 0 };
	unsigned char was;

	if (slp_st.loader_unusable || pthread_mutex_trylock(&map_lock))
		return;
	was = slp_callout_begin(); /* the loader and qsort may allocate */
	/* before looking: a dlclose from now on marks the map dirty again */
	atomic_store(&slp_st.mods.dirty, false);
	dl_iterate_phdr(counters_cb, c);
	if (force || c[0] != slp_st.mods.adds || c[1] != slp_st.mods.subs) {
		struct slp_stream *own;

		scan(true);
		own = out ? out : slp_stream_enter();
		if (own) {
			pthread_mutex_lock(&slp_st.dict_lock);
			if (slp_st.w.fd >= 0 && !sc_buf.oom)
				emit_locked(own);
			pthread_mutex_unlock(&slp_st.dict_lock);
		}
		if (own && !out)
			slp_stream_leave(own);
	}
	slp_callout_end(was);
	pthread_mutex_unlock(&map_lock);
}

/*
 * Where the scratch buffer is, for the pointer scan to leave out (its
 * bytes are ours). Read without map_lock: a concurrent sync may move it,
 * and then the scan reads encoded MODULE records of the program's objects,
 * which is harmless.
 */
struct slp_range slp_modules_scratch(void)
{
	uintptr_t lo = (uintptr_t)__atomic_load_n(&sc_buf.buf, __ATOMIC_RELAXED);

	return (struct slp_range){ lo, lo + __atomic_load_n(&sc_buf.size, __ATOMIC_RELAXED) };
}

/* Fork child: the lock may belong to a thread that does not exist here. */
void slp_modules_fork_child(void)
{
	pthread_mutex_init(&map_lock, NULL);
}

/* Binary search in the sorted executable segments. Context: dict lock held. */
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

/* The Go linker's build-id note (cmd/link: ELF_NOTE_GOBUILDID_TAG). */
#define NT_GO_BUILD_ID 4

static int exe_is_go(struct dl_phdr_info *info, size_t size, void *data)
{
	const uint8_t *desc;

	(void)size;
	*(bool *)data = find_note(info, "Go", NT_GO_BUILD_ID, SIZE_MAX, &desc) > 0;
	return 1; /* the executable is the first entry: stop there */
}

bool slp_modules_exe_is_go(void)
{
	bool go = false;

	dl_iterate_phdr(exe_is_go, &go);
	return go;
}
