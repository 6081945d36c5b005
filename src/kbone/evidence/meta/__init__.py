"""Meta-analysis engine matching R metafor 3.8 (effect sizes, FE/RE pooling with eight tau² estimators,
Knapp-Hartung, Mantel-Haenszel, Peto, subgroups, leave-one-out, cumulative, Egger, trim-and-fill) and its
integrity-aware use over kbone's evidence base (``kbone meta``).

Library entry points: :func:`escalc`-style helpers in :mod:`.effects`, :func:`rma` (:mod:`.estimators`),
:func:`rma_mh` / :func:`rma_peto` (:mod:`.mh`), :mod:`.analyses`, and :func:`analyse` (:mod:`.pipeline`),
which returns a :class:`~kbone.evidence.meta.results.MetaReport`.
"""

from kbone.evidence.meta.effects import binary_effects, continuous_effects, from_ci, generic_effects
from kbone.evidence.meta.estimators import METHODS, Fit, rma
from kbone.evidence.meta.mh import rma_mh, rma_peto
from kbone.evidence.meta.pipeline import Options, StudyInput, analyse

__all__ = ["METHODS", "Fit", "Options", "StudyInput", "analyse", "binary_effects", "continuous_effects",
           "from_ci", "generic_effects", "rma", "rma_mh", "rma_peto"]
