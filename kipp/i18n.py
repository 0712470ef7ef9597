"""Language and time zone: Bahasa Indonesia and WIB by default, English on request."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import has_request_context, session
from flask_login import current_user

WIB = ZoneInfo("Asia/Jakarta")
LOCALES = ("id", "en")


def select_locale() -> str:
    if not has_request_context():
        return "id"  # commands and workers; emails choose the recipient's locale explicitly
    if current_user and current_user.is_authenticated:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return "id"


def select_timezone() -> str:
    return "Asia/Jakarta"


def to_wib(value: dt.datetime) -> dt.datetime:
    return value.astimezone(WIB)


def wib_datetime(value: dt.datetime | None) -> str:
    if value is None:
        return "–"
    return to_wib(value).strftime("%d-%m-%Y %H:%M") + " WIB"


def wib_time(value: dt.datetime) -> str:
    """The time of day in WIB, for "saved at 14:05:09 WIB"."""
    return to_wib(value).strftime("%H:%M:%S") + " WIB"


def from_wib(naive: dt.datetime) -> dt.datetime:
    """A date and time typed in a form, read as WIB, as an aware UTC datetime."""
    return naive.replace(tzinfo=WIB).astimezone(dt.timezone.utc)


def localized(obj: object, field: str) -> str:
    """obj.<field>_id or obj.<field>_en by the current language."""
    from flask_babel import get_locale

    locale = str(get_locale() or "id")
    value = getattr(obj, f"{field}_{locale}", None) or getattr(obj, f"{field}_id")
    return str(value)
