// go_cgo: a Go program with cgo. It allocates through C (3 x 4242 bytes,
// kept) and returns from main: the Go runtime then ends the process with a
// raw exit_group system call, past libc's exit, atexit and destructors.
//
// Expected under the shim: a log without END (nothing in the process can
// finish it) whose PROCESS says it is a Go program, and a report that says
// why the log is truncated; the 3 ALLOCs are in it (written in place).
// Output "go 3". Exit 0.
package main

/*
#include <stdlib.h>

// not static: gcc -O2 drops the mallocs of a static array nothing reads
void *go_cgo_keep[3];

static int plant(void)
{
	for (int i = 0; i < 3; i++)
		go_cgo_keep[i] = malloc(4242);
	return 3;
}
*/
import "C"

import "fmt"

func main() {
	fmt.Println("go", int(C.plant()))
}
