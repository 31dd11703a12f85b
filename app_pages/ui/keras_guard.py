"""Keeps Streamlit from wiping TensorFlow/Keras state after every script run.

Streamlit 1.67's ScriptRunner calls ``_clean_problem_modules()`` after every run, fragment reruns
included, and that calls ``keras.backend.clear_session()`` whenever keras is imported. That throws away
every compiled ``tf.function`` graph (30-300 ms to rebuild on the next call, so live training crawls at
~1.6 epochs/s) and resets Keras' global state for every session in the process. Our models live in
session state and never rely on that cleanup, so we switch the hook off. It is private API: the
Streamlit range in requirements.txt is open for 1.x because tests/test_keras_guard.py fails if the hook moves.
Installed once, by app.py, before any page runs.
"""

from __future__ import annotations

from streamlit.runtime.scriptrunner import script_runner


def _keep_keras_state() -> None:
    """Replaces Streamlit's post-run cleanup; the app uses no matplotlib, the hook's only other target."""


def install() -> None:
    """Disables the per-rerun ``keras.backend.clear_session()``. Idempotent; call before any TF work."""
    script_runner._clean_problem_modules = _keep_keras_state
