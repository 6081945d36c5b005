"""One error type for bad input, everywhere in kbone.

Every part raises :class:`KboneInputError` for input a user can fix; the CLI turns it into a
message naming the field, the reason and the fix, and exits with status 2. Nothing else in kbone
should print a traceback for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

EXIT_BAD_INPUT = 2


@dataclass
class Problem:
    """One thing wrong with an input: where (file, record, field), why, and how to fix it."""

    field: str
    reason: str
    fix: str | None = None
    file: str | None = None
    record: str | None = None
    line: int | None = None
    suggestions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {"field": self.field, "reason": self.reason}
        for k in ("fix", "file", "record", "line"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        if self.suggestions:
            d["suggestions"] = list(self.suggestions)
        return d

    def __str__(self) -> str:
        where = ":".join(str(x) for x in (self.file, self.line) if x is not None)
        parts = [p for p in (where, self.record and f"record {self.record}", f"field '{self.field}'") if p]
        s = " · ".join(parts) + f": {self.reason}"
        if self.suggestions:
            s += " (did you mean: " + ", ".join(self.suggestions) + "?)"
        if self.fix:
            s += f" — fix: {self.fix}"
        return s


class KboneInputError(Exception):
    """Bad input that the user can fix. Carries one or more :class:`Problem`."""

    def __init__(self, problems: Problem | list[Problem] | str, *, field: str = "input", fix: str | None = None):
        if isinstance(problems, str):
            problems = [Problem(field=field, reason=problems, fix=fix)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def to_dict(self) -> dict:
        return {"error": "invalid_input", "problems": [p.to_dict() for p in self.problems]}


def read_text_input(path, *, field: str, what: str, fix_utf8: str = "save the file as UTF-8",
                    encoding: str = "utf-8") -> tuple[Path, str]:
    """(path, text) of a user's input file; a missing file or non-UTF-8 text is a :class:`KboneInputError`
    naming ``field`` (``what`` says what the file should be, e.g. "a profile YAML/JSON file")."""
    p = Path(path)
    if not p.is_file():
        raise KboneInputError(Problem(field=field, reason=f"{p} does not exist or is not a file",
                                      fix=f"give the path of {what}"))
    try:
        return p, p.read_text(encoding=encoding)
    except UnicodeDecodeError:
        raise KboneInputError(Problem(field=field, file=str(p), reason="not UTF-8 text", fix=fix_utf8)) from None
