"""A working list of ElementDefinitions addressed by element id, used while building snapshots.

See https://hl7.org/fhir/R4/elementdefinition.html#id: an element id is its path with
``:sliceName`` after each sliced segment (``Patient.identifier:cpr.system``).  The list keeps
document order, which is what the snapshot needs (children follow their parent, slices follow
the sliced element's children).
"""

from __future__ import annotations

import copy
from typing import Any


def child_segments(element_id: str) -> list[tuple[str, str | None]]:
    """``"A.b:s.c"`` -> ``[("A", None), ("b", "s"), ("c", None)]``."""
    out: list[tuple[str, str | None]] = []
    for part in element_id.split("."):
        name, sep, slice_name = part.partition(":")
        out.append((name, slice_name if sep else None))
    return out


def id_to_path(element_id: str) -> str:
    return ".".join(name for name, _ in child_segments(element_id))


def diff_id(raw: dict[str, Any], context: dict[str, str]) -> str:
    """The element id a differential element addresses; ``context`` maps paths to the slice in force."""
    path = str(raw["path"])
    given = raw.get("id")
    if isinstance(given, str) and given and id_to_path(given) == path:
        element_id = given
    else:
        segments = path.split(".")
        element_id = segments[0]
        for i in range(1, len(segments)):
            prefix = ".".join(segments[: i + 1])
            if i < len(segments) - 1 and prefix in context:
                element_id = context[prefix]
            else:
                element_id = f"{element_id}.{segments[i]}"
        slice_name = raw.get("sliceName")
        if isinstance(slice_name, str) and slice_name:
            element_id = f"{element_id}:{slice_name}"
    for stale in [p for p in context if p.startswith(path + ".")]:
        del context[stale]
    context[path] = element_id
    return element_id


def _type_name_matches(code: str, suffix: str) -> bool:
    return code.lower() == suffix.lower() and suffix[:1].isupper()


def type_slice_name(element: dict[str, Any], slice_name: str) -> str | None:
    """For a choice element ``value[x]`` and slice ``valueQuantity``: ``"Quantity"``; else None."""
    path = str(element.get("path", ""))
    if not path.endswith("[x]"):
        return None
    stem = path.rsplit(".", 1)[-1][:-3]
    if not slice_name.startswith(stem):
        return None
    suffix = slice_name[len(stem) :]
    for type_ref in element.get("type") or ():
        code = str(type_ref.get("code", ""))
        if _type_name_matches(code, suffix):
            return code
    return None


class ElementList:
    """Elements in snapshot order with an id index rebuilt after every structural change."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        for element in items:
            if not isinstance(element.get("id"), str):
                name = element.get("sliceName")
                element["id"] = str(element.get("path", "")) + (f":{name}" if name else "")
        self._index: dict[str, int] = {}
        self._reindex()

    def _reindex(self) -> None:
        self._index = {str(e["id"]): i for i, e in enumerate(self.items)}

    def index(self, element_id: str) -> int | None:
        return self._index.get(element_id)

    def has_children(self, element_id: str) -> bool:
        index = self._index.get(element_id)
        if index is None or index + 1 >= len(self.items):
            return False
        return str(self.items[index + 1]["id"]).startswith(element_id + ".")

    def _group_end(self, element_id: str) -> int:
        index = self._index[element_id]
        end = index
        while end + 1 < len(self.items) and str(self.items[end + 1]["id"]).startswith(
            (element_id + ".", element_id + ":")
        ):
            end += 1
        return end

    def choice_for(self, parent_id: str, name: str) -> str | None:
        """The id of the choice element ``parent.x[x]`` that a renamed ``name`` (``xQuantity``) is in."""
        for element_id in self._index:
            if not element_id.startswith(parent_id + ".") or not element_id.endswith("[x]"):
                continue
            tail = element_id[len(parent_id) + 1 :]
            if "." in tail or ":" in tail:
                continue
            element = self.items[self._index[element_id]]
            if type_slice_name(element, name) is not None:
                return element_id
        return None

    def copy_as_slice(self, unsliced: str, slice_name: str) -> dict[str, Any]:
        """Insert a slice ``unsliced:slice_name`` copied from the sliced element and its children."""
        index = self._index[unsliced]
        end = self._group_end(unsliced)
        base = self.items[index]
        created = copy.deepcopy({k: v for k, v in base.items() if k != "slicing"})
        created["sliceName"] = slice_name
        slice_id = f"{unsliced}:{slice_name}"
        created["id"] = slice_id
        block = [created]
        for element in self.items[index + 1 : end + 1]:
            element_id = str(element["id"])
            if element_id.startswith(unsliced + "."):
                child = copy.deepcopy(element)
                child["id"] = slice_id + element_id[len(unsliced) :]
                block.append(child)
        self.items[end + 1 : end + 1] = block
        self._reindex()
        return created

    def copy_children(self, source_id: str, target_id: str, source: list[dict[str, Any]]) -> None:
        """Copy the children of ``source_id`` in ``source`` under ``target_id`` (``contentReference``)."""
        target_index = self._index.get(target_id)
        if target_index is None:
            return
        target_path = str(self.items[target_index]["path"])
        block = []
        for element in list(source):
            element_id = str(element.get("id") or element["path"])
            if element_id.startswith(source_id + ".") and ":" not in element_id[len(source_id) :]:
                child = copy.deepcopy(element)
                child["id"] = target_id + element_id[len(source_id) :]
                child["path"] = target_path + str(element["path"])[len(id_to_path(source_id)) :]
                block.append(child)
        self.items[target_index + 1 : target_index + 1] = block
        self._reindex()

    def insert_children(self, index: int, type_elements: list[dict[str, Any]]) -> None:
        """Insert a type's elements (minus its root) as children of the element at ``index``."""
        if not type_elements:
            return
        parent = self.items[index]
        root_id = str(type_elements[0].get("id") or type_elements[0]["path"])
        root_path = str(type_elements[0]["path"])
        block = []
        for element in type_elements[1:]:
            child = copy.deepcopy(element)
            element_id = str(element.get("id") or element["path"])
            child["id"] = str(parent["id"]) + element_id[len(root_id) :]
            child["path"] = str(parent["path"]) + str(element["path"])[len(root_path) :]
            block.append(child)
        self.items[index + 1 : index + 1] = block
        self._reindex()

    def append_new(self, element_id: str, raw: dict[str, Any]) -> int | None:
        """A new element of a specialization, placed at the end of its parent's group."""
        parent_id = element_id.rsplit(".", 1)[0]
        if "." not in element_id or parent_id not in self._index:
            return None
        end = self._group_end(parent_id)
        created = {"id": element_id, "path": id_to_path(element_id), "min": 0, "max": "*"}
        created.update({k: copy.deepcopy(v) for k, v in raw.items() if k not in ("id", "path")})
        self.items.insert(end + 1, created)
        self._reindex()
        return end + 1

    @staticmethod
    def rename_root(items: list[dict[str, Any]], old_root: str, new_root: str) -> None:
        for element in items:
            for key in ("id", "path"):
                value = str(element.get(key, ""))
                if value == old_root or value.startswith(old_root + "."):
                    element[key] = new_root + value[len(old_root) :]
