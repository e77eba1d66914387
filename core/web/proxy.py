"""Serving behind a reverse proxy, and cookies that are Secure whenever the app is on HTTPS."""
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


class SecureCookies:
    """WSGI middleware: add `Secure` to every Set-Cookie of a response served over HTTPS (the
    request's scheme, as ProxyFix sets it from X-Forwarded-Proto behind a proxy), or always when
    the app's preferred scheme is https. Flask's session cookie and Flask-Login's remember
    cookie are both covered, whatever set them."""

    def __init__(self, wsgi_app, always: bool):
        self.wsgi_app, self.always = wsgi_app, always

    def __call__(self, environ, start_response):
        https = self.always or environ.get("wsgi.url_scheme") == "https"

        def secure_start_response(status, headers, exc_info=None):
            if https:
                headers = [(name, _secure(value) if name.lower() == "set-cookie" else value)
                           for name, value in headers]
            return start_response(status, headers, exc_info)
        return self.wsgi_app(environ, secure_start_response)


def install(app: Flask) -> None:
    """Wrap the WSGI app (Socket.IO's middleware included): cookies first, then ProxyFix
    outermost when PROXY_FIX_HOPS proxies are trusted, so both see the client's own scheme
    and address."""
    always = app.config.get("PREFERRED_URL_SCHEME") == "https" or \
        bool(app.config.get("SESSION_COOKIE_SECURE"))
    app.wsgi_app = SecureCookies(app.wsgi_app, always)
    hops = app.config["PROXY_FIX_HOPS"]
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops, x_prefix=hops)


def _secure(cookie: str) -> str:
    parts = [part.strip().lower() for part in cookie.split(";")]
    return cookie if "secure" in parts else cookie + "; Secure"
