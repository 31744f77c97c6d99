"""The worker's garbage collector, settled once start-up has loaded everything long-lived.

A worker holds a large, permanent heap once it is ready (the FHIR core package's definitions, compiled
profiles, schemas, statements: about 200,000 tracked objects with ``hl7.fhir.r4.core``).  CPython's
collector would walk all of it in every full (generation 2) collection, about 100 ms each, several times a
minute under load.  :func:`settle` collects once, then moves every surviving object into the permanent
generation (``gc.freeze``), so later collections only look at what requests create; it can also raise the
generation-0 threshold, so short-lived request objects are mostly freed by reference counting before a
collection has to scan them.  Measured effect in README ("Session 8 changes").
"""

from __future__ import annotations

import gc
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SettledHeap:
    """What :func:`settle` did: objects frozen and the thresholds now in force."""

    frozen: int
    thresholds: tuple[int, int, int]


def settle(*, freeze: bool, gen0_threshold: int) -> SettledHeap:
    """Freeze the start-up heap (``freeze``) and set generation 0's threshold (``0`` keeps Python's)."""
    if freeze:
        gc.collect()
        gc.freeze()
    if gen0_threshold > 0:
        _, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(gen0_threshold, gen1, gen2)
    gen0, gen1, gen2 = gc.get_threshold()
    return SettledHeap(frozen=gc.get_freeze_count(), thresholds=(gen0, gen1, gen2))


__all__ = ["SettledHeap", "settle"]
