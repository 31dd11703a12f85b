"""A token per live object, for cache keys: unlike ``id()``, which CPython reuses once an object is freed, a
token is never given to a later object, so a new model cannot hit an old model's cached results."""

from __future__ import annotations

import itertools
import threading
import weakref

# id -> (weak reference, token). Keyed by id rather than by the object, so that unhashable objects (dataclasses
# with eq) take tokens too; the weak reference tells a live owner of the id from a later object that reused it.
_tokens: dict[int, tuple[weakref.ref, int]] = {}
_next = itertools.count(1)
_lock = threading.RLock()  # a weakref callback may run inside token() (a collection during its allocations)


def token(obj: object) -> int:
    """The same number for the same object for as long as it lives; a number never seen before for a new one."""
    key = id(obj)
    with _lock:
        entry = _tokens.get(key)
        if entry is not None and entry[0]() is obj:
            return entry[1]
        ref = weakref.ref(obj, lambda dead, key=key: _forget(key, dead))
        _tokens[key] = (ref, next(_next))
        return _tokens[key][1]


def _forget(key: int, dead: weakref.ref) -> None:
    with _lock:
        if key in _tokens and _tokens[key][0] is dead:  # not a later object that took the same id
            del _tokens[key]
