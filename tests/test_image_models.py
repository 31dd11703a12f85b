"""Image classifiers: the architecture registry, seeded builds, spec validation, the bundled models and sample,
uploads in safe mode, softmax detection, and the Trainer on images with a train-evaluation subset."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from playground import assets, image_models, training
from playground.image_models import ImageModelSpec, build_image_model

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURES = list(image_models.ARCHITECTURES)


def _accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(training.predict_logits(model, x).argmax(-1) == y))


def _saved_bytes(model: keras.Model, tmp_path: Path) -> bytes:
    path = tmp_path / "model.keras"
    model.save(path)
    return path.read_bytes()


def _sequential(*layers: keras.layers.Layer, shape: tuple[int, ...] = (28, 28, 1)) -> keras.Model:
    return keras.Sequential([keras.Input(shape), *layers])


@pytest.fixture(scope="module")
def mnist_sample() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    return assets.load_sample("mnist")


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_architecture_builds_and_outputs_logits(architecture):
    entry = image_models.ARCHITECTURES[architecture]
    assert entry.label and entry.description
    model = build_image_model(ImageModelSpec(architecture))
    x = np.random.default_rng(0).uniform(size=(5, 28, 28, 1)).astype(np.float32)
    logits = training.predict_logits(model, x)
    assert model.input_shape == (None, 28, 28, 1)
    assert logits.shape == (5, 10)
    assert not image_models.has_softmax_output(model)


def test_the_default_architecture_is_the_cnn():
    assert ImageModelSpec().architecture == image_models.DEFAULT_ARCHITECTURE == "cnn"


def test_mlp_has_the_requested_hidden_widths():
    model = build_image_model(ImageModelSpec("mlp", hidden=(32, 16, 8)))
    assert [model.get_layer(f"hidden_{i}").units for i in (1, 2, 3)] == [32, 16, 8]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_builds_are_seeded(architecture):
    def weights(seed: int) -> list[np.ndarray]:
        return [w.numpy() for w in build_image_model(ImageModelSpec(architecture, seed=seed)).weights]

    first, again, other = weights(3), weights(3), weights(4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"architecture": "resnet"}, "architecture"),
        ({"hidden": ()}, "hidden"),
        ({"hidden": (8, 8, 8, 8)}, "hidden"),
        ({"hidden": [128]}, "hidden"),
        ({"hidden": (0,)}, "hidden"),
        ({"hidden": (image_models.MAX_MLP_WIDTH + 1,)}, "hidden"),
        ({"hidden": (12.5,)}, "hidden"),
        ({"seed": -1}, "seed"),
    ],
)
def test_spec_validation(kwargs, name):
    with pytest.raises(ValueError, match=rf"Expected .* Received: {name}="):
        ImageModelSpec(**kwargs)


def test_sample_is_the_first_official_test_images():
    for dataset, first_label in (("mnist", 7), ("fashion_mnist", 9)):
        x, y, class_names = assets.load_sample(dataset)
        assert x.shape == (1000, 28, 28, 1) and x.dtype == np.float32
        assert x.min() == 0.0 and x.max() == 1.0
        assert y.shape == (1000,) and y.dtype == np.int64 and y[0] == first_label
        assert len(class_names) == 10 and set(np.unique(y)) == set(range(10))
    assert class_names[9] == "Ankle boot"


def test_loading_the_sample_does_not_import_tensorflow():
    code = "import sys, playground.assets as a; a.load_sample('mnist'); print(sys.modules.get('tensorflow') is None)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().lower()) is True


@pytest.mark.parametrize(
    ("dataset", "architecture", "minimum"),
    [
        ("mnist", "cnn", 0.98),
        ("fashion_mnist", "cnn", 0.85),
        ("mnist", "mlp", 0.95),
        ("fashion_mnist", "mlp", 0.85),
        ("mnist", "softmax", 0.90),
        ("fashion_mnist", "softmax", 0.80),
    ],
)
def test_bundled_models_load_in_safe_mode_and_are_accurate(monkeypatch, dataset, architecture, minimum):
    calls = []
    load_model = keras.saving.load_model
    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **kw: calls.append(kw) or load_model(*a, **kw))
    model = image_models.load_bundled_model(dataset, architecture)
    assert calls == [{"safe_mode": True, "compile": False}]
    assert not image_models.has_softmax_output(model)
    x, y, _ = assets.load_sample(dataset)
    assert _accuracy(model, x, y) >= minimum


@pytest.mark.parametrize(
    ("dataset", "variant", "minimum"),
    [("mnist", "fast_at", 0.97), ("mnist", "gaussian", 0.97), ("fashion_mnist", "fast_at", 0.7),
     ("fashion_mnist", "gaussian", 0.8)],
)
def test_bundled_robust_variants_load_and_are_accurate(dataset, variant, minimum):
    model = image_models.load_bundled_model(dataset, "cnn", variant)
    x, y, _ = assets.load_sample(dataset)
    assert _accuracy(model, x, y) >= minimum
    assert assets.model_path(dataset, "cnn", variant).name == f"{dataset}_cnn_{variant}.keras"


def test_bundled_cnn_is_small():
    assert assets.model_path("mnist", "cnn").stat().st_size < 2 * 2**20


def test_load_bundled_model_rejects_unknown_names():
    with pytest.raises(ValueError, match="Expected dataset"):
        image_models.load_bundled_model("cifar10", "cnn")
    with pytest.raises(ValueError, match="Expected architecture"):
        image_models.load_bundled_model("mnist", "resnet")
    with pytest.raises(ValueError, match="Expected variant"):
        image_models.load_bundled_model("mnist", "cnn", "armoured")


def test_load_uploaded_model_round_trip(tmp_path, mnist_sample):
    original = build_image_model(ImageModelSpec("softmax", seed=5))
    loaded = image_models.load_uploaded_model(_saved_bytes(original, tmp_path))
    x = mnist_sample[0][:16]
    np.testing.assert_allclose(training.predict_logits(loaded, x), training.predict_logits(original, x), rtol=1e-6)
    assert not image_models.has_softmax_output(loaded)


@pytest.mark.parametrize(
    "head",
    [
        lambda: [keras.layers.Dense(10, activation="softmax")],
        lambda: [keras.layers.Dense(10), keras.layers.Softmax()],
        lambda: [keras.layers.Dense(10), keras.layers.Activation("softmax")],
    ],
)
def test_softmax_output_is_loaded_and_detected(tmp_path, head):
    model = _sequential(keras.layers.Flatten(), *head())
    loaded = image_models.load_uploaded_model(_saved_bytes(model, tmp_path))
    assert image_models.has_softmax_output(loaded)


@pytest.mark.parametrize("raw", [b"", b"not a model", np.random.default_rng(0).bytes(4096)])
def test_load_uploaded_model_rejects_garbage(raw):
    with pytest.raises(ValueError, match="not a zip archive"):
        image_models.load_uploaded_model(raw)


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_load_uploaded_model_rejects_a_zip_that_is_not_a_model():
    with pytest.raises(ValueError, match=r"config\.json"):
        image_models.load_uploaded_model(_zip({"hello.txt": b"hi"}))


def test_load_uploaded_model_rejects_a_corrupt_model(tmp_path):
    with zipfile.ZipFile(io.BytesIO(_saved_bytes(build_image_model(ImageModelSpec("softmax")), tmp_path))) as good:
        files = {name: good.read(name) for name in good.namelist()}
    files["config.json"] = files["config.json"][:40]
    with pytest.raises(ValueError, match="safe mode"):
        image_models.load_uploaded_model(_zip(files))


def test_load_uploaded_model_refuses_python_code(tmp_path):
    model = _sequential(keras.layers.Flatten(), keras.layers.Dense(10), keras.layers.Lambda(lambda t: 2.0 * t))
    with pytest.raises(ValueError, match="safe mode"):
        image_models.load_uploaded_model(_saved_bytes(model, tmp_path))


@pytest.mark.parametrize(
    ("model", "match"),
    [
        (lambda: _sequential(keras.layers.Flatten(), keras.layers.Dense(10), shape=(32, 32, 3)), "input"),
        (lambda: _sequential(keras.layers.Flatten(), keras.layers.Dense(10), shape=(28, 28)), "input"),
        (lambda: _sequential(keras.layers.Flatten(), keras.layers.Dense(5)), "output"),
    ],
)
def test_load_uploaded_model_rejects_wrong_shapes(tmp_path, model, match):
    with pytest.raises(ValueError, match=rf"Expected one {match} of shape"):
        image_models.load_uploaded_model(_saved_bytes(model(), tmp_path))


def test_load_uploaded_model_rejects_oversized_files(monkeypatch):
    monkeypatch.setattr(image_models, "MAX_UPLOAD_BYTES", 100)
    with pytest.raises(ValueError, match="at most"):
        image_models.load_uploaded_model(b"x" * 101)


def _image_trainer(sample, **kwargs) -> training.Trainer:
    x, y, _ = sample
    config = training.TrainConfig(optimizer="adam", learning_rate=1e-3, batch_size=32)
    model = build_image_model(ImageModelSpec("mlp", hidden=(32,)))
    return training.Trainer(model, x[:300], y[:300], x[300:500], y[300:500], config, **kwargs)


def test_trainer_on_images_with_a_train_eval_subset(mnist_sample):
    subset = _image_trainer(mnist_sample, train_eval_size=100)
    full = _image_trainer(mnist_sample)
    assert subset.run_epochs(3) == full.run_epochs(3) == 30
    assert subset.epoch == 3 and len(subset.history) == 4
    assert subset.history[-1].test_accuracy > subset.history[0].test_accuracy
    # Drawing the subset must not disturb the batch order: both trainers end with the same weights.
    assert all(
        np.array_equal(a.numpy(), b.numpy()) for a, b in zip(subset.model.weights, full.model.weights, strict=True)
    )
    assert [r.test_loss for r in subset.history] == [r.test_loss for r in full.history]
    # Accuracy over 100 images is a whole number of percent; over all 300 it is not, here.
    assert all(round(r.train_accuracy * 100, 6).is_integer() for r in subset.history)
    assert any(r.train_accuracy != s.train_accuracy for r, s in zip(full.history, subset.history, strict=True))
    assert subset.run(time_budget=0.05) >= 1


def test_train_eval_size_at_least_the_training_set_means_all(mnist_sample):
    assert _image_trainer(mnist_sample, train_eval_size=10_000).history == _image_trainer(mnist_sample).history


def test_train_eval_size_is_validated(mnist_sample):
    with pytest.raises(ValueError, match=r"Expected train_eval_size >= 1 or None\. Received: train_eval_size=0"):
        _image_trainer(mnist_sample, train_eval_size=0)


def test_evaluation_in_chunks_matches_one_pass(monkeypatch, mnist_sample):
    one_pass = _image_trainer(mnist_sample).history[0]
    monkeypatch.setattr(training, "EVAL_BATCH_SIZE", 64)
    chunked = _image_trainer(mnist_sample).history[0]
    assert chunked.test_accuracy == one_pass.test_accuracy
    assert chunked.test_loss == pytest.approx(one_pass.test_loss, rel=1e-5)


def test_one_image_trainer_recipe_for_the_bundled_models_the_page_and_the_benchmark():
    from playground.data import ImageSet

    rng = np.random.default_rng(0)
    x = rng.uniform(size=(64, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 10, size=64)
    images = ImageSet(x, y, x[:16], y[:16], tuple(str(k) for k in range(10)))
    trainer = image_models.image_trainer(images)
    assert trainer.config == image_models.TRAIN_CONFIG
    cnn = image_models.build_image_model(image_models.ImageModelSpec("cnn"))
    assert trainer.model.count_params() == cnn.count_params()
    twin = image_models.image_trainer(images)
    trainer.run_epochs(1)
    twin.run_epochs(1)
    np.testing.assert_array_equal(trainer.model.get_weights()[0], twin.model.get_weights()[0])  # seeded end to end
