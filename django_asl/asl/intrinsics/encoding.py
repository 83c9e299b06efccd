"""Encoding and hashing intrinsics: States.Base64Encode, States.Base64Decode, States.Hash."""
from __future__ import annotations

import base64
import binascii
import hashlib

from .registry import STRING, UNKNOWN, InvalidArguments, intrinsic

# Spec: Base64Encode/Base64Decode and Hash accept "up to 10,000 characters" of input.
MAX_INPUT_CHARACTERS = 10_000

HASH_ALGORITHMS = {
    "MD5": hashlib.md5,
    "SHA-1": hashlib.sha1,
    "SHA-256": hashlib.sha256,
    "SHA-384": hashlib.sha384,
    "SHA-512": hashlib.sha512,
}


def _check_length(args: list) -> str | None:
    data = args[0]
    if data is not UNKNOWN and len(data.value) > MAX_INPUT_CHARACTERS:
        return f"the input is longer than {MAX_INPUT_CHARACTERS} characters."
    return None


@intrinsic("States.Base64Encode", STRING, static_check=_check_length)
def states_base64_encode(text: str) -> str:
    """Return the standard Base64 encoding (with padding) of the UTF-8 bytes of ``text``.

    Handles: the empty string (``""``); input over 10,000 characters fails with
    "Invalid arguments in States.Base64Encode".
    """
    if len(text) > MAX_INPUT_CHARACTERS:
        raise InvalidArguments
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")


@intrinsic("States.Base64Decode", STRING, static_check=_check_length)
def states_base64_decode(encoded: str) -> str:
    """Return the text whose UTF-8 bytes ``encoded`` holds in standard Base64.

    Handles: the empty string; missing ``=`` padding (accepted, as Java's decoder
    does). Input over 10,000 characters, or that is not Base64, fails with
    "Invalid arguments in States.Base64Decode". Bytes that are not UTF-8 decode
    to U+FFFD, as Java's ``new String(bytes, UTF_8)`` does.
    """
    if len(encoded) > MAX_INPUT_CHARACTERS:
        raise InvalidArguments
    missing = -len(encoded) % 4
    if missing == 3:
        raise InvalidArguments
    try:
        data = base64.b64decode(encoded + "=" * missing, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArguments from None
    return data.decode("utf-8", "replace")


def _check_hash(args: list) -> str | None:
    problem = _check_length(args)
    if problem:
        return problem
    algorithm = args[1]
    if algorithm is not UNKNOWN and algorithm.value not in HASH_ALGORITHMS:
        return f"the hash algorithm must be one of {', '.join(HASH_ALGORITHMS)}, got {algorithm.value!r}."
    return None


@intrinsic("States.Hash", STRING, STRING, static_check=_check_hash)
def states_hash(data: str, algorithm: str) -> str:
    """Return the lowercase hex digest of the UTF-8 bytes of ``data``.

    Handles: the algorithms MD5, SHA-1, SHA-256, SHA-384 and SHA-512 (spelled
    exactly so). Another algorithm name, data that is not a string, or data over
    10,000 characters fails with "Invalid arguments in States.Hash".
    """
    digest = HASH_ALGORITHMS.get(algorithm)
    if digest is None or len(data) > MAX_INPUT_CHARACTERS:
        raise InvalidArguments
    return digest(data.encode("utf-8", "surrogatepass")).hexdigest()
