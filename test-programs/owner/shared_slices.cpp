/*
 * shared_slices - C++ buffers shared through std::shared_ptr: a Slice
 * (made with std::make_shared: control block and object in one small
 * block) holds a shared_ptr to its message's std::vector<char> and a
 * pointer into the vector's data. The program keeps 16-byte slices of big
 * messages and drops the messages: each slice is the only way to its
 * message's vector (control block + vector object) and data.
 *
 * Variants:
 *   leaky  keep make_slice(msg, 4096, 16).
 *   copy   keep the 16 bytes in a std::string; the message is freed.
 *
 * What sliceleak must say (leaky): count data blocks of `size` bytes
 * (allocated in read_message) kept alive by count small blocks (one each,
 * allocated in make_slice), each also retaining its message's control
 * block (a few dozen bytes: SLACK), the slices' pointers landing at 4096.
 *
 * USAGE: shared_slices leaky|copy [count] [size]
 * PARAMS: count=100 size=1048576
 * DEFINE: key_offset=4096
 * SLACK: 256
 * ALLOC-WINDOW: 24
 * EXPECT leaky: finding kind=owner owner_blocks=count blocks=count \
 *	block_bytes=count*size retained_bytes~count*size \
 *	ref_offset_min=key_offset ref_offset_max=key_offset \
 *	owner_function=make_slice alloc_function=read_message
 * EXPECT leaky: owners=1
 * EXPECT copy: owners=0
 * EXPECT leaky: findings=1
 * EXPECT copy: findings=0
 */
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

const char usage[] = "shared_slices leaky|copy [count] [size]";
const size_t key_offset = 4096, key_len = 16;

using Message = std::shared_ptr<const std::vector<char>>;

struct Slice {
	Message msg; // keeps the whole message alive
	const char *ptr;
	size_t len;
};

[[noreturn]] void bad_usage()
{
	std::fprintf(stderr, "usage: %s\n", usage);
	std::exit(2);
}

size_t arg(int argc, char **argv, int i, size_t def)
{
	if (i >= argc)
		return def;
	char *end;
	unsigned long long v = std::strtoull(argv[i], &end, 10);
	if (*end || end == argv[i] || v == 0)
		bad_usage();
	return v;
}

__attribute__((noinline)) Message read_message(size_t i, size_t size)
{
	auto m = std::make_shared<std::vector<char>>(size, static_cast<char>('a' + i % 26));
	return m;
}

__attribute__((noinline)) std::shared_ptr<Slice> make_slice(const Message &m, size_t off,
							     size_t len)
{
	return std::make_shared<Slice>(Slice{ m, m->data() + off, len });
}

// The program's registry, alive until exit (never destroyed: the exit scan,
// after static destructors, still sees it).
auto &slices = *new std::vector<std::shared_ptr<Slice>>;
auto &copies = *new std::vector<std::string>;

} // namespace

int main(int argc, char **argv)
{
	if (argc < 2 || (std::strcmp(argv[1], "leaky") && std::strcmp(argv[1], "copy")))
		bad_usage();
	bool leaky = !std::strcmp(argv[1], "leaky");
	size_t count = arg(argc, argv, 2, 100), size = arg(argc, argv, 3, 1048576), sum = 0;

	if (size < key_offset + key_len)
		bad_usage();
	for (size_t i = 0; i < count; i++) {
		Message m = read_message(i, size);

		if (leaky)
			slices.push_back(make_slice(m, key_offset, key_len));
		else
			copies.emplace_back(m->data() + key_offset, key_len);
	}
	for (const auto &s : slices)
		sum += static_cast<unsigned char>(s->ptr[0]);
	for (const auto &c : copies)
		sum += static_cast<unsigned char>(c[0]);
	std::printf("%zu keys, checksum %zu\n", count, sum);
	return 0;
}
