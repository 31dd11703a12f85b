"""Adversarial Playground's engine: data, models, training, attacks and plots. Never imports Streamlit.

Submodules are imported on demand (``from playground import training``) so that importing the package
does not pay TensorFlow's ~5 s import cost; the Home page paints before TF is loaded.
"""

__all__ = [
    "assets",
    "attacks",
    "data",
    "defences",
    "evaluation",
    "experiment",
    "features",
    "image_models",
    "lens",
    "lessons",
    "models",
    "plots",
    "snippets",
    "state",
    "theory",
    "thumbnails",
    "training",
]
