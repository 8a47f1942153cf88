/*
 * analyzer/fuzz/one_input.c - reader + replay + dump over one input, with
 * the invariants every outcome must satisfy (see one_input.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analysis.h"
#include "dump.h"
#include "reader.h"
#include "replay.h"
#include "report.h"
#include "state.h"
#include "symbolize.h"

#include "one_input.h"

/* The dump pass prints to /dev/null: only its return value matters here. */
static FILE *devnull(void)
{
	static FILE *f;

	if (!f)
		f = fopen("/dev/null", "w");
	return f;
}

static int broken(const char *what, const char *why, const struct fuzz_outcome *o)
{
	fprintf(stderr,
		"%s: invariant broken: %s (err=%d offset=%" PRIu64 " msg='%s' records=%" PRIu64
		" ended=%d truncated=%d)\n",
		what, why, o->err, o->err_offset, o->err_msg, o->records, o->ended,
		o->truncated);
	return -1;
}

/* The error of a failed reader must point inside the input and say something. */
static bool clean_error(const struct sla_reader *r, size_t size)
{
	return r->err_offset <= size && r->err_msg[0] != '\0' &&
	       memchr(r->err_msg, '\0', sizeof(r->err_msg)) != NULL;
}

/* The second pass: `sliceleak dump` over the same bytes must end the same way. */
static int dump_pass(const uint8_t *data, size_t size, const char *what,
		     const struct fuzz_outcome *o)
{
	struct sla_reader r;
	int err = sla_reader_init_mem(&r, data, size, what);

	if (err == 0 && devnull())
		err = sla_dump_log(devnull(), &r);
	else if (err == 0)
		err = o->err; /* no /dev/null: nothing to compare */
	if (err < 0 && !clean_error(&r, size)) {
		sla_reader_close(&r);
		return broken(what, "dump: error offset outside the input or no message", o);
	}
	if ((err < 0) != (o->err < 0) || (err < 0 && r.err_offset != o->err_offset)) {
		sla_reader_close(&r);
		return broken(what, "dump and replay disagree on the outcome", o);
	}
	sla_reader_close(&r);
	return 0;
}

/*
 * One analysis of the log at `path` (the bytes of outcome o): it fails
 * exactly when the reader failed (unless lenient and past the header), with
 * the reader's offset in its message; when it succeeds both reports render.
 */
static int analysis_one(const char *path, const struct sla_analysis_opts *opts, const char *what,
			const struct fuzz_outcome *o)
{
	struct sla_report_opts ro = { .top = 0 };
	struct sla_analysis an;
	char err[512] = "", want[64];
	bool may_pass;
	int ret;

	ret = sla_analysis_run(&an, opts, (char *const *)&path, 1, err, sizeof(err));
	may_pass = o->err == 0 || (opts->lenient && o->header_ok && o->err == -EBADMSG);
	if (ret < 0 && !(ret == -ENOENT && opts->at == SLA_AT_LABEL) && may_pass) {
		fprintf(stderr, "%s: analysis failed on a log the reader accepts: %s\n", what, err);
		sla_analysis_free(&an);
		return broken(what, "analysis and reader disagree", o);
	}
	if (ret == 0 && !may_pass) {
		sla_analysis_free(&an);
		return broken(what, "analysis accepted a log the reader refuses", o);
	}
	snprintf(want, sizeof(want), ": offset %" PRIu64 ": ", o->err_offset);
	if (o->err < 0 && ret < 0 && !strstr(err, want)) {
		fprintf(stderr, "%s: analysis error '%s' lacks '%s'\n", what, err, want);
		sla_analysis_free(&an);
		return broken(what, "analysis error does not name the reader's offset", o);
	}
	if (ret == 0 && devnull()) {
		struct sla_symbolizer *sym = sla_symbolizer_new(SLA_SYM_NONE);

		sla_report_text(devnull(), &an.res, an.set, sym, &ro);
		sla_report_json(devnull(), &an.res, an.set, sym, &ro);
		sla_symbolizer_free(sym);
	}
	sla_analysis_free(&an);
	return 0;
}

/* The whole analysis, four ways, over a memfd holding the input. */
static int analysis_pass(const uint8_t *data, size_t size, const char *what,
			 const struct fuzz_outcome *o)
{
	static const struct {
		enum sla_at at;
		const char *label;
		bool lenient;
	} ways[] = {
		{ SLA_AT_END, NULL, false },
		{ SLA_AT_PEAK, NULL, false },
		{ SLA_AT_LABEL, "pinned", false },
		{ SLA_AT_END, NULL, true },
	};
	char path[64];
	size_t done = 0;
	int fd = memfd_create("fuzz-log", MFD_CLOEXEC), rc = 0;

	if (fd < 0)
		return 0; /* no memfd: nothing to analyse through */
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);

		if (n <= 0) {
			close(fd);
			return 0;
		}
		done += (size_t)n;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]) && rc == 0; i++) {
		struct sla_analysis_opts opts = {
			.at = ways[i].at,
			.label = ways[i].label,
			.th = SLA_THRESHOLDS_DEFAULT,
			.lenient = ways[i].lenient,
		};

		rc = analysis_one(path, &opts, what, o);
	}
	close(fd);
	return rc;
}

int fuzz_one_input(const uint8_t *data, size_t size, const char *what, unsigned flags,
		   struct fuzz_outcome *out)
{
	struct sla_reader r;
	struct sla_state *st;
	uint64_t read_records;
	bool clean;
	int err;

	memset(out, 0, sizeof(*out));
	err = sla_reader_init_mem(&r, data, size, what);
	out->err = err;
	if (err < 0) {
		out->err_offset = r.err_offset;
		snprintf(out->err_msg, sizeof(out->err_msg), "%s", r.err_msg);
		clean = clean_error(&r, size);
		sla_reader_close(&r);
		if (!clean)
			return broken(what, "header: error offset outside the input or no message",
				      out);
		if (dump_pass(data, size, what, out) < 0)
			return -1;
		return flags & FUZZ_ANALYSIS ? analysis_pass(data, size, what, out) : 0;
	}
	out->header_ok = true;

	st = sla_state_new(what);
	err = sla_replay_run(st, &r, UINT64_MAX);
	out->err = err;
	out->records = st->records;
	out->ended = r.ended;
	out->truncated = r.truncated;
	out->trunc_offset = r.trunc_offset;
	if (err < 0) {
		out->err_offset = r.err_offset;
		snprintf(out->err_msg, sizeof(out->err_msg), "%s", r.err_msg);
	}
	clean = err == 0 || clean_error(&r, size);
	read_records = r.records;
	sla_state_free(st);
	sla_reader_close(&r);

	if (err < 0 && err != -EBADMSG)
		return broken(what, "replay returned an error other than -EBADMSG", out);
	if (!clean)
		return broken(what, "error offset outside the input or no message", out);
	if (err == 0 && out->ended == out->truncated)
		return broken(what, "a log that did not fail must be either ended or truncated",
			      out);
	if (out->truncated && out->trunc_offset > size)
		return broken(what, "truncation offset outside the input", out);
	if (out->records != read_records)
		return broken(what, "replay applied a different number of records than read",
			      out);
	if (dump_pass(data, size, what, out) < 0)
		return -1;
	return flags & FUZZ_ANALYSIS ? analysis_pass(data, size, what, out) : 0;
}
