"""GS1 Serial Shipping Container Codes (SSCC-18) for pack labels. Framework-free.

An SSCC is an extension digit, the GS1 company prefix, a serial reference filling 17
digits, and a mod-10 check digit (weights 3, 1, 3, ... from the right of the 17).
"""

from __future__ import annotations


def sscc_check_digit(digits17: str) -> int:
    if len(digits17) != 17 or not digits17.isdigit():
        raise ValueError(f"an SSCC body is 17 digits, not {digits17!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits17)))
    return (10 - total % 10) % 10


def sscc_make(*, extension: int, company_prefix: str, serial: int) -> str:
    if not (0 <= extension <= 9):
        raise ValueError(f"the SSCC extension digit is 0-9, not {extension}")
    if not (company_prefix.isdigit() and 6 <= len(company_prefix) <= 12):
        raise ValueError(f"a GS1 company prefix is 6 to 12 digits, not {company_prefix!r}")
    width = 16 - len(company_prefix)
    if not (0 <= serial < 10**width):
        raise ValueError(
            f"serial {serial} does not fit the {width} digits left by prefix {company_prefix}"
        )
    body = f"{extension}{company_prefix}{serial:0{width}d}"
    return body + str(sscc_check_digit(body))


def sscc_valid(value: str) -> bool:
    return (
        isinstance(value, str)
        and len(value) == 18
        and value.isdigit()
        and sscc_check_digit(value[:17]) == int(value[17])
    )
