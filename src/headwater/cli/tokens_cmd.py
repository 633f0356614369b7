"""``headwater tokens create|list|revoke|status|allow-open``: API tokens and whether the HTTP
API requires one, managed on the instance's own database.

These are admin operations on the embedded instance (the server's database); they never go
over HTTP, even with ``HEADWATER_API_URL`` set.
"""

from __future__ import annotations

import click

from headwater.cli._output import NONE, emit_json, fmt_time, table
from headwater.cli.app import CONTEXT_SETTINGS


@click.group(context_settings=CONTEXT_SETTINGS)
def tokens() -> None:
    """API tokens: create, list, revoke; whether the API needs one."""


@tokens.command()
@click.argument("name")
@click.option(
    "--project",
    required=True,
    help="The project the token may use, or '*' for every project.",
)
@click.option(
    "--role",
    required=True,
    type=click.Choice(["viewer", "editor", "admin"]),
    help="viewer: read; editor: also write; admin: everything.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with the secret, once).")
def create(name: str, project: str, role: str, as_json: bool) -> None:
    """Create a token; its secret is printed this once and never stored."""
    from headwater.api import tokens as api
    from headwater.instance import get_instance

    secret, info = api.create(get_instance(), name, project, role)
    if as_json:
        emit_json({**info.to_dict(), "token": secret})
        return
    click.echo(f"token {info.name!r} (id {info.id}, project {info.project}, role {info.role}):")
    click.echo(secret)
    click.echo(
        "Store it now: it is shown only this once. Clients use it as HEADWATER_API_TOKEN.",
        err=True,
    )


@tokens.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(as_json: bool) -> None:
    """Every token (never its secret): prefix, project, role, created, revoked, last used."""
    from headwater.api import tokens as api
    from headwater.instance import get_instance

    found = api.list_tokens(get_instance())
    if as_json:
        emit_json([t.to_dict() for t in found])
        return
    table(
        ["ID", "NAME", "PREFIX", "PROJECT", "ROLE", "CREATED", "REVOKED", "LAST USED"],
        [
            [
                t.id,
                t.name,
                t.prefix + "...",
                t.project,
                t.role,
                fmt_time(t.created_at),
                fmt_time(t.revoked_at) if t.revoked_at else NONE,
                fmt_time(t.last_used_at) if t.last_used_at else NONE,
            ]
            for t in found
        ],
        empty="no API tokens (`headwater tokens status` says whether the HTTP API needs one)",
    )


@tokens.command()
@click.argument("name_or_id", metavar="NAME_OR_ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def revoke(name_or_id: str, as_json: bool) -> None:
    """Revoke a token by id, or every live token with this name."""
    from headwater.api import tokens as api
    from headwater.instance import get_instance

    done = api.revoke(get_instance(), name_or_id)
    if as_json:
        emit_json([t.to_dict() for t in done])
        return
    for t in done:
        click.echo(f"revoked token {t.name!r} (id {t.id}, {t.prefix}...)")


@tokens.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(as_json: bool) -> None:
    """Whether the HTTP API requires a token, and why."""
    from headwater.api import exposure
    from headwater.api import tokens as api
    from headwater.instance import get_instance

    inst = get_instance()
    live = len(api.list_tokens(inst, include_revoked=False))
    flag = exposure.exposure(inst)
    env = exposure.required_by_env()
    body = {
        "auth_required": bool(live or flag or env),
        "live_tokens": live,
        "exposed": flag.to_dict() if flag else None,
        "headwater_auth_required": env,
    }
    if as_json:
        emit_json(body)
        return
    why = [f"{live} live token{'s' if live != 1 else ''}"] if live else []
    if flag:
        why.append(
            f"{flag.reason} (since {fmt_time(flag.since)}; lift: headwater tokens allow-open)"
        )
    if env:
        why.append("HEADWATER_AUTH=required")
    if why:
        click.echo("auth: required: " + "; ".join(why))
    else:
        click.echo("auth: not required (the HTTP API is open, on loopback only)")


@tokens.command("allow-open")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def allow_open(yes: bool) -> None:
    """Lift the auth requirement left by a non-loopback server.

    Once an API server has bound a non-loopback address, auth stays required on its database,
    also when every token is revoked and after restarts. After this, with no live token, a
    server started on loopback is open again; one started on another address is refused until
    a token exists. Servers running now keep requiring auth until they stop.
    """
    from headwater.api import exposure
    from headwater.instance import get_instance

    inst = get_instance()
    flag = exposure.exposure(inst)
    if flag is None:
        click.echo("nothing to lift: no server has listened beyond loopback on this database")
        return
    if not yes:
        click.confirm(
            f"{flag.reason} (since {fmt_time(flag.since)}); allow this database to be served "
            "without auth again?",
            abort=True,
            err=True,
        )
    exposure.allow_open(inst)
    click.echo(
        "lifted: auth is required again only while a token is live or HEADWATER_AUTH=required"
    )
