"""Who may call what: each root field names the roles allowed to call it, and gets its arguments
checked against their bounds (gateway/bounds.py) once the caller may call it."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from gateway.availability import NotesWrites
from gateway.bounds import InputBounds
from services.kernel.caller import Role

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"


class AuthError(GraphQLError):
    """A refusal to run a field for this caller; its message is safe to show."""


class RolesAllowed(BasePermission):
    error_class = AuthError
    error_extensions = {"code": FORBIDDEN}

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles
        names = ", ".join(sorted(role.value for role in roles))
        self.message = f"Forbidden: this operation is open to the roles {names} only."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal is None:
            # The HTTP endpoint answers 401 before executing; this guards any other way in.
            raise AuthError("Authentication required.", extensions={"code": UNAUTHENTICATED})
        return principal.role in self.roles


def allow(*roles: Role) -> list[FieldExtension]:
    """Field extensions letting only these roles call the field, e.g.
    `@strawberry.mutation(extensions=allow(Role.BACKOFFICE, Role.ADMIN))`, with its arguments
    within their bounds. (The last extension runs first: a caller the field is not open to is
    told FORBIDDEN, whatever it sent.)"""
    return [
        NotesWrites(),
        InputBounds(),
        PermissionExtension([RolesAllowed(frozenset(roles))], use_directives=False),
    ]
