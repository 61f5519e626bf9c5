"""Small graphs for tests, built as seed documents and loaded with the real loader."""

from __future__ import annotations

from typing import Any

from service.graph.driver import Database
from service.ingest.loader import load_documents
from service.ingest.models import SeedDocument


def actor(key: str, name: str | None = None, kind: str = "state", **fields: Any) -> dict[str, Any]:
    return {"id": key, "name": name or key.replace("-", " ").title(), "kind": kind, **fields}


def anonymous(key: str, descriptor: str = "an unnamed official") -> dict[str, Any]:
    return actor(key, kind="person", anonymous=True, descriptor=descriptor)


def claim(key: str, source: str, about: list[str], **fields: Any) -> dict[str, Any]:
    return {"id": key, "text": f"Text of {key}", "source": source, "about": about, **fields}


def document(report_id: str, publisher: str = "outlet", **parts: Any) -> SeedDocument:
    """One report by ``publisher`` (defined here too) with the given parts."""
    report_fields = parts.pop("report", {})
    actors = [actor(publisher, kind="media_outlet"), *parts.pop("actors", [])]
    return SeedDocument.model_validate(
        {
            "report": {"id": report_id, "title": f"Title of {report_id}", "publisher": publisher, **report_fields},
            "actors": actors,
            **parts,
        }
    )


async def load(db: Database, *documents: SeedDocument) -> None:
    await load_documents(db, documents)
