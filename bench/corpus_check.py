"""Read every file of a folder of X12 samples with our reader and print what happened.

    python bench/corpus_check.py /work/shared/corpus/x12-public

One line per file (sorted by name):

    READ    <name>  sets=N segments=N  [warning ...] [code@segment/offset message ...]
    REFUSED <name>  <the reader's message>
    CRASHED <name>  <exception>      (anything but X12SyntaxError: a reader bug)

then a summary line. Always exits 0: this is a survey, not a test. Framework-free: imports
only smi_edi.x12 (and rich, for the progress bar on a terminal).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from smi_core.cli_output import progress_bar  # noqa: E402 (rich only, no Django)
from smi_edi.x12.errors import X12SyntaxError  # noqa: E402
from smi_edi.x12.reader import X12Reader  # noqa: E402


def check(path: Path) -> tuple[str, str, bool]:
    """Return (status, details, has envelope errors) for one file."""
    try:
        reader = X12Reader(path)
        sets = segments = 0
        for elements in reader.segments():
            segments += 1
            sets += elements[0] == "ST"
    except X12SyntaxError as error:
        return "REFUSED", error.message, False
    except Exception as error:  # a reader bug: show it, and go on with the next file
        return "CRASHED", f"{type(error).__name__}: {error}", False
    notes = [f"[warning: {w}]" for w in reader.warnings]
    notes += [
        f"[{e.level} {e.code} @ segment {e.segment_number}, byte {e.offset}: {e.message}]"
        for e in reader.envelope_errors
    ]
    details = f"sets={sets} segments={segments}"
    if notes:
        details += "  " + " ".join(notes)
    return "READ", details, bool(reader.envelope_errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)

    files = sorted(p for p in args.directory.iterdir() if p.is_file() and p.suffix != ".md")
    width = max((len(p.name) for p in files), default=0)
    counts = {"READ": 0, "REFUSED": 0, "CRASHED": 0}
    with_errors = with_warnings = 0
    with progress_bar(sys.stderr, "reading", len(files)) as advance:
        for path in files:
            status, details, has_errors = check(path)
            counts[status] += 1
            with_errors += has_errors
            with_warnings += "[warning:" in details
            print(f"{status:<7} {path.name:<{width}}  {details}")
            advance(1)
    print(
        f"{len(files)} files: {counts['READ']} read ({with_warnings} with warnings, "
        f"{with_errors} with envelope errors), {counts['REFUSED']} refused"
        + (f", {counts['CRASHED']} CRASHED" if counts["CRASHED"] else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
