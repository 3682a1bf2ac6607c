"""`manage.py check --deploy` with the production environment: no warning at all."""

from __future__ import annotations

import subprocess
import sys

from tests.smi_ops.production import ROOT, production_env


def deploy_check(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_check_deploy_is_clean_with_the_production_environment(tmp_path):
    result = deploy_check(production_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_catches_a_production_without_https(tmp_path):
    """The check is a real one: turning the redirect and HSTS off is reported."""
    env = production_env(tmp_path, DJANGO_SSL_REDIRECT="0", DJANGO_HSTS_SECONDS="0")

    result = deploy_check(env)

    assert result.returncode != 0
    assert "security.W008" in result.stderr
    assert "security.W004" in result.stderr


def test_production_refuses_to_start_without_a_secret(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]

    result = deploy_check(env)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
