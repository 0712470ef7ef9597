"""Imports every model so that metadata (and Alembic) sees all tables."""

from kipp.accounts.models import AccountToken, User
from kipp.agencies.models import Agency, Region, Unit
from kipp.audit.models import AuditEvent
from kipp.editions.models import Category, Edition, EditionGroup, RequiredDocument, Sdg, Section, Stage
from kipp.notifications.models import EmailMessage
from kipp.outbox.models import OutboxMessage

__all__ = [
    "AccountToken", "User", "Agency", "Region", "Unit", "AuditEvent", "Category", "Edition", "EditionGroup",
    "RequiredDocument", "Sdg", "Section", "Stage", "EmailMessage", "OutboxMessage",
]
