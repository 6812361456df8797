"""The one exception type the CLI turns into a readable paragraph.

Every failure a user can cause (bad file, unsupported layer, existing output
directory, parity mismatch) is raised as an `ExportError` whose message names
the problem and the fix. Anything else that escapes is a bug in webnets and
is reported as such, still without a traceback unless `--debug` is given.
"""


class ExportError(Exception):
    """A failure caused by the input or options, with a message saying what to do."""


class UnsupportedLayerError(ExportError):
    """A layer, or an option of a layer, that TF.js layers cannot represent."""

    def __init__(self, layer_name, class_name, problem, fix):
        self.layer_name = layer_name
        self.class_name = class_name
        super().__init__(
            f"Layer '{layer_name}' ({class_name}): {problem} TF.js cannot run this in the "
            f"layers format, so the export was stopped. Fix: {fix}"
        )


class ParityError(ExportError):
    """TF.js did not reproduce Keras within the tolerance."""
