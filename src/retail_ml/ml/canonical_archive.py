"""Make skops archives byte-for-byte reproducible.

``skops.io.dumps`` is not deterministic on its own: object ids in
``schema.json`` (``"__id__"``) are CPython memory addresses, array members
are named after those addresses (``"<id>.npy"``) or random UUIDs
(``"<uuid>.bin"``), and every zip entry carries the wall-clock time.
:func:`canonicalize_skops_archive` rewrites an archive so that identical
objects always give identical bytes:

* object ids are renumbered ``1, 2, 3, ...`` in order of first appearance in
  a depth-first walk of ``schema.json`` (a bijection, so shared references
  stay shared; ``0`` is avoided because skops ignores falsy ids);
* every referenced member file is renamed ``<n><suffix>`` in order of first
  reference, keeping its suffix (``.npy``/``.bin``) and content;
* the zip is rewritten uncompressed with fixed timestamps, permissions and
  creator system, ``schema.json`` first and the members in numbering order.

The result is still a valid skops archive (``skops.io.loads`` reads it).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import PurePosixPath
from typing import Any

_SCHEMA_NAME = "schema.json"
_FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o644 << 16
_UNIX_CREATOR = 3


class _Renumbering:
    """Accumulates the id and file-name mappings during one schema walk."""

    def __init__(self) -> None:
        self.ids: dict[int, int] = {}
        self.files: dict[str, str] = {}

    def new_id(self, old: int) -> int:
        return self.ids.setdefault(old, len(self.ids) + 1)

    def new_file(self, old: str) -> str:
        if old not in self.files:
            suffix = PurePosixPath(old).suffix
            self.files[old] = f"{len(self.files) + 1}{suffix}"
        return self.files[old]

    def walk(self, node: Any) -> Any:
        """Return a copy of ``node`` with ids and file names renumbered."""
        if isinstance(node, list):
            return [self.walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        is_state = "__loader__" in node
        result: dict[str, Any] = {}
        for key, value in node.items():
            if is_state and key == "__id__" and type(value) is int:
                result[key] = self.new_id(value)
            elif is_state and key == "file" and isinstance(value, str):
                result[key] = self.new_file(value)
            else:
                result[key] = self.walk(value)
        return result


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_DATE_TIME)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = _FILE_MODE
    info.create_system = _UNIX_CREATOR
    return info


def canonicalize_skops_archive(data: bytes) -> bytes:
    """Rewrite a skops archive into its canonical, reproducible byte form.

    Args:
        data: Bytes produced by ``skops.io.dumps``.

    Returns:
        Canonical archive bytes, loadable with ``skops.io.loads``. Applying the
        function to its own output returns the same bytes.

    Raises:
        ValueError: If ``data`` is not a zip archive with a ``schema.json``,
            the schema references a member that does not exist, or the
            archive holds members that the schema does not reference.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as source:
            names = set(source.namelist())
            if _SCHEMA_NAME not in names:
                raise ValueError("not a skops archive: schema.json is missing")
            schema = json.loads(source.read(_SCHEMA_NAME))
            renumbering = _Renumbering()
            canonical_schema = renumbering.walk(schema)
            members = set(renumbering.files)
            missing = sorted(members - names)
            if missing:
                raise ValueError(f"skops schema references missing members: {missing}")
            unreferenced = sorted(names - members - {_SCHEMA_NAME})
            if unreferenced:
                raise ValueError(f"skops archive has unreferenced members: {unreferenced}")
            contents = {new: source.read(old) for old, new in renumbering.files.items()}
    except zipfile.BadZipFile as exc:
        raise ValueError(f"not a skops archive: {exc}") from exc

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as target:
        target.writestr(_zip_info(_SCHEMA_NAME), json.dumps(canonical_schema, indent=2))
        for name, content in contents.items():
            target.writestr(_zip_info(name), content)
    return buffer.getvalue()
