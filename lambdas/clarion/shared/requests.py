"""What the API Gateway request says about its caller: the client id the authorizer put in its context."""

from __future__ import annotations

from typing import Any

CLIENT_ID = "client_id"  # the authorizer's context key (`clarion.handlers.authorizer`)
SCOPES = "scopes"  # space-separated, e.g. "alerts admin"


def client_id(app: Any) -> str:
    """The client whose token the authorizer accepted for the request `app` (a Powertools resolver or router) is
    serving."""
    return str(app.current_event.request_context.authorizer.get(CLIENT_ID) or "")
