"""What one row of the hub API's route table is, and what its handler may use of a request.

The table itself is assembled in hub/routes.py from the areas' tables (hub/routes_*.py);
`make_app` (hub/api.py) serves exactly its rows and `openapi.build` describes exactly
them. Each row declares the token roles it allows and whether a store manager's token is
confined to its own store (`scoped`): the auth middleware and the table-driven auth test
read the same declaration.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import msgspec

from hub.errors import HubError

if TYPE_CHECKING:  # the service imports nothing of HTTP; only handlers need its type
    from hub.schemas import OpenApiDocument
    from hub.service import HubService

B = TypeVar("B")

#: the roles an API token may have (users of the tills have their own, node/permissions.py)
TOKEN_ROLES = ("admin", "buyer", "finance", "store_manager", "viewer")

#: every token role: reads head office and stores alike may see
ANY_ROLE: frozenset[str] = frozenset(TOKEN_ROLES)
#: master data, prices, suppliers, purchase orders: what buyers do
BUYING: frozenset[str] = frozenset({"admin", "buyer"})
#: stock corrections, periods, reports of money
FINANCE: frozenset[str] = frozenset({"admin", "finance"})
#: users, tokens, node identities, dead letters
ADMIN: frozenset[str] = frozenset({"admin"})


class Forbidden(HubError):
    """A valid token whose role, or whose store, does not allow this (403)."""


class Conflict(HubError):
    """The request contradicts what the hub already holds, e.g. a caller's order id sent
    again with other lines (409)."""


class Unavailable(HubError):
    """The hub cannot answer this yet, e.g. not ready while NATS is away (503)."""


@dataclass(frozen=True)
class Replayed:
    """A handler's answer to a request the hub has already carried out (an order sent
    again under its id): the same answer, with `status` instead of the route's own."""

    value: msgspec.Struct
    status: int = 200


#: what a handler returns: its route's response Struct, or a replay of one
Answer = msgspec.Struct | Replayed


@dataclass(frozen=True)
class Principal:
    """Who calls: the token's name (recorded as the user of every event it writes), its
    role, and for a store manager the one store it may see and change."""

    name: str
    role: str
    location: str | None = None


@dataclass(frozen=True)
class Call(Generic[B]):
    """What a handler may use of a request: only the parameters its route declares."""

    hub: HubService
    body: B
    query: Mapping[str, str]
    path: Mapping[str, str]
    openapi: OpenApiDocument
    principal: Principal = Principal("api", "admin")

    @property
    def user(self) -> str:
        """The author recorded on the events this call writes: the token's name."""
        return self.principal.name

    def scope(self, location: str | None) -> str | None:
        """The location a read or write may touch: a store manager's token may name only
        its own store, and a request naming none is narrowed to it; other roles get what
        they asked for (None: every location)."""
        own = self.principal.location
        if own is None:
            return location
        if location is not None and location != own:
            raise Forbidden(
                f"this token ({self.principal.name}) may only use store {own}, not {location}"
            )
        return own

    def require(self, location: str) -> None:
        """Refuse (403) a store manager acting on a document or record of another store."""
        self.scope(location)


@dataclass(frozen=True)
class Query:
    """An optional query parameter (a string; left out or empty means 'all'). `schema`
    is its JSON Schema in the OpenAPI document, when more can be said than "a string"
    (say `{"type": "string", "pattern": "^[0-9]{1,4}$"}`: numbers arrive as text)."""

    name: str
    description: str
    schema: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class Route:
    """One operation. `roles` None means public (no token); `errors` are the error
    statuses it may answer besides its success `status`; `scoped` means a store
    manager's token may use it for its own store only (403 for another's)."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    handler: Callable[[Call[Any]], Answer]
    summary: str
    body: type[msgspec.Struct] | None = None
    response: type[msgspec.Struct]
    query: tuple[Query, ...] = ()
    status: int = 200
    errors: tuple[int, ...] = (401, 403)
    roles: frozenset[str] | None = ANY_ROLE
    scoped: bool = False
    #: a valid request body (JSON-able), shown in the OpenAPI document and used by the
    #: table-driven tests; every route with a body gives one
    example: dict[str, Any] | None = None
    #: other success statuses it may answer (a replayed request's 200 beside its 201)
    also: tuple[int, ...] = ()
    #: what the body is: JSON of `response`, or for another type (Prometheus' text) the
    #: `text` field of `response`, sent as is
    content_type: str = "application/json"

    def __post_init__(self) -> None:
        """A body can be refused (400), a token missing (401) or not allowed (403): say so."""
        where = f"{self.method} {self.path}"
        if self.body is not None and self.example is None:
            raise ValueError(f"{where}: a route with a body gives an example body")
        if self.body is not None and 400 not in self.errors:
            raise ValueError(f"{where}: a route with a body answers 400")
        if self.roles is not None and 401 not in self.errors:
            raise ValueError(f"{where}: a route needing a token answers 401")
        if self.roles is not None and self.roles != ANY_ROLE and 403 not in self.errors:
            raise ValueError(f"{where}: a route closed to some roles answers 403")
        if self.scoped and 403 not in self.errors:
            raise ValueError(f"{where}: a route scoped to a store answers 403")
        if self.scoped and self.roles is not None and "store_manager" not in self.roles:
            raise ValueError(f"{where}: only a route store managers may use can be scoped")
        unknown = set(self.roles or ()) - set(TOKEN_ROLES)
        if unknown:
            raise ValueError(f"{where}: unknown roles {sorted(unknown)}")

    @property
    def public(self) -> bool:
        return self.roles is None

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"\{(\w+)\}", self.path))
