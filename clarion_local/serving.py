"""What the local API and the provider proxy share: a threaded HTTP server on 127.0.0.1 that takes many callers at
once, handing each request to one `respond` function and writing its answer."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# (method, path with query, headers, body) -> (status, headers, body)
Respond = Callable[[str, str, dict[str, str], bytes], tuple[int, Iterable[tuple[str, str]], bytes]]


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # many callers at once (the default backlog of 5 resets connections)
    daemon_threads = True


def serve(
    name: str, port: int, respond: Respond, server_version: str = "clarion-local"
) -> tuple[int, Callable[[], None]]:
    """Serve `respond` on 127.0.0.1:`port` (0: any free port) in a daemon thread; (the port, stop)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # One write per answer, sent at once: with the status line and headers written apart from the body and
        # Nagle's algorithm on, the body waits for the caller's delayed ACK (~40 ms on Linux) on kept-alive
        # connections, which once made every proxied call of a request 40 ms slower.
        wbufsize = -1
        disable_nagle_algorithm = True

        def log_message(self, *_: Any) -> None:  # a request log line per call is noise here
            pass

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = respond(self.command, self.path, dict(self.headers.items()), body)
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":  # HEAD: the headers GET would send, no body
                self.wfile.write(payload)

        def __getattr__(self, name: str) -> Any:  # every method reaches `respond`, as every method reaches AWS
            if name.startswith("do_"):
                return self._any
            raise AttributeError(name)

    Handler.server_version = server_version
    server = _Server(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return int(server.server_address[1]), stop
