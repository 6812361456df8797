"""GoogLeNet (Inception v1): Szegedy et al., "Going Deeper with Convolutions", CVPR 2015.

Inception modules run four branches in parallel and concatenate them along
channels: a 1x1 convolution; a 1x1 bottleneck then 3x3; a 1x1 bottleneck then
5x5; 3x3/1 max pooling then a 1x1 projection. The head is global average
pooling, dropout 0.4 and one linear layer.
"""

from .image import DEMO_INPUT, PAPER_CLASSES, PAPER_INPUT, ImageClassifier
from .zoo import register_model

# Table 1 of the paper: (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj) per module.
_PAPER_MODULES = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
_PAPER_POOL_AFTER = ("3b", "4e")  # 3x3/2 max pooling between the stages

# The demo: four modules at a quarter to a third of 3a/3b/4a/4b's widths.
_DEMO_MODULES = {
    "3a": (16, 24, 32, 4, 8, 8),
    "3b": (32, 32, 48, 8, 24, 16),
    "4a": (48, 24, 56, 4, 12, 16),
    "4b": (48, 32, 64, 8, 16, 16),
}
_DEMO_POOL_AFTER = ("3a",)  # one module at 14x14, three at 7x7: the 14x14 modules dominate CPU time


def _conv(x, filters, kernel, name, *, strides=1, batch_norm):
    from keras import layers

    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=not batch_norm, name=name)(x)
    if batch_norm:
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def inception_module(x, widths, name, *, batch_norm=False):
    """Inception v1 module (figure 2b): four parallel branches, concatenated."""
    from keras import layers

    n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj = widths
    branch1 = _conv(x, n1x1, 1, f"{name}_1x1", batch_norm=batch_norm)
    branch2 = _conv(x, n3x3_reduce, 1, f"{name}_3x3_reduce", batch_norm=batch_norm)
    branch2 = _conv(branch2, n3x3, 3, f"{name}_3x3", batch_norm=batch_norm)
    branch3 = _conv(x, n5x5_reduce, 1, f"{name}_5x5_reduce", batch_norm=batch_norm)
    branch3 = _conv(branch3, n5x5, 5, f"{name}_5x5", batch_norm=batch_norm)
    branch4 = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    branch4 = _conv(branch4, pool_proj, 1, f"{name}_pool_proj", batch_norm=batch_norm)
    return layers.Concatenate(name=f"{name}_concat")([branch1, branch2, branch3, branch4])


def _modules(x, modules, pool_after, batch_norm):
    from keras import layers

    for key, widths in modules.items():
        x = inception_module(x, widths, f"inception_{key}", batch_norm=batch_norm)
        if key in pool_after:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool_{key}")(x)
    return x


def _head(x, classes, dropout):
    from keras import layers

    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    return layers.Dense(classes, activation="softmax", name="predictions")(x)


def _check_overrides(overrides):
    if overrides:
        raise TypeError(f"googlenet: unknown override(s) {', '.join(sorted(overrides))}; GoogLeNet has none")


@register_model
class GoogLeNet(ImageClassifier):
    """GoogLeNet / Inception v1 (Szegedy et al., CVPR 2015).

    paper: Table 1 of the paper at 224x224x3, 1000 classes, convolutions with
    bias and ReLU, nine Inception modules (3a-5b) with real 5x5 branches,
    7x7 average pooling, dropout 0.4, one linear layer: 6,998,552 parameters.
    Left out: the two auxiliary classifiers (training-only, dropped at
    inference in the paper too) and local response normalization (no
    parameters, no TF.js layer). Note torchvision's `googlenet` differs: it
    adds BatchNorm, drops conv biases and uses 3x3 in the "5x5" branch
    (6,624,904 parameters).

    demo: 28x28x1 Fashion-MNIST; a 3x3 stem and 3x3/2 max pooling, one
    Inception module at 14x14, 3x3/2 max pooling, three modules at 7x7 (all
    four branches, 1x1 bottlenecks, real 5x5), and the paper's average-pool +
    dropout + linear head.
    BatchNormalization after each convolution (as in Inception v2 and
    torchvision) lets it train in a few CPU minutes.
    """

    name = "googlenet"
    display_name = "GoogLeNet"
    family = "googlenet"
    params_paper = 6_998_552
    params_demo = 97_578
    epochs = 8

    def build_paper(self, **overrides):
        import keras
        from keras import layers

        _check_overrides(overrides)
        inputs = keras.Input(PAPER_INPUT, name="image")
        x = _conv(inputs, 64, 7, "conv1", strides=2, batch_norm=False)
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
        x = _conv(x, 64, 1, "conv2_reduce", batch_norm=False)
        x = _conv(x, 192, 3, "conv2", batch_norm=False)
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
        x = _modules(x, _PAPER_MODULES, _PAPER_POOL_AFTER, batch_norm=False)
        return keras.Model(inputs, _head(x, PAPER_CLASSES, 0.4), name="googlenet")

    def build_demo(self, **overrides):
        import keras
        from keras import layers

        _check_overrides(overrides)
        inputs = keras.Input(DEMO_INPUT, name="image")
        x = layers.Rescaling(1 / 255, name="rescale")(inputs)
        x = _conv(x, 32, 3, "conv1", batch_norm=True)
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
        x = _modules(x, _DEMO_MODULES, _DEMO_POOL_AFTER, batch_norm=True)
        return keras.Model(inputs, _head(x, 10, 0.2), name="googlenet_demo")
