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
once, about 0.13 s each (measured), which is why it is not done for every new network.

A dropped network is a reference cycle, so only a full collection frees it. From the first per-model function
on, a janitor thread collects every COLLECT_SECONDS, and sweeps the kernel cache every SWEEP_SECONDS. Collecting
soon is what keeps the heap from growing: 50 sessions opened and closed in turn took RSS from 782 to 864 MB
(110 %) when dropped networks waited up to 30 s for a collection, and from 777 to 812 MB (105 %) when they
waited at most 3 s. A collection is cheap because the objects that TensorFlow and Keras load, about 385 000, are
frozen out of it when this module is imported (``gc.freeze``): a collection took 260-300 ms holding the GIL
before, and 15-60 ms after (1 to 10 live networks).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import keras  # noqa: F401  (loaded before the freeze below, so that its objects are frozen too)
import numpy as np
import tensorflow as tf
from tensorflow.python.eager import context

# Only objects that live now are frozen: this runs on import, before any network exists, so every network stays
# collectable. Objects that are freed by reference counting are freed whether frozen or not.
gc.collect()
gc.freeze()

NEW_FUNCTIONS_PER_SWEEP = 40  # about ten networks: a toy network has four or five compiled functions
COLLECT_SECONDS = 5.0
SWEEP_SECONDS = 30.0
_JANITOR_CHECK_SECONDS = 1.0
_new_functions = 0
_dropped_functions = 0
_last_sweep = _last_collect = time.monotonic()
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
    global _last_collect
    while True:
        time.sleep(_JANITOR_CHECK_SECONDS)
        if time.monotonic() - _last_sweep >= SWEEP_SECONDS:
            _sweep()
        elif time.monotonic() - _last_collect >= COLLECT_SECONDS:
            _last_collect = time.monotonic()
            gc.collect()  # frees dropped networks now; their kernels wait for the next sweep


def _sweep() -> None:
    """Collects the dropped models, then frees what their traces left."""
    global _new_functions, _dropped_functions, _last_sweep, _last_collect
    with _sweep_lock:
        _new_functions, _last_sweep = 0, time.monotonic()
        _last_collect = _last_sweep
    # Streamlit's collection after each script run is off (.streamlit/config.toml), so without this a dropped
    # network could wait long for Python's own oldest-generation pass.
    gc.collect()
    with _sweep_lock:
        dropped, _dropped_functions = _dropped_functions, 0
    if dropped:
        context.context().clear_kernel_cache()
        with contextlib.suppress(AttributeError, OSError):  # glibc only: give the freed pages back to the system
            ctypes.CDLL(None).malloc_trim(0)


def _trace_key(value: Any) -> Hashable:
    """What decides which trace a ``tf.function`` argument calls, found cheaply: a tensor's shape and dtype, a plain
    Python value itself (a new value is a new trace), any other object (a variable, an optimiser) by identity.
    Raises TypeError for an argument it cannot key, ValueError for a tensor of unknown rank."""
    if isinstance(value, tf.Tensor | np.ndarray):
        return tuple(value.shape), value.dtype
    if value is None or isinstance(value, bool | int | float | str):
        return type(value), value
    if isinstance(value, tuple | list):
        return type(value), tuple(_trace_key(item) for item in value)
    return _Same(value)


class _Same:
    """Hashes and compares an object by identity, without keeping it alive (a variable's own ``==`` compares
    values, and it cannot be hashed)."""

    __slots__ = ("_id", "_ref")

    def __init__(self, value: Any) -> None:
        self._ref, self._id = weakref.ref(value), id(value)  # TypeError if it cannot be referenced weakly

    def __hash__(self) -> int:
        return self._id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and self._ref() is not None and self._ref() is other._ref()


class _ModelFunction:
    """One model's ``tf.function``, and the traces it has already called, by ``_trace_key``.

    ``tf.function`` finds the trace for a call by working out every argument's trace type, which takes about
    half of a small call's time, holding the GIL (330 of 740 us for a toy network's measures; issue 8). A trace
    found once is called directly from then on, with the same arguments: the same computation, found faster.
    """

    MAX_TRACES = 16  # more shapes or values than a page uses: start again (tf.function still has them all)

    def __init__(self, python_function: Callable[..., Any]) -> None:
        self.function = tf.function(python_function, reduce_retracing=True)
        self._traces: dict[Hashable, Any] = {}

    def __call__(self, model: Any, *args: Any, **kwargs: Any) -> Any:
        try:  # the model is always this function's own: only the other arguments pick a trace
            key = tuple(_trace_key(value) for value in args), tuple((k, _trace_key(v)) for k, v in kwargs.items())
        except (TypeError, ValueError):  # unhashable, or a tensor of unknown rank: tf.function finds the trace
            return self.function(model, *args, **kwargs)
        trace = self._traces.get(key)
        if trace is not None:
            return trace(model, *args, **kwargs)
        # The first call goes through tf.function as it always did (it may trace, and create variables); the
        # lookup after it only finds that trace.
        result = self.function(model, *args, **kwargs)
        if len(self._traces) >= self.MAX_TRACES:
            self._traces.clear()
        self._traces[key] = self.function.get_concrete_function(model, *args, **kwargs)
        return result


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
            function = self._functions[model] = _ModelFunction(self.python_function)
            weakref.finalize(model, _note_dropped)
        return function(model, *args, **kwargs)

    def live_models(self) -> int:
        """How many models still hold traces of this function."""
        return len(self._functions)

    def tracing_count(self, model: Any = None) -> int:
        """Traces held for ``model``, or for all the live models together.

        The total falls whenever a dropped model is collected, which the janitor may do at any moment: to ask
        whether one model retraced, count its own.
        """
        if model is not None:
            function = self._functions.get(model)
            return 0 if function is None else function.function.experimental_get_tracing_count()
        return sum(f.function.experimental_get_tracing_count() for f in list(self._functions.values()))


@contextlib.contextmanager
def one_op_at_a_time() -> Iterator[None]:
    """Compiled functions called inside run their ops one after another on one thread, instead of handing every
    ready op to a thread of TensorFlow's inter-op pool.

    For Build & Train's tiny networks, handing each op out costs more than the op. Measured, one network training
    alone: 175 epochs/s on 0.99 cores here, against 124 on 1.2 cores through the pool (closing note of issue 8).
    The one thread is still one of the pool's, not the caller's: with one network training, the pool's threads
    ("tf_Compute" in /proc) used 0.69 of the process's 1.0 core, the runner 0.31 (2026-12-07). So the compiled work
    runs at the pool's priority, not at the runners' lower one. A heavy evaluation's large batches are faster
    spread over the pool (PGD-20 on 300 MNIST images: 1.2-1.7 s against 1.9 s), so only the toy networks' training
    and measures run this way (``training.Trainer``), on every path alike: the executor changes the last bits of
    the numbers.

    A loop runs its body on the thread that runs the loop, but a conditional op (a ``tf.cond``, or the ``if`` of
    an autograph ``break``) inside it waits for another of the pool's threads: with two sessions' loops holding
    the pool's two threads, both waited forever (2026-12-08). So the loops compiled for this executor branch in
    Python only, and stop on their own condition.
    """
    with context.function_executor_type("SINGLE_THREADED_EXECUTOR"):
        yield


def per_model(python_function: Callable[..., Any]) -> PerModelFunction:
    """Decorator: like ``@tf.function(reduce_retracing=True)`` for a function whose first argument is a model."""
    return PerModelFunction(python_function)
