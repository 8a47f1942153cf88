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
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"

int main(int argc, char **argv)
{
	static const char line[] = "only the program writes here\n";
	char buf[4096];
	ssize_t n;
	int fd;

	if (argc < 2)
		return 2;
	close(0);
	close(1);
	close(2);
	fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd != 0)
		return 3; /* lowest free fd */
	for (int i = 0; i < 300000; i++) {
		void *p = escape(malloc(16 + (size_t)i % 100));

		free(p);
		if (i % 100000 == 0 && write(fd, line, sizeof(line) - 1) != sizeof(line) - 1)
			return 4;
		if (i == 100000 || i == 200000)
			free(escape(malloc(99999)));
		if (i == 150000)
			closefrom(1); /* everything but OUTFILE (fd 0) */
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
