"""The Query root and the executable schema."""

from __future__ import annotations

from typing import Annotated

import strawberry

from service.api.context import Info
from service.api.errors import ErrorCodes
from service.api.ids import from_global_id
from service.api.types import Actor, Claim, Node, Report
from service.errors import BadUserInput, NotFound
from service.graph import actors, claims, reports


@strawberry.type
class Query:
    @strawberry.field(description="One actor, by global id or by any of its names (case-insensitive).")
    async def actor(
        self,
        info: Info,
        id: Annotated[strawberry.ID | None, strawberry.argument(description="Global id.")] = None,
        name: Annotated[str | None, strawberry.argument(description="Canonical name or alias.")] = None,
    ) -> Actor | None:
        if (id is None) == (name is None):
            raise BadUserInput("give exactly one of id or name", argument="id" if id is not None else "name")
        if id is not None:
            type_name, key = from_global_id(id)
            if type_name != "Actor":
                raise BadUserInput(f"'{id}' is the id of a {type_name}, not an Actor", argument="id")
            record = await info.context.loaders.actor.load(key)
            if record is None:
                raise NotFound(f"no actor has id '{id}'", argument="id")
            return Actor.from_record(record)
        assert name is not None
        found = await actors.actors_by_name(info.context.db, name, limit=1)
        if not found:
            raise NotFound(f"no actor is called '{name}'", argument="name")
        return Actor.from_record(found[0])

    @strawberry.field(description="Any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, key = from_global_id(id)
        db = info.context.db
        if type_name == "Actor":
            record = (await actors.actors_by_ids(db, [key])).get(key)
            node: Node | None = Actor.from_record(record) if record else None
        elif type_name == "Claim":
            record = (await claims.claims_by_ids(db, [key])).get(key)
            node = Claim.from_record(record) if record else None
        elif type_name == "Report":
            record = (await reports.reports_by_ids(db, [key])).get(key)
            node = Report.from_record(record) if record else None
        else:
            node = None
        if node is None:
            raise NotFound(f"nothing has id '{id}'", argument="id")
        return node


schema = strawberry.Schema(query=Query, types=[Actor, Claim, Report], extensions=[ErrorCodes])
