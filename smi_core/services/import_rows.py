"""Checks every import shares: reading a file (UTF-8, inside the import root), CSV rows
(cut-short rows, duplicates), values that fit the model (lengths, digits, decimal places),
ISO 4217 currencies, ISA ids and GTIN check digits, and one error listing every bad row as
``file:line: field: problem`` with nothing applied.

Framework-light: only the import root reads Django settings."""

from __future__ import annotations

import csv
import io
import json
import json.decoder
import json.scanner
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path

from smi_core.exceptions import ApplicationError

# Active ISO 4217 currency codes (funds, precious metals, test and "no currency" codes
# left out: nobody prices a supply agreement in them).
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
    FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD
    JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD
    MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP
    PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC
    SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST
    XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905 (a table is easier to check than 160 quoted strings)
)

# Characters that separate elements, components, repetitions or segments in the X12 we
# read and write: an id holding one would cut the envelope apart.
X12_DELIMITERS = frozenset("*~>^:|")


class ImportRejected(ApplicationError):
    code = "import_rejected"


class RowErrors:
    """Every problem of a file, each as ``where: field: problem``."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __bool__(self) -> bool:
        return bool(self.lines)

    def __len__(self) -> int:
        return len(self.lines)

    def add(self, where: str, field: str, problem: str) -> None:
        self.lines.append(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")

    def raise_if_any(self, error: type[ApplicationError] = ImportRejected, what: str = "") -> None:
        if self.lines:
            raise error(
                f"{len(self.lines)} problem(s); nothing was {what or 'imported'}:\n"
                + "\n".join(self.lines),
                extra={"errors": list(self.lines)},
            )


# -- files ----------------------------------------------------------------------------------


def import_root(importing: Path) -> Path:
    """The folder files named inside ``importing`` must lie in: ``SMI_IMPORT_ROOT`` when set,
    else the folder of the file being imported."""
    from django.conf import settings

    configured = getattr(settings, "SMI_IMPORT_ROOT", "") or ""
    return Path(configured) if str(configured) else Path(importing).parent


def resolve_inside(importing: Path, name: object) -> Path:
    """The file ``name`` (relative, as written in ``importing``) inside the import root, or
    ValueError saying why not: an absolute path, a ``..`` that leaves the root, or a
    symbolic link pointing out of it."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{name!r} is not a file name")
    if "\x00" in name:
        raise ValueError(f"{name!r} is not a file name")
    root = import_root(importing).resolve()
    relative = Path(name)
    if relative.is_absolute() or relative.drive:
        raise ValueError(
            f"{name!r} is an absolute path; name a file relative to {root} (imports read only "
            "files inside that folder, see SMI_IMPORT_ROOT)"
        )
    candidate = (Path(importing).parent / relative).resolve()  # follows symbolic links
    if candidate != root and root not in candidate.parents:
        raise ValueError(
            f"{name!r} leads to {candidate}, outside {root}; imports read only files inside "
            "that folder (see SMI_IMPORT_ROOT)"
        )
    return candidate


def decode_utf8(data: bytes, *, name: str) -> str:
    """UTF-8 text (a BOM dropped), or one error naming the line and byte that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ImportRejected(
            f"{name}:{line}: byte {exc.start + 1} (0x{data[exc.start]:02X}, column {column}) is "
            "not UTF-8; save the file as UTF-8",
            code="not_utf8",
            extra={"line": line, "byte": exc.start + 1},
        ) from None


def read_utf8(path: Path, *, name: str | None = None) -> str:
    """The text of ``path`` (UTF-8), or ImportRejected saying why it cannot be read."""
    label = name or Path(path).name
    try:
        if Path(path).is_dir():
            raise ImportRejected(f"{label} is a folder, not a file", code="not_a_file")
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImportRejected(
            f"cannot read {path}: {exc.strerror or exc}", code="unreadable"
        ) from None
    return decode_utf8(data, name=label)


# -- CSV ------------------------------------------------------------------------------------


def at(name: str, line: int) -> str:
    """Where a problem is: ``file:line``, or ``line N`` for text that came with no name."""
    return f"{name}:{line}" if name else f"line {line}"


def csv_rows(
    text: str, *, name: str, errors: RowErrors, required: Iterable[str] = ()
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the rows ``(line, {column: stripped value})`` of a CSV text. A row
    with fewer or more values than the header, a header lacking ``required`` columns or a
    repeated column is an error; blank lines are skipped. ``line`` is where the row starts."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        errors.add(at(name, 1), "header", f"not CSV ({exc})")
        return [], []
    if not any(header):
        errors.add(at(name, 1), "header", "the file is empty; the first line names the columns")
        return [], []
    missing = [c for c in required if c not in header]
    if missing:
        errors.add(at(name, 1), "header", f"lacks the column(s) {', '.join(missing)}")
        return header, []  # rows without their key columns would only repeat the problem
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        errors.add(at(name, 1), "header", f"names {', '.join(repeated)} more than once")
    rows: list[tuple[int, dict[str, str]]] = []
    end = reader.line_num
    while True:
        start = end + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.add(at(name, reader.line_num), "row", f"not CSV ({exc})")
            break
        end = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) < len(header):
            absent = ", ".join(h for h in header[len(fields) :] if h)
            errors.add(
                at(name, start),
                "row",
                f"has {len(fields)} of {len(header)} values; it was cut short ({absent} missing)",
            )
            continue
        if len(fields) > len(header):
            errors.add(
                at(name, start),
                "row",
                f"has {len(fields)} values for {len(header)} columns (a stray comma?)",
            )
            continue
        rows.append((start, {h: f.strip() for h, f in zip(header, fields, strict=True) if h}))
    return header, rows


class Seen:
    """Duplicate keys within one file: ``first(key, line)`` is the line the key was first
    seen on, or None the first time."""

    def __init__(self) -> None:
        self._lines: dict = {}

    def first(self, key, line) -> object | None:
        if key in self._lines:
            return self._lines[key]
        self._lines[key] = line
        return None


# -- JSON with line numbers -----------------------------------------------------------------


class LinedDict(dict):
    """A JSON object that knows the line it starts on and the keys it repeats."""

    line: int = 0
    repeated: tuple[str, ...] = ()


def json_with_lines(text: str, *, name: str):
    """Parse JSON so that every object is a LinedDict (its line and repeated keys); a
    syntax error is ImportRejected naming the line."""

    decoder = json.JSONDecoder()

    def parse_object(s_and_end, strict, scan_once, object_hook, object_pairs_hook, memo=None):
        s, end = s_and_end
        pairs, new_end = json.decoder.JSONObject(
            s_and_end, strict, scan_once, None, lambda p: p, memo if memo is not None else {}
        )
        obj = LinedDict(pairs)
        obj.line = s.count("\n", 0, end) + 1
        keys = [k for k, _ in pairs]
        obj.repeated = tuple(sorted({k for k in keys if keys.count(k) > 1}))
        return obj, new_end

    decoder.parse_object = parse_object
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    try:
        return decoder.decode(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            f"{name}:{exc.lineno}: not valid JSON ({exc.msg}, column {exc.colno})",
            code="bad_json",
        ) from None
    except RecursionError:
        raise ImportRejected(
            f"{name}: nested too deeply to be an import", code="bad_json"
        ) from None


# -- values ---------------------------------------------------------------------------------


def decimal_value(
    value: object,
    *,
    max_digits: int,
    decimal_places: int,
    positive: bool = False,
    round_places: bool = False,
) -> Decimal:
    """A Decimal that fits a ``DecimalField(max_digits, decimal_places)``: finite, >= 0 (> 0
    when ``positive``), at most ``max_digits - decimal_places`` digits before the point and
    ``decimal_places`` after it (rounded to them when ``round_places``); else ValueError."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError(f"{value!r} is not a number")
    shown = str(value).strip()
    try:
        number = Decimal(repr(value) if isinstance(value, float) else shown)
    except InvalidOperation:
        raise ValueError(f"{shown!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{shown!r} is not a finite number")
    if positive and number <= 0:
        raise ValueError(f"{shown} must be above 0")
    if number < 0:
        raise ValueError(f"{shown} must be 0 or more")
    whole = max_digits - decimal_places
    _sign, digits, exponent = number.as_tuple()
    digits = list(digits)
    while len(digits) > 1 and digits[-1] == 0:  # 1.2500 has 2 decimal places, not 4
        digits.pop()
        exponent += 1
    before_point = max(len(digits) + exponent, 0)
    if before_point > whole:
        largest = "9" * whole + ("." + "9" * decimal_places if decimal_places else "")
        raise ValueError(f"{shown} is too large (at most {largest})")
    if -exponent > decimal_places:
        if not round_places:
            raise ValueError(f"{shown} has more than {decimal_places} decimal places")
        number = number.quantize(Decimal(1).scaleb(-decimal_places))
        if positive and number <= 0:
            raise ValueError(f"{shown} rounds to 0 at {decimal_places} decimal places")
    return number


def decimal_for(model, field: str, value: object, **kwargs) -> Decimal:
    """:func:`decimal_value` with the digits of ``model``'s ``field``."""
    f = model._meta.get_field(field)
    return decimal_value(value, max_digits=f.max_digits, decimal_places=f.decimal_places, **kwargs)


def text_for(model, field: str, value: object) -> str:
    """A string no longer than ``model``'s ``field`` allows, else ValueError."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not text")
    limit = model._meta.get_field(field).max_length
    if limit is not None and len(value) > limit:
        raise ValueError(f"{len(value):,} characters; at most {limit}")
    return value


def currency_code(value: object) -> str:
    """An active ISO 4217 code (upper case), else ValueError."""
    code = value.strip().upper() if isinstance(value, str) else ""
    if code not in ISO_4217:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. USD, EUR)")
    return code


def x12_text_problem(value: str, *, what: str) -> str | None:
    """Why ``value`` cannot go into an X12 element of ours: a character outside printable
    ASCII, or one of our delimiters; None when it can."""
    for char in value:
        if not " " <= char <= "~":
            return f"{what} {value!r} holds {char!r}; only printable ASCII is allowed"
        if char in X12_DELIMITERS:
            return (
                f"{what} {value!r} holds {char!r}, an X12 delimiter "
                f"(none of {' '.join(sorted(X12_DELIMITERS))} may appear)"
            )
    return None


def isa_id_problem(value: str, *, what: str = "ISA id") -> str | None:
    """Why ``value`` cannot be an ISA sender/receiver or GS application id (1 to 15
    printable ASCII characters, no delimiter), or None."""
    if not 1 <= len(value) <= 15:
        return f"{what} {value!r} has {len(value)} characters; it must have 1 to 15"
    return x12_text_problem(value, what=what)


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of the digits before it."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def gtin14(value: str) -> str:
    """A GTIN-8, UPC-A (12), EAN-13 or GTIN-14 as a zero-padded GTIN-14, or ValueError
    naming the expected check digit. A number with a wrong check digit is refused, never
    stored: it would match another product's scans."""
    if not value.isdigit() or not value.isascii() or len(value) not in (8, 12, 13, 14):
        raise ValueError(
            f"{value!r} is not a GTIN (8, 12, 13 or 14 digits with a check digit; a UPC-A has 12)"
        )
    expected = gtin_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise ValueError(
            f"{value!r} has check digit {value[-1]}, but the digits before it give {expected} "
            f"({value[:-1]}{expected}); check the number"
        )
    return value.zfill(14)


def nonneg_int(value: object, *, maximum: int = 2_147_483_647) -> int:
    """A whole number 0..maximum from JSON or text, else ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a whole number") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number")
    if number < 0:
        raise ValueError(f"{value!r} must be 0 or more")
    if number > maximum:
        raise ValueError(f"{value!r} is too large (at most {maximum:,})")
    return int(number)
