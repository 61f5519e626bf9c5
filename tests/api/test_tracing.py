"""OpenTelemetry, when configured: a span per request, a child span per Cypher round trip, no parameter values."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from service.api.graphiql import EXAMPLES
from service.config import Settings
from service.graph.driver import Database, recorded_statements
from service.observability import setup_tracing
from tests.api.test_http import make_client


async def test_a_request_is_a_span_with_one_child_per_round_trip(seeded: Database, neo4j_settings: Settings) -> None:
    exporter = InMemorySpanExporter()
    assert setup_tracing(exporter)
    [headline, *_] = EXAMPLES
    with recorded_statements() as sent:
        async with make_client(neo4j_settings) as client:
            response = await client.post(
                "/graphql",
                json={"query": headline.query, "variables": headline.variables},
                headers={"x-request-id": "trace-1"},
            )
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    provider.force_flush()
    spans = exporter.get_finished_spans()

    assert response.json()["data"]["actor"]["name"] == "Israel"
    [request] = [s for s in spans if s.kind == SpanKind.SERVER and attributes(s).get("kb.request_id") == "trace-1"]
    assert request.name == "POST /graphql"
    assert attributes(request)["http.response.status_code"] == 200
    children = [s for s in spans if s.parent is not None and s.parent.span_id == request.context.span_id]
    assert len(sent) == 1  # the headline, compiled: one statement
    assert len(children) == len(sent)
    assert {s.name for s in children} == {"neo4j read"}
    statements = [str(attributes(s)["db.query.text"]) for s in children]
    assert sorted(statements) == sorted(text for text, _ in sent)
    assert all("$" in text for text in statements)
    assert not [text for text in statements if "Jewish State" in text]


def attributes(span: ReadableSpan) -> dict[str, object]:
    return dict(span.attributes or {})
