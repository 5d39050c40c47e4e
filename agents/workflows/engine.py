"""The workflow engine: runs a compiled graph and streams its events.

A node starts when every edge into it is decided and at least one was taken; edges
out of a branch not taken are skipped, and a node whose incoming edges are all skipped
is skipped too (so a variable aggregator after an if/else runs once, on the branch
taken). Ready nodes run concurrently (asyncio tasks), so independent branches overlap.
Each node runs under its timeout and retry settings; a final failure goes to its error
strategy: ``fail`` ends the run, ``default_value`` continues with the configured
outputs, ``fail_branch`` continues along the node's ``fail-branch`` edges.

:meth:`WorkflowEngine.run` yields ``workflow_started``, then ``node_started`` /
``node_finished`` per node (iteration steps included), ``delta`` from LLM and answer
nodes, and ends with ``workflow_finished`` — preceded by an ``error`` event when the
run failed. It never raises for a failing node or bad input; the run and each node
execution are saved to the store when one is given.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import structlog

from agents import error_codes
from agents.errors import ChorusError
from agents.events import (
    Delta,
    ErrorEvent,
    Event,
    NodeFinished,
    NodeStarted,
    WorkflowFinished,
    WorkflowStarted,
)
from agents.ids import new_id, utcnow
from agents.workflows.context import NodeContext, WorkflowServices
from agents.workflows.errors import NodeError, NodeTimeoutError
from agents.workflows.graph import FAIL_HANDLE
from agents.workflows.nodes.base import BaseNode, NodeResult
from agents.workflows.records import NodeRunRecord, WorkflowRunRecord
from agents.workflows.store import WorkflowStoreProtocol
from agents.workflows.validation import CompiledWorkflow
from agents.workflows.variable_pool import VariablePool

log = structlog.get_logger(__name__)
_DONE = object()


class _RunFailed(Exception):
    def __init__(self, node_id: str, error: ChorusError) -> None:
        super().__init__(error.message)
        self.node_id = node_id
        self.error = error


class _Run:
    """The state of one run: its pool, event queue, counters."""

    def __init__(
        self,
        compiled: CompiledWorkflow,
        services: WorkflowServices,
        record: WorkflowRunRecord,
        store: WorkflowStoreProtocol | None,
        history: list[dict[str, str]],
    ) -> None:
        self.compiled = compiled
        self.services = services
        self.record = record
        self.store = store
        self.history = history
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.tokens = 0
        self.node_runs = 0
        self.answers: list[str] = []
        self.end_outputs: dict[str, Any] = {}

    def emit(self, event: Event) -> None:
        self.queue.put_nowait(event)

    def base(self) -> dict[str, Any]:
        return {
            "conversation_id": self.record.conversation_id or "",
            "run_id": self.record.id,
            "workflow_id": self.record.workflow_id,
        }

    async def delta(self, node_id: str, text: str) -> None:
        self.emit(
            Delta(
                conversation_id=self.record.conversation_id or "",
                message_id=self.record.id,
                content=text,
                run_id=self.record.id,
                node_id=node_id,
            )
        )

    # -- scheduling ---------------------------------------------------------------------

    async def run_scope(self, entry: str, pool: VariablePool, index: int | None) -> None:
        """Run the graph reachable from ``entry`` (one scope) to completion."""
        compiled = self.compiled
        edge_state: dict[int, bool] = {}  # edge index -> taken?
        tasks: dict[asyncio.Task[NodeResult | None], str] = {}

        def launch(node_id: str) -> None:
            task = asyncio.ensure_future(self.execute(compiled.nodes[node_id], pool, index))
            tasks[task] = node_id

        def decided(node_id: str, handle: str | None) -> None:
            """``node_id`` finished by ``handle`` (None: skipped); decide its out-edges."""
            for i in compiled.out_edges.get(node_id, []):
                edge_state[i] = handle is not None and compiled.edges[i].source_handle == handle
            targets = {compiled.edges[i].target for i in compiled.out_edges.get(node_id, [])}
            for target in sorted(targets):
                incoming = compiled.in_edges.get(target, [])
                if any(i not in edge_state for i in incoming):
                    continue
                if any(edge_state[i] for i in incoming):
                    launch(target)
                else:
                    self.skip(compiled.nodes[target], index)
                    decided(target, None)

        launch(entry)
        try:
            while tasks:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    node_id = tasks.pop(task)
                    result = task.result()  # _RunFailed propagates
                    decided(node_id, result.handle if result else None)
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    async def run_subgraph(self, iteration_id: str, pool: VariablePool, index: int) -> VariablePool:
        node = self.compiled.nodes[iteration_id]
        entry: str = node.data.start_node_id
        try:
            await self.run_scope(entry, pool, index)
        except _RunFailed as failed:
            raise failed.error from None
        return pool

    def skip(self, node: BaseNode[Any], index: int | None) -> None:
        self.emit(
            NodeFinished(
                **self.base(), node_id=node.id, node_type=node.type, title=node.title,
                status="skipped", iteration_index=index,
            )
        )  # fmt: skip

    # -- one node ------------------------------------------------------------------------

    async def execute(
        self, node: BaseNode[Any], pool: VariablePool, index: int | None
    ) -> NodeResult:
        started, wall = time.perf_counter(), utcnow()
        self.node_runs += 1
        self.emit(
            NodeStarted(
                **self.base(), node_id=node.id, node_type=node.type, title=node.title,
                iteration_index=index,
            )
        )  # fmt: skip
        ctx = NodeContext(
            pool=pool,
            services=self.services,
            run_id=self.record.id,
            workflow_id=self.record.workflow_id,
            node_id=node.id,
            emit_delta=self.delta,
            run_subgraph=self.run_subgraph,
            history=self.history,
        )
        data = node.data
        attempts, error = 0, None
        result: NodeResult | None = None
        while attempts < data.retry.max_attempts:
            attempts += 1
            try:
                if data.timeout_s:
                    try:
                        result = await asyncio.wait_for(node.run(ctx), data.timeout_s)
                    except TimeoutError:
                        raise NodeTimeoutError(
                            f"node {node.id} did not finish within {data.timeout_s:g} s"
                        ) from None
                else:
                    result = await node.run(ctx)
                error = None
                break
            except ChorusError as exc:
                error = exc
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a node bug becomes a node failure
                log.exception("workflow_node_crashed", node_id=node.id, node_type=node.type)
                error = NodeError(f"{type(exc).__name__}: {exc}", code=error_codes.NODE_CRASHED)
            if attempts < data.retry.max_attempts and data.retry.interval_s:
                await asyncio.sleep(data.retry.interval_s)
        status = "succeeded"
        if error is not None:
            failure = {"error_message": error.message, "error_type": error.code}
            if data.error_strategy == "default_value":
                result, status = NodeResult(outputs={**data.default_value, **failure}), "exception"
            elif data.error_strategy == "fail_branch":
                result, status = NodeResult(outputs=failure, handle=FAIL_HANDLE), "exception"
            else:
                status = "failed"
        elapsed = (time.perf_counter() - started) * 1000
        outputs = result.outputs if result else {}
        if result is not None:
            pool.set_outputs(node.id, outputs)
            self.tokens += result.tokens
            if node.type == "answer" and index is None:
                self.answers.append(str(outputs.get("answer", "")))
            if node.type == "end" and index is None:
                self.end_outputs.update(outputs)
        record = NodeRunRecord(
            run_id=self.record.id,
            node_id=node.id,
            node_type=node.type,
            title=node.title,
            status=status,  # type: ignore[arg-type]
            inputs=result.inputs if result else {},
            outputs=outputs,
            error=error.message if error else None,
            error_code=error.code if error else None,
            elapsed_ms=round(elapsed, 3),
            tokens=result.tokens if result else 0,
            attempts=attempts,
            iteration_index=index,
            started_at=wall,
        )
        self.emit(
            NodeFinished(
                **self.base(), node_id=node.id, node_type=node.type, title=node.title,
                status=record.status, inputs=record.inputs, outputs=outputs,
                error=record.error, error_code=record.error_code, elapsed_ms=record.elapsed_ms,
                tokens=record.tokens, attempts=attempts, iteration_index=index,
            )
        )  # fmt: skip
        if self.store is not None:
            try:
                await self.store.save_node_run(record)
            except ChorusError as exc:
                log.warning("workflow_node_record_failed", node_id=node.id, error=exc.message)
        if status == "failed":
            assert error is not None
            raise _RunFailed(node.id, error)
        assert result is not None
        return result


class WorkflowEngine:
    def __init__(
        self, services: WorkflowServices | None = None, store: WorkflowStoreProtocol | None = None
    ) -> None:
        self.services = services or WorkflowServices()
        self.store = store

    async def run(
        self,
        compiled: CompiledWorkflow,
        inputs: dict[str, Any],
        *,
        workflow_id: str = "adhoc",
        run_id: str | None = None,
        conversation_id: str | None = None,
        query: str = "",
        user_id: str = "",
        history: list[dict[str, str]] | None = None,
        conversation_variables: dict[str, Any] | None = None,
    ) -> AsyncIterator[Event]:
        """Run ``compiled`` with ``inputs``; yields events (see the module docstring)."""
        record = WorkflowRunRecord(
            id=run_id or new_id("run"),
            workflow_id=workflow_id,
            workspace_id=self.services.workspace_id,
            inputs=dict(inputs),
            conversation_id=conversation_id,
        )
        chat_history = (history or []) if compiled.spec.mode == "chat" else []
        run = _Run(compiled, self.services, record, self.store, chat_history)
        started = time.perf_counter()
        yield WorkflowStarted(**run.base(), inputs=record.inputs)
        await self._save(record)
        try:
            values = compiled.start.coerce_inputs(inputs)
        except ChorusError as exc:
            async for event in self._finish(run, started, exc, None):
                yield event
            return
        system = {
            "query": query,
            "conversation_id": conversation_id or "",
            "user_id": user_id,
            "workflow_id": workflow_id,
            "run_id": record.id,
            "files": [],
            "dialogue_count": len([m for m in run.history if m.get("role") == "user"]),
        }
        pool = VariablePool(
            system=system,
            environment=dict(compiled.spec.environment),
            conversation={**compiled.spec.conversation_variables, **(conversation_variables or {})},
        )
        pool.set_outputs(compiled.start_id, values)

        async def drive() -> None:
            try:
                await run.run_scope(compiled.start_id, pool, None)
                run.queue.put_nowait(_DONE)
            except _RunFailed as failed:
                run.queue.put_nowait(failed)
            except BaseException as exc:  # noqa: BLE001 - reported as the run's failure
                run.queue.put_nowait(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise

        driver = asyncio.ensure_future(drive())
        outcome: Any = None
        try:
            while True:
                item = await run.queue.get()
                if item is _DONE or isinstance(item, BaseException):
                    outcome = item
                    break
                yield item
            while not run.queue.empty():  # events emitted before the outcome
                yield run.queue.get_nowait()
        finally:
            if not driver.done():
                driver.cancel()
                await asyncio.gather(driver, return_exceptions=True)
                record.status = "stopped"
                record.finished_at = utcnow()
                await self._save(record)
        if outcome is _DONE:
            async for event in self._finish(run, started, None, None):
                yield event
        elif isinstance(outcome, _RunFailed):
            async for event in self._finish(run, started, outcome.error, outcome.node_id):
                yield event
        else:
            log.error("workflow_engine_failed", error=repr(outcome))
            error = NodeError(
                f"the workflow engine failed: {outcome!r}", code=error_codes.INTERNAL_ERROR
            )
            async for event in self._finish(run, started, error, None):
                yield event

    async def _finish(
        self, run: _Run, started: float, error: ChorusError | None, node_id: str | None
    ) -> AsyncIterator[Event]:
        record = run.record
        record.elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
        record.total_tokens = run.tokens
        record.finished_at = utcnow()
        if run.compiled.spec.mode == "chat":
            record.outputs = {"answer": "".join(run.answers)}
        else:
            record.outputs = run.end_outputs
        if error is None:
            record.status = "succeeded"
        else:
            record.status, record.error, record.error_code = "failed", error.message, error.code
            yield ErrorEvent(
                conversation_id=record.conversation_id or "",
                code=error.code,
                message=error.message,
                details={**error.details, **({"param": error.param} if error.param else {})},
                run_id=record.id,
                node_id=node_id,
            )
        await self._save(record)
        yield WorkflowFinished(
            **run.base(),
            status=record.status,
            outputs=record.outputs,
            error=record.error,
            elapsed_ms=record.elapsed_ms,
            total_tokens=record.total_tokens,
            node_runs=run.node_runs,
        )

    async def _save(self, record: WorkflowRunRecord) -> None:
        if self.store is None:
            return
        try:
            await self.store.save_run(record)
        except ChorusError as exc:
            log.warning("workflow_run_record_failed", run_id=record.id, error=exc.message)
