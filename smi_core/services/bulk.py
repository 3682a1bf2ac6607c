"""Bulk writes for the set-based paths: COPY on PostgreSQL, bulk INSERT elsewhere."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import CharField, TextField

NULL = "\\N"  # COPY's NULL


def copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return NULL
    if type(value) is not str:
        return str(value)  # numbers and dates hold nothing COPY must escape
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


def copy_rows(table: str, columns: Sequence[str], text: str) -> None:
    """COPY ready-made text rows into ``table`` (PostgreSQL only)."""
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        copy.write(text)


def upsert(
    model,
    columns: Sequence[str],
    rows: Iterable[Sequence],
    *,
    conflict: Sequence[str],
    batch: int = 5000,
) -> None:
    """Insert ``rows`` (values in ``columns`` order, attribute names such as ``item_id``) or
    update them where ``conflict`` matches: on PostgreSQL through a temporary table filled
    by COPY and one INSERT ... ON CONFLICT DO UPDATE; elsewhere bulk_create's upsert."""
    rows = list(rows)
    if not rows:
        return
    table = model._meta.db_table
    db_columns = [
        model._meta.get_field(c.removesuffix("_id") if c.endswith("_id") else c).column
        for c in columns
    ]
    conflict_columns = [model._meta.get_field(c).column for c in conflict]
    updates = [c for c in db_columns if c not in conflict_columns]
    if connection.vendor == "postgresql":
        temp = f"_upsert_{table}"
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {temp} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            cursor.execute(f"ALTER TABLE {temp} DROP COLUMN {model._meta.pk.column}")
        text = "".join("\t".join(copy_text(v) for v in row) + "\n" for row in rows)
        copy_rows(temp, db_columns, text)
        names = ", ".join(db_columns)
        assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in updates)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM {temp} "
                f"ON CONFLICT ({', '.join(conflict_columns)}) DO UPDATE SET {assignments}"
            )
            cursor.execute(f"DROP TABLE {temp}")
        return
    objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
    update_fields = [c.removesuffix("_id") if c.endswith("_id") else c for c in columns]
    update_fields = [f for f in update_fields if f not in conflict]
    for start in range(0, len(objects), batch):
        model.objects.bulk_create(
            objects[start : start + batch],
            update_conflicts=True,
            unique_fields=list(conflict),
            update_fields=update_fields,
        )


def insert(model, columns: Sequence[str], rows: Iterable[Sequence], *, batch: int = 5000) -> int:
    """Insert many rows (values in ``columns`` order; JSON fields as Python objects): COPY on
    PostgreSQL, bulk_create elsewhere. Returns the number of rows."""
    import json

    rows = list(rows)
    if not rows:
        return 0
    # COPY names its columns: a NOT NULL field left out would get NULL, not its default.
    defaults = [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key
        and f.attname not in columns
        and not f.null
        and (f.has_default() or isinstance(f, CharField | TextField))
    ]
    if defaults:
        columns = [*columns, *(f.attname for f in defaults)]
        extra = tuple(f.get_default() for f in defaults)
        rows = [(*row, *extra) for row in rows]
    if connection.vendor == "postgresql":
        fields = [
            model._meta.get_field(c.removesuffix("_id") if c.endswith("_id") else c)
            for c in columns
        ]
        is_json = [f.get_internal_type() == "JSONField" for f in fields]
        text = "".join(
            "\t".join(
                copy_text(json.dumps(v) if j and v is not None else v)
                for v, j in zip(row, is_json, strict=True)
            )
            + "\n"
            for row in rows
        )
        copy_rows(model._meta.db_table, [f.column for f in fields], text)
        return len(rows)
    model.objects.bulk_create(
        [model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=batch
    )
    return len(rows)
