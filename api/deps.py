"""Dependencies as ``Annotated`` aliases: settings, store, principal (with scopes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from api.service import Service
from api.settings import ApiSettings
from theragraph.auth import Principal
from theragraph.store import Store

_bearer = HTTPBearer(auto_error=False, description="A token from `theragraph token add`")
# Dependencies are ``async def`` on purpose: they never block (a hash and a stat), and FastAPI
# would otherwise hop to a worker thread for each one, which costs milliseconds under load.


async def get_service(request: Request) -> Service:
    """Return the app's shared :class:`Service`."""
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]


async def get_settings(service: ServiceDep) -> ApiSettings:
    """Return the service settings."""
    return service.settings


async def get_store(service: ServiceDep) -> Store:
    """Return the store."""
    return service.store


async def get_principal(
    security: SecurityScopes,
    request: Request,
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate the bearer token and check the scopes the route declares.

    Raises:
        AccessError: 401 without/with a bad token, 403 without the scope.
    """
    # The router-level and the endpoint-level dependency share one verification per request.
    principal = getattr(request.state, "principal_object", None)
    if principal is None:
        principal = service.authenticate(credentials.credentials if credentials else None)
        request.state.principal_object = principal
        request.state.principal = principal.name
    for scope in security.scopes:
        principal.require(scope)
    return principal


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
PrincipalDep = Annotated[Principal, Security(get_principal, scopes=["read"])]
AdminDep = Annotated[Principal, Security(get_principal, scopes=["admin"])]
