"""Grading one NIST testkit step: ExpectedStatus, ExpectedErrorCode and the countable ExpectedContents.

The toolkit's own graders also evaluate ExpectedContents patterns such as ``SSwithOneDoc``; the counting
ones (``Documents count="N"``, ``ObjectRefs``, ``Associations``, ``Folders``, ``SubmissionSets``, ``None``)
and the status ones (``DocApp``, ``DocDep``, ``OneDocApp``, ``OneDocDep``, ``SSApproved``, ``FolApp``)
and ``SSwith…`` shapes are checked here; anything else is reported as "not interpreted", never as a pass
reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from conformance.suites.xds_client import SoapReply

_RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
_SS_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
_FOLDER_NODE = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"
_APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
_DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
_SHAPES = {
    "SSwithOneDoc": (1, 1, 0),
    "SSwithTwoDoc": (1, 2, 0),
    "SSwithOneFol": (1, 0, 1),
    "SSwithOneDocOneFol": (1, 1, 1),
    "SSwithTwoDocOneFolOneDocInFol": (1, 2, 1),
}


def status_problems(expected: str, expected_errors: Sequence[str], reply: SoapReply) -> list[str]:
    actual = reply.status
    problems: list[str] = []
    if reply.fault is not None and (expected != "Failure" or expected_errors):
        problems.append(f"SOAP Fault (HTTP {reply.status_code}): {reply.fault}")
    elif expected and actual != expected and not (expected == "Failure" and actual == "Fault"):
        details = [
            f"{e.error_code}: {e.code_context[:160]}"
            for e in (reply.response.errors if reply.response else ())
        ]
        problems.append(f"status {actual}, expected {expected} (errors: {' | '.join(details[:3]) or 'none'})")
    for code in expected_errors:
        if code not in reply.error_codes:
            problems.append(f"expected error {code}, got {', '.join(reply.error_codes) or 'none'}")
    return problems


def _objects(reply: SoapReply) -> dict[str, list[tuple[str, str]]]:
    """Objects of the response's RegistryObjectList: kind -> [(id, status)]."""
    found: dict[str, list[tuple[str, str]]] = {"doc": [], "ss": [], "fol": [], "assoc": [], "ref": []}
    if reply.payload is None:
        return found
    object_list = reply.payload.find(f"{{{_RIM}}}RegistryObjectList")
    if object_list is None:
        return found
    markers = {
        c.get("classifiedObject", ""): c.get("classificationNode", "")
        for c in object_list.iter(f"{{{_RIM}}}Classification")
        if c.get("classificationNode")
    }
    for child in object_list:
        if not isinstance(child.tag, str):
            continue
        local = child.tag.rsplit("}", 1)[-1]
        item = (child.get("id", ""), child.get("status", ""))
        if local == "ExtrinsicObject":
            found["doc"].append(item)
        elif local == "RegistryPackage":
            node = markers.get(child.get("id", ""), "")
            found["ss" if node == _SS_NODE else "fol" if node == _FOLDER_NODE else "ss"].append(item)
        elif local == "Association":
            found["assoc"].append(item)
        elif local == "ObjectRef":
            found["ref"].append(item)
    return found


def contents_problems(expected: Sequence[tuple[str, dict[str, str]]], reply: SoapReply) -> list[str]:
    if not expected or reply.response is None:
        return []
    objects = _objects(reply)
    counts = {
        "Documents": len(objects["doc"]),
        "SubmissionSets": len(objects["ss"]),
        "Folders": len(objects["fol"]),
        "Associations": len(objects["assoc"]),
        "ObjectRefs": len(objects["ref"]),
    }
    problems: list[str] = []
    for tag, attributes in expected:
        if tag in counts and "count" in attributes:
            if str(counts[tag]) != attributes["count"]:
                problems.append(f"{tag}: {counts[tag]}, expected {attributes['count']}")
        elif tag == "None":
            if any(objects.values()):
                problems.append(f"expected no objects, got {sum(len(v) for v in objects.values())}")
        elif tag in ("DocApp", "DocDep", "OneDocApp", "OneDocDep", "SSApproved", "FolApp"):
            kind = {"Doc": "doc", "One": "doc", "SSA": "ss", "Fol": "fol"}[tag[:3]]
            want = _DEPRECATED if tag.endswith("Dep") else _APPROVED
            statuses = [status for _, status in objects[kind]]
            if tag.startswith("One"):  # exactly one document has that status
                if statuses.count(want) != 1:
                    problems.append(
                        f"{tag}: {statuses.count(want)} documents {want.rsplit(':', 1)[-1]}, expected 1"
                    )
            elif any(status != want for status in statuses):  # vacuously true without objects, as in 30006
                problems.append(f"{tag}: statuses {[s.rsplit(':', 1)[-1] for s in statuses]}")
        elif tag in _SHAPES:
            ss, docs, fols = _SHAPES[tag]
            shape = (len(objects["ss"]), len(objects["doc"]), len(objects["fol"]))
            if shape != (ss, docs, fols):
                problems.append(
                    f"{tag}: (SubmissionSets, Documents, Folders) = {shape}, expected {(ss, docs, fols)}"
                )
    return problems


def uninterpreted(expected: Sequence[tuple[str, dict[str, str]]]) -> list[str]:
    known = {"Documents", "SubmissionSets", "Folders", "Associations", "ObjectRefs", "None"}
    known |= {"DocApp", "DocDep", "OneDocApp", "OneDocDep", "SSApproved", "FolApp"} | set(_SHAPES)
    return [tag for tag, _ in expected if tag not in known]
