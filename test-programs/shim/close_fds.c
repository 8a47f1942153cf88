/*
 * close_fds.c OUTFILE - closes fds 0, 1 and 2, opens OUTFILE (which gets a
 * low fd, as daemons' files do), allocates enough to make the shim flush
 * several times, writes its own text, and checks that the file holds
 * exactly that text: the shim never writes to a program's fds. Halfway it
 * also closes every fd above 2 (closefrom), the shim's log included.
 *
 * Expected under the shim: exit 0, OUTFILE holds only our lines, the log
 * is complete (END) and holds the ALLOCs of 99999 bytes made before and
 * after the closefrom.
 *
 * close_fds OUTFILE gone - OUTFILE also becomes fd 2, and before the
 * closefrom every *.sllog in the working directory is deleted: the shim
 * cannot reopen its log and says so - but not into OUTFILE, which is no
 * longer the stderr it started with. Expected: exit 0, OUTFILE clean.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"

/* Deletes the logs in the working directory (the shim's, in this test). */
static void unlink_logs(void)
{
	DIR *d = opendir(".");
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".sllog"))
			unlink(e->d_name);
	if (d)
		closedir(d);
}

int main(int argc, char **argv)
{
	static const char line[] = "only the program writes here\n";
	char buf[4096];
	ssize_t n;
	int fd, gone;

	if (argc < 2)
		return 2;
	gone = argc > 2 && strcmp(argv[2], "gone") == 0;
	close(0);
	close(1);
	close(2);
	fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd != 0)
		return 3; /* lowest free fd */
	if (gone && dup2(fd, 2) != 2)
		return 8;
	for (int i = 0; i < 300000; i++) {
		void *p = escape(malloc(16 + (size_t)i % 100));

		free(p);
		if (i % 100000 == 0 && write(fd, line, sizeof(line) - 1) != sizeof(line) - 1)
			return 4;
		if (i == 100000 || i == 200000)
			free(escape(malloc(99999)));
		if (i == 150000 && gone)
			unlink_logs();
		if (i == 150000)
			closefrom(gone ? 3 : 1); /* everything but OUTFILE (fd 0, and 2) */
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		return 5;
	n = read(fd, buf, sizeof(buf));
	if (n != 3 * (ssize_t)(sizeof(line) - 1))
		return 6;
	for (int i = 0; i < 3; i++)
		if (memcmp(buf + i * (sizeof(line) - 1), line, sizeof(line) - 1) != 0)
			return 7;
	return 0;
}
