"""Text for the browser: keras-hub tokenizers as specs that exporter/runtime/webnets-tokenizers.js runs.

A package of its own rather than a layer translator: the spec a tokenizer becomes is used in two
places, a standalone tokenizer in a page (`webnetsTokenizers.tokenizer(spec)`) and the
`WebnetsTokenizer` layer a translator emits, and neither is a tfjs layer config by itself.

- `hub_tokenizers`: keras-hub tokenizer object -> JSON spec (or a one-paragraph ExportError naming
  the option webnets does not implement); `write_tokenizer_files` writes it with the script.
- `unicode_tables`: regenerates the Unicode tables the JavaScript WordPiece pre-tokenizer carries.
"""

from .hub_tokenizers import SPEC_FORMAT, TOKENIZERS_FILE, TOKENIZERS_NAME, tokenizer_spec, write_tokenizer_files

__all__ = ["SPEC_FORMAT", "TOKENIZERS_NAME", "TOKENIZERS_FILE", "tokenizer_spec", "write_tokenizer_files"]
