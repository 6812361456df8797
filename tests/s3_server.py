"""A real S3-compatible origin on loopback for the publish tests: moto's
standalone server (`moto_server -H 127.0.0.1 -p PORT`), configured the way a
team configures a CDN bucket (public read, CORS, versioning), and an HTTP proxy
in front of it that logs the S3 requests in order and can cut the connection
half-way through an upload."""

import contextlib
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "webnets-test-key", "AWS_SECRET_ACCESS_KEY": "webnets-test-secret-0123456789",
               "AWS_DEFAULT_REGION": "us-east-1"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def moto_server_command(port):
    exe = Path(sys.executable).parent / "moto_server"
    return [str(exe) if exe.exists() else shutil.which("moto_server"), "-H", "127.0.0.1", "-p", str(port)]


@contextlib.contextmanager
def moto_server():
    """Start moto's server; yields its endpoint URL; stops it afterwards."""
    port = free_port()
    proc = subprocess.Popen(moto_server_command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **CREDENTIALS})
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("moto_server exited at start")
                time.sleep(0.05)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def s3_client(endpoint):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")


def make_cdn_bucket(endpoint, bucket):
    """A bucket as a CDN origin needs it: world-readable objects, CORS for any
    page origin (GET/HEAD), and versioning so tests can count every PUT."""
    s3 = s3_client(endpoint)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["*"], "MaxAgeSeconds": 3600}]})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return s3


def object_versions(s3, bucket):
    """Every (key, version id) the bucket has ever stored: one per PUT."""
    found = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        found += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
    return sorted(found)


class S3Proxy:
    """Forwards HTTP from the client to the S3 server, logging each request line.

    With `cut_after_puts=N`, once N PUT requests have gone through, the next
    PUT's connection is dropped half-way through its body and the port stops
    accepting: the client sees its store vanish mid-upload.
    """

    def __init__(self, upstream, cut_after_puts=None):
        self.upstream = upstream.split("//", 1)[1].split(":")
        self.cut_after_puts = cut_after_puts
        self.requests = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.cut = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def puts(self):
        return [path for method, path in self.requests if method == "PUT"]

    def close(self):
        self.cut.set()
        with contextlib.suppress(OSError):
            self.listener.close()

    def _accept(self):
        while not self.cut.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection((self.upstream[0], int(self.upstream[1])))
            threading.Thread(target=self._requests, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()

    def _pipe(self, source, target):
        with contextlib.suppress(OSError):
            while not self.cut.is_set():
                ready, _, _ = select.select([source], [], [], 0.2)
                if ready:
                    data = source.recv(65536)
                    if not data:
                        break
                    target.sendall(data)
        for s in (source, target):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def _requests(self, client, server):
        """Parse requests (headers + Content-Length body) so each one is logged."""
        buffer = b""
        with contextlib.suppress(OSError):
            while not self.cut.is_set():
                while b"\r\n\r\n" not in buffer:
                    data = client.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, path = lines[0].split(" ")[:2]
                length = next((int(line.split(":", 1)[1]) for line in lines[1:]
                               if line.lower().startswith("content-length:")), 0)
                if method == "PUT" and self.cut_after_puts is not None and len(self.puts()) >= self.cut_after_puts:
                    server.sendall(head + b"\r\n\r\n" + buffer[: max(length // 2, 1)])
                    self.requests.append((method, path + " (cut)"))
                    self.close()
                    for s in (client, server):
                        s.close()
                    return
                self.requests.append((method, path))
                server.sendall(head + b"\r\n\r\n")
                while length > 0:
                    if not buffer:
                        buffer = client.recv(65536)
                        if not buffer:
                            return
                    chunk, buffer = buffer[:length], buffer[length:]
                    server.sendall(chunk)
                    length -= len(chunk)
