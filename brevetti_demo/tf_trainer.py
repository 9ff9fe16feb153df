"""Training the demo CNN in TensorFlow/Keras; mirrored function by function in ``brevetti_demo.torch_trainer``.

A custom loop rather than ``model.fit`` so that each batch's fingerprint is taken from the very
tensors handed to the compiled train step, exactly as in the PyTorch loop; the epoch's logs still
go through Keras' callback machinery (``hooks.RemoteMonitorCallback``).
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras
import numpy as np
import tensorflow as tf

from brevetti_core.batching import fingerprint
from brevetti_core.progress import progress
from brevetti_tf.generator import DataGenerator
from brevetti_tf.hooks import EpochMonitor, RemoteMonitorCallback
from brevetti_tf.pipeline import to_numpy

from .model import CnnSpec, training_length, write_spec

log = logging.getLogger(__name__)

FRAMEWORK = "tf"
MODEL_FILE = "model.keras"
ADAM_EPSILON = 1e-7


def configure_threads(threads: int) -> int:
    """Use `threads` CPU threads for tensor math (0: one per core); returns the count in use.

    TensorFlow fixes its thread pools when its runtime starts (at the first op): call this before
    building datasets or models. Later calls with another count keep the running pools and log why.
    """
    count = threads or os.cpu_count() or 1
    if tf.config.threading.get_intra_op_parallelism_threads() != count:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(count)
            tf.config.threading.set_inter_op_parallelism_threads(count)
        except RuntimeError as error:
            log.warning("TensorFlow already started with %s threads; keeping them (%s)",
                        tf.config.threading.get_intra_op_parallelism_threads() or "default", error)
    return tf.config.threading.get_intra_op_parallelism_threads() or count


def build_model(spec: CnnSpec, weights: dict[str, np.ndarray]) -> keras.Sequential:
    """The CNN of `spec` as a keras.Sequential holding `weights` (Keras layout, used as they are)."""
    layers: list[keras.layers.Layer] = [keras.Input((*spec.image_size, spec.channels))]
    loaded = []
    for layer in spec.layers():
        activation = "relu" if layer.relu else None
        if layer.kind == "conv":
            k, _, _, outputs = layer.kernel
            module = keras.layers.Conv2D(outputs, k, padding="same", activation=activation, name=layer.name)
            loaded.append(module)
        elif layer.kind == "dense":
            module = keras.layers.Dense(layer.kernel[-1], activation=activation, name=layer.name)
            loaded.append(module)
        elif layer.kind == "maxpool":
            module = keras.layers.MaxPooling2D(2, name=layer.name)
        else:
            module = keras.layers.GlobalAveragePooling2D(name=layer.name)
        layers.append(module)
    model = keras.Sequential(layers, name="vials_cnn")
    for module in loaded:
        kernel, bias = weights[f"{module.name}/kernel"], weights[f"{module.name}/bias"]
        expected = tuple(module.kernel.shape)
        if kernel.shape != expected:
            raise ValueError(f"weights {module.name}/kernel have shape {kernel.shape}, "
                             f"the model's layer needs {expected}")
        module.set_weights([kernel, bias])
    return model


def model_weights(model: keras.Sequential) -> dict[str, np.ndarray]:
    """The model's weights in Keras layout, named as in `initial_weights` (conv0/kernel, ..., logits/bias)."""
    weights = {}
    for layer in model.layers:
        if layer.weights:
            kernel, bias = layer.get_weights()
            weights[f"{layer.name}/kernel"], weights[f"{layer.name}/bias"] = kernel, bias
    return weights


def predict(model: keras.Sequential, images: np.ndarray) -> np.ndarray:
    """Logits for a batch of NHWC float32 images."""
    return model(tf.convert_to_tensor(images), training=False).numpy()


def train_classifier(model: keras.Sequential, train: DataGenerator, devel: DataGenerator | None, *,
                     learning_rate: float, monitor: EpochMonitor | None = None,
                     on_batch: Callable[[str, int, str], None] | None = None) -> dict[str, float]:
    """Train for the epochs of `train`'s plan (built with ``repeat=epochs``), evaluating on `devel` after each.

    The learning rate decays from `learning_rate` to 0 along a cosine over the run. Reports each
    epoch's logs (train_loss, train_accuracy, devel_loss, devel_accuracy) to `monitor`, calls
    ``on_batch(purpose, epoch, fingerprint)`` for every batch the model sees, and returns the last
    epoch's logs.
    """
    epochs, steps = training_length(train)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=epochs * steps)
    optimiser = keras.optimizers.Adam(learning_rate=schedule, epsilon=ADAM_EPSILON)
    loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True)
    loss_mean, accuracy = keras.metrics.Mean(), keras.metrics.CategoricalAccuracy()
    callbacks = keras.callbacks.CallbackList([RemoteMonitorCallback(monitor)] if monitor else [], model=model)
    signature = _signature(model)

    @tf.function(input_signature=signature, reduce_retracing=True)
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            logits = model(images, training=True)
            loss = loss_fn(labels, logits)
        optimiser.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        count = tf.shape(labels)[0]
        loss_mean.update_state(loss, sample_weight=count)
        accuracy.update_state(labels, logits)

    logs: dict[str, float] = {}
    with progress(total=epochs * steps, desc=f"{FRAMEWORK} training", unit="batch", leave=False) as bar:
        for index, batch in enumerate(train.get_dataset()):
            epoch = index // steps
            if on_batch is not None:
                on_batch("train", epoch, fingerprint(to_numpy(batch)))
            train_step(*batch)
            bar.update()
            if (index + 1) % steps == 0:
                logs = {"train_loss": float(loss_mean.result()), "train_accuracy": float(accuracy.result())}
                logs.update(evaluate(model, devel, epoch, on_batch) if devel else {})
                callbacks.on_epoch_end(epoch, logs)
                loss_mean.reset_state()
                accuracy.reset_state()
                bar.set_postfix({name: round(value, 3) for name, value in logs.items()})
    return logs


def evaluate(model: keras.Sequential, devel: DataGenerator, epoch: int = 0,
             on_batch: Callable[[str, int, str], None] | None = None) -> dict[str, float]:
    """{"devel_loss", "devel_accuracy"} of `model` over one pass of `devel`."""
    loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True)
    loss_mean, accuracy = keras.metrics.Mean(), keras.metrics.CategoricalAccuracy()
    for batch in devel.get_dataset():
        images, labels = batch
        if on_batch is not None:
            on_batch("devel", epoch, fingerprint(to_numpy(batch)))
        logits = model(images, training=False)
        loss_mean.update_state(loss_fn(labels, logits), sample_weight=tf.shape(labels)[0])
        accuracy.update_state(labels, logits)
    return {"devel_loss": float(loss_mean.result()), "devel_accuracy": float(accuracy.result())}


def classify(model: keras.Sequential, generator: DataGenerator) -> tuple[np.ndarray, np.ndarray]:
    """(true, predicted) class indices of every sample of one pass of `generator`, in its order."""
    true, predicted = [], []
    for images, labels in generator.get_dataset():
        true.append(np.argmax(labels.numpy(), axis=1))
        predicted.append(np.argmax(model(images, training=False).numpy(), axis=1))
    return np.concatenate(true), np.concatenate(predicted)


def _signature(model: keras.Sequential) -> list[tf.TensorSpec]:
    height, width, channels = model.input_shape[1:]
    classes = model.output_shape[-1]
    return [tf.TensorSpec((None, height, width, channels), tf.float32), tf.TensorSpec((None, classes), tf.float32)]


def export_model(model: keras.Sequential, spec: CnnSpec, folder: str, metadata: dict | None = None) -> str:
    """Write `model` as a .keras file and spec.json (+ `metadata`); returns the model file."""
    path = os.path.join(folder, MODEL_FILE)
    model.save(path)
    write_spec(spec, folder, FRAMEWORK, MODEL_FILE, "NHWC", metadata)
    log.info("Exported the model to %s", path)
    return path
