"""`x12_inspect`: the envelope tree as text, the canonical JSON, and a clean refusal (exit
code 2, no traceback) for what cannot be read as X12."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.x12_builders import interchange, report_852

ROOT = Path(__file__).resolve().parents[2]
WEEK = report_852(
    lines=[
        ("VN*ACME-1001", ["ZA*QS**EA", "SDQ*EA*92*S001*7"]),
        ("VN*ACME-1002", ["ZA*QA**EA", "SDQ*EA*92*S001*15*S002*4"]),
    ]
)


@pytest.fixture
def two_sets(tmp_path) -> Path:
    path = tmp_path / "week.edi"
    path.write_bytes(interchange([WEEK, WEEK], control=42))
    return path


def test_text_output_shows_the_envelope_tree_and_every_segment(two_sets, capsys):
    call_command("x12_inspect", str(two_sets))

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(two_sets)
    assert lines[1] == "delimiters: element '*'  component '>'  segment '~'  repetition None"
    assert lines[2].startswith(
        "ISA 000000042  ZZ:DEMORETAIL -> ZZ:ACMESUPPLY  version 00401  usage P"
    )
    assert lines[4] == "  GS PD 42  DEMORETAIL -> ACMESUPPLY  version 004010"
    assert lines[6] == "    ST 852 0001"
    assert lines[7] == "           3  ST*852*0001"
    assert "           6  N1*ST*Ship to*92*DC01" in lines
    assert "          12  SDQ*EA*92*S001*15*S002*4" in lines
    assert "          24  SDQ*EA*92*S001*15*S002*4" in lines
    assert "    ST 852 0002" in lines
    # the totals come after the segments: the file is streamed, never held whole
    assert lines[-2] == f"{two_sets}: 1 interchange(s), 1 group(s), 2 set(s), 28 segments"
    assert lines[-1] == "envelopes: all counts and control numbers agree"


def test_text_output_lists_envelope_errors(tmp_path, capsys):
    path = tmp_path / "bad-count.edi"
    path.write_bytes(interchange([WEEK]).replace(b"GE*1*1~", b"GE*3*1~"))

    call_command("x12_inspect", str(path))

    out = capsys.readouterr().out
    assert "envelope errors:" in out
    assert "GE01 says 3 transaction sets but group 1 has 1" in out
    assert "all counts and control numbers agree" not in out


def test_json_output_is_the_canonical_form(two_sets, capsys):
    call_command("x12_inspect", str(two_sets), "--json")

    out = capsys.readouterr().out
    data = json.loads(out)
    assert out.strip() == json.dumps(data, sort_keys=True, separators=(",", ":"))
    assert data["segment_count"] == 28
    assert data["envelope_errors"] == [] and data["warnings"] == []
    (ix,) = data["interchanges"]
    assert ix["control_number"] == "000000042"
    assert ix["sender"] == {"qualifier": "ZZ", "id": "DEMORETAIL"}
    assert ix["receiver"] == {"qualifier": "ZZ", "id": "ACMESUPPLY"}
    (group,) = ix["groups"]
    assert (group["functional_id"], group["version"]) == ("PD", "004010")
    assert [(s["set_id"], s["control_number"]) for s in group["sets"]] == [
        ("852", "0001"),
        ("852", "0002"),
    ]
    first = group["sets"][0]["segments"]
    assert first[0] == {
        "number": 3,
        "offset": first[0]["offset"],
        "elements": ["ST", "852", "0001"],
    }
    assert first[-1]["elements"] == ["SE", "12", "0001"]
    assert ["SDQ", "EA", "92", "S001", "15", "S002", "4"] in [s["elements"] for s in first]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello, this is not X12", "does not start with an ISA interchange header"),
        (b"", "the file is empty"),
        (b"ISA*00*", "fewer than 16 elements"),
        (None, "cannot open"),
    ],
    ids=["not-x12", "empty", "truncated-isa", "missing-file"],
)
def test_unreadable_input_is_a_command_error_with_exit_code_2(tmp_path, content, message):
    path = tmp_path / "input.edi"
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(CommandError) as excinfo:
        call_command("x12_inspect", str(path))

    assert excinfo.value.returncode == 2
    assert str(excinfo.value).startswith(f"{path}: ")
    assert message in str(excinfo.value)


def test_the_real_process_exits_2_without_a_traceback(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}

    done = subprocess.run(
        [sys.executable, "manage.py", "x12_inspect", str(path), "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert "does not start with an ISA interchange header" in done.stderr
    assert "Traceback" not in done.stderr


def _segment_lines(lines: list[str]) -> list[str]:
    import re

    return [line for line in lines if re.match(r"^ +\d+  [A-Z0-9]{2,3}\*", line)]


def _big_file(path: Path, sets: int) -> Path:
    """One interchange with ``sets`` 852 sets of 40 items each (about 2 kB a set)."""
    lines = [(f"VN*ACME-{n:04d}", ["ZA*QA*12*EA", "SDQ*EA*92*S001*7*S002*4"]) for n in range(40)]
    path.write_bytes(interchange([report_852(lines=lines)] * sets, control=7))
    return path


def test_a_big_file_shows_the_first_200_segments_and_the_totals_in_little_memory(tmp_path, capsys):
    import tracemalloc

    path = _big_file(tmp_path / "big.edi", sets=800)  # about 1.7 MB, 100,804 segments
    size = path.stat().st_size
    assert size > 1_500_000

    tracemalloc.start()
    call_command("x12_inspect", str(path))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    lines = capsys.readouterr().out.splitlines()
    assert len(_segment_lines(lines)) == 200
    assert any("only the first 200 segments are shown" in line for line in lines)
    assert lines[-2].endswith("800 set(s), 100804 segments")
    assert lines[-1] == "envelopes: all counts and control numbers agree"
    # streamed: about 4 MB whatever the file's size (the reader's 256 KiB chunks, a summary
    # per set); reading the whole document, as it did, took 40 MB per MB of file
    assert peak < 8_000_000, f"peak {peak} bytes for a {size}-byte file"


def test_limit_and_all(two_sets, capsys):
    call_command("x12_inspect", str(two_sets), "--limit", "5")
    limited = capsys.readouterr().out.splitlines()
    call_command("x12_inspect", str(two_sets), "--all")
    everything = capsys.readouterr().out.splitlines()

    assert len(_segment_lines(limited)) == 5
    assert len(_segment_lines(everything)) == 28  # the ISA, GS, GE and IEA too
    assert not any("only the first" in x for x in everything)
