/*
 * cxx_sessions - a C++ leak through new and std::vector: a session table of
 * a chat server forgets to delete sessions that are aborted (every fourth
 * one) on an early-return path; each leaked Session takes its inbox buffer
 * (a std::vector<char> of payload bytes) with it.
 *
 * Variants:
 *   leaky  close() returns early for aborted sessions before delete:
 *          count/4 Session objects and count/4 inbox buffers are never freed.
 *   fixed  the table owns its sessions through std::unique_ptr: nothing of
 *          the table is left at exit.
 *
 * Leak groups are matched by the function their stack names (the C++
 * runtime has unfreed blocks of its own). Function names match in their
 * demangled form without the parameter list, or mangled.
 *
 * USAGE: cxx_sessions leaky|fixed [count] [payload]
 * PARAMS: count=10000 payload=16384
 * EXPECT *: findings=0
 * EXPECT leaky: leak function=Session::open_inbox blocks=count//4 bytes=count//4*payload
 * EXPECT leaky: leak function=SessionTable::open blocks=2*(count//4) \
 *	bytes>=count//4*payload
 * EXPECT fixed: leak function=OwningSessionTable::open blocks=0
 * EXPECT *: hotspot function=Session::open_inbox allocations=count bytes=count*payload
 */
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

const char usage[] = "cxx_sessions leaky|fixed [count] [payload]";

[[noreturn]] void die_usage()
{
	std::fprintf(stderr, "usage: %s\n", usage);
	std::exit(2);
}

/* argv[idx] as a positive number, def when absent. */
std::size_t size_arg(int argc, char **argv, int idx, std::size_t def)
{
	if (idx >= argc)
		return def;
	char *end;
	unsigned long long v = std::strtoull(argv[idx], &end, 10);
	if (end == argv[idx] || *end || v == 0 || argv[idx][0] == '-')
		die_usage();
	return static_cast<std::size_t>(v);
}

} // namespace

/* One client connection. */
class Session {
public:
	explicit Session(unsigned id) : id_(id) {}

	/* Allocates the inbox: payload bytes of buffered messages. */
	void open_inbox(std::size_t payload)
	{
		inbox_.assign(payload, static_cast<char>('a' + id_ % 26));
	}

	unsigned id() const { return id_; }
	char first() const { return inbox_.empty() ? '\0' : inbox_.front(); }

private:
	unsigned id_;
	std::vector<char> inbox_;
};

/* The leaky table: raw owning pointers. */
class SessionTable {
public:
	~SessionTable()
	{
		for (auto &kv : live_)
			delete kv.second;
	}

	/* A new session with an inbox of payload bytes. */
	Session *open(unsigned id, std::size_t payload)
	{
		Session *s = new Session(id); /* ALLOC-SITE session */
		s->open_inbox(payload);
		live_[id] = s;
		return s;
	}

	/* Ends a session; an aborted one is dropped before it is deleted. */
	void close(unsigned id, bool aborted)
	{
		auto it = live_.find(id);
		if (it == live_.end())
			return;
		Session *s = it->second;
		live_.erase(it);
		if (aborted)
			return; /* the bug: s is lost */
		delete s;
	}

	std::size_t size() const { return live_.size(); }

private:
	std::unordered_map<unsigned, Session *> live_;
};

/* The fixed table: the map owns its sessions. */
class OwningSessionTable {
public:
	/* A new session with an inbox of payload bytes. */
	Session *open(unsigned id, std::size_t payload)
	{
		auto s = std::make_unique<Session>(id);
		s->open_inbox(payload);
		Session *raw = s.get();
		live_[id] = std::move(s);
		return raw;
	}

	/* Ends a session, aborted or not. */
	void close(unsigned id, bool /* aborted */) { live_.erase(id); }

	std::size_t size() const { return live_.size(); }

private:
	std::unordered_map<unsigned, std::unique_ptr<Session>> live_;
};

/*
 * Serves count sessions: open each, close the older ones as new ones come
 * (every fourth is aborted), keep the 100 most recent open until shutdown.
 */
template <class Table> static unsigned long serve(std::size_t count, std::size_t payload)
{
	Table table;
	unsigned long check = 0;
	for (unsigned id = 0; id < count; id++) {
		check += static_cast<unsigned char>(table.open(id, payload)->first());
		if (id >= 100)
			table.close(id - 100, (id - 100) % 4 == 3);
	}
	for (unsigned id = count > 100 ? static_cast<unsigned>(count) - 100 : 0; id < count;
	     id++)
		table.close(id, id % 4 == 3);
	return check + table.size();
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die_usage();
	std::string_view v = argv[1];
	std::size_t count = size_arg(argc, argv, 2, 10000);
	std::size_t payload = size_arg(argc, argv, 3, 16384);
	unsigned long check;

	if (v == "leaky")
		check = serve<SessionTable>(count, payload);
	else if (v == "fixed")
		check = serve<OwningSessionTable>(count, payload);
	else
		die_usage();
	std::printf("served %zu sessions with %zu-byte inboxes, checksum %lu\n", count, payload,
		    check);
	return 0;
}
