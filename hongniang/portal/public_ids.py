"""The numbers the public site shows instead of primary keys.

A member's page at /profile/1234/ would tell anyone the agency's member count and let a robot
walk every profile in order. The public code is a keyed permutation of the pk (a four-round
Feistel network on 32 bits, keyed by a MAC of SECRET_KEY): stable, reversible without a table
or a column, and spread over four billion values, so neighbouring codes are not neighbouring
members and ~100,000 members fill one code in 40,000. Changing SECRET_KEY changes the codes
(old links then answer 404, as any unknown code does).
"""

import hashlib
from functools import lru_cache

from django.conf import settings

_BITS = 32
_HALF = _BITS // 2
_MASK = (1 << _HALF) - 1
_ROUNDS = 4
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=256)  # a few fixed kinds, and one per member viewing the centre
def _key(kind: str, secret: str) -> bytes:
    return hashlib.sha256(f"hongniang.portal.public_ids:{kind}:{secret}".encode()).digest()


def _round(kind: str, i: int, value: int) -> int:
    # Keyed BLAKE2 (a MAC by design): cheap enough for a sitemap of every member.
    key = _key(kind, settings.SECRET_KEY)
    digest = hashlib.blake2b(f"{i}:{value}".encode(), key=key, digest_size=2).digest()
    return int.from_bytes(digest, "big") & _MASK


def _permute(kind: str, n: int, *, inverse: bool = False) -> int:
    left, right = n >> _HALF, n & _MASK
    rounds = range(_ROUNDS - 1, -1, -1) if inverse else range(_ROUNDS)
    for i in rounds:
        if inverse:
            left, right = right ^ _round(kind, i, left), left
        else:
            left, right = right, left ^ _round(kind, i, right)
    return (left << _HALF) | right


def encode(kind: str, pk: int) -> str:
    """The public code of row `pk` of `kind` ("member", "photo"): base 36, lower case."""
    if not 0 < pk < (1 << _BITS):
        raise ValueError(f"pk out of range: {pk}")
    n = _permute(kind, pk)
    out = ""
    while True:
        n, digit = divmod(n, 36)
        out = _ALPHABET[digit] + out
        if not n:
            return out


def decode(kind: str, code: str) -> int | None:
    """The pk behind a public code, or None for anything that is not one."""
    code = (code or "").strip().lower()
    if not code or len(code) > 7 or any(ch not in _ALPHABET for ch in code):
        return None
    n = int(code, 36)
    if n >= (1 << _BITS):
        return None
    pk = _permute(kind, n, inverse=True)
    return pk or None
