"""The destination of `publish`: an fsspec URL, with the HTTP metadata a CDN serves.

fsspec gives one API over s3:// (AWS and every S3-compatible origin: R2,
MinIO, ...), gs:// and file://. What it does not unify is object metadata:
Content-Type and Cache-Control are what the CDN and the browser act on, and
each backend names them differently, so each protocol has a small adapter.

Credentials come only from the standard environment/config of the backend
(AWS_ACCESS_KEY_ID, AWS_PROFILE, instance roles, GOOGLE_APPLICATION_CREDENTIALS);
they are never arguments, and any value of theirs is scrubbed from messages.
"""

import contextlib
import os
import re
import uuid
from pathlib import Path

from ..errors import ExportError

CONTENT_TYPES = {
    ".json": "application/json",
    ".bin": "application/octet-stream",
    ".js": "text/javascript; charset=utf-8",  # RFC 9239
}
# A versioned file never changes, so browsers and CDNs may keep it forever.
IMMUTABLE = "public, max-age=31536000, immutable"
# index.json moves when a version is published; a minute of staleness is the
# price of letting CDN edges cache it at all.
SHORT_LIVED = "public, max-age=60"

_SECRET_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "GOOGLE_OAUTH_ACCESS_TOKEN")


def content_type(name):
    return CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream")


def scrub(text):
    """`text` without the value of any credential in the environment."""
    for variable in _SECRET_VARIABLES:
        value = os.environ.get(variable)
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return text


class ConflictingWrite(Exception):
    """index.json changed between our read and our write (a concurrent publish)."""


class ObjectStore:
    """Files under one root URL. Subclasses map headers to their backend's metadata."""

    protocols = ()

    def __init__(self, fs, root, url):
        self.fs, self.root, self.url = fs, root.rstrip("/"), url.rstrip("/")

    def path(self, rel):
        return f"{self.root}/{rel}" if rel else self.root

    def read(self, rel):
        """Bytes of `rel`, or None when there is no such file."""
        with self.errors("read", rel):
            try:
                return self.fs.cat_file(self.path(rel))
            except FileNotFoundError:
                return None

    def read_versioned(self, rel):
        """(bytes or None, token): the token makes `write(..., expect=token)` fail if
        the file changed in between. Only stores with conditional writes give one."""
        return self.read(rel), None

    def list(self, rel):
        """Paths (relative to `rel`) of every file below `rel`."""
        with self.errors("list", rel):
            base = self.path(rel)
            try:
                found = self.fs.find(base)
            except FileNotFoundError:
                return []
            return sorted(f[len(base) + 1:] for f in found if f.startswith(base + "/"))

    def write(self, rel, data, cache_control, expect=None):
        with self.errors("write", rel):
            self.fs.pipe_file(self.path(rel), data, **self.metadata(rel, cache_control))

    def metadata(self, rel, cache_control):
        return {}

    def headers_note(self):
        return None

    @contextlib.contextmanager
    def errors(self, action, rel):
        """Backend exceptions -> one ExportError paragraph naming the problem and the fix."""
        where = f"{self.url}/{rel}" if rel else self.url
        try:
            yield
        except (ExportError, ConflictingWrite):
            raise
        except FileNotFoundError as error:  # reads catch their own; here it is the bucket or directory
            raise ExportError(scrub(
                f"Could not {action} {where}: the bucket or directory does not exist ({error}). Fix: create it "
                "(and give it public read and CORS for the CDN, see the README), or correct DEST_URL.")) from None
        except PermissionError as error:
            raise ExportError(scrub(
                f"Access denied when trying to {action} {where} ({error}). Fix: give the credentials in the "
                "environment read, write and list rights on that prefix (for S3: s3:GetObject, s3:PutObject, "
                "s3:ListBucket), or check that the bucket name is right.")) from None
        except Exception as error:
            name = type(error).__name__
            if name in ("NoCredentialsError", "PartialCredentialsError", "DefaultCredentialsError"):
                raise ExportError(
                    f"No credentials were found for {self.url}. Fix: set them in the standard way for the backend "
                    "(AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY or AWS_PROFILE for s3://, "
                    "GOOGLE_APPLICATION_CREDENTIALS for gs://); webnets never takes them as arguments.") from None
            raise ExportError(scrub(
                f"Could not {action} {where} ({name}: {str(error)[:300]}). Nothing after this file was written and "
                "the previous index.json is still the one in force. Fix: check the endpoint and the network "
                "(--endpoint-url / AWS_ENDPOINT_URL for S3-compatible stores), then run the same command again: "
                "files already uploaded are recognised and skipped.")) from None


class S3Store(ObjectStore):
    protocols = ("s3", "s3a")

    def metadata(self, rel, cache_control):
        return {"ContentType": content_type(rel), "CacheControl": cache_control}

    def read_versioned(self, rel):
        # ETag first, then the body: if the file changes in between, the body may
        # be newer than the ETag, and the conditional write below then fails
        # safely instead of overwriting a concurrent publish.
        with self.errors("read", rel):
            try:
                token = self.fs.info(self.path(rel))["ETag"]
            except FileNotFoundError:
                return None, "absent"
        return self.read(rel), token

    def write(self, rel, data, cache_control, expect=None):
        condition = {}
        if expect == "absent":
            condition = {"IfNoneMatch": "*"}
        elif expect is not None:
            condition = {"IfMatch": expect}
        with self.errors("write", rel):
            try:
                self.fs.pipe_file(self.path(rel), data, **self.metadata(rel, cache_control), **condition)
            except (FileExistsError, OSError) as error:
                # s3fs reports HTTP 412 as FileExistsError (If-None-Match) or OSError (If-Match).
                if condition and "condition" in str(error).lower():
                    raise ConflictingWrite(rel) from None
                raise


class GCSStore(ObjectStore):
    protocols = ("gs", "gcs")

    def metadata(self, rel, cache_control):
        return {"content_type": content_type(rel), "fixed_key_metadata": {"cache_control": cache_control}}


class LocalStore(ObjectStore):
    """A directory (file://), e.g. a web server's document root or a mounted bucket.

    A directory has no per-file metadata: the web server in front of it must send
    the Cache-Control / Content-Type headers (docs/publishing.md lists them). Each file is
    written to a temp name and renamed, so a reader never sees half a file.
    """

    protocols = ("file", "local")

    def write(self, rel, data, cache_control, expect=None):
        target = Path(self.path(rel))
        with self.errors("write", rel):
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
            temp.write_bytes(data)
            os.replace(temp, target)

    def headers_note(self):
        return ("file:// has no object metadata: configure the web server in front of it to send "
                f"'Cache-Control: {IMMUTABLE}' for versioned files and '{SHORT_LIVED}' for index.json.")


_ADAPTERS = {protocol: cls for cls in (S3Store, GCSStore, LocalStore) for protocol in cls.protocols}


def open_store(url, endpoint_url=None):
    """The ObjectStore for an fsspec URL such as s3://bucket/prefix or file:///srv/cdn."""
    import fsspec

    if re.match(r"^[a-z0-9+.-]+://[^/]*@", url, re.I):
        raise ExportError("The destination URL contains credentials ('user@' part). Fix: remove them from the URL "
                          "and provide credentials through the environment (AWS_ACCESS_KEY_ID / "
                          "AWS_SECRET_ACCESS_KEY or AWS_PROFILE for s3://).")
    protocol = url.split("://", 1)[0].lower() if "://" in url else "file"
    adapter = _ADAPTERS.get(protocol)
    if adapter is None:
        known = ", ".join(sorted(f"{p}://" for p in _ADAPTERS))
        raise ExportError(f"'{url}': the protocol {protocol}:// is not a publishing destination webnets knows how to "
                          f"set Cache-Control/Content-Type on. Fix: use one of {known}.")
    options = {"skip_instance_cache": True}
    if adapter is S3Store:
        # Listings must not be cached: publish decides what to upload from them.
        options["use_listings_cache"] = False
        if endpoint_url:
            options["client_kwargs"] = {"endpoint_url": endpoint_url}
    elif endpoint_url:
        raise ExportError(f"--endpoint-url is for S3-compatible stores, but the destination is {protocol}://. "
                          "Fix: drop --endpoint-url, or use an s3:// URL.")
    try:
        fs, root = fsspec.core.url_to_fs(url, **options)
    except ImportError as error:
        raise ExportError(f"Publishing to {protocol}:// needs a package that is not installed ({error}). Fix: "
                          "pip install it (gcsfs for gs://; s3fs is part of webnets).") from None
    if adapter is S3Store and not root.strip("/"):
        raise ExportError(f"'{url}' names no bucket. Fix: use s3://BUCKET/PREFIX.")
    return adapter(fs, root, url)
