"""Element, composite and segment checks: pyx12 4.0.0's ``is_valid_errors`` on our tables.

This is the thorough path, run for a segment the compiled fast check (:mod:`.patterns`)
did not accept outright. It yields the same errors in the same order with the same texts
as ``segment_if.is_valid_errors`` (codes, values, sentences), because the 997/999 and
the messages people read are built from them. pyx12's behaviour is kept where it matters
for the verdict; where pyx12 crashes (too many components in a composite) we report the
error instead, see ``tests/smi_edi/test_fast_validator.py``.

A segment here is the list of its fields as the reader split them (``fields[0]`` is the
id), composites not yet split; ``comp`` is the component separator (None for the ISA).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .tables import DATE_TYPES, CompositeDef, ElementDef, Segment


class EleError(NamedTuple):
    code: str
    text: str
    value: str | None
    refdes: str | None
    node: ElementDef | None  # None: a segment-level error (reported as AK3/IK3 code 8)


# -- data types (pyx12.validation) -------------------------------------------------------

_N = re.compile(r"-?[0-9]+", re.S | re.ASCII)
_R = re.compile(r"-?[0-9]*(\.[0-9]+)?", re.S | re.ASCII)
_BAD_E = re.compile(r"""[^A-Z0-9!"&'()*+,\-\./:;?= a-z%~@\[\]_{}\\|<>#$]""", re.S | re.ASCII)
_BAD_E5 = re.compile(r"""[^A-Z0-9!"&'()*+,\-\./:;?= a-z%~@\[\]_{}\\|<>^`#$]""", re.S | re.ASCII)
_NON_DIGIT = re.compile(r"[^0-9]+", re.S | re.ASCII)
CHARSET_E = r"""A-Z0-9!"&'()*+,\-\./:;?= a-z%~@\[\]_{}\\|<>#$"""
CHARSET_E5 = r"""A-Z0-9!"&'()*+,\-\./:;?= a-z%~@\[\]_{}\\|<>^`#$"""

_CONTROL = (
    ("\x07", "BEL"),
    ("\x09", "HT"),
    ("\x0a", "LF"),
    ("\x0b", "VT"),
    ("\x0c", "FF"),
    ("\x0d", "CR"),
    ("\x1c", "FS"),
    ("\x1d", "GS"),
    ("\x1e", "RS"),
    ("\x1f", "US"),
    ("\x01", "SOH"),
    ("\x02", "STX"),
    ("\x03", "ETX"),
    ("\x04", "EOT"),
    ("\x05", "ENQ"),
    ("\x06", "ACK"),
    ("\x11", "DC1"),
    ("\x12", "DC2"),
    ("\x13", "DC3"),
    ("\x14", "DC4"),
    ("\x15", "NAK"),
    ("\x16", "SYN"),
    ("\x17", "ETB"),
)
_ANY_CONTROL = re.compile("[" + "".join(c for c, _ in _CONTROL) + "]")


def _full(pattern: re.Pattern, value: str) -> bool:
    m = pattern.search(value)
    return bool(m) and m.group(0) == value


def valid_time(value: str) -> bool:
    if _NON_DIGIT.search(value):
        return False
    if value[0:2] > "23" or value[2:4] > "59":
        return False
    return not (len(value) > 4 and (len(value) < 6 or value[4:6] > "59" or len(value) > 8))


def valid_date(data_type: str, value: str) -> bool:
    if data_type == "D8" and len(value) != 8:
        return False
    if data_type == "D6" and len(value) != 6:
        return False
    if _NON_DIGIT.search(value) or len(value) not in (6, 8, 12):
        return False
    if len(value) == 6:
        value = ("20" if int(value[0:2]) < 50 else "19") + value
    year, month = int(value[0:4]), int(value[4:6])
    day = int(value[6:8]) if value[6:8] else 0
    if year < 1800 or month < 1 or month > 12:
        return False
    if month in (1, 3, 5, 7, 8, 10, 12):
        last = 31
    elif month in (4, 6, 9, 11):
        last = 30
    elif not year % 4 and not (not year % 100 and year % 400):
        last = 29
    else:
        last = 28
    if day < 1 or day > last:
        return False
    return len(value) != 12 or valid_time(value[8:12])


def valid_type(value: str, data_type: str | None, icvn: str = "00401") -> bool:
    """pyx12 ``IsValidDataType`` with the extended character set (its default)."""
    if not data_type:
        return True
    if data_type[0] == "N":
        return _full(_N, value)
    if data_type == "R":
        return _full(_R, value)
    if data_type in ("ID", "AN"):
        bad = _BAD_E5 if icvn == "00501" else _BAD_E
        m = bad.search(value)
        return not (m and m.group(0))
    if data_type == "RD8":
        if "-" not in value:
            return False
        parts = value.split("-")
        if len(parts) != 2:
            return False  # pyx12 fails to unpack; its caller treats that as a crash
        return valid_type(parts[0], "D8") and valid_type(parts[1], "D8")
    if data_type in ("DT", "D8", "D6"):
        return valid_date(data_type, value)
    if data_type == "TM":
        try:
            return valid_time(value)
        except ValueError:
            return False
    return data_type == "B"


# -- one element ---------------------------------------------------------------------


def _error(node: ElementDef, code: str, text: str, value: str | None) -> EleError:
    return EleError(code, text, value, node.refdes, node)


def element_errors(
    node: ElementDef,
    value: str | None,
    *,
    composite_repr: str | None = None,
    type_list: list | None = None,
) -> list[EleError]:
    """``element_if.is_valid_errors``: ``value`` None when absent; ``composite_repr`` set
    when a simple element was sent with components."""
    if composite_repr is not None:
        return [
            _error(
                node,
                "6",
                f'Data element "{node.name}" ({node.refdes}) is an invalid composite',
                composite_repr,
            )
        ]
    if value is None or value == "":
        if node.usage in ("N", "S"):
            return []
        if node.usage == "R" and (
            node.seq != 1 or not node.in_composite or node.parent.usage == "R"
        ):
            text = f'Mandatory data element "{node.name}" ({node.refdes}) is missing'
            return [_error(node, "1", text, None)]
        return []
    if node.usage == "N":
        return [
            _error(
                node,
                "10",
                f'Data element "{node.name}" ({node.refdes}) is marked as Not Used',
                None,
            )
        ]
    errors: list[EleError] = []
    data_type = node.data_type
    if data_type is not None and (data_type == "R" or data_type[0] == "N"):
        measured = len(value.replace("-", "").replace(".", ""))
    else:
        measured = len(value)
    if measured < node.min_len:
        errors.append(
            _error(
                node,
                "4",
                f'Data element "{node.name}" ({node.refdes}) is too short: '
                f'len("{value}") = {measured} < {node.min_len} (min_len)',
                value,
            )
        )
    if measured > node.max_len:
        errors.append(
            _error(
                node,
                "5",
                f'Data element "{node.name}" ({node.refdes}) is too long: '
                f'len("{value}") = {measured} > {node.max_len} (max_len)',
                value,
            )
        )
    if _ANY_CONTROL.search(value):
        bad = next(f"<{name}>" for char, name in _CONTROL if char in value)
        errors.append(
            _error(
                node,
                "6",
                f'Data element "{node.name}" ({node.refdes}), contains an invalid control '
                f"character({bad})",
                bad,
            )
        )
        return errors
    if data_type in ("AN", "ID") and value[-1] == " " and len(value.rstrip()) >= node.min_len:
        errors.append(
            _error(
                node,
                "6",
                f'Data element "{node.name}" ({node.refdes}) has unnecessary trailing spaces. '
                f"({value})",
                value,
            )
        )
    external = node.external_codes
    if node.has_codes and value not in node.codes and (external is None or value not in external):
        text = f"({value}) is not a valid code for {node.name} ({node.refdes})"
        errors.append(_error(node, "7", text, value))
    icvn = node_icvn(node)
    if not valid_type(value, data_type, icvn):
        if data_type in DATE_TYPES:
            text = f'Data element "{node.name}" ({node.refdes}) contains an invalid date ({value})'
            errors.append(_error(node, "8", text, value))
        elif data_type == "TM":
            text = f'Data element "{node.name}" ({node.refdes}) contains an invalid time ({value})'
            errors.append(_error(node, "9", text, value))
        else:
            text = (
                f'Data element "{node.name}" ({node.refdes}) is type {data_type}, contains an '
                f"invalid character({value})"
            )
            errors.append(_error(node, "6", text, value))
    if type_list and not any(t is not None and valid_type(value, t) for t in type_list):
        if "TM" in type_list:
            text = f'Data element "{node.name}" ({node.refdes}) contains an invalid time ({value})'
            errors.append(_error(node, "9", text, value))
        elif any(t in type_list for t in DATE_TYPES):
            text = f'Data element "{node.name}" ({node.refdes}) contains an invalid date ({value})'
            errors.append(_error(node, "8", text, value))
    return errors


def node_icvn(node: ElementDef) -> str:
    segment = node.parent.parent if node.in_composite else node.parent
    return segment.icvn or "00401"


# -- composites and segments --------------------------------------------------------------


def formatted(field: str, comp: str | None) -> str:
    """pyx12 ``Composite.format()``: trailing empty components dropped."""
    if comp and comp in field:
        return field.rstrip(comp)
    return field


def composite_errors(node: CompositeDef, parts: list[str] | None) -> list[EleError]:
    """``composite_if.is_valid_errors``; ``parts`` None when the composite is absent."""
    empty = parts is None or all(p == "" for p in parts)
    if empty and node.usage in ("N", "S"):
        return []
    if node.usage == "R" and empty:
        text = f'Mandatory composite "{node.name}" ({node.refdes}) is missing'
        return [EleError("1", text, None, node.refdes, None)]
    assert parts is not None
    if node.usage == "N" and not empty:
        text = f'Composite "{node.name}" ({node.refdes}) is marked as Not Used'
        return [EleError("5", text, None, node.refdes, None)]
    errors: list[EleError] = []
    count = len(node.children)
    if len(parts) > count:
        text = f'Too many sub-elements in composite "{node.name}" ({node.refdes})'
        errors.append(EleError("3", text, None, node.refdes, None))
    for i in range(min(len(parts), count)):
        errors += element_errors(node.children[i], parts[i])
    for i in range(min(len(parts), count), count):
        errors += element_errors(node.children[i], None)
    return errors


def segment_errors(node: Segment, fields: list[str], comp: str | None) -> list[EleError]:
    """``segment_if.is_valid_errors`` for one segment."""
    errors: list[EleError] = []
    sent = len(fields) - 1
    count = len(node.children)
    seg_id = fields[0]
    split = comp if seg_id != "ISA" else None

    def value(i: int) -> str | None:  # pyx12 get_value("%02d" % i)
        return formatted(fields[i], split) if i <= sent else None

    if sent > count:
        ref = f"{count + 1:02d}"
        text = f'Too many elements in segment "{node.name}" ({seg_id}). Has {sent}, should have {count}'
        errors.append(EleError("3", text, value(count + 1), ref, None))
    type_list: list = []
    dtype: list = []
    for i in range(min(sent, count)):
        child = node.children[i]
        raw = fields[i + 1]
        if isinstance(child, CompositeDef):
            parts = raw.split(split) if split else [raw]
            if len(parts) > len(child.children) and child.usage != "N":
                # pyx12 indexes past the composite's children here and crashes; report it.
                text = f'Too many sub-elements in composite "{child.name}" ({child.refdes})'
                errors.append(EleError("3", text, formatted(raw, split), f"{i + 1:02d}", None))
                parts = parts[: len(child.children)]
            errors += composite_errors(child, parts)
            continue
        if i == 1 and seg_id == "DTP" and value(2) in ("RD8", "D8", "D6", "DT", "TM"):
            dtype = [value(2)]
        if child.data_ele == "1250":
            type_list.extend(child.code_list)
        if split and split in raw:
            errors += element_errors(child, None, composite_repr=formatted(raw, split))
            continue
        if i == 2 and seg_id == "DTP":
            errors += element_errors(child, raw, type_list=dtype)
        elif child.data_ele == "1251" and type_list:
            errors += element_errors(child, raw, type_list=type_list)
        else:
            errors += element_errors(child, raw)
    for i in range(min(sent, count), count):
        child = node.children[i]
        if isinstance(child, CompositeDef):
            errors += composite_errors(child, None)
        else:
            errors += element_errors(child, None)
    for kind, positions in node.syntax:
        text = syntax_error(kind, positions, seg_id, value, sent)
        if text is not None:
            errors.append(
                EleError("10" if kind == "E" else "2", text, None, f"{positions[0]:02d}", None)
            )
    return errors


def _syntax_str(kind: str, positions: tuple[int, ...]) -> str:
    return kind + "".join(f"{p:02d}" for p in positions)


def _ids(seg_id: str, positions) -> str:
    out = f"{seg_id}{positions[0]:02d}"
    for i in range(len(positions) - 1):
        joiner = " or " if i == len(positions) - 2 else ", "
        out += f"{joiner}{seg_id}{positions[i + 1]:02d}"
    return out


def syntax_error(kind: str, positions, seg_id: str, value, sent: int) -> str | None:
    """pyx12 ``is_syntax_valid``: None when the rule holds, else its sentence."""
    if len(positions) < 2:
        return f"Syntax string must have at least two comparators {_syntax_str(kind, positions)}"

    def present(p: int) -> bool:
        return sent >= p and value(p) != ""

    rule = _syntax_str(kind, positions)
    if kind == "P":
        count = sum(present(p) for p in positions)
        if count not in (0, len(positions)):
            return (
                f"Syntax Error ({rule}): If any of {_ids(seg_id, positions)} is present, "
                "then all are required"
            )
        return None
    if kind == "R":
        if not any(present(p) for p in positions):
            return f"Syntax Error ({rule}): At least one element is required"
        return None
    if kind == "E":
        if sum(present(p) for p in positions) > 1:
            return f"Syntax Error ({rule}): At most one of {_ids(seg_id, positions)} may be present"
        return None
    first = positions[0]
    if not present(first):
        return None
    rest = positions[1:]
    count = sum(present(p) for p in rest)
    if kind == "C" and count != len(rest):
        verb = "are" if len(rest) > 1 else "is"
        return (
            f"Syntax Error ({rule}): If {seg_id}{first:02d} is present, then "
            f"{_ids(seg_id, rest)} {verb} required"
        )
    if kind == "L" and count == 0:
        return (
            f"Syntax Error ({rule}): If {seg_id}{first:02d} is present, then at least one of "
            f"{_ids(seg_id, rest)} is required"
        )
    return None
