"""The shape of an MHD ITI-65 Provide Document Bundle (https://profiles.ihe.net/ITI/MHD/ITI-65.html).

A ``transaction`` Bundle whose entries are POSTs of exactly one SubmissionSet ``List`` (code
``submissionset`` of ``https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes``), one or more
``DocumentReference`` and one ``Binary`` per document (``attachment.url`` = the Binary entry's ``fullUrl``;
an inline ``attachment.data`` is accepted too), and any number of new Folders (``List`` code ``folder``)
whose entries name documents of the bundle or registered ``DocumentReference/<id>``.  Everything the rest of
the submission relies on is checked here, before any metadata is read: fullUrls unique, every document and
folder listed in the SubmissionSet and every listed item one of them, every Binary used by exactly one
document, valid base64.  One Patient entry may come along, as MHD's ProvideBundle allows, but only as a read
(``GET Patient/<id>`` of a patient this hub knows): references to its ``fullUrl`` then name that patient.
Creating or updating patients from document sources (``POST``/``PUT``, which MHD leaves to policy) is refused,
as is any other resource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hub.core.errors import InvalidInputError
from xds.mhd.fhir_values import MESSAGE_ID, MhdInputError
from xds.phmr.submission import inline_document

LIST_TYPES = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"
PROFILE_PREFIX = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD."
_ALLOWED = ("List", "DocumentReference", "Binary", "Patient")
_PATIENT_READ = re.compile(r"Patient/([A-Za-z0-9\-.]{1,64})")


@dataclass(frozen=True, slots=True)
class Document:
    """One DocumentReference of the bundle with its bytes."""

    index: int  # the entry's position in the request
    full_url: str
    resource: dict[str, Any]
    data: bytes
    content_type: str | None  # the Binary's (or attachment's) contentType
    binary_index: int | None  # the Binary entry's position, when the bytes came from one


@dataclass(frozen=True, slots=True)
class FolderList:
    """One new Folder: its entry, and its members (fullUrls of the bundle's documents, or
    ``DocumentReference/<id>`` of registered ones)."""

    index: int
    full_url: str
    resource: dict[str, Any]
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PatientRead:
    """The bundle's Patient entry: a read of the hub Patient ``patient_id``, which the bundle's references to
    ``full_url`` mean."""

    index: int
    full_url: str
    patient_id: str
    resource: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ProvideBundle:
    """A well-formed ITI-65 request: the SubmissionSet List, the documents in List order, the folders,
    the request's entry count."""

    submission_set_index: int
    submission_set: dict[str, Any]
    documents: tuple[Document, ...]
    entry_count: int
    folders: tuple[FolderList, ...] = ()
    patient: PatientRead | None = None


def _list_code(resource: dict[str, Any]) -> str | None:
    concept = resource.get("code")
    for coding in concept.get("coding") or [] if isinstance(concept, dict) else []:
        if isinstance(coding, dict) and coding.get("system") == LIST_TYPES:
            found = coding.get("code")
            return found if isinstance(found, str) else None
    return None


def is_provide_bundle(resource: dict[str, Any]) -> bool:
    """Whether ``resource`` is meant as ITI-65: an MHD bundle profile, or a SubmissionSet List inside."""
    if resource.get("resourceType") != "Bundle":
        return False
    meta = resource.get("meta")
    profiles = meta.get("profile") if isinstance(meta, dict) else None
    if isinstance(profiles, list) and any(
        isinstance(p, str) and p.startswith(PROFILE_PREFIX) for p in profiles
    ):
        return True
    entries = resource.get("entry")
    return isinstance(entries, list) and any(
        isinstance(e, dict)
        and isinstance(e.get("resource"), dict)
        and e["resource"].get("resourceType") == "List"
        and _list_code(e["resource"]) == "submissionset"
        for e in entries
    )


def _bad(message: str, expression: str = "Bundle") -> InvalidInputError:
    return InvalidInputError(message, expression=expression, message_id=MESSAGE_ID)


def _entries(bundle: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if bundle.get("type") != "transaction":
        raise _bad(f"an ITI-65 Provide Document Bundle is a 'transaction' Bundle, not {bundle.get('type')!r}")
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        raise _bad("the Provide Document Bundle has no entries")
    seen: set[str] = set()
    out: list[tuple[str, dict[str, Any]]] = []
    for index, entry in enumerate(entries):
        where = f"Bundle.entry[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            raise _bad(f"{where} has no resource", where)
        resource, request, full_url = entry["resource"], entry.get("request"), entry.get("fullUrl")
        rtype = resource.get("resourceType")
        if rtype not in _ALLOWED:
            raise MhdInputError(
                f"{where} is a {rtype}: an ITI-65 bundle carries List, DocumentReference, Binary and one "
                "Patient read only (authors and source patient info are referenced or contained)",
                where,
            )
        if rtype == "Patient":
            _patient_request(request, where)
        elif not isinstance(request, dict) or request.get("method") != "POST" or request.get("url") != rtype:
            raise _bad(
                f"{where}.request must be POST {rtype} (ITI-65 creates every resource)", f"{where}.request"
            )
        if not isinstance(full_url, str) or not full_url:
            raise _bad(f"{where} needs a fullUrl (the bundle's references point at it)", f"{where}.fullUrl")
        if full_url in seen:
            raise _bad(f"{where}.fullUrl {full_url!r} is used twice", f"{where}.fullUrl")
        seen.add(full_url)
        out.append((full_url, resource))
    return out


def _patient_request(request: object, where: str) -> None:
    method = request.get("method") if isinstance(request, dict) else None
    if method in ("POST", "PUT"):
        raise MhdInputError(
            f"{where}.request is {method} Patient: telehub does not create or update patients from "
            "document sources; send the Patient entry as GET Patient/<id> of a patient the hub knows, or "
            "name the patient by its CPR identifier (urn:oid:1.2.208.176.1.2)",
            f"{where}.request.method",
        )
    url = request.get("url") if isinstance(request, dict) else None
    if method != "GET" or not isinstance(url, str) or not _PATIENT_READ.fullmatch(url):
        raise _bad(
            f"{where}.request must be GET Patient/<id> (a read of the documents' patient)", f"{where}.request"
        )


def _content(
    index: int, resource: dict[str, Any], binaries: dict[str, tuple[int, dict[str, Any]]], used: set[str]
) -> tuple[bytes, str | None, int | None]:
    where = f"Bundle.entry[{index}].resource.content"
    content = resource.get("content")
    if not isinstance(content, list) or len(content) != 1 or not isinstance(content[0], dict):
        raise MhdInputError(f"{where} must hold exactly one content element (one document per entry)", where)
    attachment = content[0].get("attachment")
    if not isinstance(attachment, dict):
        raise MhdInputError(f"{where}[0].attachment is missing", f"{where}[0].attachment")
    url = attachment.get("url")
    if "data" in attachment:
        mime = attachment.get("contentType")
        return (
            inline_document(attachment["data"], f"{where}[0].attachment.data", message_id=MESSAGE_ID),
            mime if isinstance(mime, str) else None,
            None,
        )
    if not isinstance(url, str) or url not in binaries:
        raise MhdInputError(
            f"{where}[0].attachment.url {url!r} names no Binary entry of this bundle (the document must come "
            "with the metadata)",
            f"{where}[0].attachment.url",
        )
    if url in used:
        raise MhdInputError(
            f"the Binary {url!r} is the content of two DocumentReferences", f"{where}[0].attachment.url"
        )
    used.add(url)
    binary_index, binary = binaries[url]
    mime = binary.get("contentType")
    stated = attachment.get("contentType")
    if isinstance(stated, str) and isinstance(mime, str) and _media(stated) != _media(mime):
        raise MhdInputError(
            f"{where}[0].attachment.contentType {stated!r} differs from the Binary's contentType {mime!r}",
            f"{where}[0].attachment.contentType",
        )
    data = inline_document(
        binary.get("data"), f"Bundle.entry[{binary_index}].resource.data", message_id=MESSAGE_ID
    )
    return data, mime if isinstance(mime, str) else None, binary_index


def _media(content_type: str) -> str:
    """The media type without parameters, lower case (``text/xml; charset=UTF-8`` is ``text/xml``)."""
    return content_type.split(";", 1)[0].strip().lower()


def read_provide_bundle(bundle: dict[str, Any]) -> ProvideBundle:
    """Check the bundle's shape (see the module docstring) and pair every document with its bytes."""
    entries = _entries(bundle)
    sets: list[int] = []
    folders: dict[str, int] = {}
    references: dict[str, int] = {}
    binaries: dict[str, tuple[int, dict[str, Any]]] = {}
    patients: list[PatientRead] = []
    for index, (full_url, resource) in enumerate(entries):
        rtype = resource["resourceType"]
        if rtype == "Patient":
            url = str(bundle["entry"][index]["request"]["url"])  # GET Patient/<id>, checked by _entries
            patients.append(PatientRead(index, full_url, url.removeprefix("Patient/"), resource))
        elif rtype == "List":
            kind = _list_code(resource)
            if kind == "folder":
                folders[full_url] = index
                continue
            if kind != "submissionset":
                raise MhdInputError(
                    f"Bundle.entry[{index}] is a List without the MHDlistTypes code 'submissionset' or "
                    "'folder'",
                    f"Bundle.entry[{index}].resource.code",
                )
            sets.append(index)
        elif rtype == "DocumentReference":
            references[full_url] = index
        else:
            binaries[full_url] = (index, resource)
    if len(patients) > 1:
        raise MhdInputError(
            f"an ITI-65 bundle holds at most one Patient, found {len(patients)}",
            f"Bundle.entry[{patients[1].index}]",
        )
    if len(sets) != 1:
        raise MhdInputError(
            f"an ITI-65 bundle holds exactly one SubmissionSet List, found {len(sets)}", "Bundle.entry"
        )
    if not references:
        raise MhdInputError("the bundle has no DocumentReference", "Bundle.entry")
    submission_set = entries[sets[0]][1]
    listed = _listed(submission_set, sets[0], references, folders)
    used: set[str] = set()
    documents = []
    for full_url in (url for url in listed if url in references):
        index = references[full_url]
        resource = entries[index][1]
        data, mime, binary_index = _content(index, resource, binaries, used)
        documents.append(Document(index, full_url, resource, data, mime, binary_index))
    unused = [url for url in binaries if url not in used]
    if unused:
        raise MhdInputError(
            f"Binary {unused[0]!r} is not the content of any DocumentReference", "Bundle.entry"
        )
    members = tuple(
        FolderList(
            folders[url],
            url,
            entries[folders[url]][1],
            _members(entries[folders[url]][1], folders[url], references),
        )
        for url in listed
        if url in folders
    )
    return ProvideBundle(
        sets[0], submission_set, tuple(documents), len(entries), members, patients[0] if patients else None
    )


def _members(folder: dict[str, Any], index: int, references: dict[str, int]) -> tuple[str, ...]:
    where = f"Bundle.entry[{index}].resource.entry"
    items = folder.get("entry")
    members: list[str] = []
    for position, item in enumerate(items if isinstance(items, list) else []):
        ref = item.get("item", {}).get("reference") if isinstance(item, dict) else None
        registered = isinstance(ref, str) and ref.startswith("DocumentReference/") and len(ref) > 18
        if not isinstance(ref, str) or not (ref in references or registered):
            raise MhdInputError(
                f"{where}[{position}].item {ref!r} names no DocumentReference of this bundle and no "
                "DocumentReference/<id>",
                f"{where}[{position}].item",
            )
        if ref in members:
            raise MhdInputError(f"{where}[{position}] lists {ref!r} twice", f"{where}[{position}]")
        members.append(ref)
    return tuple(members)


def _listed(
    submission_set: dict[str, Any], index: int, references: dict[str, int], folders: dict[str, int]
) -> list[str]:
    where = f"Bundle.entry[{index}].resource.entry"
    items = submission_set.get("entry")
    listed: list[str] = []
    for position, item in enumerate(items if isinstance(items, list) else []):
        ref = item.get("item", {}).get("reference") if isinstance(item, dict) else None
        if not isinstance(ref, str) or (ref not in references and ref not in folders):
            raise MhdInputError(
                f"{where}[{position}].item {ref!r} names no DocumentReference or Folder of this bundle",
                f"{where}[{position}].item",
            )
        if ref in listed:
            raise MhdInputError(f"{where}[{position}] lists {ref!r} twice", f"{where}[{position}]")
        listed.append(ref)
    missing = [url for url in (*references, *folders) if url not in listed]
    if missing:
        kind = "Folder" if missing[0] in folders else "DocumentReference"
        raise MhdInputError(f"the SubmissionSet does not list the {kind} {missing[0]!r}", where)
    return listed


__all__ = [
    "LIST_TYPES",
    "Document",
    "FolderList",
    "PatientRead",
    "ProvideBundle",
    "is_provide_bundle",
    "read_provide_bundle",
]
