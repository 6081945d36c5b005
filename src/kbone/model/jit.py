"""Compiled nonlinear terms: a spec's equations turned into a numba function, joined with the Rosenbrock
kernel (:mod:`kbone.model.rosenbrock_kernel`) and compiled once per spec.

The spec text stays the source of truth: its validated expression trees (:mod:`kbone.model.expr`) are
rewritten name by name (states ``x[i]``, per-subject parameters ``p[j]``, numpy functions to scalar
ones) into a function ``nl(x, p, out)`` for one subject. The generated module is written to
``$KBONE_HOME/jit/`` under the hash of its source, so numba's on-disk cache serves later processes.

Used for autonomous nonlinear specs (no time-varying inputs in the nonlinear term); anything else, or a
machine without numba, or ``KBONE_JIT=0``, keeps the vectorised numpy integrator.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import sys
import threading
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np

from kbone.model.expr import dependency_order
from kbone.model.spec import ModelSpec
from kbone.paths import state_dir

_FUNCS = {"exp": "_exp", "log": "_log", "sqrt": "_sqrt", "abs": "abs", "minimum": "min", "maximum": "max"}
_LOCK = threading.Lock()
_MODULES: dict[str, ModuleType] = {}


def enabled() -> bool:
    """numba importable and not switched off with ``KBONE_JIT=0``."""
    if os.environ.get("KBONE_JIT", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    return importlib.util.find_spec("numba") is not None


class _Rewrite(ast.NodeTransformer):
    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.copy_location(ast.Name(id=f"v_{node.id}", ctx=ast.Load()), node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        name = node.func.id
        node.args = [self.visit(a) for a in node.args]
        if name == "where":
            c, a, b = node.args
            return ast.copy_location(ast.IfExp(test=c, body=a, orelse=b), node)
        if name == "clip":
            v, lo, hi = node.args
            inner = ast.Call(func=ast.Name(id="max", ctx=ast.Load()), args=[v, lo], keywords=[])
            return ast.copy_location(ast.Call(func=ast.Name(id="min", ctx=ast.Load()), args=[inner, hi],
                                              keywords=[]), node)
        node.func = ast.Name(id=_FUNCS[name], ctx=ast.Load())
        return node


def _source(text: str) -> str:
    tree = _Rewrite().visit(ast.parse(text, mode="eval"))
    return ast.unparse(ast.fix_missing_locations(tree).body)


class CompiledTerm:
    """The compiled kernel for one spec and the parameter names its ``p`` rows hold (in order)."""

    def __init__(self, module: ModuleType, params: list[str]):
        self.module = module
        self.params = params

    def param_matrix(self, ns: dict, n: int) -> np.ndarray:
        """(n, q) per-subject values of ``params`` from an individualised namespace."""
        if not self.params:
            return np.zeros((n, 1))
        return np.ascontiguousarray(np.stack([np.broadcast_to(np.asarray(ns[k], dtype=float), (n,))
                                              for k in self.params], axis=1))


def generate(spec: ModelSpec) -> tuple[str, list[str]]:
    """Source of ``nl(x, p, out)`` for ``spec`` and the parameter names, in the order of ``p``."""
    exprs = spec.expressions("nonlinear")
    states = spec.state_names
    used_alg, reads = spec.nonlinear_dependencies()
    params = sorted(reads - set(states) - set(used_alg))
    lines = ["@njit(cache=True, error_model=\"numpy\")", "def nl(x, p, out):"]
    lines += [f"    v_{c} = x[{i}]" for i, c in enumerate(states) if c in reads]
    lines += [f"    v_{k} = p[{j}]" for j, k in enumerate(params)]
    for k in dependency_order(used_alg, set(states) | set(params)):
        lines.append(f"    v_{k} = {_source(used_alg[k].text)}")
    for c, e in exprs.items():
        lines.append(f"    out[{spec.index(c)}] += {_source(e.text)}")
    return "\n".join(lines) + "\n", params


def _kernel_text() -> str:
    src = Path(__file__).with_name("rosenbrock_kernel.py").read_text(encoding="utf-8")
    start = src.index("def nl(x, p, out):")
    end = src.index("raise NotImplementedError", start) + len("raise NotImplementedError\n")
    return src[:start] + "__NL__" + src[end:]


def compiled_term(spec: ModelSpec) -> CompiledTerm | None:
    """The compiled kernel for ``spec``, or None (linear spec, JIT off, or numba missing)."""
    if spec.is_linear or not enabled():
        return None
    nl_src, params = generate(spec)
    header = "from math import exp as _exp, log as _log, sqrt as _sqrt\n"
    text = header + _kernel_text().replace("__NL__", nl_src)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
    with _LOCK:
        mod = _MODULES.get(digest)
        if mod is None:
            try:
                mod = _load(f"kbone_jit_{digest}", text)
            except (OSError, ImportError) as e:     # e.g. a read-only KBONE_HOME: the numpy integrator does the work
                warnings.warn(f"compiled model kernel unavailable ({e}); using the numpy integrator", stacklevel=2)
                return None
            _MODULES[digest] = mod
    return CompiledTerm(mod, params)


def _load(name: str, text: str) -> ModuleType:
    d = state_dir() / "jit"
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{name}.py"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
