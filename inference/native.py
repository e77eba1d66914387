"""The decode step in C++ (csrc/decode.cpp), built once per machine by torch's extension builder.

A decode step is ~30 small ops per layer between the packed matmuls; from Python they cost about
as much as the matmuls themselves on 2 cores (10.5 ms a step in Python, 6.7 ms in C++, at 425
tokens of context). The C++ step calls the same torch kernels for the matmuls and does the rest
in plain loops. It is compiled for the SIMD level torch itself runs at here (AVX512, AVX2 or
none), into the engine's build directory (NATIVE_BUILD_DIR), by `make setup` or on first use (~30 s); later loads take well
under a second. Without a compiler the engine keeps the Python step.
"""
import logging
import os
import sys
from pathlib import Path

import torch

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("csrc") / "decode.cpp"
# What torch's own kernels were built with for each level (see ATen/cpu/vec).
CAPABILITY_FLAGS = {"AVX512": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mfma"],
                    "AVX2": ["-mavx2", "-mfma", "-mf16c"]}


# torch numbers a second build of one name in a process (_v1, _v2, ...) and those builds do not
# outlive it, so only this module's build may use this name.
MODULE_NAME = "kindred_decode"


class NativeUnavailable(RuntimeError):
    pass


def build(build_dir: Path):
    """The compiled module, building it first (under `build_dir`) if this machine has no build
    of this source."""
    capability = torch.backends.cpu.get_cpu_capability()
    flags = ["-O3", f"-DCPU_CAPABILITY={capability}"]
    if capability in CAPABILITY_FLAGS:
        flags += CAPABILITY_FLAGS[capability] + [f"-DCPU_CAPABILITY_{capability}"]
    directory = Path(build_dir) / capability.lower()
    directory.mkdir(parents=True, exist_ok=True)
    # torch runs `ninja` from PATH: the one installed into this interpreter's environment
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    from torch.utils.cpp_extension import load
    try:
        return load(f"{MODULE_NAME}_{capability.lower()}", [str(SOURCE)], extra_cflags=flags,
                    build_directory=str(directory), verbose=False)
    except Exception as exc:  # no compiler, no ninja, a failed build: all mean the same here
        raise NativeUnavailable(f"the C++ decode step could not be built ({exc})") from exc


def load_or_none(build_dir: Path):
    """The module if it builds, else None (the Python step) with a warning."""
    try:
        return build(build_dir)
    except NativeUnavailable as exc:
        log.warning("%s; decoding with the Python step, about 1.5x slower", exc)
        return None
