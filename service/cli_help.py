"""What each ``kb`` command's ``--help`` says about the environment it reads.

Every setting comes from an environment variable (service/config.py); an option a command has for one of them
(``--host``, ``--port``, ``--seed-dir``) wins over it. Each command's help ends with the variables it reads,
named as ``Settings`` names them (a test checks every name here against its aliases).
"""

from __future__ import annotations

VARIABLES: dict[str, str] = {
    "NEO4J_URI": "the database; unset: the local Neo4j",
    "NEO4J_USER": "user name (neo4j)",
    "NEO4J_PASSWORD": "password; the local Neo4j's, when its home is made",
    "NEO4J_DATABASE": "database name (neo4j)",
    "NEO4J_QUERY_TIMEOUT": "seconds a transaction may run (10)",
    "NEO4J_RETRY_TIME": "seconds a failing call is retried (5)",
    "KB_NEO4J_HOME": "the local Neo4j's directory (.kb/neo4j)",
    "KB_NEO4J_BOLT_PORT": "its Bolt port; unset: as last started (7687 at first)",
    "KB_NEO4J_HEAP": "its heap; unset: as last started (1g at first)",
    "KB_NEO4J_PAGECACHE": "its page cache; unset: as last started (512m at first)",
    "JAVA_HOME": "Java 17 or 21 to run it with (else java on PATH)",
    "HOST": "interface to bind (127.0.0.1)",
    "PORT": "port to listen on (8000)",
    "LOG_LEVEL": "critical, error, warning, info, debug or trace (info)",
    "KB_LOG_FORMAT": "json or text (json)",
    "KB_SHUTDOWN_GRACE": "seconds requests in flight get to finish (30)",
    "KB_SCHEMA_DIR": "constraints and indexes to apply (schema/)",
    "KB_SEEDS_DIR": "seeds for an empty database (seeds/)",
}

CONNECTION = ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE", "NEO4J_QUERY_TIMEOUT", "NEO4J_RETRY_TIME")
# Where the local Neo4j is, when NEO4J_URI is unset; and what starting it takes.
LOCAL = ("KB_NEO4J_HOME", "KB_NEO4J_BOLT_PORT")
LOCAL_START = ("KB_NEO4J_HEAP", "KB_NEO4J_PAGECACHE", "JAVA_HOME")

CHECKED = (
    "Every variable of the README's Configuration table is checked before anything starts: a bad one is one "
    "line on stderr and exit status 2. A local Neo4j's port, heap and page cache, when unset, are those it was "
    "last started with (recorded in KB_NEO4J_HOME/server.json)."
)
NONE = "Environment: none read."


def epilog(*names: str, more: str = "") -> str:
    """The end of a command's help: the variables ``names``, one a line with what each means (within 80
    columns), then ``more`` and what holds for every command that reads the settings. (Click keeps the lines
    of a paragraph opened by a lone backspace as they are.)"""
    width = max(map(len, names))
    lines = [
        "\b",
        "Environment (defaults in parentheses):",
        *(f"  {name:<{width}}  {VARIABLES[name]}" for name in names),
    ]
    paragraphs = ["\n".join(lines), *([more] if more else []), CHECKED]
    return "\n\n".join(paragraphs)


SERVE = epilog(
    "HOST", "PORT", "KB_SEEDS_DIR", *CONNECTION, *LOCAL, *LOCAL_START, "KB_SCHEMA_DIR", "LOG_LEVEL", "KB_LOG_FORMAT",
    "KB_SHUTDOWN_GRACE",
    more="And the rest of the README's Configuration table: tokens, limits, CORS, persisted queries. --host, "
    "--port and --seed-dir win over HOST, PORT and KB_SEEDS_DIR.",
)  # fmt: skip
SEED = epilog(*CONNECTION, *LOCAL)
EXPORT = epilog(*CONNECTION, *LOCAL, more="--statement-timeout wins over NEO4J_QUERY_TIMEOUT for the export's reads.")
SCHEMA_APPLY = epilog(*CONNECTION, *LOCAL, "KB_SCHEMA_DIR")
NEO4J_START = epilog(*LOCAL, *LOCAL_START, "NEO4J_USER", "NEO4J_PASSWORD")
NEO4J_STOP = epilog("KB_NEO4J_HOME")
NEO4J_STATUS = epilog(
    "KB_NEO4J_HOME", "KB_NEO4J_BOLT_PORT", "NEO4J_URI",
    more="Status says which server the other commands connect to, and why: NEO4J_URI, KB_NEO4J_BOLT_PORT or "
    "the record of the last start.",
)  # fmt: skip
