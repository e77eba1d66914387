"""Helpers shared by the tests."""
import os

import pytest


def require(condition: bool, reason: str) -> None:
    """Skip with a clear reason, or fail in CI where KINDRED_REQUIRE_ALL=1 says nothing may skip."""
    if condition:
        return
    if os.environ.get("KINDRED_REQUIRE_ALL") == "1":
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)
