#!/bin/sh
# kiln keygen writes a cosign key that an independent scrypt + NaCl secretbox
# implementation (python3-nacl, hashlib.scrypt) decrypts to a PKCS#8 P-256
# key matching cosign.pub; bad passwords and damaged files fail in one line.
. "$(dirname "$0")/lib.sh"
need /usr/bin/python3 script
/usr/bin/python3 -c 'import nacl.secret, cryptography' 2>/dev/null || skip "python3-nacl or python3-cryptography is missing"

cd "$WORK"
KILN_PASSWORD='s3cret pw' "$KILN" keygen >/dev/null
[ "$(stat -c %a cosign.key)" = 600 ] || fail "cosign.key mode is $(stat -c %a cosign.key)"
head -1 cosign.key | grep -qx -- '-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----' || fail "wrong key label"
awk 'length > 64 { exit 1 }' cosign.key || fail "cosign.key has lines over 64 columns"

decrypt() {
/usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import sys
import base64, hashlib, json
import nacl.secret
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
key_file, pub_file, password = sys.argv[1:4]
text = open(key_file).read().strip().splitlines()
doc = json.loads(base64.b64decode("".join(text[1:-1])))
assert list(doc) == ["kdf", "cipher", "ciphertext"], list(doc)
p = doc["kdf"]["params"]
assert (doc["kdf"]["name"], p["N"], p["r"], p["p"]) == ("scrypt", 32768, 8, 1)
assert doc["cipher"]["name"] == "nacl/secretbox"
salt = base64.b64decode(doc["kdf"]["salt"])
assert len(salt) == 32
key = hashlib.scrypt(password.encode(), salt=salt, n=32768, r=8, p=1, maxmem=64 * 1024 * 1024, dklen=32)
box = nacl.secret.SecretBox(key)
plain = box.decrypt(base64.b64decode(doc["ciphertext"]), base64.b64decode(doc["cipher"]["nonce"]))
priv = serialization.load_der_private_key(plain, password=None)
assert isinstance(priv.curve, ec.SECP256R1)
pub = serialization.load_pem_public_key(open(pub_file, "rb").read())
fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
assert priv.public_key().public_bytes(*fmt) == pub.public_bytes(*fmt)
print("python3-nacl decrypted", key_file)
PY
}
decrypt cosign.key cosign.pub 's3cret pw' || fail "independent decryption failed"

# A second keygen refuses to overwrite; no password and no terminal is an error.
expect_error "file exists" env KILN_PASSWORD=x "$KILN" keygen
expect_error "set KILN_PASSWORD" env -u KILN_PASSWORD -u COSIGN_PASSWORD "$KILN" keygen --output-key-prefix other </dev/null
[ ! -e other.key ] || fail "a failed keygen left other.key behind"
# An empty password is allowed when set explicitly.
COSIGN_PASSWORD= "$KILN" keygen --output-key-prefix empty >/dev/null
[ -s empty.key ] && [ -s empty.pub ] || fail "empty-password keygen wrote nothing"

# On a terminal the password is prompted for without echo, twice for keygen.
printf 'typed\ntyped\n' | script -qec "$KILN keygen --output-key-prefix tty" /dev/null >/dev/null \
    || fail "keygen with a password typed on a terminal"
decrypt tty.key tty.pub typed || fail "the terminal password did not encrypt tty.key"
printf 'a\nb\n' | script -qec "$KILN keygen --output-key-prefix tty2" /dev/null >tty2.out || true
grep -q "the two entries differ" tty2.out || fail "keygen accepted two different passwords"
[ ! -e tty2.key ] || fail "keygen wrote a key after a password mismatch"
echo "ok"
