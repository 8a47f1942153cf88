/*
 * cxx_allocators.cpp [N] - every form of operator new and delete (plain,
 * array, nothrow, aligned, aligned nothrow; sized delete with
 * -fsized-deallocation), then N (10000) new/delete pairs, and a leak of
 * 3 x 4242 bytes through new[]. Run alone or with an allocator (jemalloc,
 * tcmalloc) preloaded after the shim, which then defines operator new
 * itself and serves it without malloc.
 *
 * Output, one line per block of the first part:
 *   NEW <addr> <size> <align> <0: new, 1: new[]>
 *   DEL <addr>
 * then "bad_alloc" (a new[] of 2^62 bytes threw through the shim's
 * wrapper, and the next new is recorded: the wrapper let go of its guard),
 * "loop N" and "leak <addr> <addr> <addr>". Exit 0.
 *
 * Expected under the shim: an ALLOC (fn new or new[], size, align) for
 * every NEW line and a FREE for every DEL line, N more ALLOCs, the three
 * 4242-byte ALLOCs, no anomaly.
 */
#include <cstdio>
#include <cstdlib>
#include <new>

namespace {

struct alignas(64) Wide {
	char bytes[192];
};

void *volatile sink;

void *keep(void *p)
{
	sink = p;
	return p;
}

void line_new(const void *p, std::size_t size, std::size_t align, int array)
{
	std::printf("NEW %p %zu %zu %d\n", p, size, align, array);
}

void line_del(const void *p)
{
	std::printf("DEL %p\n", p);
}

} // namespace

int main(int argc, char **argv)
{
	long n = argc > 1 ? std::atol(argv[1]) : 10000;

	{
		int *a = new int(7);
		line_new(keep(a), sizeof(int), 0, 0);
		line_del(a);
		delete a; /* sized delete (-fsized-deallocation, C++14) */

		char *b = new char[1000];
		line_new(keep(b), 1000, 0, 1);
		line_del(b);
		delete[] b;

		void *c = ::operator new(333, std::nothrow);
		line_new(keep(c), 333, 0, 0);
		line_del(c);
		::operator delete(c, std::nothrow);

		void *d = ::operator new[](444, std::nothrow);
		line_new(keep(d), 444, 0, 1);
		line_del(d);
		::operator delete[](d, std::nothrow);

		Wide *e = new Wide; /* aligned new, sized aligned delete */
		line_new(keep(e), sizeof(Wide), alignof(Wide), 0);
		line_del(e);
		delete e;

		Wide *f = new Wide[3];
		line_new(keep(f), 3 * sizeof(Wide), alignof(Wide), 1);
		line_del(f);
		delete[] f;

		void *g = ::operator new(555, std::align_val_t(128), std::nothrow);
		line_new(keep(g), 555, 128, 0);
		line_del(g);
		::operator delete(g, std::align_val_t(128), std::nothrow);

		void *h = ::operator new[](666, std::align_val_t(256), std::nothrow);
		line_new(keep(h), 666, 256, 1);
		line_del(h);
		::operator delete[](h, std::align_val_t(256), std::nothrow);

		void *i = ::operator new(777, std::align_val_t(4096));
		line_new(keep(i), 777, 4096, 0);
		line_del(i);
		::operator delete(i, std::align_val_t(4096));

		void *j = ::operator new[](888, std::align_val_t(32));
		line_new(keep(j), 888, 32, 1);
		line_del(j);
		::operator delete[](j, 888, std::align_val_t(32));
	}
	try {
		char *huge = new char[std::size_t(1) << 62];
		keep(huge);
		std::printf("no bad_alloc\n");
	} catch (const std::bad_alloc &) {
		std::printf("bad_alloc\n");
	}
	{
		int *after = new int(9);
		line_new(keep(after), sizeof(int), 0, 0);
		line_del(after);
		delete after;
	}
	for (long k = 0; k < n; k++) {
		long *p = new long[1 + k % 16];
		keep(p);
		delete[] p;
	}
	std::printf("loop %ld\n", n);
	char *l1 = new char[4242], *l2 = new char[4242], *l3 = new char[4242];
	std::printf("leak %p %p %p\n", keep(l1), keep(l2), keep(l3));
	sink = nullptr;
	return 0;
}
