"""Typed calls to the methods of Ray actors, and what a failed Ray call becomes.

Ray types an actor handle's methods only through ``@ray.method`` (positional
arguments, no streaming), and ``ActorHandle.__getattr__`` is typed as returning
``Never``, so mypy takes every line after ``handle.method.remote(...)`` for
unreachable and checks none of it. These helpers name the method by the actor
class's own function instead: its signature checks the arguments, and its return
type types the result. ``call_actor(handle, SessionShard.stop_turn, cid)`` is
``handle.stop_turn.remote(cid)``, typed as ``ObjectRef[bool]``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar, overload

from ray import ObjectRef
from ray.actor import ActorHandle
from ray.exceptions import RayError, RayTaskError
from ray.serve.exceptions import RayServeException

from agents.error_codes import ErrorCode
from agents.errors import ChorusError, UpstreamUnavailableError

A = TypeVar("A")
R = TypeVar("R")
T = TypeVar("T")
P = ParamSpec("P")


@overload
def call_actor(
    handle: ActorHandle[A],
    method: Callable[Concatenate[A, P], Awaitable[R]],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> ObjectRef[R]: ...


@overload
def call_actor(
    handle: ActorHandle[A],
    method: Callable[Concatenate[A, P], R],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> ObjectRef[R]: ...


def call_actor(
    handle: ActorHandle[A],
    method: Callable[Concatenate[A, P], Awaitable[R]] | Callable[Concatenate[A, P], R],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> ObjectRef[R]:
    """``handle.<method>.remote(*args, **kwargs)``: the ref of the method's result."""
    ref: ObjectRef[R] = getattr(handle, method.__name__).remote(*args, **kwargs)
    return ref


def stream_actor(
    handle: ActorHandle[A],
    method: Callable[Concatenate[A, P], AsyncIterator[R]],
    ahead: int | None,
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> AsyncIterator[ObjectRef[R]]:
    """A streaming call of an async generator method: one ref per item it yields
    (Ray's ``ObjectRefGenerator``, which iterates asynchronously). With ``ahead``, the
    generator pauses while that many items wait unread by the caller."""
    remote = getattr(handle, method.__name__).options(
        num_returns="streaming", _generator_backpressure_num_objects=ahead
    )
    refs: AsyncIterator[ObjectRef[R]] = remote.remote(*args, **kwargs)
    return refs


async def settle(awaitable: Awaitable[T], *, what: str, code: ErrorCode) -> T:
    """Await a Ray call (an actor's or a Serve replica's). A ChorusError raised remotely
    comes back as itself; a replica or actor that died or cannot be reached becomes a
    503 with ``code``, saying ``what`` failed (e.g. "a model replica", "the session")."""
    try:
        return await awaitable
    except RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, ChorusError):
            raise cause from None
        raise UpstreamUnavailableError(
            f"{what} failed; retry shortly", code=code, retry_after=5.0
        ) from exc
    except ChorusError:
        raise
    except (RayError, RayServeException) as exc:
        raise UpstreamUnavailableError(
            f"{what} is unavailable; retry shortly", code=code, retry_after=5.0
        ) from exc
