"""Benchmark: AS2 receiving. 200 messages of 100 kB (852s with distinct control numbers),
signed (SHA-256) and encrypted (AES-256-CBC), posted to /as2/ of one web process (Django's
threaded server in a child process on 127.0.0.1) by 4 clients at once, each answered with
a synchronous signed MDN. Prints messages per second and the MDN latency (p50/p95/max),
after checking every MDN says processed with the MIC the sender computed.

PostgreSQL (its own database, smi_bench_as2); tasks go to Redis db 13 (no worker: the
ingestion is not part of what is measured, as in production where a worker runs it), which
is emptied afterwards. Keys and certificates are made at start with `cryptography`.

    python bench/as2.py [--messages 200] [--clients 4] [--size 100000]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/smi_bench_as2"
BROKER = "redis://127.0.0.1:6379/13"
HUB_ID, PARTNER_ID = "BENCH-HUB", "BENCH-PARTNER"


def key_pair(name: str) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30 * 13))
        .sign(key, hashes.SHA256())
    )
    return (
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        cert.public_bytes(serialization.Encoding.PEM).decode(),
    )


def seed(hub: tuple[str, str], partner_cert: str) -> None:
    """The hub's station and the partner's profile, replaced on every run (new keys)."""
    from smi_core.models import Party
    from smi_core.services.audit import Actor
    from smi_edi.models import As2Message, As2Profile, TradingPartner
    from smi_edi.services.as2 import as2_profile_set_certificate, as2_profile_set_private_key

    actor = Actor.system("bench")
    partners = {}
    for code, isa, role in (
        ("bench-as2-supplier", "BENCHAS2SUP", Party.Role.SUPPLIER),
        ("bench-as2-buyer", "BENCHAS2BUY", Party.Role.BUYER),
    ):
        party = Party.objects.get_or_create(code=code, defaults={"name": code, "role": role})[0]
        partners[code] = TradingPartner.objects.get_or_create(
            party=party, defaults={"isa_qualifier": "ZZ", "isa_id": isa, "gs_id": isa}
        )[0]
    As2Message.objects.filter(as2_from=PARTNER_ID).delete()
    As2Profile.objects.filter(as2_id__in=[HUB_ID, PARTNER_ID]).delete()
    ours = As2Profile.objects.create(
        partner=partners["bench-as2-supplier"], role="ours", as2_id=HUB_ID
    )
    as2_profile_set_certificate(profile=ours, data=hub[1].encode(), actor=actor)
    as2_profile_set_private_key(profile=ours, data=hub[0].encode(), actor=actor)
    theirs = As2Profile.objects.create(
        partner=partners["bench-as2-buyer"],
        role="partner",
        as2_id=PARTNER_ID,
        url="http://127.0.0.1:9/as2",  # never used: nothing is sent back in this bench
    )
    as2_profile_set_certificate(profile=theirs, data=partner_cert.encode(), actor=actor)


def payload(n: int, size: int) -> bytes:
    """An 852 of about ``size`` bytes with its own control number (no duplicates)."""
    control = 700000 + n
    head = [
        f"ISA*00*          *00*          *ZZ*{'BENCHAS2BUY':<15}*ZZ*{'BENCHAS2SUP':<15}"
        f"*261207*1200*U*00401*{control:09d}*0*P*>",
        f"GS*PD*BENCHAS2BUY*BENCHAS2SUP*20261207*1200*{control}*X*004010",
        "ST*852*0001",
        "XQ*H*20261130*20261206",
        "N1*BY*Bench Buyer*92*BENCHAS2BUY",
    ]
    body, line = [], 0
    while sum(len(s) + 1 for s in head + body) < size - 60:
        line += 1
        body += [f"LIN**VN*BA-{line:05d}", f"ZA*QS*{line % 40 + 1}*EA", "SDQ*EA*92*S001*3*S002*4"]
    tail = [f"CTT*{line}", f"SE*{len(body) + 4}*0001", f"GE*1*{control}", f"IEA*1*{control:09d}"]
    return ("~".join(head + body + tail) + "~").encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--size", type=int, default=100_000)
    args = parser.parse_args()
    os.environ["CELERY_BROKER_URL"] = BROKER
    from benchdb import setup_django

    url = os.environ.get("SMI_BENCH_AS2_DATABASE_URL") or DEFAULT_DB
    setup_django(url)
    from smi_core.cli_output import progress_bar
    from smi_edi.as2 import LocalStation, RemoteStation, build_message, parse_mdn, raw_message

    hub, partner = key_pair(HUB_ID), key_pair(PARTNER_ID)
    seed(hub, partner[1])
    sender = LocalStation(PARTNER_ID, key_pem=partner[0], cert_pem=partner[1])
    to_hub = RemoteStation(HUB_ID, cert_pem=hub[1], sign=True, encrypt=True)
    hub_as_local = LocalStation(HUB_ID, key_pem=hub[0], cert_pem=hub[1])
    messages = []
    with progress_bar(
        sys.stderr, f"building {args.messages} signed and encrypted messages", args.messages
    ) as advance:
        for n in range(args.messages):
            messages.append(build_message(sender, to_hub, payload(n, args.size)))
            advance(1)

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "0",
        "DATABASE_CONN_MAX_AGE": "0",
        "DJANGO_SSL_REDIRECT": "0",
        "CELERY_BROKER_URL": BROKER,
    }
    log_path = ROOT / "bench" / "out" / "as2-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}/as2/"

    def post(outgoing) -> tuple[float, bytes]:
        request = urllib.request.Request(
            endpoint, data=outgoing.body, headers=outgoing.headers, method="POST"
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = raw_message(dict(response.headers.items()), response.read())
        return time.perf_counter() - started, raw

    try:
        for _ in range(100):  # up to 10 s for the server to listen
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        started = time.perf_counter()
        with (
            progress_bar(sys.stderr, f"posting to {endpoint}", len(messages)) as advance,
            ThreadPoolExecutor(args.clients) as pool,
        ):
            results = []
            for result in pool.map(post, messages):
                results.append(result)
                advance(1)
        wall = time.perf_counter() - started
    except OSError as exc:
        raise SystemExit(f"{exc}: the server's log is {log_path}") from None
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
        import redis

        redis.Redis.from_url(BROKER).flushdb()  # the queued ingestions: no worker here

    failures = []
    for outgoing, (_seconds, raw) in zip(messages, results, strict=True):
        result = parse_mdn(
            raw,
            local=sender,
            remote=RemoteStation(HUB_ID, cert_pem=hub[1]),
            original_message_id=outgoing.message_id,
            original_mic=outgoing.mic,
            original_signed=True,
        )
        if not (result.ok and result.signed):
            failures.append(result.reason or result.disposition)
    del hub_as_local
    latencies = sorted(seconds * 1000 for seconds, _ in results)
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    size_kb = statistics.mean(len(payload(0, args.size)) for _ in range(1)) / 1000
    print(
        f"\nAS2 receive: {args.messages} messages of {size_kb:.0f} kB, signed (sha256) and "
        f"encrypted (aes_256_cbc), sync signed MDN, {args.clients} clients, one web process\n"
    )
    print("| messages | MDNs valid | wall s | messages/s | MDN p50 ms | MDN p95 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {args.messages} | {args.messages - len(failures)} | {wall:.1f} | "
        f"{args.messages / wall:.1f} | {statistics.median(latencies):.0f} | {p95:.0f} | "
        f"{latencies[-1]:.0f} |"
    )
    if failures:
        raise SystemExit(f"{len(failures)} MDNs were not valid, e.g.: {failures[0]}")


if __name__ == "__main__":
    main()
