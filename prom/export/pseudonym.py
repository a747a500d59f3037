"""Pseudonymised participant codes.

A participant's code in a pseudonymised export is the first 16 hex digits (64 bits) of
HMAC-SHA256 keyed with the study's own secret (`Study.export_key`) over the participant's id.
The same participant has the same code in every export of the study, so exports taken at
different times can be joined; codes differ between studies; without the key a code cannot be
traced back to an id. With 64 bits, the chance that two of 100,000 participants share a code
is about 3 in 10⁹, and the export checks that codes are unique anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

CODE_LENGTH = 16


def participant_code(key: str, participant_id: uuid.UUID) -> str:
    return hmac.new(bytes.fromhex(key), participant_id.bytes,
                    hashlib.sha256).hexdigest()[:CODE_LENGTH]
