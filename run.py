"""`python run.py`: create the app and serve it with Socket.IO on HOST:PORT (default 127.0.0.1:5000)."""
import gc
import logging
import os
import sys

from app import create_app
from config import ProductionConfig
from core.extensions import socketio
from inference import ModelLoadError


def main() -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app(ProductionConfig)
    except ModelLoadError as exc:
        print(f"kindred: cannot start: {exc}", file=sys.stderr)
        return 1
    # What start-up made (torch, transformers, the app: ~570,000 tracked objects) lives as long as
    # the process: frozen, the collector's full passes stop scanning it, each of which took
    # 0.5-0.7 s of CPU on this machine, a stall of every request and token stream (docs/performance.md).
    gc.freeze()
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000"))
    print(f"Kindred is running on http://{host}:{port}", flush=True)
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
