"""ResNet: He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition", CVPR 2016.

Residual blocks add their input (identity shortcut) or a 1x1 strided
projection of it (when the shape changes, option B of the paper) to the output
of a small stack of convolutions: the *basic* block (3x3, 3x3) for depths 18
and 34, the *bottleneck* block (1x1 reduce, 3x3, 1x1 expand x4) for 50, 101
and 152. Convolutions carry no bias; each is followed by BatchNormalization.
"""

from .image import DEMO_INPUT, PAPER_CLASSES, PAPER_INPUT, ImageClassifier
from .zoo import register_model

# Table 1 of the paper: block kind and blocks per stage (stages of 64, 128, 256, 512 filters).
DEPTHS = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
_APPLICATIONS = {50: "ResNet50", 101: "ResNet101", 152: "ResNet152"}  # keras.applications with ImageNet weights
_BN_EPSILON = 1e-5  # PyTorch's and the original Caffe models'; Keras' default is 1e-3


def _conv_bn(x, filters, kernel, name, *, strides=1, relu=True):
    """Conv (no bias) + BN (+ ReLU). Strided convolutions pad (kernel-1)/2 on every side, as
    torchvision does, rather than Keras' asymmetric "same", so the geometry matches PyTorch weights."""
    from keras import layers

    if strides > 1 and kernel > 1:
        x = layers.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x)
        padding = "valid"
    else:
        padding = "same"
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False, name=name)(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


def _shortcut(x, filters, strides, name):
    """Identity when the shape is kept, else a strided 1x1 projection (option B)."""
    if strides == 1 and x.shape[-1] == filters:
        return x
    return _conv_bn(x, filters, 1, f"{name}_proj", strides=strides, relu=False)


def basic_block(x, filters, strides, name):
    """Two 3x3 convolutions; output has `filters` channels."""
    from keras import layers

    shortcut = _shortcut(x, filters, strides, name)
    y = _conv_bn(x, filters, 3, f"{name}_conv1", strides=strides)
    y = _conv_bn(y, filters, 3, f"{name}_conv2", relu=False)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(y)


def bottleneck_block(x, filters, strides, name):
    """1x1 reduce to `filters`, 3x3 (strided, "ResNet v1.5" as in torchvision; the paper's
    Caffe models stride the first 1x1 instead, same parameter count), 1x1 expand to 4*filters."""
    from keras import layers

    shortcut = _shortcut(x, 4 * filters, strides, name)
    y = _conv_bn(x, filters, 1, f"{name}_conv1")
    y = _conv_bn(y, filters, 3, f"{name}_conv2", strides=strides)
    y = _conv_bn(y, 4 * filters, 1, f"{name}_conv3", relu=False)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(y)


_BLOCKS = {"basic": basic_block, "bottleneck": bottleneck_block}


def _stages(x, kind, blocks, widths, first_stride=1):
    block = _BLOCKS[kind]
    for stage, (count, filters) in enumerate(zip(blocks, widths), start=1):
        for index in range(count):
            strides = (first_stride if stage == 1 else 2) if index == 0 else 1
            x = block(x, filters, strides, f"stage{stage}_block{index + 1}")
    return x


def _check_depth(depth):
    if depth not in DEPTHS:
        raise ValueError(f"resnet: depth={depth!r} is not one of the paper's depths. Fix: use one of "
                         f"{', '.join(map(str, DEPTHS))}.")


def resnet(depth, input_shape=PAPER_INPUT, classes=PAPER_CLASSES):
    """ResNet-`depth` as in the paper's Table 1 (and torchvision): 7x7/2 stem, 3x3/2 max pooling,
    four stages, global average pooling, one fully connected layer."""
    import keras
    from keras import layers

    _check_depth(depth)
    kind, blocks = DEPTHS[depth]
    inputs = keras.Input(input_shape, name="image")
    x = _conv_bn(inputs, 64, 7, "conv1", strides=2)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    x = _stages(x, kind, blocks, (64, 128, 256, 512))
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"resnet{depth}")


def _imagenet_resnet(depth):
    """keras.applications' ResNet with its ImageNet weights (downloaded on first use)."""
    import keras

    _check_depth(depth)
    if depth not in _APPLICATIONS:
        raise ValueError(f"resnet: ImageNet weights are available for depths {', '.join(map(str, _APPLICATIONS))} "
                         f"(through keras.applications), not {depth}. Fix: build('paper', depth=50, "
                         "weights='imagenet'), or leave weights out for a randomly initialised ResNet-"
                         f"{depth}.")
    application = getattr(keras.applications, _APPLICATIONS[depth])
    try:
        return application(weights="imagenet")
    except Exception as error:  # keras.utils.get_file raises plain Exception on a failed download
        reason = " ".join(str(error).split())
        raise RuntimeError(
            f"resnet: could not get the ImageNet weights of keras.applications.{_APPLICATIONS[depth]} "
            f"({type(error).__name__}: {reason}). Keras downloads them once from storage.googleapis.com "
            "into ~/.keras/models/ (or $KERAS_HOME/models/), and this machine could not reach it. "
            "Fix: run the same build once on a machine with internet and copy ~/.keras/models/ here, or "
            "leave weights out (build('paper', depth=...)) for a randomly initialised network.") from None


@register_model
class ResNet(ImageClassifier):
    """ResNet (He et al., CVPR 2016).

    paper: build("paper", depth=18|34|50|101|152), default 152, at 224x224x3,
    1000 classes; the same definition as torchvision (no conv bias,
    BatchNorm, projection shortcuts only where the shape changes, stride on
    the bottleneck's 3x3). Keras counts BatchNorm's moving mean and variance
    as parameters (non-trainable) and PyTorch keeps them as buffers, so
    count_params() exceeds torchvision's count by 2 x (BatchNorm channels);
    the trainable counts are torchvision's exactly: 11,689,512 / 21,797,672 /
    25,557,032 / 44,549,160 / 60,192,808.
    build("paper", depth=50|101|152, weights="imagenet") returns
    keras.applications' ResNet with ImageNet weights instead (downloaded on
    first use; its inputs are caffe-preprocessed BGR, see
    keras.applications.resnet.preprocess_input).

    demo: 28x28x1 Fashion-MNIST; a 3x3 stem and three stages of basic
    residual blocks (identity and projection shortcuts), global average
    pooling and a softmax layer.
    """

    name = "resnet"
    display_name = "ResNet"
    family = "resnet"
    params_paper = 60_344_232
    params_demo = 309_418
    epochs = 10
    demo_widths = (32, 64, 128)
    demo_blocks = (1, 1, 1)

    def build_paper(self, depth=152, weights=None, **overrides):
        if overrides:
            raise TypeError(f"resnet: unknown override(s) {', '.join(sorted(overrides))}; "
                            "use depth=18|34|50|101|152 and weights=None|'imagenet'")
        if weights not in (None, "imagenet"):
            raise ValueError(f"resnet: weights={weights!r} is not supported. Fix: use weights=None (random "
                             "initialisation) or weights='imagenet' (keras.applications, needs internet once).")
        if weights == "imagenet":
            return _imagenet_resnet(depth)
        return resnet(depth)

    def build_demo(self, **overrides):
        import keras
        from keras import layers

        if overrides:
            raise TypeError(f"resnet: the demo takes no overrides (got {', '.join(sorted(overrides))})")
        inputs = keras.Input(DEMO_INPUT, name="image")
        x = layers.Rescaling(1 / 255, name="rescale")(inputs)
        x = _conv_bn(x, self.demo_widths[0], 3, "conv1")
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)  # the paper's stem pooling: 14x14
        x = _stages(x, "basic", self.demo_blocks, self.demo_widths)
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
        return keras.Model(inputs, outputs, name="resnet_demo")
