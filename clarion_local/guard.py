"""What the local server refuses before any route: a request a web page in the user's browser could make.

A page on another site can reach 127.0.0.1 by DNS rebinding (its own name, re-pointed here: a foreign `Host`) or
post a cross-site form at it (a foreign `Origin`, or a body that is not JSON): both are 403, and a POST to a
`/_local` route with a body not sent as JSON is 415. Clients that send no Origin (curl, the SDKs) are not
affected.
"""

from __future__ import annotations

import json

from clarion_local.gateway import Answer

_LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")


def _header(headers: dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), "")


def _refusal(status: int, code: str, message: str) -> Answer:
    body = json.dumps({"error": {"code": code, "message": message, "field": None}}).encode()
    return Answer(status, {"Content-Type": "application/json"}, body)


def refused(method: str, path: str, headers: dict[str, str], body: bytes, port: int) -> Answer | None:
    """The 403 or 415 answer to a request no local client makes, or None."""
    hosts = {f"{name}:{port}" for name in _LOCAL_NAMES} | ({*_LOCAL_NAMES} if port == 80 else set())
    host = _header(headers, "Host").lower()
    if host and host not in hosts:
        return _refusal(403, "forbidden_host", f"This server answers only as 127.0.0.1:{port} or localhost:{port}.")
    origin = _header(headers, "Origin").lower()
    # "null": a page that sends no referrer (the acknowledgement link's) posting its own form; never for /_local
    opaque = origin == "null" and not path.startswith("/_local/")
    if origin and not opaque and origin not in {f"http://{h}" for h in hosts}:
        return _refusal(403, "forbidden_origin", "This server answers no page of another origin.")
    media_type = _header(headers, "Content-Type").split(";")[0].strip().lower()
    if path.startswith("/_local/") and method == "POST" and body and media_type not in ("", "application/json"):
        return _refusal(415, "unsupported_media_type", "Send the body as application/json.")
    return None
