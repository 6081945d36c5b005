"""One error type for bad input, everywhere in kbone.

Every part raises :class:`KboneInputError` for input a user can fix; the CLI turns it into a
message naming the field, the reason and the fix, and exits with status 2. Nothing else in kbone
should print a traceback for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
