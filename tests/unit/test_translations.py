"""The Bahasa Indonesia catalogue covers every UI string, with the same placeholders.

The catalogue is compared with a fresh extraction of the sources, so a new
string without a translation fails here rather than showing English to users.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


def _catalogue():
    with open(ROOT / "kipp/translations/id/LC_MESSAGES/messages.po", "rb") as handle:
        return read_po(handle)


def test_every_message_is_translated_with_its_placeholders():
    problems = []
    for message in _catalogue():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or any(not s for s in strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        wanted = set(PLACEHOLDER.findall(ids[0]))
        problems += [f"placeholders differ: {ids[0]!r}" for s in strings if set(PLACEHOLDER.findall(s)) != wanted]
    assert problems == []


def test_the_catalogue_has_every_string_of_the_sources(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "extract", "-F", "babel.cfg", "-k", "lazy_gettext",
         "-k", "_l", "--ignore-dirs", ".*", "--no-location", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with open(pot, "rb") as handle:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalogue() if m.id}
    missing = sorted(extracted - translated)
    assert missing == [], "run `make extract-messages` and translate: " + "; ".join(missing[:10])
