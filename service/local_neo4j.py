"""The local Neo4j server: real Neo4j 5.26 Community, no Docker.

Maven resolves the artifacts of ``neo4j/pom.xml`` from Maven Central into the
user's Maven repository; this module writes a ``neo4j.conf``, sets the initial
password, and runs ``org.neo4j.server.CommunityEntryPoint`` on Java 17 or 21 as
a detached process bound to loopback. The store lives under ``home`` and
persists between runs. The Python driver talks to it over Bolt like to any
other Neo4j.

What a start chose (Bolt port, heap, page cache, Java) is written to
``home/server.json`` as the server starts, and kept when it stops. Every later
command, in any shell, reads it (``recorded_settings``): an environment that
does not name the port finds the server where it was started, and a restart
comes back on the same port. A variable the environment does set wins.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

import neo4j
from service.config import PROJECT_ROOT, Settings

POM = PROJECT_ROOT / "neo4j" / "pom.xml"
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
ADMIN_TOOL = "org.neo4j.cli.AdminTool"
SUPPORTED_JAVA = (17, 21)
# Neo4j's offline importer (neo4j-admin database import, in neo4j-import-tool, which the server's artifacts
# already bring): its heap, and what it may take besides for its caches. With the command that runs it, this
# keeps a million-claim load under 2 GB.
IMPORT_HEAP = "512m"
IMPORT_OFF_HEAP = "1g"

# The flags Neo4j's own launch scripts pass to the JVM that matter here.
JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
)


RECORD_NAME = "server.json"
# The settings a record supplies, as Settings names them, and the record's name for each.
RECORDED_SETTINGS = {
    "local_neo4j_bolt_port": "bolt_port",
    "local_neo4j_heap": "heap",
    "local_neo4j_pagecache": "pagecache",
}


class LocalNeo4jError(RuntimeError):
    """The local server could not be prepared, started or stopped."""


class ServerRecord(BaseModel):
    """What the server in a home was last started with, as ``home/server.json`` holds it.

    (The server's HTTP and HTTPS connectors are off; Bolt is its only port.)
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    bolt_port: int = Field(ge=1, le=65535)
    heap: str
    pagecache: str
    pid: int
    java: str
    started_at: datetime

    @classmethod
    def read(cls, home: Path) -> ServerRecord | None:
        """The record in ``home``, or None when there is none (or it cannot be read: the defaults then hold)."""
        try:
            return cls.model_validate_json((home / RECORD_NAME).read_bytes())
        except (OSError, ValidationError):
            return None

    def write(self, home: Path) -> None:
        path = home / RECORD_NAME
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(self.model_dump(mode="json"), indent=2) + "\n")
        partial.replace(path)  # never half a record


def recorded_settings(settings: Settings) -> Settings:
    """``settings``, with what the local server in their KB_NEO4J_HOME was last started with in place of
    each of KB_NEO4J_BOLT_PORT, KB_NEO4J_HEAP and KB_NEO4J_PAGECACHE the environment leaves unset."""
    record = ServerRecord.read(settings.local_neo4j_home)
    if record is None:
        return settings
    update = {
        name: getattr(record, field)
        for name, field in RECORDED_SETTINGS.items()
        if name not in settings.model_fields_set
    }
    return settings.model_copy(update=update) if update else settings


@dataclass(frozen=True)
class LocalNeo4j:
    """One local Neo4j installation: a home directory and how to run it."""

    home: Path
    bolt_port: int
    user: str
    password: str
    heap: str = "1g"
    pagecache: str = "512m"
    java_home: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalNeo4j:
        return cls(
            home=settings.local_neo4j_home,
            bolt_port=settings.local_neo4j_bolt_port,
            user=settings.neo4j_user,
            password=settings.neo4j_password.get_secret_value(),
            heap=settings.local_neo4j_heap,
            pagecache=settings.local_neo4j_pagecache,
            java_home=settings.java_home,
        )

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "run" / "neo4j.pid"

    @property
    def console_log(self) -> Path:
        return self.home / "logs" / "console.log"

    def record(self) -> ServerRecord | None:
        """What the server in this home was last started with (None: never started by this version)."""
        return ServerRecord.read(self.home)

    # -- lifecycle -------------------------------------------------------------

    def start(self, timeout_s: float = 180.0) -> str:
        """Start the server unless it already runs; return its Bolt URI once it answers.

        Its settings are recorded in ``home/server.json`` as it starts. Interrupted before Bolt answers
        (Ctrl-C included), or failing to start, it is stopped again: nothing is left half started.
        """
        running = self.pid()
        if running is not None:
            record = self.record()
            if record is not None and record.bolt_port != self.bolt_port:
                raise LocalNeo4jError(
                    f"the local Neo4j in {self.home} already runs on Bolt port {record.bolt_port} (pid {running}); "
                    f"stop it (`kb neo4j stop`) to start it on {self.bolt_port}, or unset KB_NEO4J_BOLT_PORT"
                )
            self._wait_for_bolt(timeout_s)
            return self.uri
        if _port_in_use(self.bolt_port):
            raise LocalNeo4jError(
                f"port {self.bolt_port} is taken by another process; set KB_NEO4J_BOLT_PORT "
                "or point NEO4J_URI at that server"
            )
        java = find_java(self.java_home)
        classpath = resolve_classpath(self.home)
        self._write_config()
        self._set_initial_password(java, classpath)
        self.console_log.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        with self.console_log.open("ab") as log:
            process = subprocess.Popen(
                [
                    java,
                    f"-Xms{self.heap}",
                    f"-Xmx{self.heap}",
                    *JVM_FLAGS,
                    "-cp",
                    classpath,
                    ENTRY_POINT,
                    f"--home-dir={self.home}",
                    f"--config-dir={self.home / 'conf'}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._env(),
                start_new_session=True,  # survives the command that started it
            )
        self.pid_file.write_text(str(process.pid))
        ServerRecord(
            bolt_port=self.bolt_port,
            heap=self.heap,
            pagecache=self.pagecache,
            pid=process.pid,
            java=java,
            started_at=datetime.now(UTC).replace(microsecond=0),
        ).write(self.home)
        try:
            self._wait_for_bolt(timeout_s, process)
        except BaseException:
            self.stop()
            raise
        return self.uri

    def stop(self, timeout_s: float = 60.0) -> bool:
        """Stop the server gracefully; return False if it was not running."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

    def pid(self) -> int | None:
        """The pid of the running server, or None (a stale pid file is removed)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if _alive(pid) and _is_neo4j(pid):
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def import_database(self, arguments: list[str], database: str = "neo4j") -> str:
        """Replace ``database`` with what Neo4j's importer builds from ``arguments`` (an import set's).

        The server must be stopped; the database's files are overwritten. Returns the importer's output;
        a failure raises LocalNeo4jError with the end of it.
        """
        if self.pid() is not None:
            raise LocalNeo4jError("the importer needs the server stopped")
        java = find_java(self.java_home)
        classpath = resolve_classpath(self.home)
        self._write_config()
        self._set_initial_password(java, classpath)
        log = self.home / "logs" / "import.log"
        result = subprocess.run(
            [
                java,
                f"-Xmx{IMPORT_HEAP}",
                *JVM_FLAGS,
                "-cp",
                classpath,
                ADMIN_TOOL,
                "database",
                "import",
                "full",
                "--overwrite-destination=true",
                f"--max-off-heap-memory={IMPORT_OFF_HEAP}",
                f"--report-file={self.home / 'logs' / 'import.report'}",
                *arguments,
                database,
            ],
            env=self._env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        log.write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            raise LocalNeo4jError(f"Neo4j's importer failed; last lines of {log}:\n" + _tail(log))
        return result.stdout

    # -- preparation -----------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["NEO4J_HOME"] = str(self.home)
        env["NEO4J_CONF"] = str(self.home / "conf")
        return env

    def _write_config(self) -> None:
        for sub in ("conf", "data", "logs", "plugins", "import", "run"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        conf = f"""\
# Written by `kb neo4j start`; edits are overwritten at the next start.
server.default_listen_address=127.0.0.1
server.default_advertised_address=127.0.0.1
server.bolt.listen_address=127.0.0.1:{self.bolt_port}
server.bolt.advertised_address=127.0.0.1:{self.bolt_port}
server.http.enabled=false
# Keep-alive NOOPs only while a result streams: under ALL (Neo4j's default) the server asks every driver to
# time each socket read (the HELLO hint connection.recv_timeout_seconds), which the Python driver does with a
# task and a timer per read, 7 of each per point lookup; a process on this host that dies closes its socket.
server.bolt.connection_keep_alive_for_requests=STREAMING
server.https.enabled=false
dbms.security.auth_enabled=true
server.directories.data={self.home / "data"}
server.directories.logs={self.home / "logs"}
server.directories.plugins={self.home / "plugins"}
server.directories.import={self.home / "import"}
server.directories.run={self.home / "run"}
server.memory.heap.initial_size={self.heap}
server.memory.heap.max_size={self.heap}
server.memory.pagecache.size={self.pagecache}
db.transaction.timeout=60s
dbms.usage_report.enabled=false
"""
        (self.home / "conf" / "neo4j.conf").write_text(conf)

    def _set_initial_password(self, java: str, classpath: str) -> None:
        # Only effective before the first start, which is the only time we do it.
        if (self.home / "data" / "dbms" / "auth.ini").exists() or (self.home / "data" / "databases").exists():
            return
        result = subprocess.run(
            [java, "-cp", classpath, ADMIN_TOOL, "dbms", "set-initial-password", self.password],
            env=self._env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise LocalNeo4jError(f"setting the initial password failed:\n{result.stdout}{result.stderr}")

    def _wait_for_bolt(self, timeout_s: float, process: subprocess.Popen[bytes] | None = None) -> None:
        deadline = time.monotonic() + timeout_s
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise LocalNeo4jError(
                    f"Neo4j exited with code {process.returncode}; last lines of {self.console_log}:\n"
                    + _tail(self.console_log)
                )
            if _port_in_use(self.bolt_port):
                try:
                    with neo4j.GraphDatabase.driver(self.uri, auth=(self.user, self.password)) as driver:
                        driver.verify_connectivity()
                    return
                except neo4j.exceptions.AuthError as error:
                    raise LocalNeo4jError(
                        f"Neo4j at {self.uri} refused the credentials: its password was set when "
                        f"{self.home} was created; use that NEO4J_PASSWORD or remove the directory"
                    ) from error
                except Exception as error:  # noqa: BLE001 - any failure here means "not yet"
                    last_error = error
            time.sleep(0.5)
        raise LocalNeo4jError(f"Neo4j did not answer on {self.uri} within {timeout_s:.0f}s: {last_error}")


# -- helpers -------------------------------------------------------------------


def resolve_classpath(cache_dir: Path) -> str:
    """The Neo4j server's class path, resolved by Maven once per pom.xml version."""
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:16]
    cache = cache_dir / "run" / f"classpath-{digest}.txt"
    if cache.exists():
        classpath = cache.read_text().strip()
        if all(Path(jar).exists() for jar in classpath.split(os.pathsep)):
            return classpath
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalNeo4jError("Maven (mvn) is needed to fetch Neo4j from Maven Central and is not on PATH")
    cache.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:build-classpath",
            "-Dmdep.includeScope=runtime",
            f"-Dmdep.outputFile={cache}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not cache.exists():
        raise LocalNeo4jError(f"Maven could not resolve Neo4j:\n{result.stdout}{result.stderr}")
    return cache.read_text().strip()


def find_java(java_home: Path | None = None) -> str:
    """A java executable of a version Neo4j 5.26 supports (17 or 21)."""
    candidates: list[Path] = []
    if java_home is not None:
        candidates.append(java_home / "bin" / "java")
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path))
    jvm_root = Path("/usr/lib/jvm")
    if jvm_root.is_dir():
        candidates.extend(sorted(jvm_root.glob("*/bin/java")))
    seen: list[str] = []
    for candidate in candidates:
        if not candidate.exists():
            continue
        version = _java_major_version(candidate)
        seen.append(f"{candidate} ({version})")
        if version in SUPPORTED_JAVA:
            return str(candidate)
    raise LocalNeo4jError("Neo4j 5.26 needs Java 17 or 21; found: " + (", ".join(seen) or "no java at all"))


def _java_major_version(java: Path) -> int | None:
    result = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)', result.stderr + result.stdout)
    return int(match.group(1)) if match else None


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of this process still answers kill(0): reap it.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        # Not our child: a zombie that another process (the one that started the server) has not reaped yet
        # has exited all the same.
        return not _zombie(pid)
    return done == 0


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # no /proc, or gone since
    return stat[stat.rindex(")") + 2 :].startswith("Z")


def _is_neo4j(pid: int) -> bool:
    try:
        return ENTRY_POINT.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc: trust the pid file


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
