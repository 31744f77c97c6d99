"""``hub.core.heap.settle``, run in a fresh interpreter: freezing the test process's heap would keep every
later test's garbage cycles alive and change the collector for the whole run."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import gc, json
from hub.core.heap import settle
before = gc.get_threshold()
long_lived = [{"n": i} for i in range(5000)]
settled = settle(freeze=%s, gen0_threshold=%d)
class Node:
    pass
a, b = Node(), Node()
a.other, b.other = b, a  # a cycle created after settling: the collector must still free it
del a, b
freed = gc.collect()
print(json.dumps({"before": before, "frozen": settled.frozen, "thresholds": settled.thresholds,
                  "now": gc.get_threshold(), "freed": freed, "count": gc.get_freeze_count()}))
"""


def _probe(freeze: bool, gen0: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE % (freeze, gen0)], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def test_settle_freezes_the_startup_heap_and_raises_generation_0() -> None:
    result = _probe(True, 10_000)
    assert isinstance(result["frozen"], int) and result["frozen"] >= 5000  # the long-lived list and its dicts
    assert result["frozen"] == result["count"]
    assert result["thresholds"] == [10_000, *result["before"][1:]]  # type: ignore[index]
    assert result["now"] == result["thresholds"]
    assert isinstance(result["freed"], int) and result["freed"] >= 2  # new garbage cycles are still collected


def test_settle_without_freeze_or_threshold_leaves_python_defaults() -> None:
    result = _probe(False, 0)
    assert result["frozen"] == 0
    assert result["thresholds"] == result["before"]
