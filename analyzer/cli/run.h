/*
 * analyzer/cli/run.h - `sliceleak run`: a command under the shim, then its logs.
 *
 * Preloads the shim of this build when sliceleak itself runs from the build
 * tree (SLA_BUILD_ROOT), else the installed one (SLA_SHIM_INSTALLED), ahead
 * of any LD_PRELOAD already set; appends output=<pattern> to
 * SLICELEAK_OPTIONS. While the command runs, SIGINT and SIGQUIT are ignored
 * here (as system() does) so that ^C reaches the command and its report is
 * still printed.
 */
#pragma once

#include <stddef.h>

struct sla_run {
	char **logs;  /* the logs the command and its children wrote, sorted */
	size_t nlogs;
	int status;   /* exit code to pass through: the command's, 128+signal, 127 */
};

/* The shim path this binary should preload. */
const char *sla_run_shim_path(void);

/*
 * Runs argv with the shim; `pattern` is the shim's output pattern (%p pid,
 * %e executable name). Returns 0 with *out filled (also when the command
 * failed: see status) or -errno when it could not be started.
 */
int sla_run_command(char *const *argv, const char *pattern, struct sla_run *out);
void sla_run_free(struct sla_run *r);
