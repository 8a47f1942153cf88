/*
 * unwind_exceptions.cpp - C++ exceptions under the fast stack walk
 * (preload/cfi.c): allocations in __cxa_allocate_exception (the throw),
 * in destructors that run while the exception unwinds the stack, in catch
 * blocks, across a rethrow, and in an exception's own std::string, from
 * chains of frames with landing pads (LSDA, personality 'P' and 'L' CIE
 * augmentations). Built with g++ (meson) and with clang++ (by the runner).
 *
 * Expected under the shim with unwind_check=1: the same stdout and exit
 * status (0) as without it, "unwind check: N stacks, F fast, 0 mismatches"
 * with N > 5000 and F/N > 0.9 (run_unwind_check.py).
 */
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#define NOINLINE __attribute__((noinline))

static volatile long sink;

struct Guard {
	std::vector<int> *v;
	explicit Guard(int n) : v(new std::vector<int>(static_cast<size_t>(n)))
	{
	}
	~Guard()
	{
		/* allocates while the exception passes through this frame */
		std::string s(100 + v->size(), 'g');
		sink = sink + static_cast<long>(s.size());
		delete v;
	}
};

struct Error : std::runtime_error {
	std::string detail;
	Error(const std::string &what, int k) : std::runtime_error(what), detail(200 + k, 'd')
	{
	}
};

NOINLINE static int thrower(int depth, int k)
{
	Guard g(depth + k % 5);

	if (depth == 0) {
		if (k % 3 == 0)
			throw Error("deep error number " + std::to_string(k), k);
		if (k % 3 == 1)
			throw std::out_of_range(std::string(64 + k % 50, 'o'));
		return k;
	}
	int r = thrower(depth - 1, k) + 1;
	sink = sink + r;
	return r;
}

NOINLINE static int rethrower(int k)
{
	try {
		return thrower(6 + k % 10, k);
	} catch (Error &e) {
		std::unique_ptr<std::string> copy(new std::string(e.detail));
		sink = sink + static_cast<long>(copy->size());
		throw; /* rethrow through more frames */
	}
}

NOINLINE static long round_trip(int k)
{
	try {
		return rethrower(k);
	} catch (const Error &e) {
		std::vector<std::string> notes(3, std::string(e.what()));
		return static_cast<long>(notes.size() + e.detail.size());
	} catch (const std::exception &e) {
		std::string msg = std::string("caught: ") + e.what();
		return static_cast<long>(msg.size());
	}
}

int main()
{
	long total = 0;

	for (int k = 0; k < 3000; k++)
		total += round_trip(k);
	std::printf("unwind_exceptions: total %ld\n", total);
	return 0;
}
