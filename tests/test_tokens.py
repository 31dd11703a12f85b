"""Cache tokens: stable for one object, never reused for a later one (where id() is)."""

from __future__ import annotations

import gc

from playground import models
from playground.tokens import token


class Thing:
    pass


def test_a_token_is_stable_and_never_reused_where_id_is():
    first = Thing()
    assert token(first) == token(first)
    ids, tokens = set(), set()
    for _ in range(1000):  # each object is freed before the next is made
        later = Thing()
        ids.add(id(later))
        tokens.add(token(later))
        del later
    assert len(tokens) == 1000, "a token is never given to a second object"
    assert len(ids) < 1000, "CPython reused ids here (the reason tokens exist); if not, this check is moot"


def test_keras_models_take_tokens_and_are_not_kept_alive_by_them():
    import weakref

    model = models.build_model(models.NetworkSpec(n_inputs=2, hidden=(3,), activations=("relu",), n_outputs=2))
    assert token(model) == token(model)
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


def test_unhashable_objects_take_tokens_and_the_table_empties_behind_them():
    from dataclasses import dataclass

    from playground import tokens

    @dataclass
    class Settings:  # eq without frozen: unhashable, like the trainers
        value: int

    first, second = Settings(1), Settings(1)
    assert token(first) != token(second) and token(first) == token(first)
    before = len(tokens._tokens)
    del first, second
    gc.collect()
    assert len(tokens._tokens) == before - 2
