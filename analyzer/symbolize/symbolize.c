/*
 * analyzer/symbolize/symbolize.c - (module, address) -> function, file, line, with elfutils libdwfl.
 *
 * One Dwfl for the whole analysis, created on the first DWARF lookup. Each
 * recorded ELF file is reported to it once per (path, bias), lazily, with
 * dwfl_report_elf(); libdwfl then finds the debug information itself: in the
 * file, through its build-id under /usr/lib/debug/.build-id/, or through its
 * .gnu_debuglink. debuginfod is never asked (see find_debuginfo()).
 *
 * A lookup yields the chain of inlined frames (innermost first) from the
 * DWARF scopes, the line of the innermost frame from the line table, and the
 * lines of the outer frames from DW_AT_call_file/DW_AT_call_line of the
 * inlined subroutine they call. Files without DWARF still give the ELF
 * symbol name. C++ names are demangled with libstdc++'s __cxa_demangle
 * (elfutils has no public demangler), which is why sla_core links libstdc++.
 *
 * Every string a frame points to is interned in the symbolizer, and every
 * (module, address, is_return_address) is resolved once: a second call
 * returns the same frames, with the same string pointers.
 *
 * Out of memory is fatal here (the analyzer's policy for its own state,
 * xalloc.h): uthash exits on it too, and a half-built cache is worth nothing.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

#include "symbolize.h"
#include "xalloc.h"

/* At most this many frames per address: deeper inline chains are cut. */
#define SYM_MAX_FRAMES 32

/*
 * libstdc++'s demangler, declared with its C-compatible signature (the C++
 * declaration is abi::__cxa_demangle in <cxxabi.h>). Returns a malloc'd
 * string, or NULL with *status != 0 when `mangled` is not a mangled name.
 */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* An interned string; frames point at s. */
struct sym_str {
	UT_hash_handle hh; /* in sla_symbolizer.strings, keyed by s */
	char s[];	   /* NUL-terminated */
};

/* One function symbol of a file, in the file's sorted lookup table. */
struct sym_elfsym {
	uint64_t addr;	  /* runtime start (libdwfl applies the bias) */
	uint64_t size;	  /* st_size; 0 when the symbol has none */
	const char *name; /* owned by libelf, valid until dwfl_end() */
	int rank;	  /* among symbols at one address the highest is kept */
};

/* The address range of one compile unit, in the file's CU table. */
struct sym_cu {
	uint64_t lo, hi; /* [lo, hi) in DWARF addresses (runtime minus cu_bias) */
	Dwarf_Die die;	 /* the CU DIE; valid until dwfl_end() */
};

/* One ELF file reported to libdwfl: one per (path, bias), reported once. */
struct sym_file {
	UT_hash_handle hh;		/* in sla_symbolizer.files, keyed by key */
	char *key;			/* "<bias hex>:<path>" */
	Dwfl_Module *dwmod;		/* NULL when the file could not be read as ELF */
	const unsigned char *build_id;	/* the file's NT_GNU_BUILD_ID, owned by libdwfl */
	int build_id_len;		/* <= 0: the file has none */
	struct sym_elfsym *syms;	/* function symbols by address, built on first use */
	size_t nsyms;
	bool syms_loaded;		/* syms was built (possibly empty) */
	struct sym_cu *cus;		/* CU ranges by lo, when .debug_aranges is missing */
	size_t ncus;
	Dwarf_Addr cu_bias;		/* runtime = DWARF address + cu_bias */
	bool cus_loaded;		/* cus was built (possibly empty) */
};

/* The cache key of one lookup; no padding, so uthash can hash its bytes. */
struct sym_entry_key {
	uint64_t address; /* as given to sla_symbolize() */
	uint64_t is_ra;	  /* 1: looked up at address - 1 */
};

/* The frames of one lookup, kept until sla_symbolizer_free(). */
struct sym_entry {
	UT_hash_handle hh;	   /* in sym_module.cache, keyed by key */
	struct sym_entry_key key;
	size_t nframes;		   /* >= 1 */
	struct sla_frame frames[]; /* innermost first */
};

/* A module as recorded: (path, bias, recorded build-id). */
struct sym_module {
	UT_hash_handle hh;	 /* in sla_symbolizer.modules, keyed by key */
	char *key;		 /* "<bias hex>:<build-id hex>:<path>" */
	const char *path;	 /* interned copy of the recorded path */
	struct sym_file *file;	 /* NULL: module+offset only (mode, vDSO, missing, mismatch) */
	struct sym_entry *cache; /* resolved addresses */
};

struct sla_symbolizer {
	enum sla_symbolizer_mode mode;
	Dwfl *dwfl;		   /* NULL until the first DWARF lookup */
	Dwfl_Callbacks callbacks;  /* must outlive dwfl */
	char *debuginfo_path;	   /* NULL: libdwfl's default ":.debug:/usr/lib/debug" */
	struct sym_module *modules;
	struct sym_file *files;
	struct sym_str *strings;
};


/* Returns the symbolizer's copy of s (NULL for NULL); equal strings share one copy. */
static const char *intern(struct sla_symbolizer *sym, const char *s)
{
	struct sym_str *e;
	size_t len;

	if (!s)
		return NULL;
	len = strlen(s);
	HASH_FIND(hh, sym->strings, s, len, e);
	if (e)
		return e->s;
	e = sla_xcalloc(1, sizeof(*e) + len + 1);
	memcpy(e->s, s, len + 1);
	HASH_ADD_KEYPTR(hh, sym->strings, e->s, len, e);
	return e->s;
}

/* Whether name is an Itanium C++ ABI mangled name. */
static bool is_mangled(const char *name)
{
	return name && name[0] == '_' && name[1] == 'Z';
}

/* Interns a function name, demangled when it is an Itanium C++ mangled name. */
static const char *intern_function(struct sla_symbolizer *sym, const char *name)
{
	const char *r;
	char *demangled;
	int status = -1;

	if (!is_mangled(name))
		return intern(sym, name);
	demangled = __cxa_demangle(name, NULL, NULL, &status);
	if (!demangled || status != 0) {
		free(demangled);
		return intern(sym, name);
	}
	r = intern(sym, demangled);
	free(demangled);
	return r;
}

/* Formats a key with asprintf, dying on failure. */
static char *xkey(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xkey(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		sla_die("out of memory while symbolizing");
	return s;
}

/*
 * libdwfl's standard search (build-id tree, then .gnu_debuglink next to the
 * file, in .debug/ and under /usr/lib/debug) falls back to debuginfod when
 * DEBUGINFOD_URLS is set, i.e. it may go to the network. An analyzer run in
 * CI must not, so with DEBUGINFOD_URLS set only the local build-id tree is
 * searched.
 */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
			  const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			  char **debuginfo_file_name)
{
	const char *urls = getenv("DEBUGINFOD_URLS");

	if (!urls || !*urls)
		return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
						    debuglink_file, debuglink_crc,
						    debuginfo_file_name);
	return dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name,
					    debuglink_file, debuglink_crc, debuginfo_file_name);
}

/* Creates the one Dwfl on first use. Returns NULL if libdwfl cannot. */
static Dwfl *get_dwfl(struct sla_symbolizer *sym)
{
	if (sym->dwfl)
		return sym->dwfl;
	sym->callbacks = (Dwfl_Callbacks){
		.find_elf = dwfl_build_id_find_elf,
		.find_debuginfo = find_debuginfo,
		.section_address = dwfl_offline_section_address,
		.debuginfo_path = &sym->debuginfo_path,
	};
	sym->dwfl = dwfl_begin(&sym->callbacks);
	return sym->dwfl;
}

/*
 * Returns the file `path` reported at `bias`, reporting it on first use.
 * A (path, bias) is never reported twice: libdwfl treats a second report of
 * the same range as an overlap and would free the first module.
 */
static struct sym_file *get_file(struct sla_symbolizer *sym, const char *path, uint64_t bias)
{
	char *key = xkey("%" PRIx64 ":%s", bias, path);
	struct sym_file *f;
	Dwfl *dwfl;

	HASH_FIND_STR(sym->files, key, f);
	if (f) {
		free(key);
		return f;
	}
	f = sla_xcalloc(1, sizeof(*f));
	f->key = key;
	HASH_ADD_KEYPTR(hh, sym->files, f->key, strlen(f->key), f);

	dwfl = get_dwfl(sym);
	if (!dwfl)
		return f;
	dwfl_report_begin_add(dwfl);
	f->dwmod = dwfl_report_elf(dwfl, path, path, -1, bias, false);
	dwfl_report_end(dwfl, NULL, NULL);
	if (f->dwmod) {
		GElf_Addr vaddr;

		f->build_id_len = dwfl_module_build_id(f->dwmod, &f->build_id, &vaddr);
	}
	return f;
}

/* Orders by address, the best-ranked first among equal addresses, then by name. */
static int cmp_elfsym(const void *a, const void *b)
{
	const struct sym_elfsym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Builds f's table of function symbols sorted by address. libdwfl's own
 * dwfl_module_addrinfo() scans the whole symbol table on every call (about
 * 0.25 ms per lookup in libc); a sorted table makes a lookup a binary
 * search. At one address (aliases) a global name beats a weak one, which
 * beats a local one: `malloc`, not `__libc_malloc`.
 */
static void load_symbols(struct sym_file *f)
{
	int n = dwfl_module_getsymtab(f->dwmod);
	size_t k = 0, out = 0;

	f->syms_loaded = true;
	if (n <= 0)
		return;
	f->syms = sla_xcalloc(1, (size_t)n * sizeof(*f->syms));
	for (int i = 0; i < n; i++) {
		GElf_Sym s;
		GElf_Addr addr;
		GElf_Word shndx;
		Elf *elf;
		Dwarf_Addr bias;
		const char *name =
			dwfl_module_getsym_info(f->dwmod, i, &s, &addr, &shndx, &elf, &bias);
		int type = GELF_ST_TYPE(s.st_info), bind = GELF_ST_BIND(s.st_info);

		if (!name || !*name || shndx == SHN_UNDEF ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC))
			continue;
		f->syms[k++] = (struct sym_elfsym){
			.addr = addr,
			.size = s.st_size,
			.name = name,
			.rank = bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0,
		};
	}
	qsort(f->syms, k, sizeof(*f->syms), cmp_elfsym);
	for (size_t i = 0; i < k; i++) /* keep the first (best) of each address */
		if (out == 0 || f->syms[out - 1].addr != f->syms[i].addr)
			f->syms[out++] = f->syms[i];
	f->nsyms = out;
}

/*
 * The name of the function symbol that holds pc, or NULL. A symbol whose
 * range ends before pc may be nested in a larger one just before it (a few
 * are tried); a sizeless symbol holds everything up to the next one.
 */
static const char *lookup_symbol(struct sym_file *f, uint64_t pc)
{
	size_t lo = 0, hi;

	if (!f->syms_loaded)
		load_symbols(f);
	hi = f->nsyms;
	while (lo < hi) { /* lo = the first symbol starting after pc */
		size_t mid = lo + (hi - lo) / 2;

		if (f->syms[mid].addr <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	for (size_t j = lo; j > 0 && lo - j < 16; j--)
		if (pc - f->syms[j - 1].addr < f->syms[j - 1].size)
			return f->syms[j - 1].name;
	return f->syms[lo - 1].size == 0 ? f->syms[lo - 1].name : NULL;
}

static int cmp_cu(const void *a, const void *b)
{
	const struct sym_cu *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/*
 * Builds f's table of compile-unit ranges sorted by start. libdw 0.188
 * finds the CU of an address only through .debug_aranges, which clang does
 * not emit by default: without this table a clang-built program would get
 * function names but no files, lines or inlined frames.
 */
static void load_cus(struct sym_file *f)
{
	Dwarf *dw = dwfl_module_getdwarf(f->dwmod, &f->cu_bias);
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie, subdie;
	Dwarf_Half version;
	uint8_t unit_type;
	size_t cap = 0;

	f->cus_loaded = true;
	if (!dw)
		return;
	while (dwarf_get_units(dw, cu, &cu, &version, &unit_type, &cudie, &subdie) == 0) {
		Dwarf_Addr base, lo, hi;
		ptrdiff_t off = 0;

		if (unit_type != DW_UT_compile)
			continue; /* type, partial and skeleton units hold no code of their own */
		while ((off = dwarf_ranges(&cudie, off, &base, &lo, &hi)) > 0) {
			if (lo >= hi)
				continue;
			if (f->ncus == cap) {
				cap = cap ? 2 * cap : 64;
				f->cus = sla_xrealloc(f->cus, cap * sizeof(*f->cus));
			}
			f->cus[f->ncus++] = (struct sym_cu){ .lo = lo, .hi = hi, .die = cudie };
		}
	}
	qsort(f->cus, f->ncus, sizeof(*f->cus), cmp_cu);
}

/*
 * The CU DIE that holds runtime address pc, and the bias to subtract from
 * pc for DWARF addresses; NULL when the file has no DWARF for pc. Asks
 * libdwfl (.debug_aranges) first, then the CU table.
 *
 * libdwfl's lookup treats the address ranges as if they had no gaps: an
 * address in code without DWARF (_start from crt1.o, hand-written assembly)
 * lands in the CU before it, and its line table then yields that CU's last
 * line. So the CU must really contain pc.
 */
static Dwarf_Die *find_cu(struct sym_file *f, Dwarf_Addr pc, Dwarf_Addr *bias)
{
	Dwarf_Die *cudie = dwfl_module_addrdie(f->dwmod, pc, bias);
	size_t lo = 0, hi;

	if (cudie && dwarf_haspc(cudie, pc - *bias) > 0)
		return cudie;
	if (!f->cus_loaded)
		load_cus(f);
	*bias = f->cu_bias;
	if (pc < f->cu_bias)
		return NULL;
	pc -= f->cu_bias;
	hi = f->ncus;
	while (lo < hi) { /* lo = the first CU range starting after pc */
		size_t mid = lo + (hi - lo) / 2;

		if (f->cus[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t j = lo; j > 0 && lo - j < 16; j--)
		if (pc < f->cus[j - 1].hi)
			return &f->cus[j - 1].die;
	return NULL;
}

static bool build_id_matches(const struct sym_file *f, const struct sla_module *mod)
{
	if (mod->build_id_len == 0)
		return true; /* nothing recorded: nothing to compare */
	return f->build_id_len > 0 && (size_t)f->build_id_len == mod->build_id_len &&
	       memcmp(f->build_id, mod->build_id, mod->build_id_len) == 0;
}

/* Whether the recorded path names a file we may open (not "[vdso]" and the like). */
static bool is_file_path(const char *path)
{
	return path[0] != '\0' && path[0] != '[';
}

/*
 * Returns the entry for a recorded module, creating it (and reporting its
 * file) on first use. A build-id mismatch is warned about here, once per
 * recorded module.
 */
static struct sym_module *get_module(struct sla_symbolizer *sym, const struct sla_module *mod)
{
	const char *path = mod->path ? mod->path : "";
	char *hex = sla_xcalloc(1, 2 * mod->build_id_len + 1);
	struct sym_module *m;
	char *key;

	for (size_t i = 0; i < mod->build_id_len; i++)
		sprintf(hex + 2 * i, "%02x", mod->build_id[i]);
	key = xkey("%" PRIx64 ":%s:%s", mod->bias, hex, path);
	free(hex);
	HASH_FIND_STR(sym->modules, key, m);
	if (m) {
		free(key);
		return m;
	}
	m = sla_xcalloc(1, sizeof(*m));
	m->key = key;
	m->path = intern(sym, path);
	HASH_ADD_KEYPTR(hh, sym->modules, m->key, strlen(m->key), m);

	if (sym->mode != SLA_SYM_DWARF || !is_file_path(path))
		return m;
	m->file = get_file(sym, path, mod->bias);
	if (!m->file->dwmod) {
		m->file = NULL; /* missing or not ELF: module+offset */
	} else if (!build_id_matches(m->file, mod)) {
		fprintf(stderr,
			"sliceleak: warning: %s: build-id differs from the one recorded in the "
			"log (the file changed since the run); its frames show module+offset "
			"only\n",
			path);
		m->file = NULL;
	}
	return m;
}

/* A string attribute of a DIE, following DW_AT_abstract_origin and DW_AT_specification. */
static const char *die_string(Dwarf_Die *die, unsigned name)
{
	Dwarf_Attribute attr;

	return dwarf_formstring(dwarf_attr_integrate(die, name, &attr));
}

/*
 * The name of a function DIE; `symname` is the ELF symbol holding the
 * address for the outermost function, NULL for inlined ones. A mangled C++
 * name carries namespaces and parameters that DW_AT_name lacks, so it comes
 * first, from DWARF or else from the symbol table. Otherwise DW_AT_name is
 * the clean source name: a C linkage name is an asm label (glibc's
 * `__GI_qsort` for `qsort`) and a C symbol may carry a `.cold` or
 * `.constprop.0` suffix.
 */
static const char *die_function_name(Dwarf_Die *die, const char *symname)
{
	const char *linkage = die_string(die, DW_AT_linkage_name);
	const char *name;

	if (!linkage)
		linkage = die_string(die, DW_AT_MIPS_linkage_name);
	if (is_mangled(linkage))
		return linkage;
	if (is_mangled(symname))
		return symname;
	name = die_string(die, DW_AT_name);
	if (name)
		return name;
	return linkage ? linkage : symname;
}

/* A udata attribute of a DIE (not integrated: call sites are concrete). */
static bool die_udata(Dwarf_Die *die, unsigned name, Dwarf_Word *out)
{
	Dwarf_Attribute attr;

	return dwarf_formudata(dwarf_attr(die, name, &attr), out) == 0;
}

/*
 * Fills fr[0..cap) with the function frames that hold DWARF address
 * `dwpc` of CU `cudie`, innermost first, from the DWARF scopes. fr[0]'s file and line must already be set
 * from the line table; the outer frames get theirs from the call site of
 * the inlined subroutine inside them. Returns the number of frames, 0 when
 * the module has no DWARF for pc.
 */
static size_t inline_chain(struct sla_symbolizer *sym, Dwarf_Die *cudie, Dwarf_Addr dwpc,
			   const char *symname, struct sla_frame *fr, size_t cap)
{
	Dwarf_Die *scopes = NULL, inner, cu;
	Dwarf_Files *files = NULL;
	const char *call_file = NULL;
	Dwarf_Word call_line = 0;
	size_t n = 0;
	int nscopes;

	nscopes = dwarf_getscopes(cudie, dwpc, &scopes);
	if (nscopes <= 0) {
		free(scopes);
		return 0;
	}
	/*
	 * dwarf_getscopes() continues past an inlined subroutine into its
	 * abstract origin's scopes; the concrete nesting (which function the
	 * code was inlined into) is the chain of DIEs that contain the
	 * innermost scope.
	 */
	inner = scopes[0];
	free(scopes);
	scopes = NULL;
	nscopes = dwarf_getscopes_die(&inner, &scopes);
	if (nscopes <= 0) {
		free(scopes);
		return 0;
	}
	if (dwarf_diecu(&inner, &cu, NULL, NULL))
		(void)dwarf_getsrcfiles(&cu, &files, NULL); /* no files: no call_file */

	for (int i = 0; i < nscopes && n < cap; i++) {
		Dwarf_Die *die = &scopes[i];
		int tag = dwarf_tag(die);
		Dwarf_Word idx;

		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram &&
		    tag != DW_TAG_entry_point)
			continue; /* lexical blocks and the like */
		if (n > 0) {
			fr[n].file = intern(sym, call_file);
			fr[n].line = (unsigned)call_line;
		}
		if (tag != DW_TAG_inlined_subroutine) {
			fr[n++].function = intern_function(sym, die_function_name(die, symname));
			break; /* the outermost function: done */
		}
		fr[n].function = intern_function(sym, die_function_name(die, NULL));
		fr[n++].inlined = true;

		/* Where this inlined body was called from: the next frame's location. */
		call_file = NULL;
		call_line = 0;
		if (files && die_udata(die, DW_AT_call_file, &idx))
			call_file = dwarf_filesrc(files, idx, NULL, NULL);
		if (!die_udata(die, DW_AT_call_line, &call_line) || call_line > UINT32_MAX)
			call_line = 0;
	}
	free(scopes);
	return n;
}

/*
 * Resolves runtime address `pc` (already minus 1 for return addresses) in a
 * module that has a usable file. Returns the number of frames (>= 1).
 */
static size_t resolve(struct sla_symbolizer *sym, struct sym_file *f, Dwarf_Addr pc,
		      struct sla_frame *fr, size_t cap)
{
	const char *symname, *file = NULL;
	Dwarf_Addr dwbias = 0;
	Dwarf_Die *cudie;
	int lineno = 0;
	size_t n = 0;

	symname = lookup_symbol(f, pc);
	cudie = find_cu(f, pc, &dwbias);
	if (cudie) { /* the line table of the CU that holds pc, never a neighbour's */
		Dwarf_Line *dl = dwarf_getsrc_die(cudie, pc - dwbias);

		if (dl && dwarf_lineno(dl, &lineno) == 0)
			file = dwarf_linesrc(dl, NULL, NULL);
	}
	fr[0].file = intern(sym, file);
	fr[0].line = file && lineno > 0 ? (unsigned)lineno : 0;

	if (cudie)
		n = inline_chain(sym, cudie, pc - dwbias, symname, fr, cap);
	if (n == 0) {
		fr[0].function = intern_function(sym, symname);
		n = 1;
	}
	return n;
}

struct sla_symbolizer *sla_symbolizer_new(enum sla_symbolizer_mode mode)
{
	struct sla_symbolizer *sym = calloc(1, sizeof(*sym));

	if (sym)
		sym->mode = mode;
	return sym;
}

void sla_symbolizer_free(struct sla_symbolizer *sym)
{
	struct sym_module *m, *mtmp;
	struct sym_entry *e, *etmp;
	struct sym_file *f, *ftmp;
	struct sym_str *s, *stmp;

	if (!sym)
		return;
	HASH_ITER(hh, sym->modules, m, mtmp) {
		HASH_ITER(hh, m->cache, e, etmp) {
			HASH_DEL(m->cache, e);
			free(e);
		}
		HASH_DEL(sym->modules, m);
		free(m->key);
		free(m);
	}
	HASH_ITER(hh, sym->files, f, ftmp) {
		HASH_DEL(sym->files, f);
		free(f->syms);
		free(f->cus);
		free(f->key);
		free(f);
	}
	HASH_ITER(hh, sym->strings, s, stmp) {
		HASH_DEL(sym->strings, s);
		free(s);
	}
	if (sym->dwfl)
		dwfl_end(sym->dwfl);
	free(sym);
}

size_t sla_symbolize(struct sla_symbolizer *sym, const struct sla_module *mod, uint64_t address,
		     bool is_return_address, struct sla_frame *out, size_t max)
{
	struct sla_frame tmp[SYM_MAX_FRAMES];
	struct sym_entry_key key = { .address = address, .is_ra = is_return_address };
	struct sym_module *m;
	struct sym_entry *e;
	size_t n;

	if (max == 0)
		return 0;
	if (!mod) {
		out[0] = (struct sla_frame){ .address = address, .offset = address };
		return 1;
	}
	m = get_module(sym, mod);
	if (!m->file) {
		out[0] = (struct sla_frame){
			.address = address,
			.module = m->path,
			.offset = address - mod->bias,
		};
		return 1;
	}

	HASH_FIND(hh, m->cache, &key, sizeof(key), e);
	if (!e) {
		memset(tmp, 0, sizeof(tmp));
		n = resolve(sym, m->file, is_return_address ? address - 1 : address, tmp,
			    SYM_MAX_FRAMES);
		e = sla_xcalloc(1, sizeof(*e) + n * sizeof(e->frames[0]));
		e->key = key;
		e->nframes = n;
		for (size_t i = 0; i < n; i++) {
			e->frames[i] = tmp[i];
			e->frames[i].address = address;
			e->frames[i].module = m->path;
			e->frames[i].offset = address - mod->bias;
		}
		HASH_ADD(hh, m->cache, key, sizeof(key), e);
	}
	n = e->nframes < max ? e->nframes : max;
	memcpy(out, e->frames, n * sizeof(out[0]));
	return n;
}
