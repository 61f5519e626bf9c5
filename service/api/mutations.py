"""The write mutations. Each needs a bearer token (see service.api.auth) and runs in one transaction."""

from __future__ import annotations

from typing import Annotated

import strawberry
from pydantic import TypeAdapter, ValidationError

from service.api.arguments import required_key_of
from service.api.auth import Role
from service.api.context import Info
from service.api.inputs import ActorInput, IngestReportInput, RelationInput, validated
from service.api.types import Actor, Claim, Relation, Report
from service.errors import QUOTED_PREFIX, BadUserInput, NotFound, quoted
from service.graph import writes
from service.graph.driver import Record
from service.ingest.models import ActorIn, RelationIn, SeedDocument
from service.ingest.references import Ids, dangling_message, existing
from service.ingest.writer import DanglingReferences, write_actor, write_document
from service.vocabulary import Name


# The report and its claims are read back only when the selection asks for them: a writer that asks for the
# counts alone pays no read after its write.
async def _stored_report(root: IngestReportPayload, info: Info) -> Report:
    record = await info.context.loaders.report.load(root.report_id)
    assert record is not None  # just written in a committed transaction
    return Report.from_record(record)


async def _stored_claims(root: IngestReportPayload, info: Info) -> list[Claim]:
    records = await info.context.loaders.claim.load_many(root.claim_ids)
    return [Claim.from_record(c) for c in records if c is not None]


@strawberry.type(description="What ingestReport stored.")
class IngestReportPayload:
    report_id: strawberry.Private[str]
    claim_ids: strawberry.Private[list[str]]
    report: Report = strawberry.field(resolver=_stored_report, description="The report as stored.")
    claims: list[Claim] = strawberry.field(
        resolver=_stored_claims, description="Its claims as stored, in the order sent."
    )
    created: int = strawberry.field(description="Actors, reports, events, claims and relations created.")
    updated: int = strawberry.field(description="Those that existed and changed.")
    unchanged: int = strawberry.field(description="Those already stored as sent: all of them on a repeat.")


@strawberry.type(description="What deleteReport removed.")
class DeleteReportPayload:
    deleted_id: strawberry.ID = strawberry.field(description="Global id of the deleted report.")
    claims_deleted: int = strawberry.field(description="Claims no other report carried, deleted with it.")


def _dangling(error: DanglingReferences) -> list[dict[str, str]]:
    return [
        {"field": kind, "message": dangling_message(kind, key)} for kind, keys in error.missing.items() for key in keys
    ]


async def _require_actors(info: Info, *keys: str) -> list[Record]:
    found = await info.context.loaders.actor.load_many(list(keys))
    for key, record in zip(keys, found, strict=True):
        if record is None:
            raise NotFound(f"no actor has slug {quoted(key)}", slug=key[:QUOTED_PREFIX])
    return [r for r in found if r is not None]


@strawberry.type(description="Writes. Each needs a bearer token with the role it names, and runs in one transaction.")
class Mutation:
    @strawberry.mutation(
        description="Store one report with its actors, events, claims, relations and citations, in one "
        "transaction. Idempotent on ids: sending it again changes nothing. Needs a writer token."
    )
    async def ingest_report(self, info: Info, input: IngestReportInput) -> IngestReportPayload:
        info.context.credentials.require(Role.WRITER)
        document = validated(SeedDocument, input)
        try:
            written = await write_document(info.context.db, document)
        except DanglingReferences as error:
            problems = _dangling(error)
            raise BadUserInput(
                "; ".join(p["message"] for p in problems[:5]), argument="input", problems=problems
            ) from error
        return IngestReportPayload(
            report_id=document.report.id,
            claim_ids=[c.id for c in document.claims],
            created=written.total("created"),
            updated=written.total("updated"),
            unchanged=written.total("unchanged"),
        )

    @strawberry.mutation(description="Create or replace an actor by slug. Needs a writer token.")
    async def upsert_actor(self, info: Info, input: ActorInput) -> Actor:
        info.context.credentials.require(Role.WRITER)
        actor = validated(ActorIn, input)
        try:
            await write_actor(info.context.db, actor)
        except DanglingReferences as error:
            [missing, *_] = error.missing["actors"]
            raise NotFound(f"no actor has slug {quoted(missing)}", argument="input") from error
        [record] = await _require_actors(info, actor.id)
        return Actor.from_record(record)

    @strawberry.mutation(description="Add another name to an actor. Needs a writer token.")
    async def add_alias(self, info: Info, actor: strawberry.ID, alias: str) -> Actor:
        info.context.credentials.require(Role.WRITER)
        name = validated_name(alias)
        record = await writes.add_alias(info.context.db, required_key_of(actor, "Actor", "actor"), name)
        if record is None:
            raise NotFound(f"no actor has id {quoted(actor)}", argument="actor")
        return Actor.from_record(record)

    @strawberry.mutation(
        description="Entity resolution: fold `merge` into `keep`. Every claim, relation, event, affiliation "
        "and name moves to `keep`; `merge` is deleted. Needs an admin token."
    )
    async def merge_actors(
        self,
        info: Info,
        keep: Annotated[strawberry.ID, strawberry.argument(description="The actor that stays.")],
        merge: Annotated[strawberry.ID, strawberry.argument(description="The actor folded into it.")],
    ) -> Actor:
        info.context.credentials.require(Role.ADMIN)
        keep_key, merge_key = required_key_of(keep, "Actor", "keep"), required_key_of(merge, "Actor", "merge")
        if keep_key == merge_key:
            raise BadUserInput("keep and merge are the same actor", argument="merge")
        await _require_actors(info, keep_key, merge_key)
        record = await writes.merge_actors(info.context.db, keep_key, merge_key)
        if record is None:
            raise NotFound("one of the actors was deleted meanwhile", argument="merge")
        return Actor.from_record(record)

    @strawberry.mutation(description="Create or replace a relation between two actors. Needs a writer token.")
    async def add_relation(self, info: Info, input: RelationInput) -> Relation:
        info.context.credentials.require(Role.WRITER)
        relation = validated(RelationIn, input)
        await _require_actors(info, relation.source, relation.target)
        known = await existing(info.context.db, Ids(claims=set(relation.evidence)))
        unknown = sorted(set(relation.evidence) - known.claims)
        if unknown:
            raise NotFound(f"no claim has slug {quoted(unknown[0])}", argument="input", slugs=unknown[:10])
        record = await writes.add_relation(info.context.db, relation.model_dump(mode="json", by_alias=True))
        if record is None:
            raise NotFound("one of the actors was deleted meanwhile", argument="input")
        source = Actor.from_record(record["source"])
        return Relation.from_record(
            source, {"relation": record["relation"], "outgoing": True, "other": record["target"]}
        )

    @strawberry.mutation(
        description="Retract a claim: it stays in history (node(id) still finds it, with retracted: true) "
        "but every list and search hides it. Needs a writer token."
    )
    async def retract_claim(self, info: Info, id: strawberry.ID, reason: str | None = None) -> Claim:
        info.context.credentials.require(Role.WRITER)
        record = await writes.retract_claim(info.context.db, required_key_of(id, "Claim", "id"), reason)
        if record is None:
            raise NotFound(f"no claim has id {quoted(id)}", argument="id")
        return Claim.from_record(record)

    @strawberry.mutation(description="Delete a report and the claims no other report carried. Needs an admin token.")
    async def delete_report(self, info: Info, id: strawberry.ID) -> DeleteReportPayload:
        info.context.credentials.require(Role.ADMIN)
        deleted = await writes.delete_report(info.context.db, required_key_of(id, "Report", "id"))
        if deleted is None:
            raise NotFound(f"no report has id {quoted(id)}", argument="id")
        return DeleteReportPayload(deleted_id=id, claims_deleted=deleted)


def validated_name(alias: str) -> str:
    try:
        return TypeAdapter(Name).validate_python(alias)
    except ValidationError as error:
        raise BadUserInput("alias must be 1 to 300 characters", argument="alias") from error
