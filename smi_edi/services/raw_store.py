"""Content-addressed storage of raw X12 bytes: written once, fsynced, never changed.

Files live under ``SMI_RAW_STORE_DIR`` (default ``var/raw``) as ``ab/cd/<sha256>``; with
several machines, point it at a shared volume. A file is written to a temporary name,
flushed to disk and renamed into place, so a crash leaves either the whole file or none.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class StoredFile:
    name: str  # relative to the store root
    sha256: str
    size: int
    head: bytes  # the first bytes, enough to read the ISA


def _root() -> Path:
    return Path(settings.SMI_RAW_STORE_DIR)


def raw_path(name: str) -> Path:
    return _root() / name


def raw_store(source: bytes | IO[bytes], *, max_bytes: int | None = None) -> StoredFile:
    """Store bytes or a binary stream; raise ``TooLarge`` past ``max_bytes``."""
    root = _root()
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    handle, temp_name = tempfile.mkstemp(dir=root, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in _chunks(source):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise TooLarge(max_bytes)
                if len(head) < 4096:
                    head += chunk[: 4096 - len(head)]
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha256 = digest.hexdigest()
        name = f"{sha256[:2]}/{sha256[2:4]}/{sha256}"
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            os.unlink(temp_name)
        else:
            os.replace(temp_name, target)
            os.chmod(target, 0o440)
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise
    return StoredFile(name=name, sha256=sha256, size=size, head=head)


def raw_read(name: str) -> bytes:
    return raw_path(name).read_bytes()


class TooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"larger than the limit of {limit} bytes")
        self.limit = limit


def _chunks(source: bytes | IO[bytes]):
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        for start in range(0, len(data), CHUNK):
            yield data[start : start + CHUNK]
        return
    while True:
        chunk = source.read(CHUNK)
        if not chunk:
            return
        yield chunk
