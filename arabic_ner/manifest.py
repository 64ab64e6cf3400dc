"""A model folder's manifest: every file with its size and SHA-256, checked before loading.

A model is copied between machines, unpacked from archives and synced to clusters; a file
cut short or with one flipped bit would otherwise load and change every result silently,
or be handed to a parser that was never meant to see damage. ``arabic-ner train`` (and
the training scripts) write ``manifest.json`` into the folder they fill::

    {"format": 1, "files": {"meta.json": {"size": 1234, "sha256": "…"}, …}}

Before any file is parsed, :func:`verify_manifest` checks that each file the loader will
read is listed, and that its size and SHA-256 are those listed; the first that differs
raises :class:`~arabic_ner.errors.ModelError` naming it. A folder without a manifest is
refused unless the caller trusts it (``load(model=DIR, trust_model=True)``, or
``--trust-model`` on the command line); ``arabic-ner manifest DIR`` writes one for a
folder you built yourself and trust.

Hashing the 32 MB default model takes about 20 ms.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from arabic_ner.errors import ModelError

__all__ = [
    "MANIFEST_FILE",
    "MANIFEST_FORMAT",
    "file_sha256",
    "verify_folder",
    "verify_manifest",
    "write_manifest",
]

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = 1
_BLOCK = 1 << 20


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the hex SHA-256 of the file at ``path``.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: str | os.PathLike[str]) -> Path:
    """Write ``folder/manifest.json`` listing every file of ``folder`` (not hidden, not in
    subfolders) with its size and SHA-256; return its path.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "meta.json").write_text("{}")
    >>> sorted(json.loads(write_manifest(folder).read_text())["files"])
    ['meta.json']
    """
    root = Path(folder)
    files: dict[str, dict[str, Any]] = {}
    for name in _listable(root):
        path = root / name
        files[name] = {"size": path.stat().st_size, "sha256": file_sha256(path)}
    target = root / MANIFEST_FILE
    partial = target.with_name(MANIFEST_FILE + ".tmp")
    content = {"format": MANIFEST_FORMAT, "files": files}
    partial.write_text(json.dumps(content, indent=1, sort_keys=True) + "\n", "utf-8")
    partial.replace(target)
    return target


def _listable(root: Path) -> list[str]:
    """The names of the files a manifest of ``root`` lists: not hidden, not in subfolders."""
    return sorted(
        p.name
        for p in root.iterdir()
        if p.name != MANIFEST_FILE and not p.name.startswith(".") and p.is_file()
    )


def verify_folder(folder: str | os.PathLike[str]) -> None:
    """Check that ``folder`` holds exactly the files its manifest lists, each unchanged.

    What a tool that rewrites the manifest checks first (``scripts/set_outside_bias.py``),
    so that the new manifest vouches for no file that was damaged or added since; raises
    :class:`ModelError` naming the first file that differs, is not listed, or is missing.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "meta.json").write_text("{}")
    >>> _ = write_manifest(folder)
    >>> verify_folder(folder)
    >>> (folder / "meta.json").unlink()
    >>> verify_folder(folder)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    arabic_ner.errors.ModelError: ... lacks meta.json, which ... lists: ...
    """
    root = Path(folder)
    present = _listable(root)
    verify_manifest(root, present)
    missing = sorted(set(_read(root / MANIFEST_FILE)) - set(present))
    if missing:
        raise ModelError(
            f"{root} lacks {', '.join(missing)}, which {root / MANIFEST_FILE} lists: copy "
            "the model folder again, retrain it, or reinstall arabic-ner for the default model"
        )


def verify_manifest(
    folder: str | os.PathLike[str], needed: Iterable[str], *, trust: bool = False
) -> None:
    """Check the files ``needed`` of ``folder`` against its manifest; raise :class:`ModelError`.

    ``needed`` names the files the loader will read that exist in the folder. Each must
    be listed, with the size and SHA-256 listed. Without a manifest the folder is refused
    unless ``trust``; with ``trust`` and a manifest, the manifest is still checked.
    """
    root = Path(folder)
    path = root / MANIFEST_FILE
    if not path.is_file():
        if trust:
            return
        raise ModelError(
            f"model folder {root} has no {MANIFEST_FILE}, so its files cannot be checked; "
            "retrain it with 'arabic-ner train', or, if you built it yourself and trust it, "
            f"write one with 'arabic-ner manifest {root}' (or load it with trust_model=True, "
            "--trust-model on the command line)"
        )
    listed = _read(path)
    for name in needed:
        entry = listed.get(name)
        if entry is None:
            raise ModelError(
                f"{root / name} is not listed in {path}: the folder was changed after it "
                f"was written; remove the file, or rewrite the manifest with "
                f"'arabic-ner manifest {root}' if you trust the change"
            )
        file = root / name
        size = file.stat().st_size
        if size != entry["size"] or file_sha256(file) != entry["sha256"]:
            raise ModelError(
                f"{file} differs from the copy recorded in {path} ({size} bytes, "
                f"{entry['size']} recorded): it is damaged or was changed; copy the model "
                "folder again, retrain it, or reinstall arabic-ner for the default model"
            )


def _read(path: Path) -> dict[str, dict[str, Any]]:
    """The manifest's ``files``, each with an int ``size`` and a hex ``sha256``."""
    try:
        content = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise ModelError(
            f"cannot read {path}: {error}; rewrite it with 'arabic-ner manifest'"
        ) from error
    files = content.get("files") if isinstance(content, dict) else None
    well_formed = (
        isinstance(content, dict)
        and content.get("format") == MANIFEST_FORMAT
        and isinstance(files, dict)
        and all(
            isinstance(entry, dict)
            and isinstance(entry.get("size"), int)
            and isinstance(entry.get("sha256"), str)
            and len(entry["sha256"]) == 64
            for entry in files.values()
        )
    )
    if not well_formed:
        raise ModelError(
            f"{path} is not a manifest of format {MANIFEST_FORMAT} "
            '({"format": 1, "files": {NAME: {"size": N, "sha256": HEX}}}); '
            "rewrite it with 'arabic-ner manifest'"
        )
    assert isinstance(files, dict)
    return files
