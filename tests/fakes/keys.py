"""An RSA key for the tests whose key's identity does not matter, made once per test process."""

from __future__ import annotations

import functools

from cryptography.hazmat.primitives.asymmetric import rsa


@functools.cache
def spare_rsa_key() -> rsa.RSAPrivateKey:
    """A 2048-bit key takes 10 to 80 ms of CPU to make. It is none of the sandbox's own, which it makes
    itself: a token signed with this one is a stranger's to the sandbox's bot."""
    return rsa.generate_private_key(65537, 2048)
