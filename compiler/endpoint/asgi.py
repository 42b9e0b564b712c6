"""The `/_image` endpoint as an ASGI application (Starlette, FastAPI, any ASGI server).

Each transform runs in a worker thread (`asyncio.to_thread`), so the event loop keeps
serving other requests while Pillow works; the endpoint's own limits bound how many run.
Requests for other paths, lifespan events and websockets go to `fallback` when there is one.
See docs/endpoint.md for mounting it in Starlette and FastAPI.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeAlias

from staticimg.compiler.config import Config
from staticimg.compiler.endpoint.core import ImageEndpoint, Response
from staticimg.compiler.endpoint.wsgi import project_config, routes

__all__ = ["ASGIApp", "make_asgi_app"]

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]


def make_asgi_app(
    config: Config | None = None,
    *,
    route: str | None = None,
    fallback: ASGIApp | None = None,
    endpoint: ImageEndpoint | None = None,
) -> ASGIApp:
    """An ASGI app serving `/_image`; the arguments are `make_wsgi_app`'s.

    The route is matched against the full path (`root_path` + `path`), so the app answers
    the same URLs mounted at the route (`Mount("/_image", app)`) or at the site's root."""
    if endpoint is None:
        endpoint = ImageEndpoint(config if config is not None else project_config())
    paths = routes(route or endpoint.settings.endpoint)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind == "http" and _full_path(scope) in paths:
            await _serve(endpoint, scope, send)
        elif fallback is not None:
            await fallback(scope, receive, send)
        elif kind == "http":
            await _send(
                send, Response(404, [("Content-Type", "text/plain; charset=utf-8")], b"Not Found\n")
            )
        elif kind == "lifespan":
            await _lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    return app


async def _serve(endpoint: ImageEndpoint, scope: Scope, send: Send) -> None:
    # The request body of a GET is never read: nothing in it matters here.
    headers = {
        bytes(name).decode("latin-1").lower(): bytes(value).decode("latin-1")
        for name, value in scope.get("headers", ())
    }
    query = bytes(scope.get("query_string", b"")).decode("utf-8", "replace")
    with endpoint.admission() as admitted:
        # Refused before a thread is asked for: waiting for the loop's thread pool is a
        # queue too, and it must not grow without bound either.
        if not admitted:
            response = endpoint.busy()
        else:
            response = await asyncio.to_thread(
                endpoint.handle,
                str(scope.get("method", "GET")).upper(),
                query,
                if_none_match=headers.get("if-none-match"),
            )
    await _send(send, response)


async def _send(send: Send, response: Response) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers
            ],
        }
    )
    await send({"type": "http.response.body", "body": response.body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _full_path(scope: Scope) -> str:
    """Servers and routers disagree on whether `path` includes `root_path` (ASGI says it
    does; older Starlette mounts strip it): accept both."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    return path if not root or path.startswith(root) else root + path
