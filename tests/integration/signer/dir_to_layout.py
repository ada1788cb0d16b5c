#!/usr/bin/env python3
"""Converts a containers/image `dir:` signature fixture folder into an OCI
image layout without altering any byte: manifest.json becomes a blob tagged
TAG, each signature-N (0x00 "sigstore-json\\n" + JSON) becomes a layer of the
`.sig` image (its payload as the blob, its mimeType and annotations as the
layer's), tagged sha256-<hex>.sig as cosign stores it.

usage: dir_to_layout.py FIXTURE_DIR LAYOUT_DIR TAG
"""
import base64
import hashlib
import json
import os
import sys

src, dst, tag = sys.argv[1:4]
os.makedirs(os.path.join(dst, "blobs", "sha256"), exist_ok=True)


def put(data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(dst, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest


entries = []
manifest_digest = None
try:
    manifest = open(os.path.join(src, "manifest.json"), "rb").read()
except FileNotFoundError:
    manifest = None
if manifest is not None:
    manifest_digest = put(manifest)
    media_type = json.loads(manifest).get("mediaType", "application/vnd.docker.distribution.manifest.v1+prettyjws")
    entries.append({"mediaType": media_type, "digest": manifest_digest, "size": len(manifest),
                    "annotations": {"org.opencontainers.image.ref.name": tag}})

layers = []
n = 1
while os.path.exists(os.path.join(src, "signature-%d" % n)):
    raw = open(os.path.join(src, "signature-%d" % n), "rb").read()
    magic = b"\x00sigstore-json\n"
    assert raw.startswith(magic), "signature-%d is not sigstore-json" % n
    sig = json.loads(raw[len(magic):])
    payload = base64.b64decode(sig["payload"])
    layers.append({"mediaType": sig["mimeType"], "size": len(payload), "digest": put(payload),
                   "annotations": sig.get("annotations", {})})
    n += 1

if layers:
    # The signed digest: the manifest's when present, else the one the payloads name.
    signed = manifest_digest
    if signed is None:
        first = json.loads(base64.b64decode(json.loads(open(os.path.join(src, "signature-1"), "rb").read()[15:])["payload"]))
        signed = first["critical"]["image"]["docker-manifest-digest"]
    config = json.dumps({"architecture": "", "created": "0001-01-01T00:00:00Z",
                         "history": [{"created": "0001-01-01T00:00:00Z"} for _ in layers], "os": "",
                         "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}, "config": {}},
                        separators=(",", ":")).encode()
    sig_manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                          "size": len(config), "digest": put(config)},
                               "layers": layers}, separators=(",", ":")).encode()
    entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(sig_manifest),
                    "size": len(sig_manifest),
                    "annotations": {"org.opencontainers.image.ref.name": signed.replace(":", "-") + ".sig",
                                    "kind": "dev.cosignproject.cosign/sigs"}})

with open(os.path.join(dst, "oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
with open(os.path.join(dst, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}, f)
