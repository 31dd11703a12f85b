"""One toy experiment: the data, the network and its trainer, built from a Build & Train page config.

The page keeps one of these in session state. Settings that define the problem or the network's
structure rebuild it (the same seeds give the same data and initial weights); the others are applied to
the running trainer without touching the weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from playground import data, features, models, training
from playground.data import custom
from playground.i18n import N_
from playground.state import TrainPageConfig

# Training speed caps, in epochs per second: a lecturer narrating wants the boundary to form visibly.
# The labels are marked for the catalogue: the page translates them where it shows them.
SPEEDS: dict[str, tuple[str, float | None]] = {
    "slow": (N_("Slow · 5/s"), 5.0),  # epochs per second: the labels carry the unit, as the control shows no label
    "normal": (N_("Normal · 25/s"), 25.0),
    "fast": (N_("Fast · 100/s"), 100.0),
    "max": (N_("Max"), None),
}
BOUNDARY_RESOLUTION = 100
NEURON_RESOLUTION = 40

# Changing any of these starts a new network; everything else is a live hyperparameter.
STRUCTURE_FIELDS = (
    "problem",
    "dataset",
    "points",
    "samples",
    "noise",
    "train_percent",
    "data_seed",
    "blobs",
    "features",
    "layers",
    "activations",
    "init_seed",
)


def train_config(config: TrainPageConfig) -> training.TrainConfig:
    """The live hyperparameters of a page config."""
    return training.TrainConfig(
        loss=config.loss,
        optimizer=config.optimizer,
        learning_rate=config.lr,
        batch_size=config.batch,
        regularization=config.reg,
        regularization_rate=config.reg_rate,
        adversarial_eps=config.adv_eps if config.adv_train else 0.0,
    )


def same_structure(a: TrainPageConfig, b: TrainPageConfig, *, ignore: tuple[str, ...] = ()) -> bool:
    return all(getattr(a, name) == getattr(b, name) for name in STRUCTURE_FIELDS if name not in ignore)


def make_split(config: TrainPageConfig) -> data.ToySplit:
    """The page's data: a generated dataset, or the student's own points."""
    if config.dataset == custom.NAME:
        return custom.split(config.points, train_fraction=config.train_percent / 100, seed=config.data_seed,
                            regression=config.problem == "regression")
    return data.make_toy(
        config.dataset,
        n_samples=config.samples,
        noise=config.noise / 100,
        train_fraction=config.train_percent / 100,
        seed=config.data_seed,
        n_blobs=config.blobs,
    )


@dataclass
class ToyExperiment:
    config: TrainPageConfig
    split: data.ToySplit
    trainer: training.Trainer
    boundary_inputs: np.ndarray
    neuron_inputs: np.ndarray
    hidden: keras.Model | None
    initial_weights: list[np.ndarray]

    @classmethod
    def create(cls, config: TrainPageConfig) -> ToyExperiment:
        """Generates the data and a freshly initialised network for ``config``."""
        split = make_split(config)
        spec = models.NetworkSpec(
            n_inputs=len(config.features),
            hidden=config.layers,
            activations=config.activations,
            n_outputs=split.n_outputs,
            seed=config.init_seed,
        )
        model = models.build_model(spec)
        trainer = training.Trainer(
            model,
            features.feature_matrix(split.x_train, config.features),
            split.y_train,
            features.feature_matrix(split.x_test, config.features),
            split.y_test,
            train_config(config),
            seed=config.init_seed,
            raw_train=split.x_train,
            feature_names=tuple(config.features),
            raw_clip=(-data.EXTENT, data.EXTENT),
        )
        return cls(
            config=config,
            split=split,
            trainer=trainer,
            boundary_inputs=features.feature_matrix(data.grid(resolution=BOUNDARY_RESOLUTION), config.features),
            neuron_inputs=features.feature_matrix(data.grid(resolution=NEURON_RESOLUTION), config.features),
            hidden=models.hidden_model(model),
            initial_weights=model.get_weights(),
        )

    def updated(self, config: TrainPageConfig) -> ToyExperiment:
        """This experiment with ``config`` applied: retuned in place, or rebuilt if the structure changed."""
        if not same_structure(self.config, config, ignore=("points",)):
            return ToyExperiment.create(config)
        if config.points != self.config.points:
            # A point added or removed: the same network trains on, as in ConvNetJS's classify2d, unless a new
            # class needs another output.
            split = make_split(config)
            if split.n_outputs != self.split.n_outputs:
                return ToyExperiment.create(config)
            self.split = split
            self.trainer.use_data(
                features.feature_matrix(split.x_train, config.features), split.y_train,
                features.feature_matrix(split.x_test, config.features), split.y_test, raw_train=split.x_train,
            )
        if config != self.config:
            self.trainer.configure(train_config(config))
            self.config = config
        return self

    def reset(self) -> ToyExperiment:
        """Back to the same data and initial weights, keeping the compiled network (a Reset costs no retrace)."""
        self.trainer.restart(self.initial_weights)
        return self

    def boundary(self) -> np.ndarray:
        """What the network says over the plane, row 0 at the bottom: class probabilities, (res, res, n_classes),
        or a regression's predicted value, (res, res, 1)."""
        if self.split.regression:
            outputs = training.predict_values(self.trainer.model, self.boundary_inputs)
        else:
            outputs = training.predict_proba(self.trainer.model, self.boundary_inputs)
        return outputs.reshape(BOUNDARY_RESOLUTION, BOUNDARY_RESOLUTION, -1)

    @property
    def trainable(self) -> bool:
        """Whether there is a point to train on (your own data may have none yet)."""
        return len(self.split.x_train) > 0

    def epochs_per_second(self) -> float | None:
        """The speed setting's cap (None: as fast as the machine goes)."""
        return SPEEDS[self.config.speed][1]

    def neuron_maps(self) -> list[np.ndarray]:
        """Each hidden layer's activations over the plane, one (neurons, res, res) array per layer."""
        if self.hidden is None:
            return []
        res = NEURON_RESOLUTION
        return [layer.T.reshape(-1, res, res) for layer in training.forward(self.hidden, self.neuron_inputs)]

    def output_maps(self) -> np.ndarray:
        """The output layer's neurons over the plane, (n_outputs, res, res): each class's logit, or a regression's
        value."""
        res = NEURON_RESOLUTION
        return training.forward(self.trainer.model, self.neuron_inputs)[0].T.reshape(-1, res, res)

    def link_weights(self) -> list[np.ndarray]:
        """The weights between the drawn columns of neuron maps (inputs, each hidden layer, the output): one
        (neurons before, neurons after) kernel per layer."""
        dense = [layer for layer in self.trainer.model.layers if isinstance(layer, keras.layers.Dense)]
        return [np.asarray(layer.kernel) for layer in dense]

    def feature_maps(self) -> np.ndarray:
        """The input features over the plane, (n_features, res, res)."""
        res = NEURON_RESOLUTION
        return self.neuron_inputs.T.reshape(-1, res, res)
