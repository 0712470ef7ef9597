"""``flask kipp …``: the commands an operator runs."""

from __future__ import annotations

from typing import Any, Callable

import click
from flask import current_app
from flask.cli import AppGroup

from kipp.accounts import services as accounts
from kipp.accounts.passwords import generate_temporary_password
from kipp.accounts.roles import Role
from kipp.errors import DomainError
from kipp.extensions import db

kipp_cli = AppGroup("kipp", help="kipp administration.")


@kipp_cli.command("create-secretariat")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", default=None, help="Omit to generate a temporary one, to be changed at first login.")
def create_secretariat(email: str, name: str, password: str | None) -> None:
    """Create a secretariat account (the first one, or a new colleague's)."""
    temporary = password is None
    password = password or generate_temporary_password()
    try:
        if not temporary:
            accounts.check_password_policy(password, email=email)
        accounts.create_with_password(email=email, name=name, role=Role.SECRETARIAT, password=password,
                                      must_change=temporary)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created secretariat account {email}.")
    if temporary:
        click.echo(f"Temporary password (change it at first login): {password}")


@kipp_cli.command("outbox-sweep")
def outbox_sweep() -> None:
    """Publish again every task message that has not been delivered."""
    from kipp.outbox.dispatch import sweep

    count = sweep(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"{count} message(s) published again.")


@kipp_cli.command("dev-mail")
@click.argument("email")
@click.option("--last", default=3, show_default=True, help="How many of the newest emails to print.")
def dev_mail(email: str, last: int) -> None:
    """Print a person's newest emails in full, one-time links included.

    Without SMTP no mail leaves the server, and the Outbox page shows an invitation or a password
    reset link only to its recipient, who cannot log in to read it: whoever runs the server hands
    it over from here. Mail sent by SMTP is stored without its link.
    """
    import sqlalchemy as sa

    from kipp.notifications.models import EmailMessage

    messages = db.session.scalars(sa.select(EmailMessage).where(sa.func.lower(EmailMessage.recipient) == email.lower())
                                  .order_by(EmailMessage.id.desc()).limit(last)).all()
    if not messages:
        raise click.ClickException(f"No email to {email} is stored.")
    for message in messages:
        click.echo(f"--- {message.created_at:%Y-%m-%d %H:%M} UTC · {message.transport} · to {message.recipient}")
        click.echo(f"Subject: {message.subject}\n\n{message.body_text}")


@kipp_cli.command("load-regions")
def load_regions_command() -> None:
    """Load (or refresh) the 38 provinces and 514 kabupaten/kota."""
    from kipp.agencies.regions import load_regions

    added, updated = load_regions()
    db.session.commit()
    click.echo(f"Regions: {added} added, {updated} renamed.")


@kipp_cli.command("seed-demo")
def seed_demo() -> None:
    """Demo agencies, one login per role, the 2023 edition and a current one (idempotent)."""
    from kipp import demo

    if demo.is_seeded():
        click.echo("Demo data is already there.")
    else:
        demo.seed()
        db.session.commit()
        click.echo("Demo data created.")
    click.echo(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
    for login in demo.LOGINS:
        where = login.unit or login.agency or login.affiliation or ""
        click.echo(f"  {login.role.value:<12} {login.email:<34} {where}")


def _run_import(import_file: Callable[..., Any], path: str, actor_email: str | None, dry_run: bool) -> None:
    """Import a spreadsheet as the given secretariat account (or the system), report, commit or not."""
    actor = accounts.find_by_email(actor_email) if actor_email else None
    if actor_email and (actor is None or actor.role is not Role.SECRETARIAT):
        raise click.ClickException(f"{actor_email} is not a secretariat account")
    try:
        report = import_file(actor, path)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    click.echo(report.as_text())
    if dry_run:
        db.session.rollback()
        click.echo("Dry run: nothing was saved.")
    else:
        db.session.commit()


_actor_option = click.option("--actor", "actor_email", default=None,
                             help="Secretariat email to record as the importer.")
_dry_run_option = click.option("--dry-run", is_flag=True, help="Check every row and report, but change nothing.")


@kipp_cli.command("import-agencies")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@_actor_option
@_dry_run_option
def import_agencies_command(path: str, actor_email: str | None, dry_run: bool) -> None:
    """Create or update agencies from a CSV or XLSX file, reporting every rejected row."""
    from kipp.agencies.importer import import_file

    _run_import(import_file, path, actor_email, dry_run)


@kipp_cli.command("import-results")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@_actor_option
@_dry_run_option
def import_results_command(path: str, actor_email: str | None, dry_run: bool) -> None:
    """Import past KIPP results (innovations and their awards) from CSV or XLSX."""
    from kipp.innovations.importer import import_file

    _run_import(import_file, path, actor_email, dry_run)


@kipp_cli.command("run-jobs")
def run_jobs() -> None:
    """Run every scheduled job once (beat does this in production; use cron without it)."""
    from kipp.outbox.registry import PERIODIC

    for name, (job, _seconds) in sorted(PERIODIC.items()):
        click.echo(f"{name}: {job()}")
