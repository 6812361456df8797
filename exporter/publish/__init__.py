"""Publishing exported models to a CDN origin as immutable, versioned, hash-checked files.

    release.py       plan -> upload -> read back -> conditional index write (`publish`)
    cdn_index.py     the CDN's index.json: every model and version, sha256 + SRI per file
    object_store.py  the storage behind it through fsspec (s3://, gs://, file://)
"""

from .release import publish

__all__ = ["publish"]
