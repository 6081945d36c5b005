"""kbone's shipped model specifications and fitted parameter values (``data/model``).

``spec(name)`` returns a spec with fitted values (``fitted.yaml``, written by
``scripts/calibrate_pkpd.py``) already in place of the starting values. ``FORMS`` are the vitamin K
forms with a PK model; ``form_key`` turns a form id into the identifier used in parameter names.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from kbone.errors import KboneInputError, Problem
from kbone.model.spec import ModelSpec, load_spec_file
from kbone.paths import data_path

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml_load(text: str):
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - safe loader (C version when available)

FORMS: tuple[str, ...] = ("K1", "MK-4", "MK-7")
FITTED_FILE = "fitted.yaml"
_USE_FITTED = [True]


def use_fitted(flag: bool) -> None:
    """Whether specs load fitted values (the calibration script turns this off to start from scratch)."""
    _USE_FITTED[0] = bool(flag)
    clear_caches()


def model_dir() -> Path:
    return data_path("model")


def form_key(form: str) -> str:
    """``MK-7`` → ``MK7`` (for parameter names such as ``w_ext_MK7``)."""
    return form.replace("-", "")


def resolve_form(text: str, *, field: str = "form") -> str:
    """A vitamin K form with a PK model, from any name the vocabulary knows (``menaquinone-7``, ``K2 MK7`` …)."""
    from kbone.vocab import vocab

    t = vocab().resolve("form", str(text))
    if t is None or t.id not in FORMS:
        hint = "" if t is None else f" ({t.id} has no PK model)"
        raise KboneInputError(Problem(field=field, reason=f"unknown or unsupported vitamin K form {text!r}{hint}",
                                      fix=f"use one of: {', '.join(FORMS)}",
                                      suggestions=[s for s in vocab().suggest("form", str(text)) if s in FORMS]))
    return t.id


@lru_cache(maxsize=1)
def fitted() -> dict:
    """Contents of ``fitted.yaml`` (empty dict when the calibration has not been run)."""
    p = model_dir() / FITTED_FILE
    if not _USE_FITTED[0] or not p.exists():
        return {}
    return _yaml_load(p.read_text(encoding="utf-8")) or {}


def fitted_values(name: str) -> dict[str, float]:
    return dict((fitted().get("parameters") or {}).get(name, {}))


@lru_cache(maxsize=32)
def spec(name: str) -> ModelSpec:
    """The shipped spec ``data/model/<name>.yaml`` with fitted values applied."""
    p = model_dir() / f"{name}.yaml"
    if not p.exists():
        raise KboneInputError(Problem(field="model", reason=f"no model specification {name!r}",
                                      fix="use pk_K1, pk_MK-4, pk_MK-7, pd_carboxylation, warfarin_pk or inr"))
    return load_spec_file(p, overrides=fitted_values(name))


def pk_spec(form: str) -> ModelSpec:
    return spec(f"pk_{form}")


@lru_cache(maxsize=1)
def populations() -> dict:
    return _yaml_load((model_dir() / "populations.yaml").read_text(encoding="utf-8"))["profiles"]


@lru_cache(maxsize=1)
def targets() -> list[dict]:
    """Published points used for calibration and checks (``targets.yaml``)."""
    return _yaml_load((model_dir() / "targets.yaml").read_text(encoding="utf-8"))["targets"]


def clear_caches() -> None:
    for f in (fitted, spec, populations, targets):
        f.cache_clear()
