"""`python run.py`: create the app and serve it with Socket.IO on HOST:PORT (default 127.0.0.1:5000),
with the production server (core/web/server.py: gunicorn, one worker process, WEB_THREADS threads)."""
import gc
import logging
import os
import sys

from config import ProductionConfig
from core.web.server import StartRefused, serve

HOST, PORT = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000"))


def main() -> int:
    level = os.environ.get("LOG_LEVEL", "INFO")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return serve(make_app, HOST, PORT, threads=ProductionConfig.WEB_THREADS,
                 graceful_timeout=ProductionConfig.WEB_GRACEFUL_TIMEOUT, log_level=level)


def make_app():
    """Run in the server's worker process, once: the master never imports the app (nor torch)."""
    from app import InferenceSettingsError, create_app
    from inference import ModelLoadError
    try:
        app = create_app(ProductionConfig)
    except (ModelLoadError, InferenceSettingsError) as exc:
        raise StartRefused(str(exc)) from None
    # What start-up made (torch, transformers, the app: ~570,000 tracked objects) lives as long as
    # the process: frozen, the collector's full passes stop scanning it, each of which took
    # 0.5-0.7 s of CPU on this machine, a stall of every request and token stream (docs/performance.md).
    gc.freeze()
    print(f"Kindred is running on http://{HOST}:{PORT}", flush=True)
    return app


if __name__ == "__main__":
    sys.exit(main())
