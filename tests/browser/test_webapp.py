"""The blueprint that serves the participant client (`prom.webapp`), through the test client:
no browser needed."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from prom.webapp import CONTENT_SECURITY_POLICY, IMMUTABLE, STATIC, asset_version


def asset_paths(client: FlaskClient) -> list[str]:
    """The asset URLs index.html refers to."""
    html = client.get("/app/").get_data(as_text=True)
    return [f"/app/{path}" for path in re.findall(r'(?:href|src)="(v/[^"]+)"', html)]


def test_the_app_shell_is_served_with_the_security_headers(client: FlaskClient) -> None:
    response = client.get("/app/")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert '<script type="module"' in response.get_data(as_text=True)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    policy = response.headers["Content-Security-Policy"]
    assert policy == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["Cache-Control"] == "no-cache"  # a release shows on the next load
    assert client.get("/app").status_code in (301, 308)  # to /app/


def test_index_html_has_no_inline_script_or_style() -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # every script is a file
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no event handler attributes


def test_assets_have_their_content_types_and_are_cached_when_versioned(
        client: FlaskClient) -> None:
    paths = asset_paths(client)
    assert {path.rsplit("/", 1)[-1] for path in paths} == {
        "app.css", "manifest.webmanifest", "app.js", "icon.svg"}
    types = {}
    for path in [*paths, *(f"/app/v/{asset_version()}/js/{name}.js"
                           for name in ("api", "store", "outbox", "render", "trend"))]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        types[path.rsplit(".", 1)[-1]] = response.mimetype
    assert types == {"css": "text/css", "webmanifest": "application/manifest+json",
                     "js": "text/javascript", "svg": "image/svg+xml"}


def test_an_outdated_asset_version_is_served_but_not_cached(client: FlaskClient) -> None:
    response = client.get("/app/v/0000000000000000/app.css")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"


def test_the_service_worker_is_served_at_the_top_of_the_app(client: FlaskClient) -> None:
    response = client.get("/app/sw.js")

    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/app/"
    assert asset_version() in response.get_data(as_text=True)
    assert "__ASSET_VERSION__" not in response.get_data(as_text=True)


def test_a_repeated_load_of_the_shell_is_not_modified(client: FlaskClient) -> None:
    etag = client.get("/app/").headers["ETag"]

    assert client.get("/app/", headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize("path", [
    "/app/v/x/../../__init__.py",
    "/app/v/x/..%2f..%2f__init__.py",
    "/app/v/x/%2e%2e/%2e%2e/app.py",
    "/app/v/x//etc/passwd",
    "/app/v/x/js/../../__init__.py",
    "/app/v/x/js",
    "/app/v/x/missing.js",
    "/app/v/x/index.py",
    "/app/v/x/index.html",  # only at /app/, with its asset URLs filled in
    "/app/v/x/sw.js",  # only at /app/sw.js, for its scope
    "/app/index.html",
])
def test_paths_outside_the_static_files_are_refused(client: FlaskClient, path: str) -> None:
    response = client.get(path, follow_redirects=True)  # "//" is merged by a redirect first

    assert response.status_code == 404, path
    assert b"import" not in response.get_data()
