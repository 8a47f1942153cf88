/* analyzer/cli/run.c - `sliceleak run`: a command under the shim, then its logs. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"
#include "xalloc.h"

/*
 * The build tree's shim when this binary is the build tree's; else the
 * installed one beside this binary (bin/../lib/...: a DESTDIR install or a
 * moved prefix), else the configured install path.
 */
const char *sla_run_shim_path(void)
{
	static char near[PATH_MAX + sizeof(SLA_SHIM_FROM_BINDIR) + 1];
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t root = strlen(SLA_BUILD_ROOT);

	if (n <= 0)
		return SLA_SHIM_INSTALLED;
	self[n] = '\0';
	if (!strncmp(self, SLA_BUILD_ROOT, root) && self[root] == '/' &&
	    access(SLA_SHIM_BUILD, R_OK) == 0)
		return SLA_SHIM_BUILD;
	slash = strrchr(self, '/');
	if (SLA_SHIM_FROM_BINDIR[0] != '/' && slash) {
		*slash = '\0';
		snprintf(near, sizeof(near), "%s/%s", self, SLA_SHIM_FROM_BINDIR);
		if (access(near, R_OK) == 0)
			return near;
	}
	return SLA_SHIM_INSTALLED;
}

static void push(char ***list, size_t *n, char *item)
{
	*list = sla_xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = item;
}

/*
 * Reads the registry the run's shims wrote: "log PID PATH" and "untraced
 * PID NAME" lines. A registered log that is gone or empty is skipped, with
 * the reason.
 */
static void read_registry(const char *registry, struct sla_run *out)
{
	FILE *f = fopen(registry, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f)
		return;
	while ((len = getline(&line, &cap, f)) > 0) {
		char kind[16], *item;
		int pid, off = 0;
		struct stat st;

		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (sscanf(line, "%15s %d %n", kind, &pid, &off) < 2 || !off)
			continue;
		if (!strcmp(kind, "untraced")) {
			if (asprintf(&item, "%s (pid %d)", line + off, pid) >= 0)
				push(&out->untraced, &out->nuntraced, item);
		} else if (!strcmp(kind, "log")) {
			const char *why = stat(line + off, &st) < 0 ? strerror(errno) :
					  !S_ISREG(st.st_mode)	 ? "not a regular file" :
					  st.st_size == 0		 ? "empty" :
										   NULL;

			if (!why)
				push(&out->logs, &out->nlogs, sla_xstrndup(line + off, strlen(line + off)));
			else if (asprintf(&item, "%s: %s", line + off, why) >= 0)
				push(&out->skipped, &out->nskipped, item);
		}
	}
	free(line);
	fclose(f);
}

/* In the child: environment for the shim, then exec. Never returns. */
static void exec_child(char *const *argv, const char *pattern, const char *trace,
		       const char *registry)
{
	const char *shim = sla_run_shim_path();
	const char *pre = getenv("LD_PRELOAD"), *opts = getenv("SLICELEAK_OPTIONS");
	char *v, cwd[PATH_MAX];
	/* relative to run's directory, not each process's: a script's cd moves no log */
	bool here = pattern[0] != '/' && getcwd(cwd, sizeof(cwd)) && !strchr(cwd, ':');

	if (asprintf(&v, "%s%s%s", shim, pre && *pre ? ":" : "", pre ? pre : "") < 0)
		_exit(127);
	setenv("LD_PRELOAD", v, 1);
	if (asprintf(&v, "%s%soutput=%s%s%s%s%s:registry=%s", opts ? opts : "",
		     opts && *opts ? ":" : "", here ? cwd : "", here ? "/" : "", pattern,
		     trace ? ":trace=" : "", trace ? trace : "", registry) < 0)
		_exit(127);
	setenv("SLICELEAK_OPTIONS", v, 1);
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	execvp(argv[0], argv);
	fprintf(stderr, "sliceleak: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/*
 * fork + exec with the shim; waits with SIGINT/SIGQUIT ignored, then reads
 * the registry of the logs the run's processes created.
 */
int sla_run_command(char *const *argv, const char *pattern, const char *trace,
		    struct sla_run *out)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
	const char *tmp = getenv("TMPDIR");
	char *registry;
	int wst, fd, err = 0;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	if (asprintf(&registry, "%s/sliceleak-run.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
		return -ENOMEM;
	fd = mkstemp(registry);
	if (fd < 0) {
		err = errno;
		free(registry);
		return -err;
	}
	close(fd);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	pid = fork();
	if (pid == 0)
		exec_child(argv, pattern, trace, registry);
	if (pid < 0)
		err = errno;
	while (pid > 0 && waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (!err) {
		out->status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
		read_registry(registry, out);
	}
	unlink(registry);
	free(registry);
	return -err;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void sla_run_free(struct sla_run *r)
{
	free_list(r->logs, r->nlogs);
	free_list(r->untraced, r->nuntraced);
	free_list(r->skipped, r->nskipped);
	memset(r, 0, sizeof(*r));
}
