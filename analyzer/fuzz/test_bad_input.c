/*
 * analyzer/fuzz/test_bad_input.c - the analyzer against logs it must not trust.
 *
 *   test_bad_input [--corpus DIR] [--crashes DIR] [--sliceleak PATH]
 *
 * Any byte sequence gets a clear error naming the file and offset, never a
 * crash or a hang (docs/design.md, section 3). Starting from the seed logs (seeds.c),
 * every truncation at every byte, every single-byte change (four masks),
 * 10000 random inputs and 10000 random mutations of the seeds go through
 * reader + replay + dump (one_input.c). Each input sits right before a
 * PROT_NONE page, so a read past its end faults even without ASan (and an
 * exact malloc'd copy is checked too, for ASan's redzones); each is bounded
 * to 10 s by alarm(). Truncations must read as "truncated" up to the last
 * complete record, exactly. Then the special cases (empty, text, newer
 * major, files on disk, a pipe), the committed seed corpus, the
 * committed crash reproducers, and the real `sliceleak` binary on bad files: exit code 2 and
 * "sliceleak: <path>: offset <n>: <problem>" on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sliceleak/format.h>

#include "check.h"
#include "logbuf.h"
#include "one_input.h"
#include "reader.h"
#include "seeds.h"

#define BAD_MAX_INPUT (1u << 16) /* largest input the guarded buffer holds */
#define HDR_LEN	  sizeof(struct slf_file_header)

/* ---- running one input safely ---------------------------------------------------- */

static struct {
	uint8_t *guard;	     /* the PROT_NONE page; inputs end right before it */
	const char *current; /* what is running, for the hang message */
	unsigned long inputs;
	unsigned long errors, ended, truncated; /* outcomes, for the summary */
} g;

static void on_alarm(int sig)
{
	static const char msg[] = "test_bad_input: HANG (over 10 s) on input: ";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0 ||
	    write(2, g.current, strlen(g.current)) < 0 || write(2, "\n", 1) < 0)
		_exit(1);
	_exit(1);
}

static void setup_guard(void)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = BAD_MAX_INPUT + (size_t)page;
	uint8_t *map = mmap(NULL, len + (size_t)page, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (map == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	g.guard = map + len;
	if (mprotect(g.guard, (size_t)page, PROT_NONE) != 0) {
		perror("mprotect");
		exit(1);
	}
	signal(SIGALRM, on_alarm);
}

/*
 * Runs one input ending at the guard page, then from an exact heap copy.
 * Returns fuzz_one_input()'s result (0: every invariant held), the outcome
 * of the first run in *o.
 */
static int run_input(const uint8_t *data, size_t size, const char *what, struct fuzz_outcome *o)
{
	static const uint8_t nothing[1];
	struct fuzz_outcome o2;
	uint8_t *p, *copy;
	int rc;

	if (size > BAD_MAX_INPUT)
		size = BAD_MAX_INPUT;
	if (!data)
		data = nothing;
	p = g.guard - size;
	memcpy(p, data, size);
	g.current = what;
	alarm(10);
	rc = fuzz_one_input(p, size, what, FUZZ_ANALYSIS, o);
	copy = malloc(size ? size : 1);
	if (copy) {
		memcpy(copy, data, size);
		if (fuzz_one_input(copy, size, what, 0, &o2) != 0)
			rc = -1;
		free(copy);
	}
	alarm(0);
	g.inputs++;
	g.errors += o->err < 0;
	g.ended += o->ended;
	g.truncated += o->truncated;
	return rc;
}

/* ---- the seeds: truncations and byte flips ---------------------------------------- */

/*
 * The byte offset where each complete record of a valid log ends, in order
 * (ends[i] = end of record i). Returns the count.
 */
static size_t record_ends(const struct fuzz_seed *s, uint64_t *ends, size_t max)
{
	struct sla_reader r;
	struct sla_record rec;
	size_t n = 0;
	bool have = false;

	if (sla_reader_init_mem(&r, s->data, s->size, s->name) < 0)
		return 0;
	while (sla_reader_next(&r, &rec) > 0 && n < max) {
		if (have) /* a record ends where the next one starts */
			ends[n++] = rec.offset;
		have = true;
	}
	if (have && n < max)
		ends[n++] = r.truncated ? r.trunc_offset : s->size;
	sla_reader_close(&r);
	return n;
}

/*
 * 2.x: records come out merged, not in file order, but all the records of a
 * chunk become readable together: ends[i] is, for the i-th record in file
 * order, the end of the top-level record holding it (PROCESS, its CHUNK,
 * END), so "complete records at a cut" counts the same way as for 1.x.
 * seqs[i] is its seq (0 for a top-level record), syncs[i] the SYNC value
 * when it is a chunk's first record and a SYNC (2.1), else 0.
 */
static size_t record_ends_v2(const struct fuzz_seed *s, uint64_t *ends, uint64_t *seqs,
			     uint64_t *syncs, size_t max)
{
	const uint8_t *d = s->data, *end = s->data + s->size;
	uint64_t pos = HDR_LEN;
	size_t n = 0;

	while (pos < s->size && n < max) {
		uint64_t len = 0, v = 0, seq = 0, rec_end;
		size_t k = slf_get_uv(d + pos + 1, end, &len);

		if (!k || len > (uint64_t)(end - (d + pos + 1 + k)))
			break; /* the cut last record */
		rec_end = pos + 1 + k + len;
		if (d[pos] != SLF_REC_CHUNK) {
			seqs[n] = syncs[n] = 0;
			ends[n++] = rec_end;
		} else {
			const uint8_t *p = d + pos + 1 + k, *pend = d + rec_end;
			bool first = true;

			p += slf_get_uv(p, pend, &v);	/* tid */
			p += slf_get_uv(p, pend, &seq); /* base seq */
			while (p < pend && n < max) {
				unsigned kind;
				const uint8_t *pay;

				if (d[8] >= 3) { /* kind or dense head, seq_delta */
					kind = *p++;
					if (kind < SLF_DENSE_MIN || (kind & 3) == 3)
						p += slf_get_uv(p, pend, &v);
					else
						v = (kind & 3) + 1;
				} else { /* seq_delta, kind */
					p += slf_get_uv(p, pend, &v);
					kind = *p++;
				}
				seq += v;
				if (d[8] >= 3 && kind >= SLF_DENSE_MIN) {
					pay = p;
					p = slf_dense_end(kind, p, pend);
					if (!p)
						break;
				} else {
					p += slf_get_uv(p, pend, &len);
					pay = p;
					p += len;
				}
				syncs[n] = 0;
				if (first && kind == SLF_REC_SYNC)
					slf_get_uv(pay, p, &syncs[n]);
				first = false;
				seqs[n] = seq;
				ends[n++] = rec_end;
			}
		}
		pos = rec_end;
	}
	return n;
}

/*
 * How many records a log cut at byte k delivers: the complete ones (the
 * first `complete` in file order), and of those in chunks only the ones
 * below the largest SYNC among them, when there is one (reader.h).
 */
static size_t delivered(size_t complete, const uint64_t *seqs, const uint64_t *syncs)
{
	uint64_t cut = 0;
	size_t n = 0;

	for (size_t i = 0; i < complete; i++)
		if (syncs[i] > cut)
			cut = syncs[i];
	if (!cut)
		return complete;
	for (size_t i = 0; i < complete; i++)
		n += !seqs[i] || seqs[i] < cut;
	return n;
}

static void test_seed(const struct fuzz_seed *s)
{
	static uint64_t ends[4096], seqs[4096], syncs[4096];
	struct fuzz_outcome o;
	size_t nrec = s->data[8] >= 2 ? record_ends_v2(s, ends, seqs, syncs, 4096) :
					record_ends(s, ends, 4096);
	char what[128];
	int bad = 0;

	snprintf(what, sizeof(what), "seed %s", s->name);
	CHECK(run_input(s->data, s->size, what, &o) == 0);
	CHECK(o.err == 0);
	CHECK(o.ended == s->ended);
	CHECK(o.truncated == !s->ended);
	CHECK(nrec > 3);
	if (s->data[8] < 2)
		memset(syncs, 0, sizeof(syncs));
	CHECK_EQ_U(o.records, s->ended ? nrec : delivered(nrec, seqs, syncs));

	/*
	 * Every truncation: a short header is an error at the start; from the
	 * header on, a truncated log holding exactly the complete records.
	 */
	for (size_t k = 0; k < s->size; k++) {
		size_t complete = 0;

		snprintf(what, sizeof(what), "seed %s cut at %zu", s->name, k);
		if (run_input(s->data, k, what, &o) != 0) {
			bad++;
			continue;
		}
		if (k < HDR_LEN) {
			bad += !(o.err < 0 && o.err_offset <= k);
			continue;
		}
		while (complete < nrec && ends[complete] <= k)
			complete++;
		if (o.err != 0 || !o.truncated || o.ended ||
		    o.records != delivered(complete, seqs, syncs) ||
		    o.trunc_offset != (complete ? ends[complete - 1] : HDR_LEN)) {
			if (bad++ < 5)
				fprintf(stderr,
					"%s: err=%d truncated=%d records=%llu (expected %zu) "
					"trunc_offset=%llu (expected %llu) msg='%s'\n",
					what, o.err, o.truncated, (unsigned long long)o.records,
					delivered(complete, seqs, syncs), (unsigned long long)o.trunc_offset,
					(unsigned long long)(complete ? ends[complete - 1] : HDR_LEN),
					o.err_msg);
		}
	}
	CHECK_EQ_U(bad, 0);

	/* Every byte changed four ways: clean outcomes; a broken magic is an error. */
	bad = 0;
	for (size_t i = 0; i < s->size; i++) {
		static const uint8_t masks[] = { 0xff, 0x01, 0x80, 0x40 };
		uint8_t *m = malloc(s->size);

		if (!m)
			abort();
		for (size_t k = 0; k < sizeof(masks); k++) {
			memcpy(m, s->data, s->size);
			m[i] ^= masks[k];
			snprintf(what, sizeof(what), "seed %s byte %zu ^ 0x%02x", s->name, i,
				 masks[k]);
			if (run_input(m, s->size, what, &o) != 0)
				bad++;
			else if (i < SLF_MAGIC_LEN && !(o.err < 0 && o.err_offset <= HDR_LEN))
				bad++;
		}
		free(m);
	}
	CHECK_EQ_U(bad, 0);
}

/* ---- random inputs ----------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state; /* xorshift64*: deterministic across runs */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* 10000 random inputs: half behind a valid header, half pure noise. */
static void test_random(void)
{
	static uint8_t buf[1024];
	struct fuzz_outcome o;
	unsigned long errors_before = g.errors;
	char what[64];
	int bad = 0;

	for (int i = 0; i < 10000; i++) {
		size_t size = rnd() % sizeof(buf), from = 0;

		if (i % 2 == 0 && size >= HDR_LEN) {
			/* half of these 1.1 (flat), half 2.0 (chunks) */
			struct slf_file_header h = { .major = i % 4 ? SLF_VERSION_MAJOR : 1,
						     .minor = i % 4 ? SLF_VERSION_MINOR : 1 };

			memcpy(h.magic, SLF_MAGIC, SLF_MAGIC_LEN);
			memcpy(buf, &h, sizeof(h));
			from = sizeof(h);
		}
		for (size_t k = from; k < size; k++)
			buf[k] = (uint8_t)rnd();
		snprintf(what, sizeof(what), "random input %d (%zu bytes)", i, size);
		bad += run_input(buf, size, what, &o) != 0;
	}
	CHECK_EQ_U(bad, 0);
	CHECK(g.errors - errors_before > 5000); /* noise is mostly refused, not accepted */
}

/* 10000 seeds with 1 to 8 random edits: byte sets, deletions, duplications, varint bombs. */
static void test_mutations(void)
{
	static uint8_t buf[BAD_MAX_INPUT];
	size_t nseeds = fuzz_seed_count();
	struct fuzz_outcome o;
	char what[96];
	int bad = 0;

	for (int i = 0; i < 10000; i++) {
		struct fuzz_seed s = fuzz_seed_build((size_t)i % nseeds);
		size_t size = s.size, edits = 1 + rnd() % 8;

		memcpy(buf, s.data, size);
		for (size_t e = 0; e < edits && size > 1; e++) {
			size_t at = rnd() % size, n = 1 + rnd() % 16;

			switch (rnd() % 4) {
			case 0: /* set a byte */
				buf[at] = (uint8_t)rnd();
				break;
			case 1: /* delete a run */
				n = n < size - at ? n : size - at;
				memmove(buf + at, buf + at + n, size - at - n);
				size -= n;
				break;
			case 2: /* duplicate a run */
				n = n < size - at ? n : size - at;
				if (size + n <= sizeof(buf)) {
					memmove(buf + at + n, buf + at, size - at);
					size += n;
				}
				break;
			default: /* a long varint where a length or field may be */
				for (size_t k = at; k < size && k < at + 11; k++)
					buf[k] = 0xff;
				break;
			}
		}
		snprintf(what, sizeof(what), "mutation %d of seed %s", i, s.name);
		bad += run_input(buf, size, what, &o) != 0;
		fuzz_seed_free(&s);
	}
	CHECK_EQ_U(bad, 0);
}

/* ---- special inputs ------------------------------------------------------------------ */

static void test_special(void)
{
	static const char text[] = "This is a text file, not a log.\nline two\n";
	struct fuzz_outcome o;
	struct logbuf b;
	char v[32];

	CHECK(run_input(NULL, 0, "empty input", &o) == 0);
	CHECK(o.err < 0 && o.err_offset == 0);

	CHECK(run_input((const uint8_t *)text, sizeof(text) - 1, "text input", &o) == 0);
	CHECK(o.err < 0 && o.err_offset < HDR_LEN);

	/* A newer major version is refused, naming both versions. */
	lb_init_version(&b, SLF_VERSION_MAJOR + 1, 0);
	lb_process(&b, 1, 0, "/x");
	lb_end(&b, 0);
	CHECK(run_input(b.data, b.len, "newer major", &o) == 0);
	CHECK(o.err < 0 && o.err_offset < HDR_LEN);
	snprintf(v, sizeof(v), "%u.0", SLF_VERSION_MAJOR + 1);
	CHECK(strstr(o.err_msg, v) != NULL);
	snprintf(v, sizeof(v), "%u.%u", SLF_VERSION_MAJOR, SLF_VERSION_MINOR);
	CHECK(strstr(o.err_msg, v) != NULL);
	lb_free(&b);

	/* A record longer than the format allows is corrupt even if the bytes exist. */
	lb_init(&b);
	lb_process(&b, 1, 0, "/x");
	{
		size_t at = b.len;
		uint8_t hdr[1 + SLF_MAX_UV_LEN];
		size_t n = 1;

		hdr[0] = SLF_REC_TIME;
		n += slf_put_uv(hdr + 1, SLF_MAX_PAYLOAD + 1);
		lb_raw(&b, hdr, n);
		CHECK(run_input(b.data, b.len, "oversized length", &o) == 0);
		CHECK(o.err < 0 && o.err_offset >= at && o.err_offset <= b.len);
	}
	lb_free(&b);
}

/* Writes `size` bytes to dir/name; returns the path (static buffer per call site). */
static void write_file(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* sla_reader_open() on awkward files: empty (mmap of 0 bytes), a directory, a pipe. */
static void test_files(const char *dir)
{
	struct fuzz_seed s = fuzz_seed_build(0);
	struct sla_reader r;
	struct sla_record rec;
	char path[512];
	int fds[2], err;

	snprintf(path, sizeof(path), "%s/empty.sllog", dir);
	write_file(path, "", 0);
	CHECK(sla_reader_open(&r, path) < 0);
	CHECK(r.err_offset == 0 && r.err_msg[0] != '\0');
	sla_reader_close(&r);

	CHECK(sla_reader_open(&r, dir) < 0);
	CHECK(r.err_msg[0] != '\0');
	sla_reader_close(&r);

	snprintf(path, sizeof(path), "%s/does-not-exist.sllog", dir);
	CHECK(sla_reader_open(&r, path) < 0);
	CHECK(r.err_msg[0] != '\0');
	sla_reader_close(&r);

	/* A pipe is read into memory; the seed must come out whole. */
	CHECK(s.size < 65536 && pipe(fds) == 0);
	CHECK(write(fds[1], s.data, s.size) == (ssize_t)s.size);
	close(fds[1]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
	err = sla_reader_open(&r, path);
	CHECK(err == 0);
	while (err == 0 && sla_reader_next(&r, &rec) > 0)
		;
	CHECK(err == 0 && r.ended && !r.truncated);
	sla_reader_close(&r);
	close(fds[0]);
	fuzz_seed_free(&s);
}

/*
 * Every file of a committed directory goes through cleanly. The seed corpus
 * (valid = true) must also read without error; crashes/ holds inputs that
 * once broke the analyzer: regression tests, any outcome but a crash.
 */
static void test_dir(const char *dir, bool valid)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int files = 0;
	size_t total = 0;

	CHECK(d != NULL);
	while (d && (e = readdir(d)) != NULL) {
		static uint8_t buf[BAD_MAX_INPUT];
		char path[1024];
		struct fuzz_outcome o;
		FILE *f;
		size_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		CHECK(f != NULL);
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		total += n;
		files++;
		CHECK(run_input(buf, n, path, &o) == 0);
		if (valid)
			CHECK(o.err == 0 && o.records > 0);
	}
	if (d)
		closedir(d);
	if (valid)
		CHECK(files >= 5);
	CHECK(total < 100 * 1024); /* the corpus stays small */
}

/* ---- the real binary ------------------------------------------------------------------ */

/*
 * Runs `sliceleak <sub...> path` with a 20 s bound; returns its exit status
 * (-1 if it did not exit normally) and its stderr in err.
 */
static int run_cli(const char *exe, const char *const *sub, const char *path, char *err,
		   size_t errlen)
{
	const char *argv[8];
	size_t argc = 0, len = 0;
	int pfd[2], status;
	pid_t pid;

	argv[argc++] = exe;
	for (; *sub && argc < 6; sub++)
		argv[argc++] = *sub;
	argv[argc++] = path;
	argv[argc] = NULL;
	if (pipe(pfd) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	g.current = path;
	alarm(20);
	for (;;) {
		ssize_t n = read(pfd[0], err + len, errlen - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == errlen - 1)
			break;
	}
	err[len] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
	alarm(0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Whether err holds a line "sliceleak: <path>: offset <n>: <problem>" with
 * lo <= n <= hi and a problem that is not empty.
 */
static bool has_error_line(const char *err, const char *path, unsigned long long lo,
			   unsigned long long hi)
{
	char prefix[1100];
	const char *p;

	snprintf(prefix, sizeof(prefix), "sliceleak: %s: offset ", path);
	for (p = strstr(err, prefix); p; p = strstr(p + 1, prefix)) {
		char *end;
		unsigned long long n;

		if (p != err && p[-1] != '\n')
			continue;
		p += strlen(prefix);
		if (*p < '0' || *p > '9')
			continue;
		n = strtoull(p, &end, 10);
		if (end[0] == ':' && end[1] == ' ' && end[2] != '\n' && end[2] != '\0' && n >= lo &&
		    n <= hi)
			return true;
	}
	return false;
}

static void test_cli(const char *exe, const char *dir)
{
	static const char *const sub_dump[] = { "dump", NULL };
	static const char *const sub_report[] = { "report", NULL };
	static const char *const sub_check[] = { "check", "--max-retained", "10MiB", NULL };
	static const char *const *const subs[] = { sub_dump, sub_report, sub_check };
	struct {
		const char *name;
		struct logbuf b;
		size_t bad_from; /* the error's offset is at least this */
	} files[6];
	size_t nfiles = 0;

	/* The bad files. */
	files[nfiles].name = "empty.sllog";
	memset(&files[nfiles].b, 0, sizeof(files[nfiles].b));
	files[nfiles++].bad_from = 0;

	files[nfiles].name = "text.sllog";
	memset(&files[nfiles].b, 0, sizeof(files[nfiles].b));
	lb_raw(&files[nfiles].b, "hello, I am not a log\n", 22);
	files[nfiles++].bad_from = 0;

	files[nfiles].name = "newer.sllog";
	lb_init_version(&files[nfiles].b, SLF_VERSION_MAJOR + 1, 0);
	lb_process(&files[nfiles].b, 1, 0, "/x");
	lb_end(&files[nfiles].b, 0);
	files[nfiles++].bad_from = 0;

	files[nfiles].name = "oversized.sllog";
	lb_init(&files[nfiles].b);
	lb_process(&files[nfiles].b, 1, 0, "/x");
	files[nfiles].bad_from = files[nfiles].b.len;
	{
		uint8_t hdr[1 + SLF_MAX_UV_LEN] = { SLF_REC_TIME };
		size_t n = 1 + slf_put_uv(hdr + 1, 1ull << 40);

		lb_raw(&files[nfiles].b, hdr, n);
		lb_raw(&files[nfiles].b, "\0\0\0\0\0\0\0\0", 8);
	}
	nfiles++;

	files[nfiles].name = "after-end.sllog";
	lb_init(&files[nfiles].b);
	lb_process(&files[nfiles].b, 1, 0, "/x");
	lb_end(&files[nfiles].b, 0);
	files[nfiles].bad_from = files[nfiles].b.len;
	lb_time(&files[nfiles].b, 5);
	nfiles++;

	files[nfiles].name = "undefined-stack.sllog";
	lb_init(&files[nfiles].b);
	lb_process(&files[nfiles].b, 1, 0, "/x");
	files[nfiles].bad_from = files[nfiles].b.len;
	p_uv(&files[nfiles].b, 99); /* parent 99 was never defined */
	p_uv(&files[nfiles].b, 0x401000);
	lb_emit(&files[nfiles].b, SLF_REC_STACK);
	lb_end(&files[nfiles].b, 0);
	nfiles++;

	for (size_t i = 0; i < nfiles; i++) {
		char path[512];

		snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
		write_file(path, files[i].b.data, files[i].b.len);
		for (size_t k = 0; k < sizeof(subs) / sizeof(subs[0]); k++) {
			static char err[8192];
			int status = run_cli(exe, subs[k], path, err, sizeof(err));

			if (strstr(err, "unknown command")) {
				printf("skip: 'sliceleak %s' does not exist yet\n", subs[k][0]);
				continue;
			}
			if (status != 2 ||
			    !has_error_line(err, path, files[i].bad_from, files[i].b.len)) {
				fprintf(stderr,
					"sliceleak %s %s: exit %d, expected 2 and \"sliceleak: "
					"%s: offset <n>: ...\" with %zu <= n <= %zu; stderr:\n%s\n",
					subs[k][0], files[i].name, status, path, files[i].bad_from,
					files[i].b.len, err);
			}
			CHECK_EQ_U(status, 2);
			CHECK(has_error_line(err, path, files[i].bad_from, files[i].b.len));
		}
		lb_free(&files[i].b);
	}
}

/* Removes the scratch directory and the files the tests wrote into it. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		char path[1024];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	const char *corpus = NULL, *crashes = NULL, *exe = NULL;
	char dir[] = "/tmp/sliceleak-bad-input.XXXXXX";

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--corpus"))
			corpus = argv[i + 1];
		else if (!strcmp(argv[i], "--crashes"))
			crashes = argv[i + 1];
		else if (!strcmp(argv[i], "--sliceleak"))
			exe = argv[i + 1];
	}
	setup_guard();
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}

	for (size_t i = 0; i < fuzz_seed_count(); i++) {
		struct fuzz_seed s = fuzz_seed_build(i);

		test_seed(&s);
		fuzz_seed_free(&s);
	}
	test_random();
	test_mutations();
	test_special();
	test_files(dir);
	if (corpus)
		test_dir(corpus, true);
	else
		printf("skip: no --corpus given\n");
	if (crashes)
		test_dir(crashes, false);
	if (exe)
		test_cli(exe, dir);
	else
		printf("skip: no --sliceleak given\n");

	printf("inputs: %lu (%lu errors, %lu ended, %lu truncated)\n", g.inputs, g.errors,
	       g.ended, g.truncated);
	remove_dir(dir);
	return check_result();
}
