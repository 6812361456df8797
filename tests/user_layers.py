"""A user's own layers, written the way people write them in 2026: keras.ops, add_weight, built-in sublayers.

Registered with `keras.saving.register_keras_serializable`, so a model saved with them loads again
once this module is imported (`webnets convert --import tests.user_layers ...`). The tracing tests
(tests/test_tracing.py) export models built from them and check parity and training in TF.js.
"""

import keras
from keras import layers, ops

# The package a class is registered under is what a saved file records; naming it after this module
# lets webnets tell a user exactly which module to --import when it was not imported.
PACKAGE = __name__


@keras.saving.register_keras_serializable(package=PACKAGE)
class RMSNorm(layers.Layer):
    """x / sqrt(mean(x^2) + eps) * scale, over the last axis (Llama's norm)."""

    def __init__(self, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, x):
        variance = ops.mean(ops.square(x), axis=-1, keepdims=True)
        return x * ops.rsqrt(variance + self.epsilon) * self.scale

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package=PACKAGE)
class SwiGLU(layers.Layer):
    """silu(x W1) * (x W3), then W2: the MLP of Llama and Gemma, kernels made with add_weight."""

    def __init__(self, hidden, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden

    def build(self, input_shape):
        width = input_shape[-1]
        self.w1 = self.add_weight(shape=(width, self.hidden), initializer="glorot_uniform", name="w1")
        self.w3 = self.add_weight(shape=(width, self.hidden), initializer="glorot_uniform", name="w3")
        self.w2 = self.add_weight(shape=(self.hidden, width), initializer="glorot_uniform", name="w2")

    def call(self, x):
        return ops.matmul(ops.silu(ops.matmul(x, self.w1)) * ops.matmul(x, self.w3), self.w2)

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden}


@keras.saving.register_keras_serializable(package=PACKAGE)
class RotaryEmbedding(layers.Layer):
    """Rotary position embedding of (batch, length, heads, head_dim), halves rotated (GPT-NeoX style)."""

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = max_wavelength

    def call(self, x):
        length, dim = x.shape[1], x.shape[-1]
        inverse_frequency = 1.0 / (self.max_wavelength ** (ops.arange(0, dim, 2, dtype="float32") / dim))
        angles = ops.expand_dims(ops.arange(length, dtype="float32"), 1) * ops.expand_dims(inverse_frequency, 0)
        angles = ops.concatenate([angles, angles], axis=-1)[None, :, None, :]
        first, second = x[..., : dim // 2], x[..., dim // 2:]
        rotated = ops.concatenate([-second, first], axis=-1)
        return x * ops.cos(angles) + rotated * ops.sin(angles)

    def get_config(self):
        return {**super().get_config(), "max_wavelength": self.max_wavelength}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PatchEmbedding(layers.Layer):
    """ViT's patches: a strided Conv2D sublayer, flattened to tokens, plus a learned position table."""

    def __init__(self, patch, width, **kwargs):
        super().__init__(**kwargs)
        self.patch, self.width = patch, width
        self.projection = layers.Conv2D(width, patch, strides=patch, name=f"{self.name}_projection")

    def build(self, input_shape):
        self.projection.build(input_shape)
        tokens = (input_shape[1] // self.patch) * (input_shape[2] // self.patch)
        self.position = self.add_weight(shape=(tokens, self.width), initializer="random_normal", name="position")

    def call(self, images):
        patches = self.projection(images)
        tokens = ops.reshape(patches, (-1, patches.shape[1] * patches.shape[2], self.width))
        return tokens + self.position

    def get_config(self):
        return {**super().get_config(), "patch": self.patch, "width": self.width}


@keras.saving.register_keras_serializable(package=PACKAGE)
class StochasticDepthResidual(layers.Layer):
    """x + f(x), where training drops f(x) per sample (timm's DropPath); at inference the plain residual."""

    def __init__(self, width, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.inner = layers.Dense(width, activation="gelu", name=f"{self.name}_inner")
        self.seed = keras.random.SeedGenerator(1)

    def call(self, x, training=False):
        y = self.inner(x)
        if training:
            keep = keras.random.uniform((ops.shape(x)[0], 1, 1), seed=self.seed) >= self.rate
            y = ops.where(keep, y / (1.0 - self.rate), 0.0)
        return x + y

    def get_config(self):
        return {**super().get_config(), "width": self.inner.units, "rate": self.rate}


@keras.saving.register_keras_serializable(package=PACKAGE)
class BranchesOnValues(layers.Layer):
    """Not traceable: Python control flow on a tensor's value."""

    def call(self, x):
        if ops.mean(x) > 0:
            return x * 2.0
        return x

    def compute_output_shape(self, input_shape):  # lets Keras build the model without running call()
        return input_shape


@keras.saving.register_keras_serializable(package=PACKAGE)
class UsesNumpy(layers.Layer):
    """Not traceable: converts a tensor to numpy inside call()."""

    def call(self, x):
        return x + float(ops.convert_to_numpy(ops.max(x)))

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package=PACKAGE)
class UsesCumsum(layers.Layer):
    """Traceable, but cumsum has no webnets operation: refused by op name."""

    def call(self, x):
        return ops.cumsum(x, axis=1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class WeightsInAList(layers.Layer):
    """Not traceable: its variables live in a list, where tracing cannot follow them into weights."""

    def build(self, input_shape):
        self.scales = [self.add_weight(shape=(input_shape[-1],), initializer="ones", name=f"s{i}") for i in range(2)]

    def call(self, x):
        return x * self.scales[0] * self.scales[1]
