"""The API page at `/docs`: Swagger UI (npm `swagger-ui-dist`, pinned in package.json) on `/openapi.json`.

Its files are served from node_modules by name from a fixed list, never by a path the caller chose. The page's
script (`api_page.js`) fills in the token a link carries in its fragment (`/docs#token=...`): a fragment never
reaches the server, so the token is in no request line and no log."""

from __future__ import annotations

import json
from pathlib import Path

from clarion_local.gateway import Answer

_HERE = Path(__file__).parent
_DIST = _HERE.parent / "node_modules" / "swagger-ui-dist"
_JS = "text/javascript; charset=utf-8"
# name under /docs/ -> (file, content type); nothing else under /docs/ is served
ASSETS = {
    "swagger-ui.css": (_DIST / "swagger-ui.css", "text/css; charset=utf-8"),
    "swagger-ui-bundle.js": (_DIST / "swagger-ui-bundle.js", _JS),
    "favicon-32x32.png": (_DIST / "favicon-32x32.png", "image/png"),
    "api_page.js": (_HERE / "api_page.js", _JS),
}
PAGE_PATHS = ("/", "/docs")
_PAGE = _HERE / "api_page.html"
# Swagger UI sets styles through the DOM (allowed); its icons are data: images; requests go to this origin only.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_COMMON = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}


def answer(method: str, path: str) -> Answer | None:
    """The page or one of its files, a 404 for any other name under /docs/, or None when `path` is not the page's."""
    if method not in ("GET", "HEAD"):
        return None
    if path in PAGE_PATHS:
        headers = {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": CSP, **_COMMON}
        return Answer(200, headers, _PAGE.read_bytes())
    if not path.startswith("/docs/"):
        return None
    asset = ASSETS.get(path.removeprefix("/docs/"))
    if asset is None:
        return _error(404, "not_found", "There is no such file of the API page.")
    file, content_type = asset
    if not file.is_file():
        return _error(503, "not_installed", "Swagger UI is not installed here: run make install (npm install).")
    return Answer(200, {"Content-Type": content_type, **_COMMON}, file.read_bytes())


def _error(status: int, code: str, message: str) -> Answer:
    body = json.dumps({"error": {"code": code, "message": message}}, indent=1).encode()
    return Answer(status, {"Content-Type": "application/json", **_COMMON}, body)
