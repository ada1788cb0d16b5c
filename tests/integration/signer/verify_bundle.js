// Verifies a key-based sigstore bundle v0.3 offline with npm's
// @sigstore/verify (low-level API; the high-level one always fetches TUF).
// usage: node verify_bundle.js NODE_MODULES BUNDLE.json KEY.pem
const path = require('path');
const fs = require('fs');
const [modules, bundlePath, keyPath] = process.argv.slice(2);
const { bundleFromJSON } = require(path.join(modules, '@sigstore/bundle'));
const { Verifier, toTrustMaterial, toSignedEntity } = require(path.join(modules, '@sigstore/verify'));
const { crypto } = require(path.join(modules, '@sigstore/core'));

const pem = fs.readFileSync(keyPath, 'utf8');
const trustedRoot = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [],
};
const material = toTrustMaterial(trustedRoot, () => ({ publicKey: crypto.createPublicKey(pem), validFor: () => true }));
const verifier = new Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
verifier.verify(toSignedEntity(bundle));
console.log('@sigstore/verify accepted the bundle');
