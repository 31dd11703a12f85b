"""NetworkSpec -> a Keras model that outputs logits (no softmax layer), or one linear value for a regression."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from playground.i18n import N_

MAX_HIDDEN_LAYERS = 6
MAX_NEURONS = 32

# Keras names each activation; the registry is what the UI lists (a word is marked for the catalogue; names stay).
ACTIVATIONS: dict[str, str] = {
    "relu": "ReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "linear": N_("Linear"),
    "leaky_relu": "Leaky ReLU",
    "elu": "ELU",
    "gelu": "GELU",
}


@dataclass(frozen=True)
class NetworkSpec:
    """The structure of a fully connected network: a classifier, or a regression with one output.

    Attributes:
        n_inputs: number of input features.
        hidden: neurons per hidden layer; empty for a linear model (softmax regression).
        activations: one activation name per hidden layer.
        n_outputs: one logit per class (at least 2), or 1: a regression's predicted value.
        seed: seeds every initializer, so a spec always yields the same initial weights.
    """

    n_inputs: int
    hidden: tuple[int, ...]
    activations: tuple[str, ...]
    n_outputs: int
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_inputs < 1:
            raise ValueError(f"Expected n_inputs >= 1. Received: n_inputs={self.n_inputs}")
        if len(self.hidden) > MAX_HIDDEN_LAYERS:
            raise ValueError(f"Expected at most {MAX_HIDDEN_LAYERS} hidden layers. Received: {len(self.hidden)} layers")
        if any(not 1 <= n <= MAX_NEURONS for n in self.hidden):
            raise ValueError(f"Expected 1 to {MAX_NEURONS} neurons per layer. Received: hidden={self.hidden}")
        if len(self.activations) != len(self.hidden):
            raise ValueError(
                "Expected one activation per hidden layer. "
                f"Received: hidden={self.hidden}, activations={self.activations}"
            )
        unknown = [a for a in self.activations if a not in ACTIVATIONS]
        if unknown:
            raise ValueError(f"Expected activations from {list(ACTIVATIONS)}. Received: {unknown}")
        if self.n_outputs < 1:
            raise ValueError(f"Expected n_outputs >= 1. Received: n_outputs={self.n_outputs}")

    @property
    def regression(self) -> bool:
        return self.n_outputs == 1


def build_model(spec: NetworkSpec) -> keras.Model:
    """Builds the network described by ``spec``; it returns logits (a regression: its value, unbounded, as
    TensorFlow Playground's linear output).

    Hidden layers are named ``hidden_1`` ... so that ``hidden_model`` can expose their activations.
    """
    inputs = keras.Input(shape=(spec.n_inputs,), name="features")
    h = inputs
    for index, (width, activation) in enumerate(zip(spec.hidden, spec.activations, strict=True)):
        h = keras.layers.Dense(
            width,
            activation=activation,
            kernel_initializer=keras.initializers.GlorotUniform(seed=spec.seed * 101 + index),
            name=f"hidden_{index + 1}",
        )(h)
    outputs = keras.layers.Dense(
        spec.n_outputs,
        kernel_initializer=keras.initializers.GlorotUniform(seed=spec.seed * 101 + len(spec.hidden)),
        name="value" if spec.regression else "logits",
    )(h)
    return keras.Model(inputs, outputs, name="playground_net")


def hidden_model(model: keras.Model) -> keras.Model | None:
    """A model sharing ``model``'s weights that returns each hidden layer's activations (None if none)."""
    hidden = [layer.output for layer in model.layers if layer.name.startswith("hidden_")]
    if not hidden:
        return None
    # Keras unwraps a one-output list, so call it through training.forward, which always returns a list.
    return keras.Model(model.input, hidden)
