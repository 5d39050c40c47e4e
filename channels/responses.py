"""The JSON shapes the REST API routes share.

A route returns its records (pydantic models) and FastAPI serializes them. Every such
route sets ``response_model_by_alias=False``: a record's JSON then has its field
names, as ``record.model_dump(mode="json")`` gives them (FastAPI's default would use
the fields' aliases).
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class DataList(BaseModel, Generic[T]):
    """A list of records: ``{"data": [...]}``."""

    data: list[T] = Field(description="The records, in the order the route states.")
