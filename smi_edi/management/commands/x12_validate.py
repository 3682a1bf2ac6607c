"""Validate X12 files against the project's maps; optionally write the 997/999 for each."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from smi_core.cli_output import progress_bar
from smi_edi.models import TradingPartner
from smi_edi.services.control_numbers import DatabaseControlNumbers
from smi_edi.x12.acks import acknowledgment_for
from smi_edi.x12.errors import X12SyntaxError
from smi_edi.x12.reader import X12Reader
from smi_edi.x12.validation import ENGINES, validate


class Command(BaseCommand):
    help = (
        "Validate X12 files: per set accepted, accepted with errors or rejected, with each error. "
        "Exit 0 when all sets are accepted, 1 when any set is rejected, 2 when a file cannot be read as X12."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--json", action="store_true")
        parser.add_argument(
            "--ack-out", type=Path, help="write the 997 (or 999) for each file into this directory"
        )
        parser.add_argument(
            "--ack-type", choices=["997", "999"], help="default: the sender's preference, else 997"
        )
        parser.add_argument(
            "--engine",
            choices=ENGINES,
            help="fast (the default: compiled from our maps) or pyx12 (the reference, slower); "
            "both give the same verdicts",
        )

    def handle(self, *args, **o):
        flags = {"unreadable": False, "rejected": False}
        report: list[dict] = []
        if o["ack_out"]:
            o["ack_out"].mkdir(parents=True, exist_ok=True)
        with progress_bar(
            self.stderr, "validating", _total_bytes(o["files"]), unit="MB"
        ) as advance:
            for path in o["files"]:
                advance(0, description=f"validating {path.name}")
                self._validate_one(path, o, report, flags)
                advance(_size(path))
        unreadable, rejected = flags["unreadable"], flags["rejected"]
        if o["json"]:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            for entry in report:
                self._print(entry)
        if unreadable:
            raise SystemExit(2)
        if rejected:
            raise SystemExit(1)

    def _validate_one(self, path: Path, o: dict, report: list, flags: dict) -> None:
        try:
            results = validate(path, engine=o["engine"])
            with X12Reader(path) as reader:
                delimiters = reader.delimiters
        except X12SyntaxError as exc:
            flags["unreadable"] = True
            report.append({"file": str(path), "readable": False, "error": exc.message})
            return
        entry = {
            "file": str(path),
            "readable": True,
            "interchanges": [r.as_dict() for r in results],
        }
        if any(r.any_rejected for r in results):
            flags["rejected"] = True
        if o["ack_out"]:
            entry["acknowledgments"] = [
                str(self._write_ack(path, n, r, delimiters, o["ack_out"], o["ack_type"]))
                for n, r in enumerate(results)
            ]
        report.append(entry)

    def _write_ack(
        self, path: Path, n: int, result, delimiters, out: Path, ack_type: str | None
    ) -> Path:
        partner = TradingPartner.objects.filter(
            isa_qualifier=result.sender_qualifier, isa_id=result.sender_id
        ).first()
        kind = ack_type or (partner.ack_type if partner else "997")
        key = partner.isa_key if partner else f"{result.sender_qualifier}:{result.sender_id}"
        data = acknowledgment_for(
            result,
            ack_type=kind,
            delimiters=delimiters,
            control_numbers=DatabaseControlNumbers(key),
            usage=result.usage,
        )
        target = out / f"{path.stem}{'-' + str(n + 1) if n else ''}.{kind}.x12"
        target.write_bytes(data)
        return target

    def _print(self, entry: dict) -> None:
        if not entry["readable"]:
            self.stdout.write(f"{entry['file']}: cannot be read as X12: {entry['error']}")
            return
        for ix in entry["interchanges"]:
            self.stdout.write(
                f"{entry['file']}: interchange {ix['control_number']} from {ix['sender']} to {ix['receiver']}"
            )
            for message in ix["interchange_errors"]:
                self.stdout.write(f"  ! {message}")
            for group in ix["groups"]:
                self.stdout.write(
                    f"  group {group['functional_id']} {group['control_number']} ({group['version']}): {group['status']}"
                )
                for message in group.get("messages", []):
                    self.stdout.write(f"    note: {message}")
                for item in group["group_errors"]:
                    self.stdout.write(f"    ! AK905 {item['code']}: {item['message']}")
                for s in group["sets"]:
                    self.stdout.write(f"    {s['set_id']} {s['control_number']}: {s['status']}")
                    for message in s["messages"]:
                        self.stdout.write(f"      - {message}")
        for ack in entry.get("acknowledgments", []):
            self.stdout.write(f"  acknowledgment written: {ack}")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _total_bytes(paths: list[Path]) -> int:
    return sum(_size(p) for p in paths)
