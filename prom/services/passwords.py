"""Password hashing: argon2id, rehashed on sign-in when the configured cost changes.

The cost defaults to argon2-cffi's RFC 9106 profile (64 MiB, 3 passes, 4 lanes), about 0.3 s per
hash on a 2-core machine: slow for an attacker with a stolen table, affordable for rate-limited
sign-ins. Test configurations lower it (`ARGON2_*` settings), as hashes carry their parameters.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 takes any length; a cap keeps hashing cost bounded per request


@cache
def _hasher_for(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def _hasher() -> PasswordHasher:
    if not has_app_context():
        return _hasher_for(3, 65536, 4)
    config = current_app.config
    return _hasher_for(config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"],
                       config["ARGON2_PARALLELISM"])


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Verified when the account does not exist, so that a wrong email takes as long as a wrong
    # password and response times do not reveal which accounts exist.
    return hasher.hash("prom-no-such-account")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    hasher = _hasher()
    # The bytes argon2 would hash for any valid password; a lone surrogate, which no password
    # can hold (hash_password's callers refuse it), is still verified, and fails, in full time.
    secret = password.encode("utf-8", "surrogatepass")
    try:
        return hasher.verify(stored_hash or _dummy_hash(hasher), secret) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)
