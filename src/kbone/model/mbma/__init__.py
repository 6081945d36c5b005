"""Bone-outcome model-based meta-analysis (MBMA): BMD % change vs control and fracture risk.

- :mod:`.config` — priors, grids and assumptions (``data/model/mbma_config.yaml``) and natural BMD loss
  rates (``data/model/bmd_loss_rates.yaml``);
- :mod:`.exposure` — the one exposure scale (fall in uncarboxylated osteocalcin) for every form;
- :mod:`.context` — what a trial (or a design) is: population class, region, form, dose, co-interventions;
- :mod:`.data` — evidence records → BMD and fracture observations, with every exclusion and its reason;
- :mod:`.fit` — the model, its exact grid posterior, and predictions with 95 % prediction intervals.
"""

from kbone.model.mbma.fit import MbmaFit, fit_mbma

__all__ = ["MbmaFit", "fit_mbma"]
