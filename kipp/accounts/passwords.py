"""Password hashing (Argon2id) and the password policy."""

from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2-cffi's defaults are Argon2id with RFC 9106's low-memory profile
# Verified against when the email is unknown, so a miss costs as long as a hit.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problems(password: str, *, email: str = "") -> list[str]:
    """Codes of the policy rules a new password breaks (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append("too_short")
    if password.strip() != password:
        problems.append("surrounding_spaces")
    local = email.split("@")[0].lower()
    if local and len(local) >= 4 and local in password.lower():
        problems.append("contains_email")
    if len(set(password)) < 4:
        problems.append("too_repetitive")
    return problems


def generate_temporary_password() -> str:
    alphabet = string.ascii_letters + string.digits
    # Unambiguous characters only: temporary passwords are read out over the phone.
    alphabet = "".join(c for c in alphabet if c not in "O0Il1")
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))
