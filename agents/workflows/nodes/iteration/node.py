"""iteration: run the inner subgraph once per array item (``[iteration_id, 'item']`` and
``[iteration_id, 'index']`` inside), sequentially or with bounded parallelism, and
collect one value of each step into ``output``."""

from __future__ import annotations

import asyncio
from typing import Any

from agents import error_codes
from agents.errors import ChorusError
from agents.workflows.context import NodeContext
from agents.workflows.dify.mapping import DifyMapping
from agents.workflows.errors import NodeError
from agents.workflows.nodes.base import BaseNode, NodeResult, Reference
from agents.workflows.nodes.iteration.dify import map_iteration, map_iteration_start
from agents.workflows.nodes.iteration.entities import IterationNodeData, IterationStartNodeData
from agents.workflows.variables import VarType


class IterationNode(BaseNode[IterationNodeData]):
    type = "iteration"
    data_model = IterationNodeData
    dify = DifyMapping(("iteration",), map_iteration)

    def output_types(self) -> dict[str, VarType]:
        return {"output": self.data.output_type}

    def references(self) -> list[Reference]:
        return [
            Reference(self.data.iterator_selector, "iterator_selector", {"array[any]"}),
        ]

    async def run(self, ctx: NodeContext) -> NodeResult:
        items = ctx.pool.get(self.data.iterator_selector, None)
        if items is None:
            items = []
        if not isinstance(items, list):
            raise NodeError(
                f"iteration needs an array; {'.'.join(self.data.iterator_selector)} is "
                f"{type(items).__name__}",
                code=error_codes.ITERATION_INPUT_INVALID,
            )
        if len(items) > self.data.max_items:
            raise NodeError(
                f"the array has {len(items)} items; the limit is {self.data.max_items}",
                code=error_codes.ITERATION_INPUT_INVALID,
            )
        assert ctx.run_subgraph is not None
        run_subgraph = ctx.run_subgraph
        gate = asyncio.Semaphore(self.data.parallel_nums if self.data.is_parallel else 1)
        results: list[Any] = [None] * len(items)
        failed: list[bool] = [False] * len(items)

        async def step(index: int, item: Any) -> None:
            async with gate:
                pool = ctx.pool.child()
                pool.set_outputs(self.id, {"item": item, "index": index})
                try:
                    done = await run_subgraph(self.id, pool, index)
                    results[index] = done.get(self.data.output_selector, None)
                except ChorusError:
                    if self.data.error_handle_mode == "terminated":
                        raise
                    failed[index] = True

        tasks = [asyncio.ensure_future(step(i, item)) for i, item in enumerate(items)]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        if self.data.error_handle_mode == "remove-abnormal-output":
            results = [r for r, bad in zip(results, failed, strict=True) if not bad]
        return NodeResult(outputs={"output": results}, inputs={"items": len(items)})


class IterationStartNode(BaseNode[IterationStartNodeData]):
    type = "iteration-start"
    data_model = IterationStartNodeData
    dify = DifyMapping(("iteration-start",), map_iteration_start)

    async def run(self, ctx: NodeContext) -> NodeResult:
        return NodeResult(outputs={})
