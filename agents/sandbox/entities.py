"""The data that crosses the sandbox's boundary: limits in, a result out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SandboxLimits(BaseModel):
    """What one run of user code may use. Hitting any of them ends the run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu_seconds: float = Field(
        default=5.0,
        gt=0,
        le=600,
        description="CPU time per process (RLIMIT_CPU), rounded up to whole seconds.",
    )
    memory_mb: int = Field(
        default=256,
        ge=32,
        le=65_536,
        description=(
            "Address space per process in MiB (RLIMIT_AS). JavaScript gets this much V8 heap "
            "plus a fixed 1 GiB of address space that V8 reserves but does not use."
        ),
    )
    wall_seconds: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="Wall-clock time of the whole run; the sandbox is killed when it is over.",
    )
    max_output_bytes: int = Field(
        default=1_000_000,
        ge=1024,
        description="Bytes the code may write to stdout and stderr plus the size of its result.",
    )
    max_processes: int = Field(
        default=16,
        ge=8,
        le=1024,
        description=(
            "Processes and threads the code may have at once (RLIMIT_NPROC); Node.js itself "
            "needs 7."
        ),
    )
    max_open_files: int = Field(
        default=64,
        ge=16,
        le=65_536,
        description="Open file descriptors per process (RLIMIT_NOFILE).",
    )
    max_file_mb: int = Field(
        default=16,
        ge=1,
        le=4096,
        description=(
            "Largest file the code may write (RLIMIT_FSIZE), and the size of its scratch "
            "directory /tmp, in MiB."
        ),
    )


class SandboxResult(BaseModel):
    """What a successful run produced."""

    model_config = ConfigDict(extra="forbid")

    result: dict[str, Any] = Field(description="What main() returned: a JSON object.")
    stdout: str = Field(
        description="What the code printed, decoded as UTF-8 (invalid bytes replaced)."
    )
    elapsed_ms: float = Field(description="Wall-clock time of the run, start-up included.")
