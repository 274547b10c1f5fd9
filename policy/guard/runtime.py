"""The Python process that runs the pack: garbage-collector settings for it.

pulumi_policy deserialises every resource once per policy — hundreds of thousands of short-lived, acyclic objects for
a large stack — and CPython's default thresholds then run full collections that walk the whole heap again and again,
and a stack 16 times larger took about 1.7 times longer per resource (measured with `python3 dev.py bench`). Young
collections keep their default; the older generations are collected ten times less often each.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

GC_THRESHOLDS = (700, 100, 100)


def tune() -> None:
    """For the process the CLI starts (policy/__main__.py), once everything is imported: the modules' objects are
    never garbage, so no collection walks them again."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@contextmanager
def tuned() -> Iterator[None]:
    """The same settings around one analysis run inside another process (the offline harness), restored afterwards:
    that process's own objects are set aside as the analyzer process has none of them."""
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
