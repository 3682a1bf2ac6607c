"""``CHROMA_URL``: the clause store on a Chroma server (``chroma run``), as several web
processes and Celery workers share it. The server is the ``chroma`` CLI installed with
chromadb; it runs from a temporary directory and needs no network (no model, no
download: the project embeds the texts itself). Skipped when the CLI is not installed;
when it is, a server that does not start fails the test under SMI_REQUIRE_SERVICES=1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from reporting_assistant.store import _client, agreement_index, clauses_search
from smi_core.models import Party, SupplyAgreement
from tests.conftest import services_required
from tests.factories import PartyFactory
from tests.reporting_assistant.test_store import FIRST_TEXT, PAYMENT_QUESTION

pytestmark = [pytest.mark.django_db, pytest.mark.services]

CHROMA_CLI = Path(sys.executable).parent / "chroma"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def chroma_url(tmp_path):
    if not CHROMA_CLI.is_file():
        pytest.skip(f"the chroma CLI is not installed at {CHROMA_CLI}")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "chroma.log"
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                str(CHROMA_CLI),
                "run",
                "--path",
                str(tmp_path / "server"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    try:
        deadline = time.monotonic() + 30
        while not _answers(url):
            if server.poll() is not None or time.monotonic() > deadline:
                reason = (
                    f"chroma run did not answer at {url}:\n"
                    f"{log_path.read_text(errors='replace')[-2000:]}"
                )
                if services_required():
                    pytest.fail(f"{reason} (SMI_REQUIRE_SERVICES=1)")
                pytest.skip(reason)
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        _client.cache_clear()


def test_index_and_search_through_a_chroma_server(chroma_url, settings, tmp_path):
    settings.CHROMA_URL = chroma_url
    settings.SMI_CHROMA_DIR = tmp_path / "embedded"
    agreement = SupplyAgreement.objects.create(
        code="acme-retail",
        buyer=PartyFactory(code="demo-retail"),
        supplier=PartyFactory(code="acme-supply", role=Party.Role.SUPPLIER),
        currency="USD",
        effective_from=date(2026, 1, 1),
        text=FIRST_TEXT,
    )

    assert agreement_index(agreement_id=agreement.pk) == 2
    hits = clauses_search(PAYMENT_QUESTION, agreements=[agreement.code], k=1)

    assert [(h.clause.number, h.clause.title) for h in hits] == [("4", "Payment terms")]
    assert "14 days" in hits[0].clause.text
    # the vectors are on the server, not in an embedded directory
    assert not settings.SMI_CHROMA_DIR.exists()
    import chromadb

    other = chromadb.HttpClient(
        host="127.0.0.1",
        port=int(chroma_url.rsplit(":", 1)[1]),
        settings=chromadb.config.Settings(anonymized_telemetry=False),
    )
    assert other.get_collection("agreement_clauses").count() == 2
