"""``per_model``: a ``tf.function`` whose traces belong to the model they were made for, and die with it.

A plain module-level ``tf.function`` keeps a trace for every model object it has ever seen, and each trace
holds that model's variables and graph: a server where students build and drop networks all day grows
without bound (measured: 130 traces for 65 toy models, and RSS that never came back). Here each model gets its
own ``tf.function``, held in a weak-keyed table, so dropping the model frees its traces. A model's traces are
reused across calls: new ε, steps or data of the same shape never retrace (they are tensors).

TensorFlow's eager runtime also caches a kernel for every function it has run, and never evicts it: dropped
networks' traces still left about 1.7 MB each behind there (60 networks trained and dropped: RSS 681 -> 760 MB;
677 -> 680 MB when the cache was cleared after each drop). So every few new networks, the dropped ones are
collected and, if any had traces, that cache is cleared (what ``keras.backend.clear_session`` does, without
resetting Keras) and the freed heap handed back to the system. Every live network then rebuilds its kernels
once, about 0.1 s each, which is why it is not done for every new network. A quiet server still frees a
closed tab's network: from the first per-model function on, a janitor thread sweeps every SWEEP_SECONDS
(measured: 30 sessions opened and closed in turn left 892 MB with their networks waiting for a sweep, and
853 MB once swept).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import tensorflow as tf
from tensorflow.python.eager import context

NEW_FUNCTIONS_PER_SWEEP = 40  # about eight networks: each has up to five compiled functions
# A full collection over TensorFlow's heap holds the GIL for tens of ms: harmless this seldom.
SWEEP_SECONDS = 30.0
_JANITOR_CHECK_SECONDS = 1.0
_new_functions = 0
_dropped_functions = 0
_last_sweep = time.monotonic()
_janitor: threading.Thread | None = None
_sweep_lock = threading.Lock()


def _note_dropped() -> None:
    global _dropped_functions
    with _sweep_lock:
        _dropped_functions += 1


def _sweep_if_due() -> None:
    """Every NEW_FUNCTIONS_PER_SWEEP new per-model functions: sweep."""
    global _new_functions, _janitor
    with _sweep_lock:
        if _janitor is None:
            _janitor = threading.Thread(target=_sweep_now_and_then, name="playground-compiled-janitor", daemon=True)
            _janitor.start()
        _new_functions += 1
        if _new_functions < NEW_FUNCTIONS_PER_SWEEP:
            return
    _sweep()


def _sweep_now_and_then() -> None:
    while True:
        time.sleep(_JANITOR_CHECK_SECONDS)
        if time.monotonic() - _last_sweep >= SWEEP_SECONDS:
            _sweep()


def _sweep() -> None:
    """Collects the dropped models, then frees what their traces left."""
    global _new_functions, _dropped_functions, _last_sweep
    with _sweep_lock:
        _new_functions, _last_sweep = 0, time.monotonic()
    # A dropped network is a reference cycle, and Streamlit's collection after each script run is off
    # (.streamlit/config.toml), so without this it could wait long for Python's own oldest-generation pass.
    gc.collect()
    with _sweep_lock:
        dropped, _dropped_functions = _dropped_functions, 0
    if dropped:
        context.context().clear_kernel_cache()
        with contextlib.suppress(AttributeError, OSError):  # glibc only: give the freed pages back to the system
            ctypes.CDLL(None).malloc_trim(0)


class PerModelFunction:
    """Calls ``python_function(model, ...)`` through a ``tf.function`` made once per live model."""

    def __init__(self, python_function: Callable[..., Any]) -> None:
        functools.update_wrapper(self, python_function)
        self.python_function = python_function
        self._functions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __call__(self, model: Any, *args: Any, **kwargs: Any) -> Any:
        function = self._functions.get(model)
        if function is None:
            _sweep_if_due()
            function = self._functions[model] = tf.function(self.python_function, reduce_retracing=True)
            weakref.finalize(model, _note_dropped)
        return function(model, *args, **kwargs)

    def live_models(self) -> int:
        """How many models still hold traces of this function."""
        return len(self._functions)

    def tracing_count(self) -> int:
        """Traces held for the live models, all together."""
        return sum(f.experimental_get_tracing_count() for f in list(self._functions.values()))


def per_model(python_function: Callable[..., Any]) -> PerModelFunction:
    """Decorator: like ``@tf.function(reduce_retracing=True)`` for a function whose first argument is a model."""
    return PerModelFunction(python_function)
