"""Take the README's screenshots from the demo data: `make screenshots`.

Loads the demo into a throwaway SQLite database, serves it on 127.0.0.1, signs in as the
demo users in Debian's chromium (Playwright, no browser download) at 1366 px and writes
docs/img/*.png. Talks only to 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
PORT = int(os.environ.get("SMI_SHOTS_PORT", "8799"))
BASE = f"http://127.0.0.1:{PORT}"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="smi-shots-"))
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{work / 'demo.sqlite3'}",
        "SMI_VAR_DIR": str(work),
        "SMI_LOG_LEVEL": "WARNING",
    }
    env.pop("CELERY_BROKER_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)
    subprocess.run([*manage, "demo_load"], env=env, check=True, stdout=subprocess.DEVNULL)
    logins = json.loads((work / "demo-credentials.json").read_text())
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{PORT}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(BASE + "/health/live")
        _shoot(logins)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for(url: str) -> None:
    for _ in range(60):
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the demo server did not answer at {url}")


def _shoot(logins: dict[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    pages = [
        ("finance", "/finance/", "finance-dashboard.png", True),
        ("approver", "/admin/smi_core/replenishmentproposal/", "proposals.png", False),
        ("finance", "/assistant/", "assistant.png", True),
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        for user, path, name, full in pages:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(BASE + "/admin/login/?next=" + path)
            page.fill("#id_username", user)
            page.fill("#id_password", logins[user])
            page.click("input[type=submit]")
            page.wait_for_load_state("networkidle")
            if name == "assistant.png":
                page.fill("textarea, input[name=question]", "inventory value by owner in USD")
                page.get_by_role("button", name="Ask").click()
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(1500)
            if name == "proposals.png":
                link = page.locator("#result_list tbody tr th a").first
                link.click()
                page.wait_for_load_state("networkidle")
                name = "proposal-page.png"
            page.screenshot(path=str(OUT / name), full_page=full)
            print(f"wrote docs/img/{name}")
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
