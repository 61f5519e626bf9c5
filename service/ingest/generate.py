"""Reproducible synthetic graphs in the seed format, for benchmarks and scale tests.

The shape imitates real coverage: a few actors draw most claims (Zipf-like
popularity), reports relay earlier reports in chains and carry their claims,
a share of sources is anonymous, actors have aliases, and relations have
validity intervals. Each actor is defined by the first report that mentions
it, so every reference points backwards and a file streams in order.
The same parameters and seed give the same file, byte for byte.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

ACTOR_KINDS = ("person", "organisation", "state", "government", "armed_group")
MODALITIES = ("asserted", "asserted", "asserted", "alleged", "speculated", "denied")
RELATION_KINDS = ("allied_with", "hostile_to", "normalized_relations_with", "controls", "member_of", "brokered")
EVENT_KINDS = ("meeting", "agreement", "attack", "election", "negotiation")


@dataclass(frozen=True)
class GraphShape:
    actors: int = 1_000
    reports: int = 2_000
    claims_per_report: int = 5
    outlets: int = 50
    anonymous_share: float = 0.3
    relay_share: float = 0.4
    relation_share: float = 0.2
    event_share: float = 0.1
    seed: int = 42


class _Popularity:
    """Draws actor indexes with weight 1 / rank^1.1."""

    def __init__(self, count: int, rng: random.Random) -> None:
        self.rng = rng
        self.cumulative = list(itertools.accumulate(1.0 / (rank**1.1) for rank in range(1, count + 1)))

    def draw(self) -> int:
        return bisect.bisect_left(self.cumulative, self.rng.random() * self.cumulative[-1])


class _Definitions:
    """Defines each actor in the first document that mentions it."""

    def __init__(self) -> None:
        self.defined: set[str] = set()
        self.pending: list[dict[str, Any]] = []

    def use(self, key: str, make: Any) -> str:
        if key not in self.defined:
            self.defined.add(key)
            self.pending.append(make())
        return key

    def take(self) -> list[dict[str, Any]]:
        taken, self.pending = self.pending, []
        return taken


def generate(shape: GraphShape) -> Iterator[dict[str, Any]]:
    """Seed documents, one report each, in an order where every reference points backwards."""
    rng = random.Random(shape.seed)
    popularity = _Popularity(shape.actors, rng)
    definitions = _Definitions()
    use = definitions.use
    recent: list[tuple[str, list[str]]] = []  # (report id, its claim ids) of the last reports, for relays
    anonymous_count = max(1, shape.actors // 20)

    def actor_definition(index: int) -> dict[str, Any]:
        key = f"actor-{index}"
        definition: dict[str, Any] = {
            "id": key,
            "name": f"Actor {index}",
            "kind": ACTOR_KINDS[index % len(ACTOR_KINDS)],
        }
        if index % 3 == 0:
            definition["aliases"] = [f"A{index}", f"The {index}"][: 1 + index % 2]
        return definition

    for number in range(shape.reports):
        report_id = f"report-{number}"
        outlet_index = number % shape.outlets
        outlet = use(
            f"outlet-{outlet_index}",
            lambda i=outlet_index: {"id": f"outlet-{i}", "name": f"Outlet {i}", "kind": "media_outlet"},
        )
        cites: list[str] = []
        carried: list[str] = []
        if recent and rng.random() < shape.relay_share:
            cited_id, cited_claims = recent[rng.randrange(len(recent))]
            cites.append(cited_id)
            carried = rng.sample(cited_claims, k=min(len(cited_claims), rng.randint(1, 2)))

        claims: list[dict[str, Any]] = []
        for c in range(shape.claims_per_report):
            if rng.random() < shape.anonymous_share:
                index = rng.randrange(anonymous_count)
                source = use(
                    f"anon-{index}",
                    lambda i=index: {
                        "id": f"anon-{i}",
                        "name": f"Anonymous source {i}",
                        "kind": "person",
                        "anonymous": True,
                        "descriptor": f"an unnamed official, source {i}",
                    },
                )
            else:
                index = popularity.draw()
                source = use(f"actor-{index}", lambda i=index: actor_definition(i))
            about = sorted({popularity.draw() for _ in range(rng.randint(1, 3))})
            claims.append(
                {
                    "id": f"claim-{number}-{c}",
                    "text": f"Claim {c} of report {number} about actors {', '.join(map(str, about))}",
                    "modality": MODALITIES[rng.randrange(len(MODALITIES))],
                    "source": source,
                    "about": [use(f"actor-{i}", lambda i=i: actor_definition(i)) for i in about],
                }
            )

        relations = []
        if rng.random() < shape.relation_share and claims:
            a, b = popularity.draw(), popularity.draw()
            if a != b:
                since = 1990 + rng.randrange(35)
                relation: dict[str, Any] = {
                    "id": f"relation-{number}",
                    "kind": RELATION_KINDS[rng.randrange(len(RELATION_KINDS))],
                    "from": use(f"actor-{a}", lambda i=a: actor_definition(i)),
                    "to": use(f"actor-{b}", lambda i=b: actor_definition(i)),
                    "since": str(since),
                    "evidence": [claims[0]["id"]],
                }
                if rng.random() < 0.3:
                    relation["until"] = str(since + 1 + rng.randrange(10))
                relations.append(relation)

        events = []
        if rng.random() < shape.event_share:
            participants = sorted({popularity.draw() for _ in range(rng.randint(2, 4))})
            events.append(
                {
                    "id": f"event-{number}",
                    "name": f"Event {number}",
                    "kind": EVENT_KINDS[number % len(EVENT_KINDS)],
                    "startDate": f"{2000 + number % 25}-{1 + number % 12:02d}",
                    "participants": [
                        {"actor": use(f"actor-{i}", lambda i=i: actor_definition(i)), "role": "participant"}
                        for i in participants
                    ],
                }
            )
            claims[0]["aboutEvents"] = [f"event-{number}"]

        day = number % 28 + 1
        yield {
            "report": {
                "id": report_id,
                "title": f"Report {number}",
                "publishedAt": f"{2015 + (number * 7) // max(1, shape.reports) % 10}-{1 + number % 12:02d}-{day:02d}",
                "publisher": outlet,
                "cites": cites,
            },
            "actors": definitions.take(),
            "events": events,
            "claims": claims,
            "relations": relations,
            "carriedClaims": carried,
        }
        recent.append((report_id, [c["id"] for c in claims]))
        if len(recent) > 1_000:
            recent.pop(0)
