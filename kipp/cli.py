"""``flask kipp …``: the commands an operator runs."""

from __future__ import annotations

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
