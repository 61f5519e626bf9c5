"""Paths between actors, with every step put in words."""

from __future__ import annotations

import strawberry

from service.api.types import Node, node_from
from service.graph.driver import Record


@strawberry.type(description="One step of a path: two nodes and the link between them.")
class PathStep:
    source: Node = strawberry.field(description="The node the step starts from.", name="from")
    target: Node = strawberry.field(description="The node the step reaches.", name="to")
    link: str = strawberry.field(description="RELATED_TO, PARTICIPATED_IN, ABOUT, ATTRIBUTED_TO or AFFILIATED_WITH.")
    kind: str | None = strawberry.field(description="The relation kind or participant role, where there is one.")
    explanation: str = strawberry.field(description="The step as a sentence.")


@strawberry.type(description="A shortest connection between two actors.")
class Path:
    length: int = strawberry.field(description="Number of steps.")
    nodes: list[Node] = strawberry.field(description="From the first actor to the second.")
    steps: list[PathStep] = strawberry.field(description="The steps, in order, each explained.")


def explain_path(record: Record) -> Path:
    """The path as GraphQL nodes and steps, each step explained in a sentence."""
    by_id = {n["node"]["id"]: n for n in record["nodes"]}
    nodes = [node_from(n["type"], n["node"]) for n in record["nodes"]]
    built = {n["node"]["id"]: node for n, node in zip(record["nodes"], nodes, strict=True)}
    steps = []
    for step in record["steps"]:
        start, end = by_id[step["start"]], by_id[step["end"]]
        kind, sentence = _explain(step["type"], step["props"], _label(start), _label(end))
        steps.append(
            PathStep(
                source=built[step["start"]],
                target=built[step["end"]],
                link=step["type"],
                kind=kind,
                explanation=sentence,
            )
        )
    return Path(length=len(steps), nodes=nodes, steps=steps)


def _label(entry: Record) -> str:
    node = entry["node"]
    if entry["type"] == "Claim":
        return f'the claim "{node.get("text", node["id"])}"'
    return str(node.get("name") or node.get("title") or node["id"])


def _explain(link: str, props: Record, start: str, end: str) -> tuple[str | None, str]:
    if link == "RELATED_TO":
        kind = str(props.get("kind"))
        return kind, f"{start} {kind.replace('_', ' ')} {end}{_interval(props)}"
    if link == "PARTICIPATED_IN":
        role = props.get("role")
        return role, f"{start} took part in {end}" + (f" as {role}" if role else "")
    if link == "AFFILIATED_WITH":
        role = props.get("role")
        return role, f"{start} is affiliated with {end}" + (f" ({role})" if role else "") + _interval(props)
    if link == "ATTRIBUTED_TO":
        return None, f"{start} is attributed to {end}"
    return None, f"{start} is about {end}"


def _interval(props: Record) -> str:
    since, until = props.get("since"), props.get("until")
    if since and until:
        return f" from {since} until {until}"
    if since:
        return f" since {since}"
    if until:
        return f" until {until}"
    return ""
