"""One-off data fix (kept for provenance): evidence records must not carry assumed doses.

Records tagged ``assumption:dose`` had a conventional dose typed in because the schema once required one.
Unknown stays null: set the amount to null and keep the regimen note saying the dose was not stated.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

EVIDENCE = Path(__file__).resolve().parents[1] / "src" / "kbone" / "data" / "evidence"


def fix(text: str) -> str:
    out, lines = [], text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        m = re.match(r"^(\s+)amount: [0-9.]+\s*$", line)
        window = "".join(lines[i: i + 4])
        if m and "ASSUMPTION" in window:
            out.append(f"{m.group(1)}amount: null\n")
            continue
        out.append(line)
    return "".join(out).replace("assumption:dose", "dose:not_stated")


def main() -> int:
    changed = 0
    for p in sorted(EVIDENCE.glob("*.yaml")):
        t = p.read_text(encoding="utf-8")
        if "assumption:dose" in t:
            p.write_text(fix(t), encoding="utf-8")
            changed += 1
            print(f"fixed {p.name}")
    print(f"{changed} file(s) changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
