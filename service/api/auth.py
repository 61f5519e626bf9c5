"""Bearer tokens with roles: reader < writer < admin.

Tokens come from the ``KB_TOKENS`` setting (``token:role`` pairs, or
``token:role:YYYY-MM-DD`` for a token that expires at the start of that day,
UTC). A request presents one as ``Authorization: Bearer <token>``. Writes need ``writer``
(merging actors and deleting reports need ``admin``); reads are open unless
``KB_READ_REQUIRES_TOKEN`` is set.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import IntEnum

from service.errors import Forbidden, Unauthenticated


class Role(IntEnum):
    READER = 1
    WRITER = 2
    ADMIN = 3


@dataclass(frozen=True)
class Token:
    role: Role
    expires: datetime | None = None  # the first instant it is refused

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires


class Credentials:
    """What one request presented: no token, a valid token with its role, or a bad or expired token."""

    def __init__(self, role: Role | None, presented: bool, expired: bool = False) -> None:
        self.role = role
        self.presented = presented
        self.expired = expired

    @classmethod
    def anonymous(cls) -> Credentials:
        return cls(None, presented=False)

    @classmethod
    def from_header(
        cls, authorization: str | None, tokens: dict[str, Token], now: datetime | None = None
    ) -> Credentials:
        if not authorization:
            return cls.anonymous()
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return cls(None, presented=True)
        token = _lookup(presented.strip(), tokens)
        if token is None:
            return cls(None, presented=True)
        if token.expired(now or datetime.now(UTC)):
            return cls(None, presented=True, expired=True)
        return cls(token.role, presented=True)

    def require(self, needed: Role) -> None:
        """Raise UNAUTHENTICATED without a valid token, FORBIDDEN when its role is too low."""
        if self.role is None:
            reason = (
                "the token has expired"
                if self.expired
                else "the token is not valid"
                if self.presented
                else "this needs a bearer token"
            )
            raise Unauthenticated(f"{reason}; send Authorization: Bearer <token>")
        if self.role < needed:
            raise Forbidden(f"this needs the {needed.name.lower()} role; the token has {self.role.name.lower()}")


def _lookup(presented: str, tokens: dict[str, Token]) -> Token | None:
    # Compare against every token in constant time, so timing tells nothing.
    found: Token | None = None
    for known, token in tokens.items():
        if hmac.compare_digest(known.encode(), presented.encode()):
            found = token
    return found


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_tokens(spec: str) -> dict[str, Token]:
    """``"tokenA:writer,tokenB:admin:2027-01-01"`` -> {token: Token}; raise ValueError on a bad entry.

    The message never holds more of a token than its first 4 characters."""
    tokens: dict[str, Token] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        expires: datetime | None = None
        head, _, last = entry.rpartition(":")
        if _DATE.fullmatch(last):
            try:
                expires = datetime.combine(date.fromisoformat(last), time(), UTC)
            except ValueError:
                raise ValueError(f"entry '{entry[:4]}…' has no such date: {last}") from None
            entry = head
        token, _, role = entry.rpartition(":")
        if not token or role.upper() not in Role.__members__:
            raise ValueError(f"entry '{entry[:4]}…' must be token:reader|writer|admin[:YYYY-MM-DD]")
        if len(token) < 16:
            raise ValueError("tokens must be at least 16 characters")
        tokens[token] = Token(Role[role.upper()], expires)
    return tokens
