"""AlexNet: Krizhevsky, Sutskever and Hinton, "ImageNet Classification with Deep
Convolutional Neural Networks", NeurIPS 2012.

Five convolutions (11x11/4, 5x5, 3x3, 3x3, 3x3) with overlapping 3x3/2 max
pooling after the first, second and fifth, then a large fully connected head
(4096-4096-1000) with dropout 0.5.
"""

from .image import DEMO_INPUT, PAPER_CLASSES, ImageClassifier
from .zoo import register_model

_PAPER_INPUT = (227, 227, 3)  # the paper says 224; 227 is what makes 11x11/4 give 55x55 without padding


def _check_overrides(name, overrides):
    if overrides:
        raise TypeError(f"{name}: unknown override(s) {', '.join(sorted(overrides))}; AlexNet has none")


def _alexnet(input_shape, classes, convs, dense, *, rescale=False, first_stride=4, first_padding="valid",
             batch_norm=False, dropout=0.5, name="alexnet"):
    """The AlexNet stack. `convs`: five (filters, kernel) pairs; `dense`: the two hidden widths."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape, name="image")
    x = layers.Rescaling(1 / 255, name="rescale")(inputs) if rescale else inputs
    for index, (filters, kernel) in enumerate(convs, start=1):
        stride, padding = (first_stride, first_padding) if index == 1 else (1, "same")
        x = layers.Conv2D(filters, kernel, strides=stride, padding=padding, use_bias=not batch_norm,
                          name=f"conv{index}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"conv{index}_bn")(x)
        x = layers.ReLU(name=f"conv{index}_relu")(x)
        if index in (1, 2, 5):  # overlapping pooling (section 3.4)
            x = layers.MaxPooling2D(3, strides=2, name=f"pool{index}")(x)
    x = layers.Flatten(name="flatten")(x)
    for index, units in enumerate(dense, start=6):
        x = layers.Dropout(dropout, name=f"drop{index}")(x)
        x = layers.Dense(units, activation="relu", name=f"fc{index}")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


@register_model
class AlexNet(ImageClassifier):
    """AlexNet (Krizhevsky et al., NeurIPS 2012).

    paper: the single-tower network, 227x227x3 -> conv 96-256-384-384-256 ->
    fc 4096-4096-1000 = 62,378,344 parameters. The original was split over two
    GPUs: conv2, conv4 and conv5 were grouped convolutions (groups=2), which
    brings it to 60,965,224. TF.js has no grouped convolution (only
    groups == channels, i.e. depthwise), so the zoo builds the single tower.
    Local response normalization (after conv1 and conv2 in the paper) is left
    out: it has no parameters, so the count is unaffected; TF.js has no layer
    for it (only a tf.localResponseNormalization op, which layers models
    cannot reference); and Simonyan & Zisserman (VGG, ICLR 2015) found it
    does not improve ImageNet accuracy.

    demo: the same stack scaled to 28x28x1 Fashion-MNIST: five 3x3/5x5
    convolutions, overlapping 3x3/2 max pooling after conv 1, 2 and 5, and the
    big dropout-regularised dense head (512-512-10). BatchNormalization after
    each convolution (not in the paper) lets it train in a few CPU minutes.
    """

    name = "alexnet"
    display_name = "AlexNet"
    family = "alexnet"
    params_paper = 62_378_344
    params_demo = 613_546
    epochs = 10

    def build_paper(self, **overrides):
        _check_overrides("alexnet", overrides)
        return _alexnet(_PAPER_INPUT, PAPER_CLASSES, [(96, 11), (256, 5), (384, 3), (384, 3), (256, 3)],
                        [4096, 4096])

    def build_demo(self, **overrides):
        _check_overrides("alexnet", overrides)
        return _alexnet(DEMO_INPUT, 10, [(32, 5), (64, 3), (96, 3), (96, 3), (64, 3)], [512, 512],
                        rescale=True, first_stride=1, first_padding="same", batch_norm=True,
                        name="alexnet_demo")
