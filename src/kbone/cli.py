"""The ``kbone`` command line: one sub-command (or group) per part, all over the same library.

Every command accepts ``--json`` (machine output on stdout) and ``--lang zh|en``. Bad input raises
:class:`kbone.errors.KboneInputError`, reported here with the field, reason and fix, exit status 2.
"""

from __future__ import annotations

import sys

import click
import typer

from kbone import __version__
from kbone.errors import EXIT_BAD_INPUT, KboneInputError
from kbone.output import dumps, err_console

app = typer.Typer(
    name="kbone",
    no_args_is_help=True,
    add_completion=False,
    help="kbone — vitamin K and bone & joint health / 维生素K与骨关节健康: evidence, models, diet, assessment, claims.",
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        print(__version__)
        raise typer.Exit(0)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                       help="Print the version and exit.")) -> None:
    """kbone command line."""


def _register_parts() -> None:
    # Each part adds its own commands; the order here is the order in --help.
    from kbone.evidence import cli as evidence_cli

    evidence_cli.register(app)
    from kbone.evidence.meta import cli as meta_cli

    meta_cli.register(app)
    from kbone.diet import cli as diet_cli

    diet_cli.register(app)
    from kbone.model import cli as model_cli

    model_cli.register(app)
    from kbone.model import trial_cli

    trial_cli.register(app)
    from kbone.assess import cli as assess_cli

    assess_cli.register(app)
    from kbone.claims import cli as claims_cli

    claims_cli.register(app)
    from kbone.web import cli as web_cli

    web_cli.register(app)


_register_parts()


def _wants_json(argv: list[str]) -> bool:
    return "--json" in argv


def report_input_error(err: KboneInputError, as_json: bool) -> None:
    """Print a bad-input error: JSON on stdout for --json callers, readable text on stderr otherwise."""
    if as_json:
        print(dumps(err.to_dict()))
    err_console.print("[bold red]kbone: invalid input / 输入有误[/]")
    for p in err.problems:
        err_console.print(f"  • {p}", markup=False)


def _exc(name: str) -> tuple[type[BaseException], ...]:
    """click's exception class ``name`` plus typer's own copies (typer ≥ 0.20 vendors click as typer._click)."""
    import importlib

    out: list[type[BaseException]] = [getattr(click.exceptions, name)]
    for mod in ("typer._click.exceptions", "typer.exceptions"):
        try:
            cls = getattr(importlib.import_module(mod), name, None)
        except ImportError:
            cls = None
        if isinstance(cls, type) and issubclass(cls, BaseException) and cls not in out:
            out.append(cls)
    return tuple(out)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit status (no ``sys.exit``; used by tests)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        rv = app(args=argv, prog_name="kbone", standalone_mode=False)
    except KboneInputError as err:
        try:
            report_input_error(err, _wants_json(argv))
        except BrokenPipeError:
            pass
        return EXIT_BAD_INPUT
    except _exc("NoArgsIsHelpError") as err:
        print(err.ctx.get_help() if err.ctx else "")
        return 0
    except _exc("UsageError") as err:
        err.show()
        return EXIT_BAD_INPUT
    except _exc("ClickException") as err:
        err.show()
        return err.exit_code
    except _exc("Abort"):
        err_console.print("aborted")
        return 1
    except _exc("Exit") as e:
        return e.exit_code
    except BrokenPipeError:
        return 0
    return rv if isinstance(rv, int) else 0


def main() -> None:
    try:
        code = run()
        sys.stdout.flush()
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly, as Unix tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    main()
