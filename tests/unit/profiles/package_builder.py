"""Builds small FHIR NPM packages (.tgz and folders) for the package tests."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any


def manifest(name: str, version: str, deps: dict[str, str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"name": name, "version": version, "fhirVersions": ["4.0.1"]}
    if deps:
        data["dependencies"] = deps
    return data


def value_set(url: str, version: str = "1.0.0") -> dict[str, Any]:
    return {"resourceType": "ValueSet", "url": url, "version": version, "status": "active"}


def write_tgz(path: Path, package_json: dict[str, Any], files: dict[str, bytes | dict[str, Any]]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        entries: dict[str, bytes | dict[str, Any]] = {"package/package.json": package_json, **files}
        for name, content in entries.items():
            raw = content if isinstance(content, bytes) else json.dumps(content).encode()
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    return path


def write_folder(
    path: Path, package_json: dict[str, Any] | None, files: dict[str, dict[str, Any] | bytes]
) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if package_json is not None:
        (path / "package.json").write_text(json.dumps(package_json))
    for name, content in files.items():
        (path / name).write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return path
