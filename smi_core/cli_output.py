"""The command line's human output: tables and progress bars drawn by rich, cells formatted
by the same functions as the pages (smi_core.templatetags.smi_format). ``--json`` output
never passes through here."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table


def console(stream) -> Console:
    """A console writing to a command's stdout: as wide as the terminal, or 200 columns
    when the output is a file or a pipe (tables stay whole in a log)."""
    probe = Console(file=stream)
    width = shutil.get_terminal_size((200, 24)).columns if probe.is_terminal else 200
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def human_table_print(out: Console, table: dict, *, title: str = "", limit: int = 50) -> None:
    """Print a ``smi_format.human_table`` result: headings in words, numbers right-aligned,
    the exchange rates used as a caption under the table."""
    if not table["rows"]:
        out.print("  (nothing)")
        return
    measures, rows = len(table["headings"]), len(table["rows"])
    if (measures > 11 and rows <= 4) or (measures > 8 and rows == 1):
        # many measures of few rows (turnover, working capital): one line per measure
        grid = Table(box=box.SIMPLE_HEAD)
        grid.add_column("")
        rows = table["rows"]
        skip = 1 if len(rows) > 1 else 0  # several rows: the first column names them
        first = table["headings"][0]["text"]
        for row in rows:
            grid.add_column(
                f"{first} {row[0]['text']}" if skip else "",
                justify="right",
                overflow="fold",
                max_width=60,
            )
        for n, h in enumerate(table["headings"][skip:], start=skip):
            grid.add_row(h["text"], *(row[n]["title"] for row in rows))
        out.print(grid)
        if table.get("rates"):
            out.print("  Exchange rates used: " + "; ".join(table["rates"]), soft_wrap=True)
        return
    grid = Table(title=title or None, title_justify="left", box=box.SIMPLE_HEAD)
    for n, h in enumerate(table["headings"]):
        if h["numeric"]:
            grid.add_column(h["text"], justify="right", no_wrap=True)
        else:  # short values (dates, codes) stay whole; long text folds
            longest = max((len(row[n]["text"]) for row in table["rows"][:limit]), default=0)
            grid.add_column(h["text"], overflow="fold", max_width=32, no_wrap=longest <= 12)
    for row in table["rows"][:limit]:
        grid.add_row(*(cell["text"] for cell in row))
    out.print(grid)
    if len(table["rows"]) > limit:
        out.print(f"  ... {len(table['rows']) - limit} more rows (--json has them all)")
    if table.get("rates"):
        out.print("  Exchange rates used: " + "; ".join(table["rates"]), soft_wrap=True)


def rows_print(out: Console, headings: list[str], rows: Iterable[Iterable[str]], **kw) -> None:
    grid = Table(box=box.SIMPLE_HEAD, **kw)
    for n, text in enumerate(headings):
        grid.add_column(text, justify="left" if n == 0 else "right")
    for row in rows:
        grid.add_row(*row)
    out.print(grid)


@contextmanager
def progress_bar(stream, description: str, total: float | None, *, unit: str = "") -> Iterator:
    """A progress bar on ``stream`` (a command's stderr, so piped output stays clean); yields
    ``advance(amount, description=...)``. Shown on a terminal only (in a log it would be
    noise); SMI_PROGRESS=1 shows it anyway, SMI_PROGRESS=0 never."""
    forced = os.environ.get("SMI_PROGRESS", "")
    bar_console = Console(file=stream, force_terminal=True if forced == "1" else None)
    count = (
        TextColumn("{task.fields[done]}/{task.fields[of]} " + unit)
        if unit
        else MofNCompleteColumn()
    )
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        count,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=bar_console,
        transient=True,
        disable=forced == "0" or not bar_console.is_terminal,
    )
    scale = 1_000_000 if unit == "MB" else 1

    def shown(value: float) -> str:
        return f"{value / scale:,.1f}" if scale > 1 else f"{value:,.0f}"

    with progress:
        task = progress.add_task(description, total=total, done=shown(0), of=shown(total or 0))

        def advance(amount: float = 1, **fields) -> None:
            progress.update(task, advance=amount, **fields)
            done = progress.tasks[0].completed
            progress.update(task, done=shown(done))

        yield advance
