"""Evaluation metrics of the CaloChallenge 2022 (arXiv:2410.21611) for generated calorimeter showers.

- :mod:`~calovq.evaluate.features`: high-level features (layer energies, centres, widths, sparsity);
- :mod:`~calovq.evaluate.separation`: official binnings and the separation power (arXiv:2009.03796);
- :mod:`~calovq.evaluate.fpd_kpd`, :mod:`~calovq.evaluate.prdc`, :mod:`~calovq.evaluate.classifier`:
  FPD/KPD, precision/recall/density/coverage, classifier AUC/JSD;
- :func:`evaluate_files`: everything for two files, with a reference floor, plots and an HTML report.

Plots need matplotlib (extra ``plot``), the classifier scikit-learn (extra ``eval``); both import lazily.
"""

from __future__ import annotations

from calovq.evaluate.features import (
    FeatureAccumulator,
    HighLevelFeatures,
    apply_threshold,
    compute_features,
    features_from_file,
)
from calovq.evaluate.pipeline import ALL_METRICS, DEFAULT_METRICS, evaluate_files, fpd_input
from calovq.evaluate.separation import (
    HistogramResult,
    HistogramSpec,
    feature_specs,
    mean_separation,
    separation_power,
    separation_power_counts,
)

__all__ = [
    "ALL_METRICS",
    "DEFAULT_METRICS",
    "FeatureAccumulator",
    "HighLevelFeatures",
    "HistogramResult",
    "HistogramSpec",
    "apply_threshold",
    "compute_features",
    "evaluate_files",
    "feature_specs",
    "features_from_file",
    "fpd_input",
    "mean_separation",
    "separation_power",
    "separation_power_counts",
]


def __dir__() -> list[str]:
    return list(__all__)
