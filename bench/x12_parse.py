"""Benchmark: reading and validating 852s of about 1, 10 and 50 MB, ours next to pyx12.

Each measurement runs in a fresh child process, so its peak memory (maximum resident set
size above the child's baseline before reading) is its own. Prints one table.

    python bench/x12_parse.py [--sizes 1,10,50] [--validate-sizes 1,10,50] [--repeat 3]

Tools: our reader and pyx12's reader (segments split into elements); our validation
(``validate()``: reader, envelope checks and the fast validator compiled from the maps,
which is what ingestion runs) and pyx12's own validation of the same file over the same
maps (``x12n_document``, as pyx12 ships it), the reference for speed and for verdicts.
Each validator first checks a small file in its process, so one-off imports and compiled
tables are not in the figures of either. pyx12 takes minutes on the 50 MB file.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

OUT = ROOT / "bench" / "out"
MAPS = ROOT / "smi_edi" / "maps"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(tool: str, path: str) -> dict:
    """Run one tool over one file in this process; return seconds, segments and peak memory."""
    import pyx12.x12file

    from smi_edi.x12.reader import X12Reader

    if tool == "smi-validate":
        from smi_edi.x12.validation import validate
    if tool == "pyx12-validate":
        import io
        import logging

        import pyx12.params
        import pyx12.x12n_document

        logging.getLogger("pyx12").setLevel(logging.CRITICAL)
        logging.getLogger("pyx12").propagate = False
    warm_up = OUT / "852_warmup.edi"
    if tool == "smi-validate":  # imports, map tables and expressions compiled once
        validate(warm_up)
    if tool == "pyx12-validate":  # pyx12 reads its maps again for every document anyway
        pyx12.x12n_document.x12n_document(
            pyx12.params.ParamsBase(), str(warm_up), io.StringIO(), None, map_path=str(MAPS)
        )
    baseline = _rss_mb()
    start, cpu_start = time.perf_counter(), time.process_time()
    if tool == "smi-reader":
        count = sum(1 for _elements in X12Reader(path).segments())
    elif tool == "pyx12-reader":
        with open(path, encoding="ascii") as handle:
            count = sum(1 for _segment in pyx12.x12file.X12Reader(handle))
    elif tool == "smi-validate":
        results = validate(path)
        count = sum(len(g.sets) for r in results for g in r.groups)
        if any(r.any_rejected for r in results):
            raise SystemExit("our validator did not accept the generated file")
    elif tool == "pyx12-validate":
        ok = pyx12.x12n_document.x12n_document(
            pyx12.params.ParamsBase(), path, io.StringIO(), None, map_path=str(MAPS)
        )
        if not ok:
            raise SystemExit("pyx12 did not accept the generated file")
        count = 1
    else:
        raise SystemExit(f"unknown tool {tool}")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = max(0.0, _rss_mb() - baseline)
    return {"seconds": seconds, "cpu": cpu, "count": count, "peak_mb": peak}


def run_child(tool: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--one", tool, str(path)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1,10,50", help="file sizes in MB")
    parser.add_argument("--validate-sizes", default="1,10,50", help="sizes (MB) to validate")
    parser.add_argument("--repeat", type=int, default=3, help="reader runs per file (best is kept)")
    parser.add_argument("--one", nargs=2, metavar=("TOOL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(*args.one)))
        return

    from gen852 import write_852

    from smi_core.cli_output import progress_bar

    OUT.mkdir(parents=True, exist_ok=True)
    write_852(OUT / "852_warmup.edi", items=5)
    sizes = [float(s) for s in args.sizes.split(",") if s]
    validate_sizes = {float(s) for s in args.validate_sizes.split(",") if s}
    rows = []
    # one step per file generated and per run of a tool on it
    steps = sum(1 + 2 * args.repeat + (2 if s in validate_sizes else 0) for s in sizes)
    with progress_bar(sys.stderr, "x12 parse", steps) as advance:
        for size in sizes:
            rows += _one_size(size, size in validate_sizes, args.repeat, write_852, advance)
    _print(rows)


def _one_size(size: float, validate: bool, repeat_readers: int, write_852, advance) -> list:
    rows = []
    path = OUT / f"852_{size:g}MB.edi"
    advance(0, description=f"generating {path.name}")
    info = write_852(path, size)
    advance(1)
    mb = info["bytes"] / 1e6
    tools = ["smi-reader", "pyx12-reader"]
    if validate:
        tools += ["smi-validate", "pyx12-validate"]
    results = {}
    for tool in tools:
        repeat = repeat_readers if tool.endswith("reader") else 1
        best = None
        for _ in range(repeat):
            advance(0, description=f"{tool} on {path.name}")
            result = run_child(tool, path)
            advance(1)
            if best is None or result["seconds"] < best["seconds"]:
                best = result
        results[tool] = best
        rows.append(
            (
                f"{mb:.1f}",
                tool,
                best["seconds"],
                best["cpu"],
                mb / best["seconds"],
                best["peak_mb"],
            )
        )
    for kind, ours, theirs in (
        ("reader", "smi-reader", "pyx12-reader"),
        ("validation", "smi-validate", "pyx12-validate"),
    ):
        if ours in results:
            wall = results[theirs]["seconds"] / results[ours]["seconds"]
            cpu = results[theirs]["cpu"] / results[ours]["cpu"]
            rows.append((f"{mb:.1f}", f"{kind} speed-up vs pyx12", wall, cpu, None, None))
    return rows


def _print(rows: list) -> None:
    print()
    # Speed-up rows give the ratio of wall seconds and of CPU seconds (pyx12 / ours); CPU
    # time is the steadier of the two on a shared machine.
    print(f"{'file MB':>8}  {'tool':<30} {'seconds':>9} {'CPU s':>9} {'MB/s':>9} {'peak MB':>9}")
    for mb, tool, seconds, cpu, rate, peak in rows:
        if rate is None:
            print(f"{mb:>8}  {tool:<30} {seconds:>8.1f}x {cpu:>8.1f}x")
        else:
            print(f"{mb:>8}  {tool:<30} {seconds:>9.2f} {cpu:>9.2f} {rate:>9.2f} {peak:>9.1f}")


if __name__ == "__main__":
    main()
