"""A container registry on 127.0.0.1 that behaves, for anonymous pulls, as ECR Public does.

- `GET /v2/<name>/manifests/<ref>` without a token answers 401 with a bearer challenge
  (`Bearer realm="…/token/",service="…",scope="aws"`, ECR Public's shape); the token comes from the realm.
- Blobs answer with a redirect to another host name (ECR Public sends blob reads to CloudFront), so a client that
  forwarded its bearer token across hosts would be caught: the storage host records every Authorization header.
- Images are multi-platform indexes (OCI), whose linux/arm64 and linux/amd64 manifests have different layers.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
TOKEN = "anonymous-token-1"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Platform:
    manifest: bytes
    digest: str
    blobs: dict[str, bytes]


@dataclass
class FakeRegistry:
    manifests: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)  # (repo, ref) -> body, type
    blobs: dict[str, bytes] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    storage_authorization: list[str | None] = field(default_factory=list)
    corrupt: set[str] = field(default_factory=set)
    busy: int = 0  # the next `busy` reads answer 503 Service Unavailable, as a registry under load does
    busy_answers: int = 0
    port: int = 0

    def add_image(self, repository: str, tag: str, layer_sizes: dict[str, list[int]]) -> dict[str, Platform]:
        """An index under `tag` with one manifest per platform ("linux/arm64": [sizes of its layers])."""
        rng = random.Random(f"{repository}:{tag}")
        platforms: dict[str, Platform] = {}
        entries = []
        for platform, sizes in layer_sizes.items():
            os_name, architecture = platform.split("/")
            layers = [rng.randbytes(size) for size in sizes]
            config = json.dumps({"architecture": architecture, "os": os_name,
                                 "rootfs": {"type": "layers", "diff_ids": [digest_of(x) for x in layers]}}).encode()
            manifest = json.dumps({
                "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config), "size": len(config)},
                "layers": [{"mediaType": OCI_LAYER, "digest": digest_of(x), "size": len(x)} for x in layers],
            }, indent=3).encode()  # indented: the digest is of these exact bytes, not of a re-serialisation
            blobs = {digest_of(b): b for b in (config, *layers)}
            self.blobs.update(blobs)
            self.manifests[(repository, digest_of(manifest))] = (manifest, OCI_MANIFEST)
            platforms[platform] = Platform(manifest, digest_of(manifest), blobs)
            entries.append({"mediaType": OCI_MANIFEST, "digest": digest_of(manifest), "size": len(manifest),
                            "platform": {"architecture": architecture, "os": os_name}})
        index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
        self.manifests[(repository, tag)] = (index, OCI_INDEX)
        self.manifests[(repository, digest_of(index))] = (index, OCI_INDEX)
        return platforms

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> ThreadingHTTPServer:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _challenge(self) -> None:
                self._send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {"WWW-Authenticate": (
                    f'Bearer realm="http://127.0.0.1:{registry.port}/token/",service="fake.registry",scope="aws"')})

            def do_GET(self) -> None:
                if registry.busy > 0:
                    registry.busy -= 1
                    registry.busy_answers += 1
                    self._send(503, b'{"errors":[{"code":"UNAVAILABLE"}]}')
                    return
                url = urlparse(self.path)
                parts = url.path.strip("/").split("/")
                if url.path == "/token/":
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    registry.token_requests.append(query)
                    self._send(200, json.dumps({"token": TOKEN}).encode(), {"Content-Type": "application/json"})
                    return
                if parts[0] == "storage":
                    registry.storage_authorization.append(self.headers.get("Authorization"))
                    blob = registry.blobs[parts[1]]
                    if parts[1] in registry.corrupt:
                        blob = blob[:-1] + bytes([blob[-1] ^ 0xFF])
                    self._send(200, blob, {"Content-Type": "application/octet-stream"})
                    return
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._challenge()
                    return
                if len(parts) >= 4 and parts[0] == "v2" and parts[-2] == "manifests":
                    found = registry.manifests.get(("/".join(parts[1:-2]), parts[-1]))
                    if found is None:
                        self._send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
                        return
                    body, media_type = found
                    self._send(200, body, {"Content-Type": media_type, "Docker-Content-Digest": digest_of(body)})
                    return
                if len(parts) >= 4 and parts[0] == "v2" and parts[-2] == "blobs" and parts[-1] in registry.blobs:
                    # Another host name for the same server: a client must not carry the bearer token there.
                    self._send(307, headers={"Location": f"http://localhost:{registry.port}/storage/{parts[-1]}"})
                    return
                self._send(404)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server
