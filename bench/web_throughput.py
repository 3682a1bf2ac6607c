"""Benchmark: throughput of the web tier as `make serve` runs it (gunicorn with
config/gunicorn.py, DEBUG off, static files collected) on 127.0.0.1 over PostgreSQL with the
demo data, under 8 concurrent clients for N seconds.

Each client (a thread with its own keep-alive connection) goes round the kinds of request
in turn until the time is up:

* ``finance page``: GET /finance/ signed in as the demo finance user (every figure computed);
* ``positions API``: GET /api/v1/positions/ with the demo-retail partner's token;
* ``health ready``: GET /health/ready (database, broker and backlog checks);
* ``852 upload``: POST /api/v1/interchanges/ of a 3.6 kB 852 (the demo-retail sample, each
  with its own ISA13) with the partner's token: stored, then queued for a worker (none runs
  here: the queue on the broker's database is emptied at the end and the uploads deleted);
* ``health live`` (the reference): GET /health/live, no dependency at all.

Six phases of N seconds: each kind alone (every client asking the same: the tier's capacity
for it), then all mixed (each client going round the kinds). Prints requests per second and
p50/p95 latency per kind; alone, each kind's requests per second over the reference's;
mixed, each kind's p50 over the reference's, measured in the same run under the same load.

    python bench/web_throughput.py [--seconds 15] [--clients 8]

Uses its own database (SMI_BENCH_WEB_DATABASE_URL, default smi_bench_web, created if
missing) and the broker SMI_BENCH_WEB_BROKER (default redis://127.0.0.1:6379/6).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/smi_bench_web"
DEFAULT_BROKER = "redis://127.0.0.1:6379/6"
SAMPLE = ROOT / "samples" / "852" / "demo-retail-20261122.edi"
KINDS = ["finance page", "positions API", "health ready", "852 upload", "health live"]
REFERENCE = "health live"

from tests.smi_ops.production import free_port, gunicorn_serving  # noqa: E402


def prepare() -> tuple[str, str]:
    """The demo data loaded (idempotent), static files collected; the finance user's
    session cookie and the demo-retail partner's API token."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from smi_edi.models import TradingPartner

    call_command("demo_load", stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("collectstatic", "--noinput", verbosity=0)
    client = Client()
    client.force_login(get_user_model().objects.get(username="finance"))
    session = client.cookies["sessionid"].value
    partner = TradingPartner.objects.get(party__code="demo-retail")
    token = Token.objects.get_or_create(user=partner.api_user)[0].key
    return session, token


class Uploads:
    """The sample 852 with a control number of its own each time (thread-safe)."""

    def __init__(self) -> None:
        self.text = SAMPLE.read_text()
        self.lock = threading.Lock()
        self.next = random.SystemRandom().randrange(100_000_000, 900_000_000)

    def body(self) -> bytes:
        with self.lock:
            self.next += 1
            number = f"{self.next:09d}"
        return self.text.replace("000000107", number).encode("ascii")


def client_loop(
    port: int,
    session: str,
    token: str,
    uploads: Uploads,
    deadline: float,
    kinds: list[str],
    start_at: int,
    timings: dict[str, list[float]],
    errors: dict[str, int],
    lock: threading.Lock,
) -> None:
    """One client: ``kinds`` in turn (starting at ``start_at``) until ``deadline``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    cookie = {"Cookie": f"sessionid={session}"}
    api = {"Authorization": f"Token {token}"}
    n = start_at
    while time.perf_counter() < deadline:
        kind = kinds[n % len(kinds)]
        n += 1
        if kind == "finance page":
            method, path, headers, body = "GET", "/finance/", cookie, None
        elif kind == "positions API":
            method, path, headers, body = "GET", "/api/v1/positions/", api, None
        elif kind == "health ready":
            method, path, headers, body = "GET", "/health/ready", {}, None
        elif kind == "health live":
            method, path, headers, body = "GET", "/health/live", {}, None
        else:
            data = uploads.body()
            method, path, body = "POST", "/api/v1/interchanges/", data
            headers = {
                **api,
                "Content-Type": "application/edi-x12",
                "X-Filename": "bench-web-852.edi",
            }
        started = time.perf_counter()
        ok = False
        for attempt in (1, 2):
            # A kept connection the server closed (a worker restarting after max_requests)
            # is opened again and the request sent once more, as HTTP clients do.
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == (202 if method == "POST" else 200)
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                if attempt == 2:
                    break
        seconds = time.perf_counter() - started
        with lock:
            if ok:
                timings[kind].append(seconds)
            else:
                errors[kind] += 1
    conn.close()


def percentile(values: list[float], fraction: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(fraction * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15, help="seconds a phase")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    args = parser.parse_args()
    url = os.environ.get("SMI_BENCH_WEB_DATABASE_URL") or DEFAULT_DB
    broker = os.environ.get("SMI_BENCH_WEB_BROKER") or DEFAULT_BROKER
    os.environ.pop("CELERY_BROKER_URL", None)  # the demo loads in-process (eager tasks)
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("SMI_LOG_LEVEL", "WARNING")
    from benchdb import setup_django

    setup_django(url)
    from smi_core.cli_output import progress_bar

    print("loading the demo data and collecting static files ...", file=sys.stderr, flush=True)
    session, token = prepare()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": broker,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": os.environ["DJANGO_SECRET_KEY"],  # the one the sessions use
        # plain HTTP on a loopback: no redirect to HTTPS, cookies without the secure flag
        "DJANGO_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "SMI_LOG_LEVEL": "WARNING",
    }
    log_path = ROOT / "bench" / "out" / "web_throughput-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    results: dict[str, tuple] = {}
    try:
        with gunicorn_serving(env, log_path):
            uploads = Uploads()
            phases = [(kind, [kind]) for kind in KINDS] + [("mixed", KINDS)]
            with progress_bar(
                sys.stderr, "web tier", round(args.seconds) * len(phases), unit="s"
            ) as advance:
                for name, kinds in phases:
                    advance(0, description=f"{args.clients} clients: {name}")
                    results[name] = run_phase(
                        port, session, token, uploads, kinds, args.seconds, args.clients, advance
                    )
    except RuntimeError as exc:  # gunicorn exited or did not answer
        raise SystemExit(str(exc)) from None
    finally:
        import redis

        redis.Redis.from_url(broker).flushdb()  # the queued ingestions: no worker here
        from smi_edi.models import Interchange

        Interchange.objects.filter(source_name="bench-web-852.edi").delete()

    workers = os.environ.get("GUNICORN_WORKERS", "2")
    threads = os.environ.get("GUNICORN_THREADS", "4")
    restart = os.environ.get("GUNICORN_MAX_REQUESTS", "2000")
    print()
    print(
        f"gunicorn (config/gunicorn.py: {workers} workers x {threads} threads, a worker "
        f"restarted after {restart} requests), DEBUG off, PostgreSQL, demo data, "
        f"{args.clients} clients on 127.0.0.1, {args.seconds:g} s a phase"
    )
    alone = {kind: results[kind] for kind in KINDS}
    ref_timings, _, ref_wall = alone[REFERENCE]
    ref_rate = len(ref_timings[REFERENCE]) / ref_wall
    print()
    print("Each kind alone (all clients asking the same):")
    print()
    print("| request | n | req/s | p50 ms | p95 ms | errors | req/s vs health live |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind, (timings, errors, wall) in alone.items():
        print(_row(kind, timings[kind], errors[kind], wall, ref_rate))
    timings, errors, wall = results["mixed"]
    total = sum(len(v) for v in timings.values())
    print()
    print(
        f"Mixed (each client goes round the {len(KINDS)} kinds): {total:,} requests in "
        f"{wall:.1f} s, {total / wall:,.1f}/s"
    )
    print()
    print("| request | n | req/s | p50 ms | p95 ms | errors | p50 vs health live |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    ref_p50 = statistics.median(timings[REFERENCE]) if timings[REFERENCE] else None
    for kind in KINDS:
        print(_row(kind, timings[kind], errors[kind], wall, None, ref_p50))
    if any(e for _, errs, _ in results.values() for e in errs.values()):
        print(f"\nsome requests failed: see {log_path}")


def run_phase(port, session, token, uploads, kinds, seconds, clients, advance) -> tuple:
    """``clients`` threads asking ``kinds`` for ``seconds``: (timings, errors, wall)."""
    timings: dict[str, list[float]] = {k: [] for k in KINDS}
    errors: dict[str, int] = dict.fromkeys(KINDS, 0)
    lock = threading.Lock()
    started = time.perf_counter()
    deadline = started + seconds
    threads = [
        threading.Thread(
            target=client_loop,
            args=(port, session, token, uploads, deadline, kinds, n, timings, errors, lock),
        )
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    shown = 0
    while any(t.is_alive() for t in threads):
        time.sleep(0.25)
        elapsed = min(round(time.perf_counter() - started), round(seconds))
        if elapsed > shown:
            advance(elapsed - shown)
            shown = elapsed
    for thread in threads:
        thread.join()
    advance(round(seconds) - shown)
    return timings, errors, time.perf_counter() - started


def _row(kind, values, failed, wall, ref_rate=None, ref_p50=None) -> str:
    if not values:
        return f"| {kind} | 0 | 0 | — | — | {failed} | — |"
    p50 = statistics.median(values)
    rate = len(values) / wall
    if ref_rate is not None:
        ratio = f"{rate / ref_rate:.2f}"
    else:
        ratio = f"{p50 / ref_p50:.1f}x" if ref_p50 else "—"
    return (
        f"| {kind} | {len(values):,} | {rate:,.1f} | {p50 * 1000:,.1f} "
        f"| {percentile(values, 0.95) * 1000:,.1f} | {failed} | {ratio} |"
    )


if __name__ == "__main__":
    main()
