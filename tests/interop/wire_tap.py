"""An httpx transport that records what an SDK client puts on the wire.

Every request is kept (method, path, headers, JSON body), and every SSE
`data:` payload of an event-stream response, as the bytes arrive, so a check
can compare what the SDK yielded with what the server sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx


@dataclass
class Recorded:
    method: str
    path: str
    headers: httpx.Headers
    body: dict


class WireTap(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[Recorded] = []
        self.datas: list[dict] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        self.requests.append(Recorded(request.method, request.url.path, request.headers,
                                      body if isinstance(body, dict) else {}))
        response = await self.inner.handle_async_request(request)
        if "text/event-stream" not in response.headers.get("content-type", ""):
            return response
        tap, inner = self, response.stream

        class Tee(httpx.AsyncByteStream):
            async def __aiter__(self):
                pending = b""
                async for chunk in inner:
                    # An SSE event ends at a blank line (sse-starlette writes \r\n).
                    pending = (pending + chunk).replace(b"\r\n", b"\n")
                    while b"\n\n" in pending:
                        block, pending = pending.split(b"\n\n", 1)
                        for line in block.splitlines():
                            if line.startswith(b"data:"):
                                tap.datas.append(json.loads(line[5:]))
                    yield chunk

            async def aclose(self) -> None:
                await inner.aclose()

        return httpx.Response(response.status_code, headers=response.headers, stream=Tee(),
                              extensions=response.extensions)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def posts(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]
