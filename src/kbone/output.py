"""How results leave kbone: JSON for machines, rich text for people, files written atomically."""

from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def _default(o: Any):
    if isinstance(o, BaseModel):
        return o.model_dump(mode="json")
    if isinstance(o, (date, datetime)):
        return o.isoformat()
    if isinstance(o, Enum):
        return o.value
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "tolist"):  # numpy arrays and scalars
        return o.tolist()
    if isinstance(o, set):
        return sorted(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _check_finite(obj: Any, path: str = "$") -> None:
    """Refuse to emit NaN or infinity: a silent NaN is a bug, never an answer."""
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ValueError(f"non-finite number at {path}")
    if isinstance(obj, dict):
        for k, v in obj.items():
            _check_finite(v, f"{path}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check_finite(v, f"{path}[{i}]")


def to_jsonable(data: Any) -> Any:
    """Plain JSON types for ``data`` (pydantic models, numpy arrays and dates included)."""
    return json.loads(json.dumps(data, default=_default, ensure_ascii=False))


def dumps(data: Any, indent: int | None = 2) -> str:
    """JSON text; raises on NaN/inf anywhere in the payload."""
    plain = to_jsonable(data)
    _check_finite(plain)
    return json.dumps(plain, ensure_ascii=False, indent=indent, allow_nan=False)


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout (UTF-8, no escaping of Chinese)."""
    print(dumps(data))


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Write a file so that readers never see half of it: temp file in the same folder, then rename."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        from kbone.errors import KboneInputError

        raise KboneInputError(f"folder {path.parent} does not exist", field="output path",
                              fix="create the folder or choose another path")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent or "."))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a report is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
