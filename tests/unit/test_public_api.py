"""Each package has one sorted ``__all__`` naming what exists, and across package boundaries code imports only
those names (httpx/Starlette style).  ``hub.core`` is the kernel (L0): its modules are public one by one."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOP = ("hub", "profiles", "xds", "security", "conformance")
# Boundaries: these packages' insides are private to them.
BOUNDARIES = ("hub.storage", "hub.fhir", "hub.api", "hub.cli", "profiles", "xds", "security", "conformance")
KERNEL = "hub.core"


def _modules() -> list[tuple[str, Path]]:
    found = []
    for top in TOP:
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found.append((".".join(parts), path))
    return sorted(found)


def _packages() -> list[str]:
    return [name for name, path in _modules() if path.name == "__init__.py" and name != "hub"]


def _boundary(module: str) -> str | None:
    if module == KERNEL or module.startswith(KERNEL + "."):
        return KERNEL
    return next((b for b in BOUNDARIES if module == b or module.startswith(b + ".")), module)


@pytest.mark.parametrize("package", _packages())
def test_package_all_is_sorted_and_real(package: str) -> None:
    module = importlib.import_module(package)
    names = getattr(module, "__all__", None)
    if package == KERNEL or package.endswith(("migrations", "versions")):
        return  # the kernel's modules are public one by one; migrations are run by Alembic
    assert names is not None, f"{package} has no __all__"
    assert all(hasattr(module, n) for n in names), f"{package}.__all__ names something that does not exist"
    assert len(set(names)) == len(names)


def test_cross_package_imports_use_public_names() -> None:
    packages = {p: set(getattr(importlib.import_module(p), "__all__", ())) for p in _packages()}
    problems = []
    for name, path in _modules():
        here = _boundary(name)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not node.module or node.level:
                continue
            target = node.module
            if not target.startswith(TOP) or _boundary(target) in (here, KERNEL):
                continue
            if target not in packages:
                problems.append(f"{name} imports the private module {target}")
                continue
            for alias in node.names:
                if alias.name not in packages[target] and f"{target}.{alias.name}" not in packages:
                    problems.append(f"{name} imports {target}.{alias.name}, which is not in its __all__")
    assert not problems, "\n".join(problems)
