"""Imports every model so that metadata (and Alembic) sees all tables."""

from kipp.accounts.models import AccountToken, User
from kipp.agencies.models import Agency, Region, Unit
from kipp.audit.models import AuditEvent
from kipp.editions.models import Category, Edition, EditionGroup, RequiredDocument, Sdg, Section, Stage
from kipp.innovations.models import Award, Innovation
from kipp.notifications.models import EmailMessage, Notification
from kipp.judging.models import (
    Assignment,
    AssignmentRun,
    ConflictDeclaration,
    PoolMember,
    Team,
)
from kipp.outbox.models import OutboxMessage
from kipp.scoring.models import (
    AggregationRun,
    ProposalScore,
    Reconciliation,
    RubricBand,
    ScoreReminder,
    ScoreSheet,
    ScoringAspect,
    ScoringScheme,
)
from kipp.screening.models import Announcement, ScreeningCheck, ScreeningReason, ScreeningReview
from kipp.proposals.models import (
    DeadlineExtension,
    KhususInvitation,
    Proposal,
    ProposalAnswer,
    ProposalEvent,
    ProposalFile,
    StoredFile,
    SubmissionReminder,
)
from kipp.selection.models import Shortlist, ShortlistEntry
from kipp.objections.models import Objection
from kipp.presentations.models import PresentationSlot
from kipp.verification.models import FieldVisit
from kipp.publication.models import CertificateBatch

__all__ = [
    "AccountToken", "User", "Agency", "Region", "Unit", "AuditEvent", "Category", "Edition", "EditionGroup",
    "RequiredDocument", "Sdg", "Section", "Stage", "EmailMessage", "OutboxMessage", "Award", "Innovation",
    "Notification", "DeadlineExtension", "KhususInvitation", "Proposal", "ProposalAnswer", "ProposalEvent",
    "ProposalFile", "SubmissionReminder", "Assignment", "AssignmentRun", "ConflictDeclaration", "PoolMember",
    "Team", "Announcement", "ScreeningCheck", "ScreeningReason", "ScreeningReview", "AggregationRun", "ProposalScore", "Reconciliation", "RubricBand", "ScoreReminder",
    "ScoreSheet", "ScoringAspect", "ScoringScheme", "StoredFile", "Shortlist", "ShortlistEntry", "Objection",
    "PresentationSlot", "FieldVisit", "CertificateBatch",
]
