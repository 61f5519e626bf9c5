"""One typed settings object, read from the environment.

Every knob the service has is a field here; the README's configuration table
lists the same names. Nothing else in the package reads ``os.environ``.
``service.config_check.checked_settings`` reads them checked whole (what the
application would refuse at start included), as ``kb`` and ``create_app`` do.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# How uvicorn is run (kb serve, the Dockerfile, the benchmarks and the end-to-end tests): h11, which reads at
# most this much of a request's line and headers (httptools reads any amount: a 200 MB header took 470 MB and
# 48 s). Between KB_MAX_HEADER_BYTES and this, the endpoint answers 431 in JSON; past it, uvicorn answers itself.
SERVER_HEADER_LIMIT = 256 * 1024
UVICORN_FLAGS = ["--http", "h11", "--h11-max-incomplete-event-size", str(SERVER_HEADER_LIMIT)]


class Settings(BaseSettings):
    """Configuration of the API, the local Neo4j launcher and the seed loader."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    # Neo4j connection. With no NEO4J_URI, `kb serve` starts the local server.
    neo4j_uri: str | None = Field(default=None, alias="NEO4J_URI")
    neo4j_user: str = Field(default="neo4j", alias="NEO4J_USER")
    neo4j_password: SecretStr = Field(default=SecretStr("kb-local-password"), alias="NEO4J_PASSWORD")
    neo4j_database: str = Field(default="neo4j", alias="NEO4J_DATABASE")
    neo4j_max_pool_size: int = Field(default=50, ge=1, alias="NEO4J_MAX_POOL_SIZE")
    neo4j_query_timeout_s: float = Field(default=10.0, gt=0, alias="NEO4J_QUERY_TIMEOUT")
    # How long a Neo4j call keeps retrying transient failures (Neo4j unreachable or restarting, a
    # deadlock, a leader change) before the request gets DATABASE_UNAVAILABLE; getting connections
    # included, 1 s more at most (service/graph/driver.py, Database._retried).
    neo4j_retry_s: float = Field(default=5.0, ge=0, alias="NEO4J_RETRY_TIME")
    # Queries compiled to one Cypher statement each (service/api/compiler.py); off: Strawberry resolves them.
    compiled_reads: bool = Field(default=True, alias="KB_COMPILED_READS")

    # HTTP server.
    host: str = Field(default="127.0.0.1", alias="HOST")
    port: int = Field(default=8000, ge=1, le=65535, alias="PORT")
    # uvicorn's levels; any case.
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = Field(
        default="info", alias="LOG_LEVEL"
    )
    log_format: Literal["json", "text"] = Field(default="json", alias="KB_LOG_FORMAT")
    # On SIGTERM: stop accepting, let requests in flight finish for this long, then close the driver.
    shutdown_grace_s: int = Field(default=30, ge=1, alias="KB_SHUTDOWN_GRACE")

    # Local Neo4j launcher (used only when NEO4J_URI is unset).
    local_neo4j_home: Path = Field(default=PROJECT_ROOT / ".kb" / "neo4j", alias="KB_NEO4J_HOME")
    local_neo4j_bolt_port: int = Field(default=7687, ge=1, le=65535, alias="KB_NEO4J_BOLT_PORT")
    local_neo4j_heap: str = Field(default="1g", alias="KB_NEO4J_HEAP")
    local_neo4j_pagecache: str = Field(default="512m", alias="KB_NEO4J_PAGECACHE")
    java_home: Path | None = Field(default=None, alias="JAVA_HOME")

    # Data.
    schema_dir: Path = Field(default=PROJECT_ROOT / "schema", alias="KB_SCHEMA_DIR")
    seeds_dir: Path = Field(default=PROJECT_ROOT / "seeds", alias="KB_SEEDS_DIR")
    graphiql_dir: Path = Field(default=PROJECT_ROOT / "web" / "node_modules", alias="KB_GRAPHIQL_DIR")

    # Credentials: "token:role" pairs, comma-separated; roles reader, writer, admin.
    tokens: SecretStr = Field(default=SecretStr(""), alias="KB_TOKENS")
    read_requires_token: bool = Field(default=False, alias="KB_READ_REQUIRES_TOKEN")

    # API limits.
    max_page_size: int = Field(default=100, ge=1, alias="KB_MAX_PAGE_SIZE")
    # Limits checked on every query before it reaches Neo4j (QUERY_TOO_COMPLEX).
    max_depth: int = Field(default=12, ge=1, alias="KB_MAX_DEPTH")
    max_aliases: int = Field(default=30, ge=0, alias="KB_MAX_ALIASES")
    max_tokens: int = Field(default=3_000, ge=10, alias="KB_MAX_TOKENS")
    max_cost: int = Field(default=50_000, ge=1, alias="KB_MAX_COST")
    # Validation compares the fields a selection set merges under one response name in pairs (300 copies of
    # one small field took it a second): at most this much of that work per document (see the README's Limits).
    max_overlap: int = Field(default=20_000, ge=1, alias="KB_MAX_OVERLAP")
    max_body_bytes: int = Field(default=1_048_576, ge=1_024, alias="KB_MAX_BODY_BYTES")
    # A request's headers, all of them (431 past it); and how long its body may take to arrive (408).
    max_header_bytes: int = Field(default=16_384, ge=1_024, alias="KB_MAX_HEADER_BYTES")
    body_timeout_s: float = Field(default=10.0, gt=0, alias="KB_BODY_TIMEOUT")
    introspection: bool = Field(default=True, alias="KB_INTROSPECTION")
    cors_origins: str = Field(default="", alias="KB_CORS_ORIGINS")
    persisted_queries: Path | None = Field(default=None, alias="KB_PERSISTED_QUERIES")
    allow_list_only: bool = Field(default=False, alias="KB_ALLOW_LIST_ONLY")
    apq_capacity: int = Field(default=1_000, ge=0, alias="KB_APQ_CAPACITY")

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    def local_bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.local_neo4j_bolt_port}"

    def effective_neo4j_uri(self) -> str:
        """The URI the service connects to: NEO4J_URI, or the local server's."""
        return self.neo4j_uri or self.local_bolt_uri()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
