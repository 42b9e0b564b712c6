"""The `/_image` endpoint: on-demand transforms for development and server rendering.

`make_wsgi_app` and `make_asgi_app` mount it in any Python web application;
`ImageEndpoint` is the framework-free core both use. docs/endpoint.md shows the mounting.
"""

from __future__ import annotations

from staticimg.compiler.endpoint.asgi import make_asgi_app
from staticimg.compiler.endpoint.core import ImageEndpoint, Response
from staticimg.compiler.endpoint.wsgi import make_wsgi_app

__all__ = ["ImageEndpoint", "Response", "make_asgi_app", "make_wsgi_app"]
