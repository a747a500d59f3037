"""The reference participant client: static files served at `/app/`.

Plain HTML, CSS and ES modules in `static/`, with no build step. Its assets are served under
`/app/v/<digest>/...`, where the digest covers every static file, so they may be cached for a
year: a release that changes any file changes every asset URL. `index.html` and the service
worker (`sw.js`, which must keep one URL for its scope) are revalidated on every load.

Every answer carries a strict Content-Security-Policy (scripts, styles and connections only
from this origin, no inline script), so an injected string cannot run code next to the tokens
the client keeps in the browser's storage.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, abort, request
from werkzeug.security import safe_join

STATIC = Path(__file__).parent / "static"

#: Types set here rather than guessed from the platform's registry, which on some systems maps
#: .js to text/plain (browsers then refuse to run a module).
CONTENT_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
}

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

#: The placeholder in index.html and sw.js replaced by the asset digest.
ASSET_VERSION = "__ASSET_VERSION__"
#: Served at their own URLs with the placeholder replaced, never as versioned assets.
PAGES = ("index.html", "sw.js")

bp = Blueprint("webapp", __name__, url_prefix="/app")


@cache
def asset_version() -> str:
    """A digest of every static file: a new release gets new asset URLs."""
    digest = hashlib.sha256()
    for path in sorted(p for p in STATIC.rglob("*") if p.is_file()):
        digest.update(path.relative_to(STATIC).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@cache
def _with_version(name: str) -> bytes:
    return (STATIC / name).read_text(encoding="utf-8").replace(
        ASSET_VERSION, asset_version()).encode()


@bp.after_request
def security_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


@bp.get("/")
def index() -> Response:
    """The app shell."""
    return _page("index.html")


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker, at the top of /app/ so that its scope is the whole app."""
    response = _page("sw.js")
    response.headers["Service-Worker-Allowed"] = "/app/"
    return response


@bp.get("/v/<version>/<path:path>")
def asset(version: str, path: str) -> Response:
    """A static asset: cached for a year when `version` is the current digest."""
    found = safe_join(str(STATIC), path)
    suffix = Path(path).suffix
    if (found is None or suffix not in CONTENT_TYPES or path in PAGES
            or not Path(found).is_file()):
        abort(404)
    response = Response(_read(found), content_type=CONTENT_TYPES[suffix])
    # An old page may still ask for its own version during a release: it gets the current file,
    # but nobody may keep it under the old URL.
    current = version == asset_version()
    response.headers["Cache-Control"] = IMMUTABLE if current else REVALIDATE
    response.set_etag(asset_version())
    return response.make_conditional(request)


@cache
def _read(path: str) -> bytes:
    """A static file's bytes: a dozen small files, read once per process."""
    return Path(path).read_bytes()


def _page(name: str) -> Response:
    response = Response(_with_version(name), content_type=CONTENT_TYPES[Path(name).suffix])
    response.headers["Cache-Control"] = REVALIDATE
    response.set_etag(asset_version())
    return response.make_conditional(request)
