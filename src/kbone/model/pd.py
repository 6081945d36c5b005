"""Vitamin K → γ-carboxylation of osteocalcin (ucOC, %ucOC, ucOC/cOC) and MGP (dp-ucMGP).

The PD model (``data/model/pd_carboxylation.yaml``) is algebraic in the extrahepatic vitamin K
activity ``act_ext`` (K1-equivalent nmol/L): the sum over forms of each form's effect compartment,
i.e. its plasma concentration × relative potency ``w_ext_<form>``, smoothed with ``keo_ext``. Under a
vitamin K antagonist the activity is scaled by (1 − E_vka), E_vka being the warfarin inhibition of
VKOR from :mod:`kbone.model.warfarin`.

Outputs: ``ucoc_percent`` (% of total OC), ``ucoc_coc_ratio``, ``ucoc_ng_ml``, ``dp_ucmgp_pmol_l``.
"""

from __future__ import annotations

import numpy as np

from kbone.model.library import spec
from kbone.model.population import Population
from kbone.model.system import Individualised

MARKERS = ("ucoc_percent", "ucoc_coc_ratio", "ucoc_ng_ml", "dp_ucmgp_pmol_l")


class Carboxylation:
    """The carboxylation model for the subjects of ``pop`` (PD between-subject variability drawn once)."""

    def __init__(self, pop: Population, overrides: dict[str, float] | None = None):
        self.spec = spec("pd_carboxylation")
        self.model = Individualised(self.spec, pop.n, pop.parameters(self.spec, overrides))

    def markers(self, act_ext: np.ndarray, e_vka: np.ndarray | float = 0.0,
                names: tuple[str, ...] = MARKERS, dtype=None) -> dict[str, np.ndarray]:
        """Markers (T, n) from activity (T, n) (and warfarin inhibition, same shape or scalar);
        ``dtype=np.float32`` for large batches."""
        act_ext = np.atleast_2d(np.asarray(act_ext, dtype=float))
        e = np.broadcast_to(np.asarray(e_vka, dtype=float), act_ext.shape)
        return self.model.outputs({}, np.arange(act_ext.shape[0], dtype=float), {"act_ext": act_ext, "E_vka": e},
                                  list(names), dtype=dtype)


def relative_change(on: np.ndarray, off: np.ndarray) -> np.ndarray:
    """(on − off) / off."""
    return (np.asarray(on) - np.asarray(off)) / np.asarray(off)


def steady_state_carboxylation(form: str, dose_ug_per_day: float, **kw):
    """See :func:`kbone.model.api.steady_state_carboxylation` (re-exported here for callers that look in pd)."""
    from kbone.model.api import steady_state_carboxylation as _f

    return _f(form, dose_ug_per_day, **kw)
