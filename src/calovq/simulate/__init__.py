"""Embedded physics-based shower simulator for the CaloChallenge 2022 geometries.

GFlash electromagnetic showers (Grindhammer & Peters, hep-ex/0001020) in the Geant4 Par04 W/Si stack
(datasets 2, 3, ``tiny``) and the ATLAS barrel (dataset-1 photons), a charged-pion model with first
interaction, MIP track, fluctuating EM fraction and non-compensation (dataset-1 pions), spot-sampled
voxel energies and the readout threshold. See ``docs/simulator.md`` and ``shared/docs/physics.md``.
"""

from __future__ import annotations

from calovq.simulate.config import SimConfig
from calovq.simulate.detectors import Stack, build_stack
from calovq.simulate.driver import default_chunk_size, default_workers, simulate, simulate_to_file
from calovq.simulate.energies import fixed_energies, sample_energies

__all__ = [
    "SimConfig",
    "Stack",
    "build_stack",
    "default_chunk_size",
    "default_workers",
    "fixed_energies",
    "sample_energies",
    "simulate",
    "simulate_to_file",
]
