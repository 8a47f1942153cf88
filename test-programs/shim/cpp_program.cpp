/*
 * cpp_program.cpp - ordinary C++: containers, strings, new/delete,
 * exceptions, a thread.
 *
 * Expected under the shim: the same stdout and exit status as without it,
 * a complete log whose ALLOCs include operator new's blocks (seen through
 * malloc). Exit 0.
 */
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

static int parse(const std::string &s)
{
	if (s.empty())
		throw std::invalid_argument("empty");
	return std::stoi(s);
}

int main()
{
	std::map<std::string, std::vector<int>> index;
	std::vector<std::unique_ptr<std::string>> owned;
	long total = 0;

	for (int i = 0; i < 20000; i++) {
		std::ostringstream key;
		key << "key-" << (i % 97);
		index[key.str()].push_back(i);
		std::string padded = key.str() + std::string(i % 50, 'x');

		owned.push_back(std::make_unique<std::string>(padded));
	}
	std::thread t([&] {
		for (auto &kv : index)
			std::sort(kv.second.rbegin(), kv.second.rend());
	});
	t.join();
	int errors = 0;
	for (const char *s : { "12", "", "7" }) {
		try {
			total += parse(s);
		} catch (const std::exception &e) {
			errors++;
		}
	}
	for (auto &kv : index)
		total += kv.second.front();
	std::cout << index.size() << " keys, " << owned.size() << " strings, total " << total
		  << ", " << errors << " error\n";
	return 0;
}
