"""What every resolver gets: the database, this request's loaders and settings."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from strawberry.types import Info as StrawberryInfo

from service.api.auth import Credentials
from service.api.gate import Admission
from service.api.loaders import Loaders
from service.config import Settings
from service.graph.driver import Database


@dataclass
class Context:
    db: Database
    settings: Settings
    loaders: Loaders
    credentials: Credentials = field(default_factory=Credentials.anonymous)
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # The request's operation name, persisted queries and limits, for service.api.gate (None: as ``settings`` say).
    admission: Admission | None = None

    @classmethod
    def create(
        cls,
        db: Database,
        settings: Settings,
        request_id: str | None = None,
        credentials: Credentials | None = None,
        admission: Admission | None = None,
    ) -> Context:
        return cls(
            db=db,
            settings=settings,
            loaders=Loaders(db),
            credentials=credentials or Credentials.anonymous(),
            request_id=request_id or uuid.uuid4().hex,
            admission=admission,
        )


Info = StrawberryInfo[Context, None]
