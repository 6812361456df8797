"""SqueezeNet: Iandola et al., "SqueezeNet: AlexNet-level accuracy with 50x fewer
parameters and <0.5MB model size", arXiv:1602.07360, 2016.

Fire modules squeeze the channels with 1x1 convolutions, then expand them with
1x1 and 3x3 convolutions side by side (concatenated). No fully connected
layer: a 1x1 convolution to the classes, ReLU and global average pooling.
Version 1.1 (from the authors' repository) starts with a 3x3/2 convolution of
64 filters and pools earlier, for 2.4x less computation at the same accuracy.
"""

from .image import DEMO_INPUT, PAPER_CLASSES, PAPER_INPUT, ImageClassifier
from .zoo import register_model

# ("fire", squeeze, expand1x1, expand3x3) or ("pool",), after the first convolution and its pooling.
_FIRES_1_0 = [("fire", 16, 64, 64), ("fire", 16, 64, 64), ("fire", 32, 128, 128), ("pool",),
              ("fire", 32, 128, 128), ("fire", 48, 192, 192), ("fire", 48, 192, 192), ("fire", 64, 256, 256),
              ("pool",), ("fire", 64, 256, 256)]
_FIRES_1_1 = [("fire", 16, 64, 64), ("fire", 16, 64, 64), ("pool",), ("fire", 32, 128, 128),
              ("fire", 32, 128, 128), ("pool",), ("fire", 48, 192, 192), ("fire", 48, 192, 192),
              ("fire", 64, 256, 256), ("fire", 64, 256, 256)]
VERSIONS = {"1.0": ((96, 7), _FIRES_1_0), "1.1": ((64, 3), _FIRES_1_1)}  # (first conv filters, kernel)

# The demo: version 1.1's layout at about a quarter of the widths, one pooling fewer (28x28 input)
# and one Fire module at 14x14 instead of two (those dominate CPU time).
_DEMO_FIRES = [("fire", 16, 32, 32), ("pool",), ("fire", 24, 64, 64), ("fire", 24, 64, 64),
               ("fire", 32, 96, 96), ("fire", 32, 96, 96)]


def _ceil_pool(x, name):
    """3x3/2 max pooling with PyTorch's ceil_mode=True, as the reference models use: for an even
    size that is Keras' "same" (extra window at the end only), for an odd size plain "valid"."""
    from keras import layers

    padding = "same" if x.shape[1] % 2 == 0 else "valid"
    return layers.MaxPooling2D(3, strides=2, padding=padding, name=name)(x)


def fire_module(x, squeeze, expand1x1, expand3x3, name, *, batch_norm=False):
    """Fire module: 1x1 squeeze + ReLU, then 1x1 and 3x3 expand concatenated (+ ReLU).
    batch_norm: one BatchNormalization over the concatenated expand outputs, before the ReLU
    (the squeeze keeps its bias: normalizing it too cost CPU time and gained nothing)."""
    from keras import layers

    s = layers.Conv2D(squeeze, 1, name=f"{name}_squeeze")(x)
    s = layers.ReLU(name=f"{name}_squeeze_relu")(s)
    e1 = layers.Conv2D(expand1x1, 1, use_bias=not batch_norm, name=f"{name}_expand1x1")(s)
    e3 = layers.Conv2D(expand3x3, 3, padding="same", use_bias=not batch_norm, name=f"{name}_expand3x3")(s)
    x = layers.Concatenate(name=f"{name}_concat")([e1, e3])
    if batch_norm:
        x = layers.BatchNormalization(name=f"{name}_expand_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def squeezenet(input_shape, classes, first, fires, *, first_stride=2, first_pool=True, rescale=False,
               batch_norm=False, dropout=0.5, name="squeezenet"):
    import keras
    from keras import layers

    filters, kernel = first
    inputs = keras.Input(input_shape, name="image")
    x = layers.Rescaling(1 / 255, name="rescale")(inputs) if rescale else inputs
    x = layers.Conv2D(filters, kernel, strides=first_stride, padding="valid" if first_stride > 1 else "same",
                      use_bias=not batch_norm, name="conv1")(x)
    if batch_norm:
        x = layers.BatchNormalization(name="conv1_bn")(x)
    x = layers.ReLU(name="conv1_relu")(x)
    if first_pool:
        x = _ceil_pool(x, "pool1")
    fire_index, pool_index = 2, 2
    for step in fires:
        if step[0] == "pool":
            x = _ceil_pool(x, f"pool{pool_index}")
            pool_index += 1
        else:
            x = fire_module(x, *step[1:], f"fire{fire_index}", batch_norm=batch_norm)
            fire_index += 1
    x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.Conv2D(classes, 1, name="conv10")(x)
    x = layers.ReLU(name="conv10_relu")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Softmax(name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


@register_model
class SqueezeNet(ImageClassifier):
    """SqueezeNet (Iandola et al., 2016).

    paper: build("paper", version="1.0"|"1.1"), default "1.0", at 224x224x3,
    1000 classes, as in the authors' Caffe models and torchvision
    (convolutions with bias, ceil-mode pooling, dropout 0.5 before conv10):
    1,248,424 parameters (1.0) and 1,235,496 (1.1), torchvision's counts.

    demo: 28x28x1 Fashion-MNIST; a 3x3 stem, 3x3/2 max pooling, one Fire
    module at 14x14, 3x3/2 max pooling, four Fire modules at 7x7, then the
    paper's classifier (dropout, 1x1 convolution to 10 classes, ReLU, global
    average pooling). BatchNormalization on the stem and on each Fire
    module's expand output (not in the paper) lets it train in a few CPU
    minutes.
    """

    name = "squeezenet"
    display_name = "SqueezeNet"
    family = "squeezenet"
    params_paper = 1_248_424
    params_paper_v1_1 = 1_235_496
    params_demo = 117_930
    epochs = 9

    def build_paper(self, version="1.0", **overrides):
        if overrides:
            raise TypeError(f"squeezenet: unknown override(s) {', '.join(sorted(overrides))}; "
                            "use version='1.0'|'1.1'")
        if version not in VERSIONS:
            raise ValueError(f"squeezenet: version={version!r} is unknown. Fix: use '1.0' or '1.1'.")
        first, fires = VERSIONS[version]
        return squeezenet(PAPER_INPUT, PAPER_CLASSES, first, fires,
                          name=f"squeezenet{version.replace('.', '_')}")

    def build_demo(self, **overrides):
        if overrides:
            raise TypeError(f"squeezenet: the demo takes no overrides (got {', '.join(sorted(overrides))})")
        return squeezenet(DEMO_INPUT, 10, (32, 3), _DEMO_FIRES, first_stride=1, rescale=True, batch_norm=True,
                          dropout=0.2, name="squeezenet_demo")
