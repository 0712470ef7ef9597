"""The README's promises match the code: settings, demo logins, the two commands."""

from pathlib import Path

import pytest

from kipp.config import SETTINGS
from kipp.demo import DEMO_PASSWORD, LOGINS

pytestmark = pytest.mark.unit

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_documented():
    for setting in SETTINGS:
        assert f"`{setting.name}`" in README, setting.name


def test_demo_logins_are_listed():
    assert DEMO_PASSWORD in README
    for login in LOGINS:
        assert f"`{login.email}`" in README


def test_the_two_commands_exist_in_the_makefile():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "make run" in README and "make test" in README
    assert "\nrun:" in makefile and "\ntest:" in makefile
