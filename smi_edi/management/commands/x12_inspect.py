"""Show an X12 file's envelopes and segments, streaming: the first --limit segments (200 by
default; --all lifts it), then the totals and the envelope check of the whole file, in
constant memory whatever the file's size."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from smi_edi.x12.document import read_document
from smi_edi.x12.errors import X12SyntaxError
from smi_edi.x12.reader import X12Reader

DEFAULT_LIMIT = 200


class Command(BaseCommand):
    help = (
        "Print the envelopes (interchanges, groups, sets) and the first segments of an X12 "
        f"file ({DEFAULT_LIMIT} unless --limit or --all), then its totals and envelope check."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the X12 file")
        parser.add_argument(
            "--limit",
            type=int,
            default=DEFAULT_LIMIT,
            help=f"show at most this many segments (default {DEFAULT_LIMIT}); the rest are "
            "read, counted and checked",
        )
        parser.add_argument("--all", action="store_true", help="show every segment")
        parser.add_argument(
            "--json", action="store_true", help="print the canonical JSON form (whole file)"
        )

    def handle(self, *args, **options):
        path = options["file"]
        if options["limit"] < 0:
            raise CommandError("--limit cannot be negative")
        try:
            if options["json"]:
                self.stdout.write(read_document(path).canonical_json())
                return
            self._stream(path, None if options["all"] else options["limit"])
        except X12SyntaxError as exc:
            raise CommandError(f"{path}: {exc.message}", returncode=2) from exc

    def _stream(self, path: str, limit: int | None) -> None:
        reader = X12Reader(path)
        d = reader.delimiters
        sep = d.element
        write = self.stdout.write
        write(f"{path}")
        write(
            f"delimiters: element {d.element!r}  component {d.component!r}  "
            f"segment {d.segment!r}  repetition {d.repetition!r}"
        )
        shown = 0
        sets = 0
        for elements in reader.segments():
            segment_id = elements[0]
            if segment_id == "ST":
                sets += 1
            if limit is not None and shown >= limit:
                if shown == limit:
                    write(
                        f"... only the first {limit} segments are shown (--limit N for more, "
                        "--all for every one); reading on to count and check the envelopes"
                    )
                    shown += 1
                continue
            shown += 1
            if segment_id == "ISA" and reader.current_interchange is not None:
                ix = reader.current_interchange
                write(
                    f"ISA {ix.control_number}  {ix.sender_qualifier}:{ix.sender_id} -> "
                    f"{ix.receiver_qualifier}:{ix.receiver_id}  version {ix.version}  "
                    f"usage {ix.usage}  (segment {ix.segment_number}, offset {ix.offset})"
                )
            elif segment_id == "GS" and reader.current_group is not None:
                gs = reader.current_group
                write(
                    f"  GS {gs.functional_id} {gs.control_number}  {gs.sender_id} -> "
                    f"{gs.receiver_id}  version {gs.version}"
                )
            elif segment_id == "ST":
                write(f"    ST {' '.join(elements[1:3])}")
            indent = "      " if reader.current_set is not None or segment_id == "SE" else "  "
            write(f"{indent}{reader.segment_number:>6}  {sep.join(elements)}")
        groups = sum(len(ix.groups) for ix in reader.interchanges)
        write(
            f"{path}: {len(reader.interchanges)} interchange(s), {groups} group(s), "
            f"{sets} set(s), {reader.segment_number} segments"
        )
        for warning in reader.warnings:
            write(f"normalised: {warning}")
        if reader.envelope_errors:
            write("envelope errors:")
            for e in reader.envelope_errors[:50]:
                write(f"  segment {e.segment_number} (offset {e.offset}): {e.message}")
            if len(reader.envelope_errors) > 50:
                write(f"  ... and {len(reader.envelope_errors) - 50} more (--json lists all)")
        else:
            write("envelopes: all counts and control numbers agree")
