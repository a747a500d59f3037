"""The instrument library: definition format, loader, answer layout and validation.

Pure domain code: no Flask, no SQLAlchemy. `load_library()` is the entry point.
"""

from prom.instruments.loader import (
    DefinitionError,
    Library,
    LibraryError,
    UnknownInstrument,
    load_library,
)
from prom.instruments.spec import Definition, Item, Scale
from prom.instruments.validation import validate_answers

__all__ = [
    "Definition",
    "DefinitionError",
    "Item",
    "Library",
    "LibraryError",
    "Scale",
    "UnknownInstrument",
    "load_library",
    "validate_answers",
]
