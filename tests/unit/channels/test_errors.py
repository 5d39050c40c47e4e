from pydantic import ValidationError

from agents.engine import ChatRequest
from channels.errors import validation_error


def test_validation_error_names_the_field() -> None:
    try:
        ChatRequest.model_validate({"model": "m", "messages": [{"role": "robot", "content": "x"}]})
    except ValidationError as exc:
        err = validation_error(exc)
    assert err.status_code == 400
    assert err.param == "messages.0.role"
    assert "messages.0.role" in err.message


def test_missing_field() -> None:
    try:
        ChatRequest.model_validate({"messages": [{"role": "user", "content": "x"}]})
    except ValidationError as exc:
        err = validation_error(exc)
    assert err.param == "model"
    assert "Field required" in err.message
