/* analyzer/cli/run.c - `sliceleak run`: a command under the shim, then its logs. */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "xalloc.h"

/* The build tree's shim when this binary is the build tree's, else the installed one. */
const char *sla_run_shim_path(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t root = strlen(SLA_BUILD_ROOT);

	if (n > 0) {
		self[n] = '\0';
		if (!strncmp(self, SLA_BUILD_ROOT, root) && self[root] == '/' &&
		    access(SLA_SHIM_BUILD, R_OK) == 0)
			return SLA_SHIM_BUILD;
	}
	return SLA_SHIM_INSTALLED;
}

/* The pattern with %p and %e as '*', other % escapes kept: a glob for the logs. */
static char *pattern_glob(const char *pattern)
{
	size_t len = strlen(pattern);
	char *g = sla_xmalloc(len * 2 + 1), *o = g;

	for (const char *p = pattern; *p; p++) {
		if (p[0] == '%' && (p[1] == 'p' || p[1] == 'e')) {
			*o++ = '*';
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			*o++ = '%';
			p++;
		} else {
			if (strchr("*?[\\", *p))
				*o++ = '\\';
			*o++ = *p;
		}
	}
	*o = '\0';
	return g;
}

static bool newer_than(const struct stat *s, const struct timespec *t)
{
	return s->st_mtim.tv_sec > t->tv_sec ||
	       (s->st_mtim.tv_sec == t->tv_sec && s->st_mtim.tv_nsec >= t->tv_nsec);
}

/* Logs matching the pattern, written since `start` (earlier runs' logs are not ours). */
static void find_logs(const char *pattern, const struct timespec *start, struct sla_run *out)
{
	char *g = pattern_glob(pattern);
	glob_t gl;

	if (glob(g, 0, NULL, &gl) == 0) {
		out->logs = sla_xcalloc(gl.gl_pathc, sizeof(*out->logs));
		for (size_t i = 0; i < gl.gl_pathc; i++) {
			struct stat s;

			if (stat(gl.gl_pathv[i], &s) == 0 && S_ISREG(s.st_mode) &&
			    newer_than(&s, start))
				out->logs[out->nlogs++] =
					sla_xstrndup(gl.gl_pathv[i], strlen(gl.gl_pathv[i]));
		}
		globfree(&gl);
	}
	free(g);
}

/* In the child: environment for the shim, then exec. Never returns. */
static void exec_child(char *const *argv, const char *pattern)
{
	const char *shim = sla_run_shim_path();
	const char *pre = getenv("LD_PRELOAD"), *opts = getenv("SLICELEAK_OPTIONS");
	char *v;

	if (asprintf(&v, "%s%s%s", shim, pre && *pre ? ":" : "", pre ? pre : "") < 0)
		_exit(127);
	setenv("LD_PRELOAD", v, 1);
	if (asprintf(&v, "%s%soutput=%s", opts ? opts : "", opts && *opts ? ":" : "", pattern) < 0)
		_exit(127);
	setenv("SLICELEAK_OPTIONS", v, 1);
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	execvp(argv[0], argv);
	fprintf(stderr, "sliceleak: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/*
 * fork + exec with the shim; waits with SIGINT/SIGQUIT ignored, then
 * collects the logs written since just before the start (a second of
 * slack for coarse file-system timestamps).
 */
int sla_run_command(char *const *argv, const char *pattern, struct sla_run *out)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
	struct timespec start;
	int wst;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	clock_gettime(CLOCK_REALTIME, &start);
	start.tv_sec -= 1; /* coarse file system timestamps */
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	pid = fork();
	if (pid < 0) {
		int err = errno;

		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		return -err;
	}
	if (pid == 0)
		exec_child(argv, pattern);
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	out->status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
	find_logs(pattern, &start, out);
	return 0;
}

void sla_run_free(struct sla_run *r)
{
	for (size_t i = 0; i < r->nlogs; i++)
		free(r->logs[i]);
	free(r->logs);
	memset(r, 0, sizeof(*r));
}
