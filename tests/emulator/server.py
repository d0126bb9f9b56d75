"""Personalize's wire protocol (JSON 1.1 over HTTP) on a loopback port, in front of the emulator.

An unmodified boto3 client reaches it with ``AWS_ENDPOINT_URL_PERSONALIZE=<server.url>``. Requests
are POSTs to ``/`` with ``X-Amz-Target: AmazonPersonalize.<Operation>`` and a JSON body; errors
are HTTP 400 with ``{"__type": <code>, "message": ...}``, which botocore turns into ClientError.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.emulator.service import PersonalizeEmulator, ServiceError

TARGET_PREFIX = "AmazonPersonalize."
CONTENT_TYPE = "application/x-amz-json-1.1"


class EmulatorServer:
    """Serves one PersonalizeEmulator on 127.0.0.1 from a daemon thread."""

    def __init__(self, emulator: PersonalizeEmulator) -> None:
        self.emulator = emulator
        handler = type("BoundHandler", (_Handler,), {"emulator": emulator})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="personalize-emulator", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> EmulatorServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    emulator: PersonalizeEmulator
    protocol_version = "HTTP/1.1"  # keep-alive, as boto3 expects
    disable_nagle_algorithm = True  # headers and body go out in two writes; do not wait 40 ms between them

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        target = self.headers.get("X-Amz-Target", "")
        if not target.startswith(TARGET_PREFIX):
            self._send(400, {"__type": "UnknownOperationException", "message": f"Unknown target {target!r}"})
            return
        try:
            params = json.loads(raw or b"{}")
        except ValueError as error:
            self._send(400, {"__type": "SerializationException", "message": f"Request body is not JSON: {error}"})
            return
        try:
            result = self.emulator.handle(target[len(TARGET_PREFIX) :], params)
        except ServiceError as error:
            self._send(error.status, {"__type": error.code, "message": error.message})
            return
        self._send(200, result)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests are recorded in PersonalizeEmulator.calls; stderr noise helps nobody
