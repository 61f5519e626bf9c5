"""`kb generate`: the same seed gives the same graph, with the shape real coverage has."""

from __future__ import annotations

import collections
import json

from service.ingest.generate import GraphShape, generate
from service.ingest.models import SeedDocument
from service.ingest.references import defined_by, referenced_by

SHAPE = GraphShape(actors=500, reports=2_000, anonymous_share=0.3, relay_share=0.4, seed=7)


def serialised(shape: GraphShape) -> list[str]:
    return [json.dumps(document, sort_keys=True) for document in generate(shape)]


def test_same_seed_same_documents_and_another_seed_others() -> None:
    assert serialised(SHAPE) == serialised(SHAPE)
    assert serialised(SHAPE) != serialised(GraphShape(actors=500, reports=2_000, seed=8))


def test_every_document_is_valid_and_refers_only_backwards() -> None:
    documents = [SeedDocument.model_validate(d) for d in generate(SHAPE)]
    defined = defined_by([])

    for document in documents:
        defined.add(defined_by([document]))
        assert not referenced_by(document).minus(defined), document.report.id


def test_the_graph_has_the_shape_of_real_coverage() -> None:
    documents = [SeedDocument.model_validate(d) for d in generate(SHAPE)]
    actors = {a.id: a for d in documents for a in d.actors}
    claims = [c for d in documents for c in d.claims]
    about = collections.Counter(a for c in claims for a in c.about)
    counts = sorted(about.values(), reverse=True)

    assert len(claims) == 10_000
    # Skewed popularity: the top 1% of actors draw more claims than the bottom half.
    top = sum(counts[: max(1, len(counts) // 100)])
    assert top > sum(counts[len(counts) // 2 :])
    anonymous = sum(actors[c.source].anonymous for c in claims) / len(claims)
    assert 0.25 < anonymous < 0.35
    relays = [d for d in documents if d.report.cites]
    assert 0.3 < len(relays) / len(documents) < 0.5
    assert all(d.carried_claims for d in relays)
    # Chains: a report citing a report that itself cites another.
    cites = {d.report.id: d.report.cites for d in documents}
    assert any(cites.get(c) for r in relays for c in r.report.cites)
    assert sum(bool(a.aliases) for a in actors.values()) > len(actors) // 5
    relations = [r for d in documents for r in d.relations]
    assert relations
    assert any(r.until for r in relations)
    assert any(r.until is None for r in relations)
    assert all(r.since for r in relations)
    assert any(d.events for d in documents)
