"""Security headers on every response the app makes: pages, API JSON, errors and static files.

The policy is explained directive by directive in docs/security.md. Pages pass it because they
hold no inline script, no inline event handler and no style attribute: every script and style
is a file under /static, and scripts set styles through the CSSOM (`node.style.x = ...`), which
the policy allows."""
from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",  # fetch and Socket.IO; CSP 3 lets 'self' match ws:/wss: on this host
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors {frame_ancestors}",
))

# Pages this site itself shows in a frame: the studio's "Preview chat" frames /chat/<id>. They
# may be framed by this origin only; every other response may not be framed at all.
SAME_ORIGIN_FRAMES = frozenset({"main.chat"})


def register(app: Flask) -> None:
    """Install the after_request hook that sets the security headers, and the same headers as
    WSGI middleware for what Flask does not answer itself (Socket.IO's transport)."""

    @app.after_request
    def security_headers(response: Response) -> Response:
        return add_security_headers(response, app.config["HSTS_SECONDS"])

    app.wsgi_app = FillMissingHeaders(app.wsgi_app)


def add_security_headers(response: Response, hsts_seconds: int) -> Response:
    """Set the headers on `response` (for the current request) and return it."""
    same_origin = request.endpoint in SAME_ORIGIN_FRAMES
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.format(
        frame_ancestors="'self'" if same_origin else "'none'")
    headers["X-Frame-Options"] = "SAMEORIGIN" if same_origin else "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    if request.is_secure:  # over plain HTTP a browser ignores it, and it would pin a dev host
        headers["Strict-Transport-Security"] = f"max-age={int(hsts_seconds)}"
    return response


class FillMissingHeaders:
    """WSGI middleware: add the headers that do not depend on the request to every response
    that lacks them. Flask's responses already have them all; this covers `/socket.io/`, which
    python-engineio answers before Flask sees the request."""

    HEADERS = (("Content-Security-Policy",
                CONTENT_SECURITY_POLICY.format(frame_ancestors="'none'")),
               ("X-Frame-Options", "DENY"),
               ("X-Content-Type-Options", "nosniff"),
               ("Referrer-Policy", "same-origin"))

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        def start_with_headers(status, headers, exc_info=None):
            present = {name.lower() for name, _value in headers}
            headers = list(headers) + [(name, value) for name, value in self.HEADERS
                                       if name.lower() not in present]
            return start_response(status, headers, exc_info)
        return self.wsgi_app(environ, start_with_headers)
