"""Forms of the publication: its buttons carry only their CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A button that changes something (publish, generate the certificates again)."""
