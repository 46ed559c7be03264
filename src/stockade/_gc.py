"""Pausing Python's cyclic garbage collector around bulk building.

Building the RBAC index allocates millions of small containers that hold no reference cycles.
Left on, the collector keeps re-walking the whole growing heap: it doubles the build of a
60,000-object cluster (benchmarks/RESULTS.md, fast paths). Reference counting still frees
everything as usual. (Reading manifests gains nothing from a pause, measured the same way.)
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
