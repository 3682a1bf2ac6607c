"""Drop folders: pick up files from an inbox and move each to processed/ or failed/.

Every step is safe to repeat after a crash:

1. claim: rename ``inbox/NAME`` to ``inbox/.processing/NAME`` (atomic on one filesystem);
2. store and record the interchange (a file received again under the same name with the
   same bytes returns the interchange already recorded, so nothing doubles);
3. move to ``processed/NAME`` (or ``failed/NAME`` with ``NAME.reason.txt`` when the file
   cannot be taken in at all).

Files left in ``.processing`` by a crash are taken first on the next poll.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from smi_core.exceptions import ApplicationError
from smi_edi.models import Interchange
from smi_edi.services.interchanges import interchange_enqueue, interchange_receive

PROCESSING = ".processing"


@dataclass(frozen=True, slots=True)
class PollResult:
    name: str
    interchange_id: int | None
    moved_to: Path
    reason: str = ""


def folder_poll(
    *, inbox: Path, settle_seconds: float = 2.0, report: Callable[[PollResult], None] | None = None
) -> list[PollResult]:
    """Take in every settled file of ``inbox`` once; return what happened to each."""
    inbox = Path(inbox)
    claimed_dir = inbox / PROCESSING
    processed_dir = inbox.parent / "processed" if inbox.name == "inbox" else inbox / "processed"
    failed_dir = inbox.parent / "failed" if inbox.name == "inbox" else inbox / "failed"
    for directory in (claimed_dir, processed_dir, failed_dir):
        directory.mkdir(parents=True, exist_ok=True)

    results = []
    leftovers = sorted(p for p in claimed_dir.iterdir() if p.is_file())
    for path in leftovers + _settled(inbox, settle_seconds):
        claimed = path if path.parent == claimed_dir else _claim(path, claimed_dir)
        if claimed is None:
            continue  # another poller took it
        result = _take_in(claimed, processed_dir, failed_dir)
        results.append(result)
        if report:
            report(result)
    return results


def _settled(inbox: Path, settle_seconds: float) -> list[Path]:
    """Files no one has written to for ``settle_seconds`` (a partner may still be writing)."""
    now = time.time()
    files = []
    for path in inbox.iterdir():
        if path.name.startswith(".") or not path.is_file():
            continue
        if now - path.stat().st_mtime >= settle_seconds:
            files.append(path)
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def _claim(path: Path, claimed_dir: Path) -> Path | None:
    target = claimed_dir / path.name
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return None
    return target


def _take_in(path: Path, processed_dir: Path, failed_dir: Path) -> PollResult:
    try:
        with open(path, "rb") as handle:
            interchange = interchange_receive(
                source=handle,
                transport=Interchange.Transport.FOLDER,
                source_name=path.name,
                actor="folder:x12_poll",
            )
    except ApplicationError as exc:
        target = _free_name(failed_dir / path.name)
        reason_file = target.with_name(target.name + ".reason.txt")
        reason_file.write_text(exc.message + "\n", encoding="utf-8")
        os.replace(path, target)
        return PollResult(path.name, None, target, exc.message)
    interchange_enqueue(interchange)
    target = _free_name(processed_dir / path.name)
    os.replace(path, target)
    return PollResult(path.name, interchange.pk, target)


def _free_name(target: Path) -> Path:
    """``name``, else ``name.1``, ``name.2``...: a file of the same name is never overwritten."""
    candidate, n = target, 0
    while candidate.exists():
        n += 1
        candidate = target.with_name(f"{target.name}.{n}")
    return candidate
