"""bench/.venv: llama-cpp-python with its OpenAI-compatible server, never in the app's venv.

`python -m bench.llamacpp_env` (the Makefile's instance/.llamacpp-ready, a step of `make setup`)
creates bench/.venv and installs llama-cpp-python[server] there: the benchmark runs its Python API
in a subprocess (bench/llamacpp_worker.py) and the tests of INFERENCE=openai run its server,
`bench/.venv/bin/python -m llama_cpp.server` (tests/inference/test_openai_engine.py). The first
install compiles llama.cpp (a few minutes); pip's wheel cache makes later ones take seconds.
Standard library only, so it runs before anything else is installed.
"""
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LLAMA_CPP_VERSION = "0.3.36"
LLAMA_CPP = f"llama-cpp-python[server]=={LLAMA_CPP_VERSION}"
BENCH_VENV = HERE / ".venv"
BENCH_PYTHON = BENCH_VENV / "bin" / "python"
_CHECK = ("import importlib.metadata as m, llama_cpp.server.app; "
          f"assert m.version('llama_cpp_python') == {LLAMA_CPP_VERSION!r}")


def installed() -> bool:
    """llama-cpp-python at the pinned version, with the server's extra, in bench/.venv."""
    return BENCH_PYTHON.exists() and subprocess.run(
        [str(BENCH_PYTHON), "-c", _CHECK], capture_output=True).returncode == 0


def ensure_llama_cpp() -> Path:
    """The Python of bench/.venv, installing llama-cpp-python[server] there first if needed."""
    if installed():
        return BENCH_PYTHON
    print(f"Installing {LLAMA_CPP} into {BENCH_VENV} (the first time compiles llama.cpp: a few "
          "minutes)", flush=True)
    started = time.monotonic()
    if not BENCH_PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    # Only the text library: llava (images) is not used and is about a third of the compile.
    env = {**os.environ,
           "CMAKE_ARGS": os.environ.get("CMAKE_ARGS", "-DGGML_NATIVE=ON -DLLAVA_BUILD=OFF"),
           "CMAKE_BUILD_PARALLEL_LEVEL": os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL",
                                                        str(os.cpu_count() or 1))}
    subprocess.run([str(BENCH_PYTHON), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", LLAMA_CPP], check=True, env=env)
    print(f"llamacpp_install_seconds: {time.monotonic() - started:.0f}", flush=True)
    return BENCH_PYTHON


if __name__ == "__main__":
    ensure_llama_cpp()
