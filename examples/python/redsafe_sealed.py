#!/usr/bin/env python3
"""Reference implementation of the redsafe sealed format v1 and hashed key
names, written from docs/FORMAT.md alone, with only the standard library and
Python's `cryptography`.

    key = Key("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")   # a Fernet key
    token = seal(key, b"acct:alice", b"hello")                    # bytes, as stored in Redis
    value = open_token([key], b"acct:alice", token, ttl=3600)     # or raises InvalidToken

Names are the full Redis key as bytes (after the key prefix and any name
hashing). `python3 redsafe_sealed.py batch` reads a JSON list of operations
on stdin and writes the results to stdout; the Go tests drive it that way.
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import struct
import sys
import time
import zlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = 0x91
HEADER_LEN = 14  # version, key ID (4), flags, timestamp (8)
NONCE_LEN = 24
TAG_LEN = 16
BODY_OFF = HEADER_LEN + NONCE_LEN
MIN_TOKEN_LEN = BODY_OFF + TAG_LEN  # 54
FLAG_COMPRESSED = 0x01
MIN_COMPRESS_LEN = 1024
MAX_DECLARED_LEN = 512 << 20
MAX_EXPANSION = 1032  # DEFLATE expands at most about 1032:1
MAX_CLOCK_SKEW = 60


class InvalidToken(Exception):
    """Every refusal. `reason` is one of "malformed", "authentication",
    "unknown key", "expired", "future"."""

    def __init__(self, reason, detail=""):
        super().__init__(detail or reason)
        self.reason = reason


def _hkdf(m, info, length):
    # salt=None is RFC 5869's empty salt: HashLen zero bytes.
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(m)


class Key:
    """A redsafe encryption key: the 32 bytes M of a Fernet key (padded
    url-safe base64), and what the sealed format derives from them."""

    def __init__(self, fernet_key):
        if isinstance(fernet_key, str):
            fernet_key = fernet_key.encode()
        m = base64.urlsafe_b64decode(fernet_key)
        if len(m) != 32:
            raise ValueError("a redsafe key is base64 of 32 bytes")
        self.sealing_key = _hkdf(m, b"redsafe sealed v1 key", 32)  # K
        self.key_id = _hkdf(m, b"redsafe sealed v1 key id", 4)  # I
        self.name_key = _hkdf(m, b"redsafe key names v1", 32)  # NK
        self._k1 = _cmac_subkey(self.sealing_key)


# XAES-256-GCM (https://c2sp.org/XAES-256-GCM)

def _aes_block(key, block):
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def _cmac_subkey(k):
    l = int.from_bytes(_aes_block(k, bytes(16)), "big")
    k1 = (l << 1) & ((1 << 128) - 1)
    if l >> 127:
        k1 ^= 0x87
    return k1.to_bytes(16, "big")


def _xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def xaes_derive(k, k1, nonce):
    """The AES-256-GCM key and 12-byte nonce for a 24-byte XAES nonce."""
    m1 = b"\x00\x01X\x00" + nonce[:12]
    m2 = b"\x00\x02X\x00" + nonce[:12]
    return _aes_block(k, _xor(m1, k1)) + _aes_block(k, _xor(m2, k1)), nonce[12:]


def xaes_seal(k, nonce, plaintext, aad, k1=None):
    kx, n = xaes_derive(k, k1 or _cmac_subkey(k), nonce)
    return AESGCM(kx).encrypt(n, plaintext, aad)


def xaes_open(k, nonce, ciphertext, aad, k1=None):
    """Raises cryptography.exceptions.InvalidTag on failure."""
    kx, n = xaes_derive(k, k1 or _cmac_subkey(k), nonce)
    return AESGCM(kx).decrypt(n, ciphertext, aad)


# The token

def seal_payload(key, name, flags, payload, timestamp, nonce):
    """Seals the plaintext P with the given flags: the format's sealing
    steps 3 to 6."""
    header = bytes([VERSION]) + key.key_id + bytes([flags]) + struct.pack(">Q", timestamp)
    body = xaes_seal(key.sealing_key, nonce, payload, header + name, key._k1)
    return header + nonce + body


def seal(key, name, value, compress=False, now=None, nonce=None):
    """The token of value stored under name, sealed with key. compress is
    off by default: a compressed length leaks content (CRIME, BREACH)."""
    flags, payload = 0, value
    if compress and len(value) >= MIN_COMPRESS_LEN:
        c = zlib.compressobj(wbits=-15)
        packed = struct.pack(">I", len(value)) + c.compress(value) + c.flush()
        if len(packed) < len(value):
            flags, payload = FLAG_COMPRESSED, packed
    ts = int(time.time()) if now is None else now
    return seal_payload(key, name, flags, payload, ts, os.urandom(NONCE_LEN) if nonce is None else nonce)


def _inflate(payload):
    if len(payload) < 4:
        raise InvalidToken("malformed", "compressed value shorter than its length")
    (length,) = struct.unpack(">I", payload[:4])
    if length > MAX_DECLARED_LEN:
        raise InvalidToken("malformed", "compressed value declares more than 512 MiB")
    if length > MAX_EXPANSION * (len(payload) - 4) + 64:
        raise InvalidToken("malformed", "compressed value does not inflate to exactly its declared length")
    d = zlib.decompressobj(wbits=-15)
    try:
        out = d.decompress(payload[4:], length + 1)  # at most length + 1 bytes
    except zlib.error:
        raise InvalidToken("malformed", "compressed value is not raw DEFLATE") from None
    if len(out) != length or not d.eof or d.unused_data or d.unconsumed_tail:
        raise InvalidToken("malformed", "compressed value does not inflate to exactly its declared length")
    return out


def open_payload(keys, name, token):
    """Authenticates token for name: returns (key index, flags, timestamp, P)."""
    if len(token) < MIN_TOKEN_LEN or token[0] != VERSION:
        raise InvalidToken("malformed", "not a sealed token")
    header, nonce, body = token[:HEADER_LEN], token[HEADER_LEN:BODY_OFF], token[BODY_OFF:]
    candidates = [(i, k) for i, k in enumerate(keys) if hmac.compare_digest(k.key_id, header[1:5])]
    if not candidates:
        raise InvalidToken("unknown key", "sealed under a key this ring does not have (sealed key id %s)" % header[1:5].hex())
    for i, k in candidates:
        try:
            payload = xaes_open(k.sealing_key, nonce, body, header + name, k._k1)
        except Exception:  # cryptography.exceptions.InvalidTag
            continue
        return i, header[5], struct.unpack(">Q", header[6:14])[0], payload
    raise InvalidToken("authentication", "altered, sealed under another key, or moved to another key name")


def open_token(keys, name, token, ttl=None, now=None):
    """The value of token stored under name, or InvalidToken. keys is the
    ring, primary first; ttl in seconds, None or 0 for no limit (as in Go)."""
    return open_key(keys, name, token, ttl, now)[0]


def open_key(keys, name, token, ttl=None, now=None):
    """open_token that also returns the index of the key that opened it."""
    index, flags, ts, payload = open_payload(keys, name, token)
    # Only after authentication: flags, time, decompression.
    if flags & ~FLAG_COMPRESSED:
        raise InvalidToken("malformed", "unknown flags")
    if ttl:  # None or 0: no limit, as in the Go code
        current = int(time.time()) if now is None else now
        if ts + ttl < current:
            raise InvalidToken("expired")
        if current + MAX_CLOCK_SKEW < ts:
            raise InvalidToken("future")
    if flags & FLAG_COMPRESSED:
        payload = _inflate(payload)
    return payload, index


def hashed_name(name_key, key_prefix, prefix, name):
    """The stored name of name (bytes, prefix included) under hashed key
    names: key_prefix || prefix || base64url-nopad(HMAC-SHA256(NK, key_prefix || name))."""
    if not name.startswith(prefix):
        raise ValueError("name does not start with its prefix")
    mac = hmac.new(name_key, key_prefix + name, hashlib.sha256).digest()
    return key_prefix + prefix + base64.urlsafe_b64encode(mac).rstrip(b"=")


# The CLI of the Go tests: operations and results as JSON, bytes in hex.

def _op(op):
    kind = op["op"]
    h = binascii.unhexlify
    keys = [Key(k) for k in op.get("keys", [])]
    name = h(op.get("name_hex", ""))
    try:
        if kind == "seal":
            tok = seal(keys[0], name, h(op.get("value", "")), compress=op.get("compress", False),
                       now=op.get("now"), nonce=h(op["nonce"]) if "nonce" in op else None)
            return {"token": tok.hex()}
        if kind == "seal_payload":
            tok = seal_payload(keys[0], name, op["flags"], h(op.get("payload", "")), op["now"], h(op["nonce"]))
            return {"token": tok.hex()}
        if kind == "open":
            value, index = open_key(keys, name, h(op["token"]), op.get("ttl"), op.get("now"))
            return {"value": value.hex(), "index": index}
        if kind == "derive":
            k = keys[0]
            kx, _ = xaes_derive(k.sealing_key, k._k1, h(op["nonce"]))
            return {"K": k.sealing_key.hex(), "I": k.key_id.hex(), "NK": k.name_key.hex(), "K1": k._k1.hex(), "Kx": kx.hex()}
        if kind == "hashed_name":
            nk = h(op["name_key"]) if "name_key" in op else keys[0].name_key
            return {"stored": hashed_name(nk, h(op["key_prefix_hex"]), h(op["prefix_hex"]), name).hex()}
    except InvalidToken as e:
        return {"error": e.reason, "message": str(e)}
    raise ValueError("unknown op " + kind)


def main(argv):
    if argv[1:] != ["batch"]:
        sys.stderr.write("usage: redsafe_sealed.py batch < ops.json > results.json\n")
        return 2
    json.dump([_op(op) for op in json.load(sys.stdin)], sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
