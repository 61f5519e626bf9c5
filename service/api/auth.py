"""Bearer tokens with roles: reader < writer < admin.

Tokens come from the ``KB_TOKENS`` setting (``token:role`` pairs). A request
presents one as ``Authorization: Bearer <token>``. Writes need ``writer``
(merging actors and deleting reports need ``admin``); reads are open unless
``KB_READ_REQUIRES_TOKEN`` is set.
"""

from __future__ import annotations

import hmac
from enum import IntEnum

from service.errors import Forbidden, Unauthenticated


class Role(IntEnum):
    READER = 1
    WRITER = 2
    ADMIN = 3


class Credentials:
    """What one request presented: no token, a valid token with its role, or a bad token."""

    def __init__(self, role: Role | None, presented: bool) -> None:
        self.role = role
        self.presented = presented

    @classmethod
    def anonymous(cls) -> Credentials:
        return cls(None, presented=False)

    @classmethod
    def from_header(cls, authorization: str | None, tokens: dict[str, Role]) -> Credentials:
        if not authorization:
            return cls.anonymous()
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return cls(None, presented=True)
        return cls(_lookup(token.strip(), tokens), presented=True)

    def require(self, needed: Role) -> None:
        """Raise UNAUTHENTICATED without a valid token, FORBIDDEN when its role is too low."""
        if self.role is None:
            reason = "the token is not valid" if self.presented else "this needs a bearer token"
            raise Unauthenticated(f"{reason}; send Authorization: Bearer <token>")
        if self.role < needed:
            raise Forbidden(f"this needs the {needed.name.lower()} role; the token has {self.role.name.lower()}")


def _lookup(token: str, tokens: dict[str, Role]) -> Role | None:
    # Compare against every token in constant time, so timing tells nothing.
    found: Role | None = None
    for known, role in tokens.items():
        if hmac.compare_digest(known.encode(), token.encode()):
            found = role
    return found


def parse_tokens(spec: str) -> dict[str, Role]:
    """``"tokenA:writer,tokenB:admin"`` -> {token: Role}; raise ValueError on a bad entry."""
    tokens: dict[str, Role] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        token, _, role = entry.rpartition(":")
        if not token or role.upper() not in Role.__members__:
            raise ValueError(f"KB_TOKENS entry '{entry[:4]}…' must be token:reader|writer|admin")
        if len(token) < 16:
            raise ValueError("KB_TOKENS tokens must be at least 16 characters")
        tokens[token] = Role[role.upper()]
    return tokens
