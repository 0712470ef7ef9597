"""Outbox handlers of the publication: certificates, outcome notices."""

from __future__ import annotations
