/*
 * cxx_plugin.cpp - a C++ plugin for dlopen_loop.c: loaded RTLD_LOCAL by a
 * C program, so libstdc++ arrives with it outside the global scope and
 * dlsym(RTLD_NEXT) from the shim cannot see its operator new.
 */
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" void *plugin_alloc(std::size_t n);

extern "C" void *plugin_alloc(std::size_t n)
{
	std::vector<std::string> words;

	for (int i = 0; i < 20; i++)
		words.push_back(std::string(40 + i, 'x'));
	char *p = static_cast<char *>(std::malloc(n));
	if (p)
		std::memset(p, static_cast<int>(words.size()), n);
	return p;
}
