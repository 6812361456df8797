"""Writing an export: atomically, in the forms a page loads, measured as the wire carries it.

    atomic.py       the export directory swapped in with one renameat2; atomic files
    script_form.py  model.js / index.js, the forms a page opened from disk can load
    files.py        the files a browser downloads for a model
    transfer.py     their gzip and brotli sizes, as a CDN sends them
"""

from .atomic import OutputExistsError, atomic_directory, atomic_file, file_lock, write_text_atomic
from .files import model_files
from .script_form import write_index_script, write_model_script
from .transfer import brotli_size, compressed_sizes, gzip_size

__all__ = ["atomic_directory", "atomic_file", "file_lock", "OutputExistsError", "write_text_atomic", "model_files", "write_index_script", "write_model_script",
           "compressed_sizes", "gzip_size", "brotli_size"]
