"""Pure rules of the objection window: contacts, lengths, references, the window itself (no DB, no Flask)."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import re

NAME_MIN_LENGTH, NAME_MAX_LENGTH = 2, 120
# Long enough to say what is wrong and why, short enough to read in a ruling session.
REASON_MIN_LENGTH, REASON_MAX_LENGTH = 50, 5000
RULING_MIN_LENGTH, RULING_MAX_LENGTH = 20, 5000
CONTACT_MAX_LENGTH = 254
DECREE_MAX_LENGTH = 255

REFERENCE_PREFIX = "SGH"  # sanggahan

_MB = 1024 * 1024
# Room for the text fields and the multipart framing around the file.
FORM_ALLOWANCE_BYTES = 256 * 1024

_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
# The national number after 0 or +62: mobile 8xx… (9–12 digits) and landlines with their
# area code (8–11 digits), never starting with 0.
_NATIONAL_NUMBER = re.compile(r"^[1-9]\d{7,11}$")


def normalize_contact(raw: str | None) -> str | None:
    """An email address (lower-cased) or an Indonesian telephone number (as +62…); None when it is neither."""
    value = (raw or "").strip()
    if not value or len(value) > CONTACT_MAX_LENGTH:
        return None
    if "@" in value:
        return value.lower() if _EMAIL.match(value) else None
    digits = _PHONE_SEPARATORS.sub("", value)
    for prefix in ("+62", "62", "0"):
        if digits.startswith(prefix):
            national = digits[len(prefix):]
            return f"+62{national}" if _NATIONAL_NUMBER.match(national) else None
    return None


def reference(year: int, sequence: int) -> str:
    """The receipt number of the ``sequence``-th objection of an edition, e.g. SGH/2033/00001."""
    return f"{REFERENCE_PREFIX}/{year}/{sequence:05d}"


def normalize_reference(raw: str | None) -> str:
    """What a filer types back (spaces, lower case, '-' for '/') in the stored form."""
    return re.sub(r"\s+", "", (raw or "")).replace("-", "/").upper()


def client_hash(secret: str, address: str | None) -> str:
    """A keyed hash of a client address: equal for equal addresses, useless to anyone without the key."""
    return hmac.new(secret.encode(), (address or "unknown").encode(), hashlib.sha256).hexdigest()


class Window(str, enum.Enum):
    BEFORE = "before"
    OPEN = "open"
    ENDED = "ended"


def window_state(opens_at: dt.datetime, closes_at: dt.datetime, now: dt.datetime) -> Window:
    """Where ``now`` falls in the window; it includes its opening and excludes its closing moment."""
    if now < opens_at:
        return Window.BEFORE
    if now < closes_at:
        return Window.OPEN
    return Window.ENDED


def request_limit_bytes(max_file_mb: int) -> int:
    """The largest objection request accepted at all. A file up to twice the edition's limit still
    reaches the form (and is refused there with a message, keeping what was typed); anything
    larger is cut off before it is read."""
    return 2 * max_file_mb * _MB + FORM_ALLOWANCE_BYTES


def length_problem(text: str, minimum: int, maximum: int) -> str | None:
    """'short' or 'long' for text outside [minimum, maximum] characters (surrounding spaces ignored)."""
    size = len(text.strip())
    if size < minimum:
        return "short"
    if size > maximum:
        return "long"
    return None
