"""Real local services for integration tests: a llama.cpp server process and the embedder."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cluster.engines.engine_process import EngineProcess, launch_command
from cluster.engines.openai_engine import OpenAICompatibleEngine
from cluster.settings import EngineSettings
from tests.integration.weaviate import weaviate_server  # noqa: F401 - a shared fixture

TINY = EngineSettings(name="smollm2-135m-instruct", context_window=1024)


@pytest.fixture(scope="session")
async def llama_process() -> AsyncIterator[EngineProcess]:
    process = EngineProcess(
        TINY.name, lambda port: launch_command(TINY, port), startup_timeout_s=120
    )
    await process.start()
    yield process
    await process.stop()


@pytest.fixture(scope="session")
async def llama_engine(llama_process: EngineProcess) -> AsyncIterator[OpenAICompatibleEngine]:
    engine = OpenAICompatibleEngine(
        TINY, llama_process.base_url + "/v1", ready_check=llama_process.check
    )
    yield engine
    await engine.aclose()
