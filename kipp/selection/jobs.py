"""Outbox handlers of the selection rounds."""

from __future__ import annotations
