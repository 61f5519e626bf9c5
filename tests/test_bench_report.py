"""The benchmark's summary: rows are medians of rounds, ratios are medians of per-round ratios, and the
targets table says met or missed from those."""

from __future__ import annotations

from typing import Any

from bench.perf import median_ratio, summary_row, targets


def measured(rps: float, p50: float, p99: float, rss: float | None = None, errors: int = 0) -> dict[str, Any]:
    return {"throughput_rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors, "rss_mb": rss}


def row(scenario: str, concurrency: int, contender: str, rounds: list[dict[str, Any]]) -> dict[str, Any]:
    return summary_row(scenario, "large", concurrency, contender, rounds, 1)


def test_a_row_is_the_median_of_its_rounds() -> None:
    summary = row("point-lookup", 8, "kb", [measured(100, 2, 9, 200, 1), measured(300, 1, 5, 250), measured(200, 3, 7)])

    assert (summary["throughput_rps"], summary["p50_ms"], summary["p99_ms"]) == (200, 2, 7)
    assert (summary["errors"], summary["rss_mb"]) == (1, 250)
    assert len(summary["rounds"]) == 3


def test_a_ratio_is_the_median_of_the_ratios_within_each_round() -> None:
    # Round by round kb is 2, 1.2 and 3 times the library: the median is 2. The ratio of the medians
    # (200 / 100) happens to agree here; with a slow round for both it would not.
    kb = row("point-lookup", 8, "kb", [measured(200, 1, 2), measured(60, 1, 2), measured(600, 1, 2)])
    library = row("point-lookup", 8, "neo4j-graphql", [measured(100, 1, 2), measured(50, 1, 2), measured(200, 1, 2)])

    assert median_ratio(kb, library) == 2


def test_the_targets_table_says_which_are_met() -> None:
    rows = [
        row("point-lookup", 1, "kb", [measured(300, 1, 2, 240)] * 3),
        row("point-lookup", 1, "neo4j-graphql", [measured(100, 3, 6)] * 3),
        row("point-lookup", 1, "http-floor", [measured(140, 2, 4)] * 3),
        row("claims-page-100", 1, "kb", [measured(140, 7, 9, 260)] * 3),
        row("claims-page-100", 1, "neo4j-graphql", [measured(100, 10, 12)] * 3),
        row("headline", 1, "kb", [measured(50, 16.0, 40)] * 3),
        row("headline", 1, "driver-floor", [measured(55, 15.0, 38)] * 3),
        row("headline", 8, "kb", [measured(110, 60, 200), measured(110, 60, 150), measured(110, 60, 170)]),
        row("point-lookup", 32, "kb", [measured(900, 30, 60, 310)] * 3),
    ]
    by_key = {(r["graph"], r["scenario"], r["concurrency"], r["contender"]): r for r in rows}

    table = targets(by_key)

    assert "| point-lookup, concurrency 1: kb / library throughput | 3.00 x | met |" in table
    assert "| claims-page-100, concurrency 1: kb / library throughput | 1.40 x | missed |" in table
    # The stack without GraphQL: context for kb's ratio, not a target of kb's.
    context = "http floor / library throughput (context) | 1.40 x | beyond the stack's reach"
    assert f"| point-lookup, concurrency 1: {context} |" in table
    assert "claims-page-100, concurrency 1: http floor" not in table
    assert "| headline, concurrency 1: kb p50 - floor p50 | 1.00 ms | met |" in table
    assert "| headline, concurrency 8: kb p99 / p50 | 2.83 | met |" in table  # 170 / 60, the middle round
    assert "| kb peak RSS at concurrency 32 | 310.00 MB | missed |" in table
    assert targets({}) == ""
