"""Adversarial attacks as pure functions over NumPy arrays, plus the registry the UI builds its controls from.

Grouped by threat model:

- gradient attacks within an eps-ball (L-inf or L2): ``fgsm``, ``bim``, ``pgd``, ``mi_fgsm``;
- strong evaluation and black-box attacks within an eps-ball, parameter-free: ``apgd`` (APGD-CE then
  APGD-DLR; ``apgd_t`` is the targeted-loss variant), ``square`` (score-based, forward passes only) and
  ``autoattack``, the cascade APGD-CE, APGD-T, Square for reporting robust accuracy;
- minimum-norm attacks, which search for the smallest perturbation (eps is only a budget): ``deepfool``,
  ``cw_l2``.

Every attack has the signature ``attack(model, x, y=None, *, eps, ..., clip=(0.0, 1.0)) -> np.ndarray``;
``get(name)`` returns its ``AttackSpec`` (parameters with defaults and ranges, summary, paper) and ``names()``
lists the registered attacks.
"""

# The import order is the registry order, which the UI lists: single step, iterative, strong evaluation and
# black-box, then minimum-norm.
from playground.attacks.base import AttackSpec, Param, get, names  # noqa: I001
from playground.attacks.fgsm import fgsm
from playground.attacks.pgd import PGDTrajectory, bim, pgd, pgd_trajectory
from playground.attacks.mi_fgsm import mi_fgsm
from playground.attacks.apgd import apgd, apgd_ce_dlr, apgd_t
from playground.attacks.square import SquareResult, square, square_attack
from playground.attacks.autoattack import STAGES, autoattack
from playground.attacks.deepfool import deepfool
from playground.attacks.cw import cw_l2

__all__ = [
    "STAGES",
    "AttackSpec",
    "PGDTrajectory",
    "Param",
    "SquareResult",
    "apgd",
    "apgd_ce_dlr",
    "apgd_t",
    "autoattack",
    "bim",
    "cw_l2",
    "deepfool",
    "fgsm",
    "get",
    "mi_fgsm",
    "names",
    "pgd",
    "pgd_trajectory",
    "square",
    "square_attack",
]
