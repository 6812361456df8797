"""The one quantization type: a request (what was asked) resolved against a model's weights into
an immutable result (what each weight is written as).

    QuantizeRequest.parse(["float16", "uint8=*/kernel"])      fixed dtypes, by glob pattern
    QuantizeRequest.parse(["auto"], max_accuracy_drop=0.5,    auto: the cheapest map within the
                          validation_file="val.npz")          accuracy budget, measured
    request.resolve(model, weights) -> Quantization           patterns checked here, once

Parsing is cheap and imports nothing heavy, so the CLI refuses a bad option
before TensorFlow loads. The request is frozen: binding validation data gives a
new request (`with_validation`), and `resolve` returns a new `Quantization`
carrying the exact per-weight map the shard writer takes, the label meta.json
records, and (auto) the measurement record and log.
"""

import fnmatch
import glob
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

from ..errors import ExportError
from .validation import VALIDATION_FORMAT, Validation

DTYPES = ("float16", "uint8", "uint16")
AUTO = "auto"
DEFAULT_MAX_DROP = 1.0  # percentage points (auto.DEFAULT_MAX_DROP, without importing numpy's side of it)


@dataclass(frozen=True)
class Rule:
    """One --quantize option: `dtype` for the weights matching `patterns` (None: every weight)."""

    dtype: str
    patterns: Optional[tuple] = None

    def __str__(self):
        return self.dtype if self.patterns is None else f"{self.dtype}={','.join(self.patterns)}"


@dataclass(frozen=True)
class AutoSettings:
    """--quantize auto: the allowed accuracy drop and the labelled data it is measured on."""

    max_drop: float = DEFAULT_MAX_DROP
    validation_file: Optional[str] = None
    validation: Optional[Validation] = None


@dataclass(frozen=True)
class Quantization:
    """A request resolved against one model's written weights (immutable).

    dtypes: exact tfjs weight name -> quantized dtype (weights written as float32 are absent).
    label: what meta.json and the parity report call it ("none", "uint8", "float16 uint8=*/kernel", "auto").
    record: --quantize auto's measurements (meta.json "quantization_auto"), else None.
    log: the lines reported while resolving.
    """

    label: str = "none"
    dtypes: dict = field(default_factory=dict)
    record: Optional[dict] = None
    log: tuple = ()

    @property
    def quantized(self) -> bool:
        return bool(self.dtypes)

    @property
    def tfjs_map(self) -> Optional[dict]:
        """The official writer's quantization_dtype_map: {dtype: [exact names, glob-escaped]}."""
        grouped = {}
        for name, dtype in self.dtypes.items():
            grouped.setdefault(dtype, []).append(glob.escape(name))
        return grouped or None


NONE = Quantization()


@dataclass(frozen=True)
class QuantizeRequest:
    """What the options ask for: nothing, fixed `rules`, or `auto` (see the module docstring)."""

    rules: tuple = ()
    auto: Optional[AutoSettings] = None

    # ----------------------------------------------------------------------------- building

    @classmethod
    def parse(cls, options: Union[None, str, Sequence[str]], *, max_accuracy_drop: Optional[float] = None,
              validation_file: Optional[str] = None) -> "QuantizeRequest":
        """--quantize values (DTYPE, DTYPE=PATTERN[,PATTERN...] or auto) and auto's options -> a request."""
        options = [options] if isinstance(options, str) else list(options or [])
        if AUTO in options:
            return cls._parse_auto(options, max_accuracy_drop, validation_file)
        if max_accuracy_drop is not None:
            raise ExportError(f"--max-accuracy-drop {max_accuracy_drop:g} only applies to --quantize auto, which "
                              "chooses each weight's dtype by measured accuracy. Fix: add --quantize auto, or leave "
                              "the option out.")
        if validation_file:
            raise ExportError(f"--validation-data {validation_file} is only read by --quantize auto. Fix: add "
                              "--quantize auto, or leave the option out.")
        rules = []
        for option in options:
            dtype, _, patterns = option.partition("=")
            if dtype not in DTYPES:
                raise ExportError(f"--quantize {option!r}: unknown quantization '{dtype}'. Fix: use one of "
                                  f"{', '.join(DTYPES)} or auto, optionally as DTYPE=PATTERN to quantize only "
                                  "weights whose name matches a glob pattern (e.g. uint8='conv*/kernel').")
            if not patterns:
                if any(rule.patterns is None for rule in rules):
                    raise ExportError(f"--quantize {option!r}: only one quantization may apply to all weights. "
                                      "Fix: give the others a pattern, e.g. --quantize float16 "
                                      "--quantize uint8='*/kernel'.")
                rules.append(Rule(dtype))
            else:
                rules.append(Rule(dtype, tuple(p for p in patterns.split(",") if p)))
        return cls(rules=tuple(rules))

    @classmethod
    def _parse_auto(cls, options, max_drop, validation_file):
        if len(options) > 1:
            others = " ".join(f"--quantize {o}" for o in options if o != AUTO)
            raise ExportError(f"--quantize auto chooses every weight's dtype itself and cannot be combined with "
                              f"{others}. Fix: give either --quantize auto or explicit dtypes/patterns, not both.")
        max_drop = DEFAULT_MAX_DROP if max_drop is None else float(max_drop)
        if not math.isfinite(max_drop) or max_drop < 0:
            raise ExportError(f"--max-accuracy-drop {max_drop:g}: the allowed accuracy loss must be a number of "
                              "percentage points >= 0 (0 keeps the validation accuracy of float32, 1.0 is the "
                              "default). Fix: pass e.g. --max-accuracy-drop 0.5.")
        if validation_file and not Path(validation_file).is_file():
            raise ExportError(f"--validation-data {validation_file}: no such file. Fix: pass {VALIDATION_FORMAT}.")
        return cls(auto=AutoSettings(max_drop=max_drop, validation_file=validation_file))

    @classmethod
    def automatic(cls, max_drop: float = DEFAULT_MAX_DROP, validation: Optional[Validation] = None) -> "QuantizeRequest":
        """--quantize auto from Python, with its validation data already at hand."""
        return cls._parse_auto([AUTO], max_drop, None).with_validation(validation)

    @classmethod
    def coerce(cls, value) -> "QuantizeRequest":
        """None, a --quantize string, a list of them, or a request -> a request."""
        return value if isinstance(value, cls) else cls.parse(value)

    def with_validation(self, validation: Optional[Validation]) -> "QuantizeRequest":
        if self.auto is None:
            raise ValueError("validation data only applies to --quantize auto")
        return replace(self, auto=replace(self.auto, validation=validation))

    def require_validation_file(self):
        """For a model file that carries no data (`convert`): auto needs --validation-data."""
        if self.auto is not None and self.auto.validation is None and not self.auto.validation_file:
            raise ExportError("--quantize auto measures the accuracy of each candidate quantization, so it needs "
                              "labelled data that the model file does not carry: the option --validation-data "
                              f"FILE.npz is missing. It must be {VALIDATION_FORMAT}; the metric is classification "
                              "accuracy (argmax of the model's single output), and a few thousand held-out samples "
                              "are enough. Do not pass the test set you report accuracy on. Fix: add "
                              "--validation-data FILE.npz, or choose a fixed quantization (--quantize uint8, float16 "
                              "or uint16).")
        return self

    # ----------------------------------------------------------------------------- reading

    @property
    def kind(self) -> str:
        return AUTO if self.auto is not None else ("fixed" if self.rules else "none")

    @property
    def label(self) -> str:
        return {AUTO: AUTO, "none": "none"}.get(self.kind) or " ".join(str(rule) for rule in self.rules)

    def official_map(self) -> Optional[dict]:
        """The official converter's {dtype: True | [patterns]} (the graph format applies it itself)."""
        if self.auto is not None:
            raise ExportError("--quantize auto measures accuracy with the weights written back into the Keras model, "
                              "which the graph format's folded and fused ops do not allow. Fix: use --format layers, "
                              "or a fixed --quantize for the graph format.")
        qmap = {}
        for rule in self.rules:
            qmap[rule.dtype] = True if rule.patterns is None or qmap.get(rule.dtype) is True else \
                qmap.get(rule.dtype, []) + list(rule.patterns)
        return qmap or None

    # ----------------------------------------------------------------------------- resolving

    def resolve(self, model, weights, *, log: Callable = print, hint: str = "") -> Quantization:
        """The Quantization of `weights` ([(tfjs name, value)] as written, folds included).

        Only weights with a home in Keras are quantized (exporter/weights.py): derived
        ones stay float32, tiny and exact, so the parity reference stays Keras itself.
        hint: added to a pattern error (e.g. why a BatchNorm name is gone).
        """
        from ..weights import has_home

        if self.kind == "none":
            return NONE
        if self.auto is not None:
            return self._resolve_auto(model, weights, log)
        names = [name for name, _ in weights]
        homed = [name for name, value in weights if has_home(value)]
        dtypes = {}
        for rule in self.rules:
            if rule.patterns is None:
                continue
            for pattern in rule.patterns:
                matched = fnmatch.filter(names, pattern)
                if not matched:
                    raise ExportError(f"--quantize {rule.dtype}={pattern}: the pattern matches no weight. Weight "
                                      f"names look like {', '.join(names[:3])}. Fix: correct the pattern.{hint}")
                for name in matched:
                    if dtypes.get(name, rule.dtype) != rule.dtype:
                        raise ExportError(f"--quantize {rule.dtype}={pattern} and --quantize {dtypes[name]}=... "
                                          f"both match the weight '{name}'. Fix: make the patterns disjoint, so "
                                          "each weight gets one dtype.")
                    dtypes[name] = rule.dtype
        every = next((rule.dtype for rule in self.rules if rule.patterns is None), None)
        chosen = {name: dtypes.get(name, every) for name in homed if dtypes.get(name, every)}
        return Quantization(label=self.label, dtypes=_floating_only(chosen, weights))

    def _resolve_auto(self, model, weights, log):
        from .auto import choose

        if self.auto.validation is None:
            raise ExportError("--quantize auto has no validation data to measure accuracy on. Fix: pass "
                              f"--validation-data FILE.npz, {VALIDATION_FORMAT}.")
        lines = []

        def report(line):
            lines.append(line)
            log(line)

        choice = choose(model, weights, self.auto.validation, self.auto.max_drop, log=report)
        dtypes = {name: dtype for name, dtype in choice.dtypes.items() if dtype != "float32"}
        return Quantization(label=AUTO, dtypes=dtypes, record=choice.record, log=tuple(lines))


def _floating_only(chosen, weights):
    """The writer quantizes float tensors only; an int32 weight keeps its dtype whatever the pattern."""
    import numpy as np

    values = dict(weights)
    kept = {}
    for name, dtype in chosen.items():
        value = values[name]
        data = value.numpy() if hasattr(value, "numpy") else value
        if np.issubdtype(np.asarray(data).dtype, np.floating):
            kept[name] = dtype
    return kept
