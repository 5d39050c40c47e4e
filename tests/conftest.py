"""Shared test set-up: markers, loopback-only Ray, offline CrewAI, and where the shared
fixtures live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cluster.crews.offline import keep_crewai_offline
from cluster.ray_runtime import apply_loopback_env

apply_loopback_env()  # before anything imports Ray: keep every test on 127.0.0.1
keep_crewai_offline()  # before anything imports CrewAI, as the composition root does

# The CLI's saved logins: never the developer's own (a test logs in where it says).
os.environ["CHORUS_CONFIG_DIR"] = str(Path(__file__).resolve().parent / ".no-config")
os.environ.pop("CHORUS_API_KEY", None)

REPO = Path(__file__).resolve().parent.parent
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    has_gpu = Path("/dev/nvidia0").exists() or bool(os.environ.get("CUDA_VISIBLE_DEVICES"))
    for item in items:
        if "gpu" in item.keywords and not has_gpu:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU; this machine has none"))


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    if not SHARED_FIXTURES.is_dir():
        pytest.skip("../shared/fixtures is absent (CI always has it)")
    return SHARED_FIXTURES
