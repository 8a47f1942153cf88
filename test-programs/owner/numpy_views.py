#!/usr/bin/python3
# numpy_views - small slices of big numpy arrays kept in a list: each view
# holds its base array (and so the whole buffer) alive. Run with
# PYTHONMALLOC=malloc: Python's own allocator (pymalloc) carves small
# objects out of 256-KiB arenas that it maps itself, so the array objects
# would be no heap blocks at all, and the arenas' words would count as
# roots.
#
# Python frees everything at exit, so the verdict is taken at a snapshot,
# the way a long-running process is examined without changing its code:
# ctypes.CDLL(None).sliceleak_snapshot(b"kept") (present only under the
# shim).
#
# Variants:
#   leaky  keep a[512:514] of each array (a view: 16 bytes of 8 * n).
#   copy   keep a[512:514].copy(): the big arrays are freed.
#
# What sliceleak must say (leaky, at the snapshot "kept"): buffers of size
# bytes kept alive by small blocks allocated in PyType_GenericAlloc (the
# view objects, under 128 bytes, one each), the views' data pointers
# landing at offset 512 * 8. Not exactly count of them, and in more than
# one group: the interpreter specialises the loop after a few iterations,
# so the buffers' allocation stacks differ (a group per stack), and a
# buffer that an interpreter cache still points to has no single owner.
# The interpreter's own objects make owner findings too (a dict object is
# the only way to its keys table): only the `size` blocks are checked.
#
# USAGE: numpy_views.py leaky|copy [count] [size]
# PARAMS: count=100 size=1048576
# DEFINE: offset=4096
# ALLOC-WINDOW: 12
# EXPECT leaky: @kept finding kind=owner block_size=size \
#	owner_function=PyType_GenericAlloc blocks>=count*3//4 blocks<=count \
#	owner_bytes<=count*128 ref_offset_min=offset ref_offset_max=offset
# EXPECT copy: @kept finding kind=owner block_size=size blocks=0
# EXPECT *: finding kind=owner block_size=size blocks=0
import ctypes
import sys

import numpy as np


def main():
    usage = "usage: numpy_views.py leaky|copy [count] [size]"
    if len(sys.argv) < 2 or sys.argv[1] not in ("leaky", "copy"):
        sys.exit(usage)
    try:
        count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
        size = int(sys.argv[3]) if len(sys.argv) > 3 else 1048576
    except ValueError:
        sys.exit(usage)
    keep = []
    for i in range(count):
        a = np.full(size // 8, float(i))
        keep.append(a[512:514] if sys.argv[1] == "leaky" else a[512:514].copy())
        del a
    snapshot = getattr(ctypes.CDLL(None), "sliceleak_snapshot", None)
    if snapshot:
        snapshot(b"kept")
    print("%d views, sum %.1f" % (len(keep), sum(float(v[0]) for v in keep)))


main()
