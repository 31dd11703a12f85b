"""Defences against adversarial examples, and the attacks that see through them.

- ``transforms``: input transforms (bit depth, median filter, JPEG, blur, noise) as a registry of small
  frozen dataclasses, each with a NumPy/Pillow and a TensorFlow implementation, and ``Stack`` to chain them;
- ``adversarial_training``: the Goodfellow, Madry, fast-FGSM and Gaussian-noise training presets, with
  catastrophic-overfitting detection;
- ``smoothing``: randomized smoothing's CERTIFY and PREDICT (Cohen, Rosenfeld & Kolter 2019);
- ``detector``: the feature-squeezing detector (Xu, Evans & Qi 2018);
- ``threat_models``: the defended system (``defended_predict``), the defence-aware models an attack runs on
  (``BPDA``, ``EOT``) and ``robust_accuracy`` under the three threat models of Athalye, Carlini & Wagner 2018.

Example:

```python
from playground.defences import Stack, JPEG, robust_accuracy

robust_accuracy(model, Stack.of(JPEG(quality=30)), x, y, threat="bpda", eps=0.1, seed=0)
```
"""

from playground.defences import adversarial_training, detector, smoothing
from playground.defences.threat_models import (
    BPDA,
    DEFEND_ATTACKS,
    EOT,
    SAMPLES,
    THREAT_LABELS,
    THREATS,
    DefendAttack,
    ThreatRow,
    as_stack,
    compare_threats,
    defended_predict,
    robust_accuracy,
)
from playground.defences.transforms import (
    JPEG,
    MAX_STACK,
    TRANSFORMS,
    BitDepth,
    GaussianBlur,
    GaussianNoise,
    MedianFilter,
    Stack,
    Transform,
    get,
    names,
)

__all__ = [
    "BPDA",
    "DEFEND_ATTACKS",
    "EOT",
    "JPEG",
    "MAX_STACK",
    "SAMPLES",
    "THREATS",
    "THREAT_LABELS",
    "TRANSFORMS",
    "BitDepth",
    "DefendAttack",
    "GaussianBlur",
    "GaussianNoise",
    "MedianFilter",
    "Stack",
    "ThreatRow",
    "Transform",
    "adversarial_training",
    "as_stack",
    "compare_threats",
    "defended_predict",
    "detector",
    "get",
    "names",
    "robust_accuracy",
    "smoothing",
]
