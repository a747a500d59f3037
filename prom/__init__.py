"""prom: patient-reported outcome collection, scoring and export for chronic-pain care."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("prom")
except PackageNotFoundError:  # running from a source tree that was never pip-installed
    __version__ = "0.0.0"
