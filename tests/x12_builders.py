"""Build small X12 interchanges for tests (written by hand, checked by our reader)."""

from __future__ import annotations


def interchange(
    sets: list[list[str]],
    *,
    sender: str = "DEMORETAIL",
    receiver: str = "ACMESUPPLY",
    control: int = 1,
    functional_id: str = "PD",
    version: str = "004010",
) -> bytes:
    """An interchange with one group holding ``sets`` (each a list of body segments without
    ST/SE, written with '*'); ST/SE, GE and IEA counts are computed."""
    out = [
        f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{receiver:<15}*261116*0600*U*00401*{control:09d}*0*P*>",
        f"GS*{functional_id}*{sender}*{receiver}*20261116*0600*{control}*X*{version}",
    ]
    for n, body in enumerate(sets, start=1):
        st = f"{n:04d}"
        out.append(f"ST*{body[0] if body and body[0].isdigit() else '852'}*{st}")
        segments = body[1:] if body and body[0].isdigit() else body
        out.extend(segments)
        out.append(f"SE*{len(segments) + 2}*{st}")
    out += [f"GE*{len(sets)}*{control}", f"IEA*1*{control:09d}"]
    return ("~\n".join(out) + "~\n").encode()


def report_852(
    start: str = "20261109",
    end: str = "20261115",
    *,
    lines: list[tuple[str, list[str]]] | None = None,
    ship_to: str = "DC01",
) -> list[str]:
    """The body of an 852: XQ, N1 parties, then for each (LIN ids, [ZA/SDQ segments]) a LIN loop."""
    body = [f"XQ*H*{start}*{end}", "N1*BY*Demo Retail*92*DEMORETAIL", f"N1*ST*Ship to*92*{ship_to}"]
    for ids, segments in lines or []:
        body.append(f"LIN**{ids}")
        body.extend(segments)
    body.append(f"CTT*{len(lines or [])}")
    return body
