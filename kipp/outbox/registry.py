"""Names of the jobs the outbox can carry, and the functions that do them (a leaf).

A handler is a plain function ``handler(outbox_id: int, **payload)``. The
worker registers one Celery task per name; the embedded default calls the
same function in-process. Handlers must be idempotent: a message can be
delivered more than once.
"""

from __future__ import annotations

from typing import Callable

Handler = Callable[..., None]
HANDLERS: dict[str, Handler] = {}
# Jobs beat runs on a schedule: name -> (function without arguments, seconds between runs).
PERIODIC: dict[str, tuple[Callable[[], object], float]] = {}

# Modules whose import registers handlers and jobs; create_app and the worker load them.
HANDLER_MODULES = ("kipp.notifications.handlers", "kipp.proposals.jobs", "kipp.assignment.services",
                   "kipp.screening.jobs", "kipp.scoring.aggregation", "kipp.scoring.jobs",
                   "kipp.selection.jobs", "kipp.publication.jobs", "kipp.progress.jobs")

SEND_EMAIL = "kipp.notifications.send_email"
# Give a proposal that lost a judge (a declared conflict) a replacement.
REASSIGN_PROPOSAL = "kipp.assignment.reassign_proposal"
SWEEP = "kipp.outbox.sweep"


class TransientFailure(Exception):
    """Raised by a handler when an outside server is away or said "try again later" (SMTP 4xx):
    the worker retries the message within seconds, without counting the failure as an attempt."""


def handles(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        if name in HANDLERS and HANDLERS[name] is not func:
            raise RuntimeError(f"two handlers for {name}")
        HANDLERS[name] = func
        return func

    return register


def periodic(name: str, *, every_seconds: float) -> Callable[[Callable[[], object]], Callable[[], object]]:
    """Register a job for beat. Jobs are edges: they commit their own work."""

    def register(func: Callable[[], object]) -> Callable[[], object]:
        PERIODIC[name] = (func, every_seconds)
        return func

    return register


def load_handler_modules() -> None:
    import importlib

    for module in HANDLER_MODULES:
        importlib.import_module(module)
