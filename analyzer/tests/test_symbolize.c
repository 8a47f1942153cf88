/*
 * analyzer/tests/test_symbolize.c - the libdw symbolizer against this very binary.
 *
 * The test finds its own module (path, bias, build-id) the way the shim
 * records it, then symbolizes addresses of functions below whose lines it
 * knows from __LINE__: a plain call site, a call inside an always_inline
 * function (two frames), an entry address, a C++ mangled name, and the
 * fallbacks (wrong build-id, missing file, [vdso], SLA_SYM_NONE). It also
 * times 1000 lookups in libc and in this binary (printed, not asserted).
 *
 * Needs the default debugoptimized build (-O2 -g): the DWARF of this file.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "symbolize.h"

static int checks, failures;

#define CHECK(cond)                                                                       \
	do {                                                                              \
		checks++;                                                                 \
		if (!(cond)) {                                                            \
			failures++;                                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                   \
		}                                                                         \
	} while (0)

#define CHECK_EQ(a, b) CHECK((a) == (b))

/* ---- the code under inspection ----------------------------------------- */

static void *volatile g_ra;	   /* last return address captured */
static volatile unsigned g_line; /* __LINE__ of the call that captured it */
static volatile unsigned g_outer_line;

/* Returns its own return address: an address inside the caller's call. */
__attribute__((noinline)) static void *get_ra(void)
{
	void *ra = __builtin_return_address(0);

	__asm__ volatile("" : : "r"(ra) : "memory"); /* not a leaf the compiler can fold */
	return ra;
}

enum { PLAIN_FIRST_LINE = __LINE__ };
__attribute__((noinline)) static void plain_fn(void)
{
	g_ra = get_ra(); g_line = __LINE__;
}
enum { PLAIN_LAST_LINE = __LINE__ };

static inline __attribute__((always_inline)) void inlined_fn(void)
{
	g_ra = get_ra(); g_line = __LINE__;
}

__attribute__((noinline)) static void outer_fn(void)
{
	inlined_fn(); g_outer_line = __LINE__;
	__asm__ volatile("" ::: "memory");
}

/* A C function given the symbol of `int sliceleak::test::mangled_fn(int)`. */
int mangled_fn(int x) __asm__("_ZN9sliceleak4test10mangled_fnEi");
__attribute__((noinline)) int mangled_fn(int x)
{
	return x * 3 + (int)(uintptr_t)g_ra;
}

/* The program's entry point, from crt1.o: code without DWARF. */
extern void _start(void);

/* ---- finding modules as the shim records them --------------------------- */

/* A module found in this process; fields as in SLF_REC_MODULE. */
struct test_mod {
	char path[4096];
	uint64_t bias;
	uint8_t build_id[64];
	size_t build_id_len;
	uint64_t text_start, text_end; /* the executable PT_LOAD, runtime addresses */
};

struct find_ctx {
	uintptr_t addr;	     /* find the module holding addr, or ... */
	const char *name;    /* ... whose path contains name */
	struct test_mod *out;
	int found;
};

/* Reads NT_GNU_BUILD_ID from the PT_NOTE segments of a loaded object. */
static void read_build_id(struct dl_phdr_info *info, struct test_mod *m)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const uint8_t *p, *end;

		if (ph->p_type != PT_NOTE)
			continue;
		p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const uint8_t *name = p + sizeof(*nh);
			const uint8_t *desc = name + ((nh->n_namesz + 3) & ~3u);

			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0 && nh->n_descsz <= sizeof(m->build_id)) {
				memcpy(m->build_id, desc, nh->n_descsz);
				m->build_id_len = nh->n_descsz;
				return;
			}
			p = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
}

static int find_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct find_ctx *c = arg;
	const char *path = info->dlpi_name;
	int hit = 0;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD)
			continue;
		if (c->name ? (path && strstr(path, c->name) != NULL) :
			      (c->addr >= lo && c->addr < lo + ph->p_memsz))
			hit = 1;
		if (ph->p_flags & PF_X) {
			c->out->text_start = lo;
			c->out->text_end = lo + ph->p_memsz;
		}
	}
	if (!hit)
		return 0;
	if (!path || !*path) {
		/* The main program: the shim records its real path. */
		ssize_t n = readlink("/proc/self/exe", c->out->path, sizeof(c->out->path) - 1);

		c->out->path[n > 0 ? n : 0] = '\0';
	} else {
		snprintf(c->out->path, sizeof(c->out->path), "%s", path);
	}
	c->out->bias = info->dlpi_addr;
	read_build_id(info, c->out);
	c->found = 1;
	return 1;
}

static int find_module(uintptr_t addr, const char *name, struct test_mod *out)
{
	struct find_ctx c = { .addr = addr, .name = name, .out = out };

	memset(out, 0, sizeof(*out));
	dl_iterate_phdr(find_cb, &c);
	return c.found;
}

static struct sla_module as_sla(const struct test_mod *m)
{
	return (struct sla_module){
		.path = m->path,
		.bias = m->bias,
		.build_id = m->build_id,
		.build_id_len = m->build_id_len,
	};
}

/* ---- helpers ------------------------------------------------------------ */

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path;
}

static int str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Checks that f is a module+offset frame of m for address a. */
static void check_bare(const struct sla_frame *f, const char *path, uint64_t bias, uint64_t a)
{
	CHECK(f->address == a);
	CHECK(str_eq(f->module, path));
	CHECK(f->offset == a - bias);
	CHECK(f->function == NULL);
	CHECK(f->file == NULL);
	CHECK(f->line == 0);
	CHECK(!f->inlined);
}

/*
 * Every connect() of the process comes here (the executable's definition
 * wins over libc's): a debuginfod query through libcurl would be counted,
 * and refused without touching the network.
 */
static int connect_calls;

/*
 * Declared here, not from <sys/socket.h>: glibc's prototype uses a GNU
 * transparent union that -Wpedantic will not let a definition match. The
 * ABI is the same (int, pointer, 32-bit length).
 */
int connect(int fd, const void *addr, unsigned len);
int connect(int fd, const void *addr, unsigned len)
{
	(void)fd;
	(void)addr;
	(void)len;
	connect_calls++;
	errno = ECONNREFUSED;
	return -1;
}

/* ---- tests -------------------------------------------------------------- */

/* A return address inside plain_fn: its function, file and the call's line. */
static void test_plain(const struct test_mod *self)
{
	struct sla_symbolizer *sym = sla_symbolizer_new(SLA_SYM_DWARF);
	struct sla_module mod = as_sla(self);
	struct sla_frame f[8], g[8];
	uint64_t ra;
	size_t n, n2;

	plain_fn();
	ra = (uint64_t)(uintptr_t)g_ra;
	n = sla_symbolize(sym, &mod, ra, true, f, 8);
	CHECK(n == 1);
	CHECK(str_eq(f[0].function, "plain_fn"));
	CHECK(str_eq(base_name(f[0].file), "test_symbolize.c"));
	CHECK(f[0].line == g_line);
	CHECK(!f[0].inlined);
	CHECK(f[0].address == ra);
	CHECK(f[0].offset == ra - self->bias);
	CHECK(str_eq(f[0].module, self->path));
	CHECK(f[0].module != mod.path); /* the symbolizer's own copy */

	/* Cached: the very same strings come back. */
	n2 = sla_symbolize(sym, &mod, ra, true, g, 8);
	CHECK(n2 == n);
	CHECK(g[0].function == f[0].function);
	CHECK(g[0].file == f[0].file);
	CHECK(g[0].module == f[0].module);
	CHECK(g[0].line == f[0].line);

	/* The entry address, as an exact ip: the function, a line inside it. */
	n = sla_symbolize(sym, &mod, (uint64_t)(uintptr_t)&plain_fn, false, f, 8);
	CHECK(n == 1);
	CHECK(str_eq(f[0].function, "plain_fn"));
	CHECK(str_eq(base_name(f[0].file), "test_symbolize.c"));
	CHECK(f[0].line > PLAIN_FIRST_LINE && f[0].line < PLAIN_LAST_LINE);

	/* Code without DWARF (crt1.o's _start): its symbol, and no borrowed file or line. */
	n = sla_symbolize(sym, &mod, (uint64_t)(uintptr_t)&_start + 8, false, f, 8);
	CHECK(n == 1);
	CHECK(str_eq(f[0].function, "_start"));
	CHECK(f[0].file == NULL && f[0].line == 0);

	/* No build-id recorded: nothing to compare, still symbolized. */
	mod.build_id_len = 0;
	n = sla_symbolize(sym, &mod, ra, true, f, 8);
	CHECK(n == 1 && str_eq(f[0].function, "plain_fn") && f[0].line == g_line);

	CHECK(sla_symbolize(sym, &mod, ra, true, f, 0) == 0);
	sla_symbolizer_free(sym);
}

/* A return address inside inlined code: the inlined frame, then its caller. */
static void test_inlined(const struct test_mod *self)
{
	struct sla_symbolizer *sym = sla_symbolizer_new(SLA_SYM_DWARF);
	struct sla_module mod = as_sla(self);
	struct sla_frame f[8];
	uint64_t ra;
	size_t n;

	outer_fn();
	ra = (uint64_t)(uintptr_t)g_ra;
	n = sla_symbolize(sym, &mod, ra, true, f, 8);
	CHECK(n == 2);
	CHECK(str_eq(f[0].function, "inlined_fn"));
	CHECK(f[0].inlined);
	CHECK(str_eq(base_name(f[0].file), "test_symbolize.c"));
	CHECK(f[0].line == g_line);
	if (n >= 2) {
		CHECK(str_eq(f[1].function, "outer_fn"));
		CHECK(!f[1].inlined);
		CHECK(str_eq(base_name(f[1].file), "test_symbolize.c"));
		CHECK(f[1].line == g_outer_line);
		CHECK(f[1].address == ra && f[1].offset == ra - self->bias);
	}

	/* max cuts the chain, innermost first. */
	n = sla_symbolize(sym, &mod, ra, true, f, 1);
	CHECK(n == 1 && str_eq(f[0].function, "inlined_fn") && f[0].inlined);
	sla_symbolizer_free(sym);
}

/* C++ names come out demangled: ours (from DWARF or .symtab) and libstdc++'s. */
static void test_demangle(const struct test_mod *self)
{
	struct sla_symbolizer *sym = sla_symbolizer_new(SLA_SYM_DWARF);
	struct sla_module mod = as_sla(self);
	struct sla_frame f[8];
	struct test_mod cxx;
	void *lib, *fn;
	size_t n;

	n = sla_symbolize(sym, &mod, (uint64_t)(uintptr_t)&mangled_fn, false, f, 8);
	CHECK(n == 1);
	CHECK(str_eq(f[0].function, "sliceleak::test::mangled_fn(int)"));

	lib = dlopen("libstdc++.so.6", RTLD_NOW);
	CHECK(lib != NULL);
	fn = lib ? dlsym(lib, "_ZNSt6chrono3_V212system_clock3nowEv") : NULL;
	CHECK(fn != NULL);
	if (fn && find_module((uintptr_t)fn, NULL, &cxx)) {
		struct sla_module cm = as_sla(&cxx);

		n = sla_symbolize(sym, &cm, (uint64_t)(uintptr_t)fn, false, f, 8);
		CHECK(n >= 1);
		CHECK(str_eq(f[n - 1].function, "std::chrono::_V2::system_clock::now()"));

		/* Inside functions, not at their start: the symbol that holds the address. */
		static const char *const known[][2] = {
			{ "_Znwm", "operator new(unsigned long)" },
			{ "_ZdlPv", "operator delete(void*)" },
			{ "_ZNSt9exceptionD2Ev", "std::exception::~exception()" },
		};
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
			uint64_t a = (uint64_t)(uintptr_t)dlsym(lib, known[i][0]);

			CHECK(a != 0);
			n = a ? sla_symbolize(sym, &cm, a + 2, false, f, 8) : 0;
			CHECK(n >= 1 && str_eq(f[n - 1].function, known[i][1]));
		}
	} else {
		CHECK(!"libstdc++ module not found");
	}
	if (lib)
		dlclose(lib);
	sla_symbolizer_free(sym);
}

/*
 * Runs one lookup with fd 2 redirected to a temporary file; returns how
 * many times `needle` appears in what was written there.
 */
static int count_stderr(struct sla_symbolizer *sym, const struct sla_module *mod, uint64_t a,
			struct sla_frame *f, size_t *n, const char *needle)
{
	char buf[4096] = "";
	int saved = dup(2), tmp, count = 0;
	FILE *t = tmpfile();
	ssize_t len;

	if (saved < 0 || !t)
		return -1;
	tmp = fileno(t);
	fflush(stderr);
	dup2(tmp, 2);
	*n = sla_symbolize(sym, mod, a, true, f, 8);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	len = pread(tmp, buf, sizeof(buf) - 1, 0);
	buf[len > 0 ? len : 0] = '\0';
	fclose(t);
	for (const char *p = buf; (p = strstr(p, needle)) != NULL; p++)
		count++;
	return count;
}

/* Build-id mismatch, missing file, vDSO, no module, SLA_SYM_NONE: module+offset. */
static void test_fallbacks(const struct test_mod *self)
{
	struct sla_symbolizer *sym = sla_symbolizer_new(SLA_SYM_DWARF);
	struct sla_module mod = as_sla(self), bad = mod;
	struct sla_frame f[8];
	uint8_t wrong[64];
	uint64_t ra;
	size_t n = 0;

	plain_fn();
	ra = (uint64_t)(uintptr_t)g_ra;

	/* A different build-id: warned once, module+offset only. */
	CHECK(self->build_id_len > 0);
	memcpy(wrong, self->build_id, self->build_id_len);
	wrong[0] ^= 0xff;
	bad.build_id = wrong;
	CHECK(count_stderr(sym, &bad, ra, f, &n, "build-id") == 1);
	CHECK(n == 1);
	check_bare(&f[0], self->path, self->bias, ra);
	CHECK(count_stderr(sym, &bad, ra + 1, f, &n, "build-id") == 0); /* once */
	CHECK(n == 1 && f[0].function == NULL);
	/* The file itself is fine for the module that matches. */
	n = sla_symbolize(sym, &mod, ra, true, f, 8);
	CHECK(n == 1 && str_eq(f[0].function, "plain_fn"));

	/* A missing file. */
	struct sla_module missing = { .path = "/nonexistent/sliceleak-test/libgone.so",
				      .bias = 0x7f0000000000ull };
	n = sla_symbolize(sym, &missing, missing.bias + 0x1234, true, f, 8);
	CHECK(n == 1);
	check_bare(&f[0], missing.path, missing.bias, missing.bias + 0x1234);

	/* The vDSO is never opened. */
	struct sla_module vdso = { .path = "[vdso]", .bias = 0x7ffff7fc1000ull };
	n = sla_symbolize(sym, &vdso, vdso.bias + 0x99, false, f, 8);
	CHECK(n == 1);
	check_bare(&f[0], "[vdso]", vdso.bias, vdso.bias + 0x99);

	/* No module holds the address. */
	n = sla_symbolize(sym, NULL, 0x1234, true, f, 8);
	CHECK(n == 1 && f[0].address == 0x1234 && f[0].module == NULL && f[0].function == NULL);

	/* An address far outside the module's code: no crash, still a frame. */
	n = sla_symbolize(sym, &mod, self->bias + (1ull << 40), true, f, 8);
	CHECK(n >= 1 && f[0].address == self->bias + (1ull << 40));
	sla_symbolizer_free(sym);

	/* SLA_SYM_NONE: module+offset even with perfect debug info. */
	sym = sla_symbolizer_new(SLA_SYM_NONE);
	n = sla_symbolize(sym, &mod, ra, true, f, 8);
	CHECK(n == 1);
	check_bare(&f[0], self->path, self->bias, ra);
	sla_symbolizer_free(sym);
}

/*
 * libc's DWARF lives in a separate file, found by build-id under
 * /usr/lib/debug/.build-id/ (Debian's libc6-dbg). Its own test run
 * (--separate-debuginfo), which says SKIP where that file is not
 * installed. Returns false then.
 */
static bool test_separate_debuginfo(const struct test_mod *libc)
{
	struct sla_symbolizer *sym = sla_symbolizer_new(SLA_SYM_DWARF);
	struct sla_module mod = as_sla(libc);
	char debug[256];
	struct sla_frame f[8];
	void *h, *fn;
	int len;
	size_t n;

	len = snprintf(debug, sizeof(debug), "/usr/lib/debug/.build-id/%02x/", libc->build_id[0]);
	for (size_t i = 1; i < libc->build_id_len; i++)
		len += snprintf(debug + len, sizeof(debug) - (size_t)len, "%02x",
				libc->build_id[i]);
	snprintf(debug + len, sizeof(debug) - (size_t)len, ".debug");
	if (libc->build_id_len == 0 || access(debug, R_OK) != 0) {
		printf("SKIP: no separate debug file %s (Debian: libc6-dbg)\n", debug);
		sla_symbolizer_free(sym);
		return false;
	}
	h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	fn = h ? dlsym(h, "qsort") : NULL;
	CHECK(fn != NULL);
	if (fn) {
		n = sla_symbolize(sym, &mod, (uint64_t)(uintptr_t)fn, false, f, 8);
		CHECK(n >= 1 && str_eq(f[n - 1].function, "qsort"));
		CHECK(n >= 1 && f[0].file != NULL && f[0].line > 0);
	}
	if (h)
		dlclose(h);
	sla_symbolizer_free(sym);
	return true;
}

/*
 * With DEBUGINFOD_URLS set, libdwfl's standard search asks the server for
 * any file without local debug info (checked by hand with strace: it
 * connects). The symbolizer must not: analysing a log in CI never goes to
 * the network. libstdc++ has no local debug info here; a missing file has
 * none either.
 */
static void test_no_debuginfod(void)
{
	struct sla_symbolizer *sym = sla_symbolizer_new(SLA_SYM_DWARF);
	struct sla_frame f[8];
	struct test_mod cxx;
	void *lib = dlopen("libstdc++.so.6", RTLD_NOW);
	void *fn = lib ? dlsym(lib, "_ZdlPv") : NULL;
	struct sla_module missing = { .path = "/nonexistent/sliceleak-test/libgone.so",
				      .bias = 0x7f0000000000ull,
				      .build_id = (const uint8_t *)"\x01\x02\x03\x04",
				      .build_id_len = 4 };

	setenv("DEBUGINFOD_URLS", "http://127.0.0.1:9", 1);
	connect_calls = 0;
	CHECK(fn != NULL);
	if (fn && find_module((uintptr_t)fn, NULL, &cxx)) {
		struct sla_module cm = as_sla(&cxx);

		CHECK(sla_symbolize(sym, &cm, (uint64_t)(uintptr_t)fn + 2, true, f, 8) >= 1);
	}
	CHECK(sla_symbolize(sym, &missing, missing.bias + 0x10, true, f, 8) == 1);
	CHECK_EQ(connect_calls, 0);
	unsetenv("DEBUGINFOD_URLS");
	if (lib)
		dlclose(lib);
	sla_symbolizer_free(sym);
}

/* Symbolizes 1000 addresses spread over m's code, twice; prints both times. */
static void time_module(const char *what, const struct test_mod *m)
{
	struct sla_symbolizer *sym = sla_symbolizer_new(SLA_SYM_DWARF);
	struct sla_module mod = as_sla(m);
	uint64_t span = m->text_end - m->text_start;
	struct sla_frame f[8];
	size_t named = 0;
	double t0, t1, t2;

	t0 = now_s();
	for (int i = 0; i < 1000; i++) {
		uint64_t a = m->text_start + span * (uint64_t)i / 1000 + 1;

		if (sla_symbolize(sym, &mod, a, true, f, 8) >= 1 && f[0].function)
			named++;
	}
	t1 = now_s();
	for (int i = 0; i < 1000; i++)
		sla_symbolize(sym, &mod, m->text_start + span * (uint64_t)i / 1000 + 1, true, f, 8);
	t2 = now_s();
	printf("timing: %s (%s): 1000 addresses in %.1f ms cold (%zu named), %.2f ms cached\n",
	       what, base_name(m->path), (t1 - t0) * 1e3, named, (t2 - t1) * 1e3);
	CHECK(named > 0);
	sla_symbolizer_free(sym);
}

int main(int argc, char **argv)
{
	struct test_mod self, libc;

	if (argc > 1 && !strcmp(argv[1], "--separate-debuginfo")) {
		CHECK(find_module(0, "libc.so", &libc));
		if (!failures && !test_separate_debuginfo(&libc))
			return 77; /* meson: skipped */
		printf("%d passed, %d failed\n", checks - failures, failures);
		return failures || !checks ? 1 : 0;
	}
	if (!find_module((uintptr_t)&plain_fn, NULL, &self)) {
		fprintf(stderr, "cannot find this program's module\n");
		return 1;
	}
	test_plain(&self);
	test_inlined(&self);
	test_demangle(&self);
	test_fallbacks(&self);
	test_no_debuginfod();
	time_module("test binary", &self);
	if (find_module(0, "libc.so", &libc))
		time_module("libc", &libc);
	else
		CHECK(!"libc not found");

	printf("%d passed, %d failed\n", checks - failures, failures);
	return failures || !checks ? 1 : 0;
}
