"""One bounded cache per session: results that a rerun would otherwise recompute, keyed by what they depend on.

Keys hold ``playground.tokens.token(model)`` rather than ``id(model)``: CPython reuses ids, so a new model could
hit an old model's rows. Each cache keeps its ``size`` most recently used entries, so a long session with many
models or settings does not grow without bound.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Hashable
from typing import Any

import streamlit as st

_PREFIX = "cache_"


def _store(name: str) -> collections.OrderedDict:
    return st.session_state.setdefault(_PREFIX + name, collections.OrderedDict())


def get(name: str, key: Hashable, default: Any = None) -> Any:
    store = _store(name)
    if key not in store:
        return default
    store.move_to_end(key)
    return store[key]


def put(name: str, key: Hashable, value: Any, *, size: int) -> Any:
    store = _store(name)
    store[key] = value
    store.move_to_end(key)
    while len(store) > size:
        store.popitem(last=False)
    return value


def contains(name: str, key: Hashable) -> bool:
    return key in _store(name)


def remember(name: str, key: Hashable, compute: Callable[[], Any], *, size: int = 1) -> Any:
    """``compute()``'s value for ``key``, computed once while it stays among the ``size`` most recent."""
    if contains(name, key):
        return get(name, key)
    return put(name, key, compute(), size=size)
