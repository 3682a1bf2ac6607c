"""Show an X12 file's envelope tree and segments."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from smi_edi.x12.document import Document, read_document
from smi_edi.x12.errors import X12SyntaxError


class Command(BaseCommand):
    help = "Print the envelope tree (interchanges, groups, sets) and the segments of an X12 file."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the X12 file")
        parser.add_argument("--json", action="store_true", help="print the canonical JSON form")

    def handle(self, *args, **options):
        path = options["file"]
        try:
            document = read_document(path)
        except X12SyntaxError as exc:
            raise CommandError(f"{path}: {exc.message}", returncode=2) from exc
        if options["json"]:
            self.stdout.write(document.canonical_json())
            return
        self.stdout.write("\n".join(format_document(document, path)))


def format_document(document: Document, name: str) -> list[str]:
    d = document.delimiters
    sets = list(document.sets)
    lines = [
        f"{name}: {len(document.interchanges)} interchange(s), "
        f"{sum(len(i.groups) for i in document.interchanges)} group(s), {len(sets)} set(s), "
        f"{document.segment_count} segments",
        f"delimiters: element {d.element!r}  component {d.component!r}  segment {d.segment!r}  "
        f"repetition {d.repetition!r}",
    ]
    lines += [f"normalised: {warning}" for warning in document.warnings]
    sep = d.element
    for interchange in document.interchanges:
        ix = interchange.summary
        lines.append(
            f"ISA {ix.control_number}  {ix.sender_qualifier}:{ix.sender_id} -> "
            f"{ix.receiver_qualifier}:{ix.receiver_id}  version {ix.version}  "
            f"usage {ix.usage}  (segment {ix.segment_number}, offset {ix.offset})"
        )
        for group in interchange.groups:
            gs = group.summary
            lines.append(
                f"  GS {gs.functional_id} {gs.control_number}  {gs.sender_id} -> {gs.receiver_id}  "
                f"version {gs.version}  ({len(group.sets)} set(s))"
            )
            for ts in group.sets:
                lines.append(
                    f"    ST {ts.set_id} {ts.control_number}  ({len(ts.segments)} segments)"
                )
                for segment in ts.segments:
                    lines.append(f"      {segment.number:>6}  {sep.join(segment.elements)}")
    for segment in document.stray_segments:
        lines.append(f"  outside any set: {segment.number:>6}  {sep.join(segment.elements)}")
    if document.envelope_errors:
        lines.append("envelope errors:")
        lines += [
            f"  segment {e.segment_number} (offset {e.offset}): {e.message}"
            for e in document.envelope_errors
        ]
    else:
        lines.append("envelopes: all counts and control numbers agree")
    return lines
