import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command


@pytest.mark.django_db
def test_demo_load_creates_the_superuser_once_and_prints_its_login(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path

    call_command("demo_load")
    first = capsys.readouterr().out
    call_command("demo_load")
    second = capsys.readouterr().out

    user = get_user_model().objects.get(username="admin")
    password = (tmp_path / "demo-credentials.txt").read_text().strip()
    assert user.is_superuser and user.check_password(password)
    assert f"password: {password}" in first
    assert first == second
    assert get_user_model().objects.filter(username="admin").count() == 1
