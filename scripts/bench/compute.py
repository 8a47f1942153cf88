"""scripts/bench/compute.py - the "real program" workload: python3 doing
ordinary data crunching (JSON round trip, dicts, string building, sorting).

usage: python3 compute.py [N]     (N records, default 300000)
Deterministic: prints one checksum line.
"""
import json
import random
import sys


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300000
    rng = random.Random(1)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
             "hotel", "india", "juliet", "kilo", "lima", "mike", "november"]
    records = [{"id": i,
                "name": "user%07d" % i,
                "tags": [rng.choice(words) for _ in range(1 + i % 6)],
                "score": rng.random(),
                "blob": "x" * (i % 700)}
               for i in range(n)]
    text = json.dumps(records)
    back = json.loads(text)
    index = {}
    for r in back:
        for t in r["tags"]:
            index.setdefault(t, []).append(r["id"])
    names = " ".join(r["name"] for r in back).split()
    names.sort(key=lambda s: s[::-1])
    top = sorted(back, key=lambda r: r["score"])[-10:]
    total = len(text) + sum(len(v) for v in index.values()) + len(names)
    print("compute.py: records=%d checksum=%d top=%d" % (n, total, top[-1]["id"]))


if __name__ == "__main__":
    main()
