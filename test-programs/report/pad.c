/*
 * pad.c - 4 KiB of code padding in each of the sections a program's code
 * goes to (at -O2, main goes to .text.startup), linked before a pattern
 * program so that the same program has other addresses (diff_test.py: two
 * builds of the same code must show no change).
 */
__asm__(".section .text,\"ax\",@progbits\n.skip 4096, 0xcc\n"
	".section .text.startup,\"ax\",@progbits\n.skip 4096, 0xcc\n"
	".text\n");
