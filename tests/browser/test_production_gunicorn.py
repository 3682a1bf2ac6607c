"""Production mode end to end: gunicorn with DEBUG off behind a (simulated) TLS proxy,
static files collected and served by WhiteNoise, the admin with its styles, the finance
page, health and metrics summed over two workers."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.smi_ops.production import ROOT, free_port, gunicorn_serving, production_env

pytestmark = pytest.mark.slow

PROXY = {"X-Forwarded-Proto": "https"}  # what the TLS proxy in front adds


def _manage(env, *args, **kwargs):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
        **kwargs,
    )


def get(url: str, headers: dict | None = None):
    """(status, headers, body) without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=20) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    var = tmp_path_factory.mktemp("production-var")
    port = free_port()
    env = production_env(
        var,
        DJANGO_BEHIND_TLS_PROXY="1",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="2",
        DJANGO_SUPERUSER_PASSWORD="prod-admin-pass-123",
        # The browser believes it is on http:// (no real proxy in between) and says so in
        # its Origin header; behind a real proxy the origin is the https:// one.
        DJANGO_CSRF_TRUSTED_ORIGINS=f"http://127.0.0.1:{port}",
    )
    _manage(env, "migrate", "--noinput", "-v", "0")
    _manage(env, "collectstatic", "--noinput", "-v", "0")
    _manage(env, "createsuperuser", "--noinput", "--username", "ops", "--email", "ops@example.com")
    with gunicorn_serving(env, var / "gunicorn.log", timeout=90) as base:
        yield base


def test_plain_http_is_sent_to_https_but_probes_are_answered(gunicorn):
    status, headers, _ = get(f"{gunicorn}/admin/login/")
    assert status == 301
    assert headers["Location"].startswith("https://127.0.0.1")

    status, _, body = get(f"{gunicorn}/health/ready")
    assert status == 200, body
    assert b'"database": {"ok": true' in body


def test_pages_carry_the_security_headers_and_the_admin_css_is_served(gunicorn):
    status, headers, body = get(f"{gunicorn}/admin/login/", PROXY)

    assert status == 200
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookies = headers.get_all("Set-Cookie") or []
    assert any("csrftoken" in c and "Secure" in c for c in cookies), cookies
    css = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', body)
    assert css, body[:2000]  # the hashed name: manifest storage

    status, headers, content = get(gunicorn + css.group(1).decode(), PROXY)
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert "immutable" in headers["Cache-Control"]
    assert b"body" in content

    status, headers, _ = get(gunicorn + css.group(1).decode(), {**PROXY, "Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip"


def test_the_admin_and_the_finance_page_in_a_browser(gunicorn, browser):
    context = browser.new_context(extra_http_headers=PROXY)
    page = context.new_page()
    styles: list[tuple[str, int]] = []
    page.on(
        "response",
        lambda r: (
            styles.append((r.url, r.status)) if r.request.resource_type == "stylesheet" else None
        ),
    )

    page.goto(f"{gunicorn}/admin/login/?next=/finance/")

    assert styles and all(status == 200 for _, status in styles), styles
    header = page.eval_on_selector("#header", "e => getComputedStyle(e).backgroundColor")
    assert header not in ("rgba(0, 0, 0, 0)", "transparent")  # admin's base.css applied
    page.fill("#id_username", "ops")
    page.fill("#id_password", "prod-admin-pass-123")
    page.click("input[type=submit]")
    page.wait_for_url("**/finance/")

    assert page.inner_text("h1") == "Finance"
    assert page.locator("#total-closing").count() == 1
    context.close()


def test_metrics_sum_what_both_workers_counted(gunicorn):
    for _ in range(12):
        assert get(f"{gunicorn}/health/live")[0] == 200

    status, headers, body = get(f"{gunicorn}/metrics")

    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    line = re.search(rb'smi_http_requests_total\{status="200",view="health-live"\} (\d+)', body)
    assert line and float(line.group(1)) >= 12, body.decode()[:3000]
    assert b"smi_interchanges_received_total" in body or b"smi_deliveries_pending" in body
    assert b"smi_interchange_oldest_unprocessed_age_seconds 0.0" in body
