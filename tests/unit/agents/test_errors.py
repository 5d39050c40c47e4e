import pickle

import pytest

from agents.errors import (
    ChorusError,
    ContextWindowExceededError,
    InvalidInputError,
    ModelNotFoundError,
    UpstreamUnavailableError,
)


def test_openai_shape_carries_code_param_and_details() -> None:
    err = InvalidInputError("bad temperature", param="temperature", details={"max": 2})
    assert err.status_code == 400
    assert err.to_openai() == {
        "error": {
            "message": "bad temperature",
            "type": "invalid_request_error",
            "param": "temperature",
            "code": "invalid_request",
            "details": {"max": 2},
        }
    }


@pytest.mark.parametrize(
    "err",
    [
        ContextWindowExceededError("too long", param="messages", details={"excess_tokens": 3}),
        ModelNotFoundError("no such model", param="model"),
        UpstreamUnavailableError("restarting", retry_after=7),
        ChorusError("custom", code="my_code"),
    ],
)
def test_errors_survive_pickling_across_ray(err: ChorusError) -> None:
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert back.to_openai() == err.to_openai()
    assert back.status_code == err.status_code


def test_unavailable_carries_retry_hint() -> None:
    err = UpstreamUnavailableError("down", retry_after=3)
    assert err.status_code == 503
    assert err.retry_after == 3
    assert err.details["retry_after"] == 3


def test_subclasses_keep_parent_status() -> None:
    assert ContextWindowExceededError("x").status_code == 400
    assert ContextWindowExceededError("x").code == "context_length_exceeded"
    assert isinstance(ModelNotFoundError("x"), ChorusError)
    assert ModelNotFoundError("x").status_code == 404
