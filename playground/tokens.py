"""A token per live object, for cache keys: unlike ``id()``, which CPython reuses once an object is freed, a
token is never given to a later object, so a new model cannot hit an old model's cached results."""

from __future__ import annotations

import itertools
import threading
import weakref

_tokens: weakref.WeakKeyDictionary[object, int] = weakref.WeakKeyDictionary()
_next = itertools.count(1)
_lock = threading.Lock()


def token(obj: object) -> int:
    """The same number for the same object for as long as it lives; a number never seen before for a new one."""
    with _lock:
        found = _tokens.get(obj)
        if found is None:
            found = _tokens[obj] = next(_next)
        return found
