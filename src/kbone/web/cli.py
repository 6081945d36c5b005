"""``kbone serve`` (the web app) and ``kbone user add`` (admin creates users)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kbone.errors import KboneInputError, Problem
from kbone.output import console, emit_json

user_app = typer.Typer(no_args_is_help=True, help="Web users / 网页用户.")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(user_app, name="user")


def serve(host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
          workers: Annotated[int, typer.Option(help="Worker processes (one per CPU core is a good start).",
                                               min=1, max=64)] = 1) -> None:
    """Start the web app: http://127.0.0.1:8000/ / 启动网页。"""
    import uvicorn

    from kbone.web.db import app_database_url, migrate

    migrate(app_database_url())  # once, before any worker starts
    console.print(f"kbone web: http://{host}:{port}/")
    uvicorn.run("kbone.web.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info")


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="User name (3–64 letters, digits, . _ @ -).")],
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an administrator.")] = False,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a web user (asks for the password). / 创建网页用户。"""
    from kbone.web.auth import add_user
    from kbone.web.db import make_engine, migrate, session_factory

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password / 密码", hide_input=True, confirmation_prompt=True)
    if not password:
        raise KboneInputError(Problem(field="password", reason="empty", fix="give a password"))
    migrate()
    with session_factory(make_engine())() as db:
        user = add_user(db, username, password, admin=admin)
    if as_json:
        emit_json({"username": user.username, "admin": user.is_admin})
    else:
        console.print(f"created user {user.username}" + (" (admin)" if user.is_admin else ""))
