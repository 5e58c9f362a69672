"""``nocturna api``: the running unit's API (``nocturna api token`` makes a token)."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="The running unit's HTTP API.", no_args_is_help=True)


@app.command()
def token(
    name: Annotated[str, typer.Option(
        "--name", help="Who holds the token (recorded with every command it sends).")],
    role: Annotated[str, typer.Option(
        "--role", metavar="viewer|operator", help="viewer: read; operator: also command.")],
) -> None:
    """Make a new API token: print it once, and the entry (its hash) for the site file."""
    import re

    from nocturna.api.auth import ROLES, hash_token, new_token
    from nocturna.core.errors import InvalidValueError

    if role not in ROLES:
        raise InvalidValueError(f"--role {role!r}: choose viewer or operator")
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", name):
        raise InvalidValueError(f"--name {name!r}: 1 to 64 letters, digits, '_', '.', '@' "
                                "or '-'")
    secret = new_token()
    typer.echo(f"token for {name} (shown only now, never stored):\n{secret}\n")
    typer.echo("add this entry under api.tokens in the site file or its local file:")
    typer.echo(f'  - {{name: {name}, role: {role}, hash: "{hash_token(secret)}"}}')
