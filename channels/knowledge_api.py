"""The REST API for knowledge bases (``/api/knowledge-bases``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from agents.knowledge.index import ScoredChunk, SearchOptions
from agents.knowledge.records import ChunkingSpec, DocumentRecord, KnowledgeBaseRecord
from agents.knowledge.service import KnowledgeService
from channels.auth import READ, WRITE
from channels.auth import workspace as in_workspace
from channels.responses import DataList
from channels.rest_api import services

router = APIRouter(prefix="/api/knowledge-bases", tags=["knowledge"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KnowledgeBaseBody(_Body):
    name: str = Field(min_length=1, max_length=200, description="Display name.")
    description: str = Field(default="", max_length=2000, description="What it holds.")
    chunking: ChunkingSpec = Field(default_factory=ChunkingSpec, description="How to chunk.")


class UrlBody(_Body):
    url: str = Field(min_length=1, description="A page to ingest (http or https).")
    depth: int = Field(
        default=0, ge=0, le=5, description="0: just this page; n: follow same-site links n deep."
    )
    max_pages: int = Field(default=20, ge=1, le=500, description="Most pages a crawl ingests.")


class QueryBody(_Body):
    query: str = Field(min_length=1, description="The question.")
    options: SearchOptions = Field(default_factory=SearchOptions, description="Search options.")


class CrawlStarted(BaseModel):
    status: Literal["crawling"] = Field(description="The crawl runs on; its pages follow.")
    url: str = Field(description="The page it started from.")
    depth: int = Field(description="How many links deep it follows.")


class _InKnowledgeBase(BaseModel):
    kb_id: str = Field(description="The knowledge base the chunk is in.")


class KnowledgeHit(ScoredChunk, _InKnowledgeBase):
    """A ranked chunk and its knowledge base (``kb_id`` first: pydantic orders the
    fields of the bases from the last one)."""


def _knowledge(request: Request) -> KnowledgeService:
    return services(request).knowledge


@router.post("", status_code=201, summary="Create a knowledge base", response_model_by_alias=False)
async def create_kb(
    body: KnowledgeBaseBody, request: Request, workspace: str = in_workspace(WRITE)
) -> KnowledgeBaseRecord:
    return await _knowledge(request).create_kb(
        workspace, body.name, body.description, body.chunking
    )


@router.get("", summary="List knowledge bases", response_model_by_alias=False)
async def list_kbs(
    request: Request, workspace: str = in_workspace(READ)
) -> DataList[KnowledgeBaseRecord]:
    return DataList(data=await _knowledge(request).store.list_kbs(workspace))


@router.get("/{kb_id}", summary="Get a knowledge base", response_model_by_alias=False)
async def get_kb(
    kb_id: str, request: Request, workspace: str = in_workspace(READ)
) -> KnowledgeBaseRecord:
    return await _knowledge(request).store.get_kb(workspace, kb_id)


@router.delete("/{kb_id}", status_code=204, summary="Delete a knowledge base and its chunks")
async def delete_kb(kb_id: str, request: Request, workspace: str = in_workspace(WRITE)) -> Response:
    await _knowledge(request).delete_kb(workspace, kb_id)
    return Response(status_code=204)


@router.post(
    "/{kb_id}/documents",
    status_code=202,
    summary="Upload a document",
    response_model_by_alias=False,
)
async def upload(
    kb_id: str,
    request: Request,
    file: Annotated[UploadFile, File(description="txt, md, pdf, docx or html")],
    name: Annotated[str | None, Form(description="Name to show instead of the file's.")] = None,
    workspace: str = in_workspace(WRITE),
) -> DocumentRecord:
    data = await file.read()
    return await _knowledge(request).upload(
        workspace, kb_id, name or file.filename or "upload", file.content_type or "", data
    )


@router.post(
    "/{kb_id}/urls",
    status_code=202,
    summary="Ingest a web page or crawl a site",
    response_model_by_alias=False,
)
async def add_url(
    kb_id: str, body: UrlBody, request: Request, workspace: str = in_workspace(WRITE)
) -> CrawlStarted | DocumentRecord:
    doc = await _knowledge(request).add_url(workspace, kb_id, body.url, body.depth, body.max_pages)
    if doc is None:
        return CrawlStarted(status="crawling", url=body.url, depth=body.depth)
    return doc


@router.get(
    "/{kb_id}/documents", summary="List documents with their status", response_model_by_alias=False
)
async def list_documents(
    kb_id: str, request: Request, workspace: str = in_workspace(READ)
) -> DataList[DocumentRecord]:
    return DataList(data=await _knowledge(request).store.list_documents(workspace, kb_id))


@router.get(
    "/{kb_id}/documents/{doc_id}", summary="A document's status", response_model_by_alias=False
)
async def get_document(
    kb_id: str, doc_id: str, request: Request, workspace: str = in_workspace(READ)
) -> DocumentRecord:
    return await _knowledge(request).store.get_document(workspace, kb_id, doc_id)


@router.get("/{kb_id}/documents/{doc_id}/events", summary="Progress as server-sent events")
async def document_events(
    kb_id: str, doc_id: str, request: Request, workspace: str = in_workspace(READ)
) -> Response:
    store = _knowledge(request).store
    await store.get_document(workspace, kb_id, doc_id)

    async def events() -> AsyncIterator[bytes]:
        last = None
        while True:
            doc = await store.get_document(workspace, kb_id, doc_id)
            state = (doc.status, doc.progress)
            if state != last:
                last = state
                payload = {
                    "type": "document_progress",
                    "document_id": doc.id,
                    "status": doc.status,
                    "progress": doc.progress,
                    "error": doc.error,
                    "error_code": doc.error_code,
                    "chunk_count": doc.chunk_count,
                }
                yield f"event: document_progress\ndata: {json.dumps(payload)}\n\n".encode()
            if doc.status in ("ready", "failed"):
                return
            await asyncio.sleep(0.25)

    return StreamingResponse(events(), media_type="text/event-stream")


@router.post(
    "/{kb_id}/documents/{doc_id}/reindex",
    status_code=202,
    summary="Re-index",
    response_model_by_alias=False,
)
async def reindex(
    kb_id: str, doc_id: str, request: Request, workspace: str = in_workspace(WRITE)
) -> DocumentRecord:
    return await _knowledge(request).reindex(workspace, kb_id, doc_id)


@router.delete("/{kb_id}/documents/{doc_id}", status_code=204, summary="Delete a document")
async def delete_document(
    kb_id: str, doc_id: str, request: Request, workspace: str = in_workspace(WRITE)
) -> Response:
    await _knowledge(request).delete_document(workspace, kb_id, doc_id)
    return Response(status_code=204)


@router.post(
    "/{kb_id}/query",
    summary="Retrieval test: the ranked chunks for a query",
    response_model_by_alias=False,
)
async def query(
    kb_id: str, body: QueryBody, request: Request, workspace: str = in_workspace(READ)
) -> DataList[KnowledgeHit]:
    found = await _knowledge(request).query(workspace, kb_id, body.query, body.options)
    hits = [KnowledgeHit(kb_id=item.kb_id, **item.chunk.model_dump()) for item in found]
    return DataList(data=hits)
