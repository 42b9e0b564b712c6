"""The `/_image` endpoint as a WSGI application (Flask, Django, any WSGI server).

`make_wsgi_app()` answers requests for the endpoint's route and hands every other request to
`fallback` (the application it wraps), so it can sit in front of a whole site:

    app.wsgi_app = make_wsgi_app(fallback=app.wsgi_app)          # Flask

The route is matched against the full path the browser asked for (SCRIPT_NAME + PATH_INFO),
which is what `get_url` writes into pages: mounted at the route itself or wrapping the
whole application, it answers the same URLs. See docs/endpoint.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from staticimg.compiler.config import Config, find_root, load_config
from staticimg.compiler.endpoint.core import ImageEndpoint, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    WSGIApp: TypeAlias = WSGIApplication
else:  # typeshed's protocols exist only for the type checker
    WSGIApp: TypeAlias = Callable[..., Iterable[bytes]]

__all__ = ["WSGIApp", "make_wsgi_app", "project_config", "routes", "status_line"]


def make_wsgi_app(
    config: Config | None = None,
    *,
    route: str | None = None,
    fallback: WSGIApp | None = None,
    endpoint: ImageEndpoint | None = None,
) -> WSGIApp:
    """A WSGI app serving `/_image` for the project `config` describes (default: the
    project around the current folder, as the `staticimg` command finds it).

    `route` defaults to `[tool.staticimg.image] endpoint` ("/_image"); "/_image/" is
    answered too. Other paths go to `fallback`, or get 404. `endpoint` replaces the
    `ImageEndpoint` built from `config` (to set its limits)."""
    if endpoint is None:
        endpoint = ImageEndpoint(config if config is not None else project_config())
    paths = routes(route or endpoint.settings.endpoint)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = _full_path(environ)
        if path not in paths:
            if fallback is not None:
                return fallback(environ, start_response)
            return _respond(
                Response(404, [("Content-Type", "text/plain; charset=utf-8")], b"Not Found\n"),
                start_response,
            )
        with endpoint.admission() as admitted:
            if not admitted:
                return _respond(endpoint.busy(), start_response)
            response = endpoint.handle(
                str(environ.get("REQUEST_METHOD", "GET")).upper(),
                _text(environ.get("QUERY_STRING", "")),
                if_none_match=environ.get("HTTP_IF_NONE_MATCH"),
            )
        return _respond(response, start_response)

    return app


def routes(route: str) -> frozenset[str]:
    """The paths the endpoint answers: the route with and without a trailing slash."""
    route = "/" + route.strip("/")
    return frozenset({route, route + "/"})


def status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _respond(response: Response, start_response: StartResponse) -> list[bytes]:
    start_response(status_line(response.status), response.headers)
    return [response.body] if response.body else []


def _full_path(environ: WSGIEnvironment) -> str:
    return _text(environ.get("SCRIPT_NAME", "")) + _text(environ.get("PATH_INFO", ""))


def _text(value: object) -> str:
    """PEP 3333 hands paths and query strings over as latin-1 "bytes in a str"; turn them
    back into the UTF-8 text the browser sent."""
    text = str(value or "")
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def project_config() -> Config:
    """The configuration of the project around the current folder (its problems ignored:
    `staticimg extract` reports them)."""
    config, _ = load_config(find_root(Path.cwd()))
    return config
