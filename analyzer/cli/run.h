/*
 * analyzer/cli/run.h - `sliceleak run`: a command under the shim, then its logs.
 *
 * Preloads the shim of this build when sliceleak itself runs from the build
 * tree (SLA_BUILD_ROOT), else the installed one (SLA_SHIM_INSTALLED), ahead
 * of any LD_PRELOAD already set; appends output=<pattern>, trace=<list>
 * when given, and registry=<file> to SLICELEAK_OPTIONS. While the command
 * runs, SIGINT and SIGQUIT are ignored here (as system() does) so that ^C
 * reaches the command and its report is still printed.
 *
 * Which logs are this run's is never guessed from names or times: every
 * process of the run (the command and its descendants, whatever they exec)
 * inherits the registry option, and its shim appends the path of each log
 * it creates to that file - a log name reused by an exec (name.1, name.2)
 * included - and the name of each executable that the trace option passed
 * over. A descendant that drops LD_PRELOAD or SLICELEAK_OPTIONS from its
 * environment is not traced, and not known.
 */
#pragma once

#include <stddef.h>

struct sla_run {
	char **logs;	  /* the logs the run's processes created, in creation order */
	size_t nlogs;
	char **untraced;  /* "NAME (pid N)" of each process the trace option passed over */
	size_t nuntraced;
	char **skipped;	  /* "PATH: reason" of each registered log that cannot be read */
	size_t nskipped;
	int status;	  /* exit code to pass through: the command's, 128+signal, 127 */
};

/* The shim path this binary should preload. */
const char *sla_run_shim_path(void);

/*
 * Runs argv with the shim; `pattern` is the shim's output pattern (%p pid,
 * %e executable name; a relative one is made absolute against the current
 * directory, so that a process that changes directory still logs here), `trace` the shim's trace option or NULL. Returns 0
 * with *out filled (also when the command failed: see status) or -errno
 * when it could not be started.
 */
int sla_run_command(char *const *argv, const char *pattern, const char *trace,
		    struct sla_run *out);
void sla_run_free(struct sla_run *r);
