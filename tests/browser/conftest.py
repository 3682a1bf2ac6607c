"""Headless Chromium from the system (Debian's package), driven by Playwright: no browser
download. Skipped when chromium is not installed, unless SMI_REQUIRE_SERVICES=1."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import services_required

CHROMIUM = os.environ.get("SMI_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        if services_required():
            pytest.fail(f"chromium is not installed at {CHROMIUM} (SMI_REQUIRE_SERVICES=1)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous, so Django's async guard is relaxed for browser tests only.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()
