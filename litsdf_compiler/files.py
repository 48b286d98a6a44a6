"""File versions: what ``read_csv`` / ``read_parquet`` saw, so a lazy read never returns
other data.

pandas reads a file when ``read_csv`` is called; litsdf reads its schema then and the data
when a value is needed. :func:`file_version` records the file's identity at the call (size,
modification time, inode and device, and a digest of its first and last 64 KiB; for a
directory dataset, the same for every file under it); :func:`verify` compares it with the
file on disk before the read runs (and again after it, so a file rewritten during the read
is caught too) and raises :class:`FileChangedError` when it differs or is gone.

A version is a tuple of ``(relative path, size, mtime_ns, inode, device, digest)`` tuples
(strings and integers): it is part of the reader node, so two reads of different versions of
one file are different plans (never shared by common-subexpression elimination or memos), and
it survives JSON serialization. A plan built without one (``version=None``) is not checked.

Decisions: a plan (or a ``litsdf.compile`` pipeline that reads a file while it is traced) is
a value over the file version it saw, also after a JSON round trip: it runs only on that
version (its rules may have used the file's schema and Parquet statistics), and elsewhere
it raises :class:`FileChangedError`, which says to call the reader again. The engine checks
every reader of a plan before the optimizer runs (``engine.verify_files``; ``explain()``
too); results already materialized are reused without a check (they are the data the call
saw, as pandas would hold it).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from typing import Any, TypeAlias

__all__ = [
    "FileChangedError",
    "FileVersion",
    "file_version",
    "verify",
    "describe_change",
    "naming_file",
]

FileVersion: TypeAlias = tuple[tuple[str, int, int, int, int, int], ...]

_EDGE = 64 * 1024
"""Bytes hashed at each end of a file (catches rewrites within one mtime tick)."""


class FileChangedError(OSError):
    """A file changed (or was deleted) between ``read_csv``/``read_parquet`` and its use.

    litsdf reads files lazily; pandas would already hold the data the call saw, so litsdf
    refuses to return data from another version of the file. Read the file again to use
    the new contents.
    """


def _digest(path: str, size: int) -> int:
    with open(path, "rb") as fh:
        head = fh.read(_EDGE)
        tail = b""
        if size > _EDGE:
            fh.seek(max(_EDGE, size - _EDGE))
            tail = fh.read(_EDGE)
    h = hashlib.blake2b(head, digest_size=8)
    h.update(tail)
    return int.from_bytes(h.digest(), "big")


def _entry(path: str, rel: str) -> tuple[str, int, int, int, int, int]:
    st = os.stat(path)
    return (rel, st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev, _digest(path, st.st_size))


def file_version(path: str) -> FileVersion:
    """The identity of the file (or of every file under the directory) at ``path``.

    Parameters
    ----------
    path : str
        An absolute path to a file or a directory dataset.

    Returns
    -------
    FileVersion
        One ``(relative path, size, mtime_ns, inode, device, digest)`` entry per file, sorted
        by relative path (``""`` for ``path`` itself when it is a file).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    """
    if not os.path.isdir(path):
        return (_entry(path, ""),)
    out = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            out.append(_entry(full, os.path.relpath(full, path)))
    return tuple(sorted(out))


def _when(ns: int) -> str:
    return _dt.datetime.fromtimestamp(ns / 1e9).isoformat(sep=" ", timespec="microseconds")


def describe_change(old: FileVersion, new: FileVersion) -> str:
    """What differs between two versions of one path, in words (empty when they are equal)."""
    before = {e[0]: e for e in old}
    after = {e[0]: e for e in new}
    parts: list[str] = []
    for rel in sorted(before.keys() | after.keys()):
        name = f"{rel!r}: " if rel else ""
        a, b = before.get(rel), after.get(rel)
        if a is None:
            parts.append(f"{name}added")
        elif b is None:
            parts.append(f"{name}deleted")
        elif a != b:
            what = []
            if a[1] != b[1]:
                what.append(f"size {a[1]} -> {b[1]} bytes")
            if a[2] != b[2]:
                what.append(f"modified {_when(a[2])} -> {_when(b[2])}")
            if a[3:5] != b[3:5]:
                what.append("replaced by another file (inode/device differ)")
            if a[5] != b[5] and not what:
                what.append("contents differ")
            parts.append(name + ", ".join(what or ["contents differ"]))
    return "; ".join(parts)


def verify(path: str, version: Any, reader: str) -> None:
    """Raise :class:`FileChangedError` unless ``path`` still is the ``version`` recorded.

    Parameters
    ----------
    path : str
        The file or directory read.
    version : FileVersion or None
        What :func:`file_version` returned when the read was built; ``None`` checks nothing.
    reader : str
        The pandas function that recorded it (``"read_csv"``), for the message.

    Raises
    ------
    FileChangedError
        When the file was deleted, or its size, modification time, inode, or first/last
        bytes differ (for a directory: when a file was added, deleted or changed).
    """
    if version is None:
        return
    try:
        now = file_version(path)
    except FileNotFoundError:
        raise FileChangedError(
            f"{path!r} was deleted or moved after {reader}({path!r}) read its schema; "
            f"litsdf reads files when a value is needed, and pandas would hold the data "
            f"the call saw. Call {reader} again once the file is back."
        ) from None
    if now != tuple(version):
        raise FileChangedError(
            f"{path!r} changed after {reader}({path!r}) read its schema "
            f"({describe_change(tuple(version), now)}); litsdf reads files when a value is "
            f"needed and will not return data from another version of the file than the "
            f"one the call saw. Call {reader}({path!r}) again to read the new contents."
        )


def naming_file(err: BaseException, path: str, reader: str) -> BaseException:
    """``err`` (a reader's error: pyarrow's ``ArrowInvalid`` for a corrupt or truncated
    parquet file, an ``OSError``) as an error of the same type whose message names ``path``
    and the ``reader``; ``err`` itself when its message names the file already or its type
    takes no message.
    """
    if str(path) in str(err):
        return err
    try:
        named = type(err)(f"{reader}({str(path)!r}): {err}")
    except Exception:  # (a type whose constructor wants more than a message)
        return err
    named.__cause__ = err
    return named
