"""Quantization: the request the options make, resolved per model into what each weight is written as,
and the official shard writer/reader that stores it.

    request.py     QuantizeRequest (fixed rules or auto) -> resolve() -> Quantization (immutable)
    auto.py        --quantize auto: the cheapest per-tensor map within an accuracy budget
    validation.py  the labelled data auto measures on
    shards.py      group1-shard*.bin through the official tensorflowjs writer; read back dequantized
"""

from .request import DTYPES, NONE, AutoSettings, QuantizeRequest, Quantization, Rule
from .validation import Validation, read_validation_file

__all__ = ["DTYPES", "NONE", "AutoSettings", "QuantizeRequest", "Quantization", "Rule", "Validation",
           "read_validation_file"]
