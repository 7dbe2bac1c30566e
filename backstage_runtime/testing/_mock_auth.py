"""Mock auth for plugin tests: ``mock_credentials`` and services that accept mock tokens.

As in Backstage's test utilities, a request without an ``Authorization`` header is the user
``user:default/mock``; send ``mock_credentials.none.header()`` to test anonymous access.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ..api import PluginMetadataService, ServiceFactory, core_services, create_service_factory
from ..api.errors import AuthenticationError
from ..api.services._json import JsonObject
from ..api.services.auth import (
    AccessRestrictions,
    AuthService,
    BackstageCredentials,
    BackstageNonePrincipal,
    BackstageServicePrincipal,
    BackstageUserInfo,
    BackstageUserPrincipal,
    HttpAuthService,
    LimitedUserToken,
    PluginRequestToken,
    PrincipalType,
    UserInfoService,
)
from ..api.services.discovery import DiscoveryService
from ..api.services.permissions import PermissionsService
from ..defaults.http_auth import COOKIE_NAME, DefaultHttpAuthService
from ..http_toolkit import bearer_token, header_value
from ._service_mock import ServiceMock, build_service_mock

__all__ = [
    "MOCK_SERVICE_SUBJECT",
    "MOCK_USER_ENTITY_REF",
    "MockAuthService",
    "MockHttpAuthService",
    "MockPermissionsService",
    "MockUserInfoService",
    "mock_auth",
    "mock_credentials",
    "mock_http_auth",
    "mock_permissions",
    "mock_user_info",
]

#: The user of ``mock_credentials.user()`` and of every test request without an
#: ``Authorization`` header (Backstage's ``mockCredentials.user()`` default).
MOCK_USER_ENTITY_REF = "user:default/mock"
#: The subject of ``mock_credentials.service()`` (Backstage's ``mockCredentials.service()``
#: default).
MOCK_SERVICE_SUBJECT = "external:test-service"
_USER = "mock-user-token"
_LIMITED = "mock-limited-user-token"
_SERVICE = "mock-service-token"
_NONE = "mock-none-token"
_INVALID = (
    "mock-invalid-user-token",
    "mock-invalid-limited-user-token",
    "mock-invalid-service-token",
)


def _with_payload(base: str, payload: dict[str, Any]) -> str:
    return f"{base}:{json.dumps(payload, separators=(',', ':'))}"


def _check_user_ref(ref: str) -> str:
    # Backstage's mocks refuse what no real token could carry, so a typo fails at once.
    kind, _, rest = ref.partition(":")
    namespace, _, name = rest.partition("/")
    if not (kind and namespace and name):
        raise TypeError(
            f"Invalid user entity reference '{ref}', expected <kind>:<namespace>/<name>"
        )
    return ref


class _User:
    def __call__(
        self, user_entity_ref: str = MOCK_USER_ENTITY_REF, *, actor: str | None = None
    ) -> BackstageCredentials[BackstageUserPrincipal]:
        """User credentials (``user_entity_ref`` defaults to :data:`MOCK_USER_ENTITY_REF`);
        ``actor`` is the subject of a service acting for the user. Typed as a user's, so
        ``.principal.user_entity_ref`` needs no ``isinstance`` first.
        """
        return BackstageCredentials(
            principal=BackstageUserPrincipal(
                _check_user_ref(user_entity_ref),
                None if actor is None else BackstageServicePrincipal(actor),
            ),
            token=self.token(user_entity_ref, actor=actor),
        )

    def token(self, user_entity_ref: str | None = None, *, actor: str | None = None) -> str:
        """A mock user token the mock auth service accepts (``actor``: a service acting for
        the user).
        """
        if user_entity_ref is None and actor is None:
            return _USER
        payload: dict[str, Any] = {"sub": _check_user_ref(user_entity_ref or MOCK_USER_ENTITY_REF)}
        if actor is not None:
            payload["actor"] = {"subject": actor}
        return _with_payload(_USER, payload)

    def header(self, user_entity_ref: str | None = None) -> str:
        """The ``Authorization`` header *value*: ``Bearer <mock user token>``."""
        return f"Bearer {self.token(user_entity_ref)}"

    def headers(self, user_entity_ref: str | None = None) -> dict[str, str]:
        """``{"Authorization": header()}``, to pass as ``headers=`` to aiohttp or httpx."""
        return {"Authorization": self.header(user_entity_ref)}

    def invalid_token(self) -> str:
        """A user token that fails authentication."""
        return "mock-invalid-user-token"

    def invalid_header(self) -> str:
        """``Bearer`` with an invalid user token."""
        return f"Bearer {self.invalid_token()}"


class _LimitedUser:
    def __call__(
        self, user_entity_ref: str = MOCK_USER_ENTITY_REF
    ) -> BackstageCredentials[BackstageUserPrincipal]:
        """User credentials, as a limited token authenticates to (Backstage's
        ``limitedUser()`` is ``user()``).
        """
        return _User()(user_entity_ref)

    def token(self, user_entity_ref: str | None = None) -> str:
        """A mock limited user token."""
        if user_entity_ref is None:
            return _LIMITED
        return _with_payload(_LIMITED, {"sub": _check_user_ref(user_entity_ref)})

    def header(self, user_entity_ref: str | None = None) -> str:
        """The ``Authorization`` header *value*: ``Bearer <mock limited user token>``."""
        return f"Bearer {self.token(user_entity_ref)}"

    def headers(self, user_entity_ref: str | None = None) -> dict[str, str]:
        """``{"Authorization": header()}``, to pass as ``headers=`` to aiohttp or httpx."""
        return {"Authorization": self.header(user_entity_ref)}

    def invalid_token(self) -> str:
        """A limited user token that fails authentication."""
        return "mock-invalid-limited-user-token"

    def cookie(self, user_entity_ref: str | None = None) -> str:
        """A ``Cookie`` header *value* carrying a limited user token, as Backstage's frontend
        sends it to routes that allow limited access.
        """
        return f"{COOKIE_NAME}={self.token(user_entity_ref)}"

    def invalid_cookie(self) -> str:
        """A ``Cookie`` header value with an invalid limited user token."""
        return f"{COOKIE_NAME}={self.invalid_token()}"

    def invalid_header(self) -> str:
        """``Bearer`` with an invalid limited user token."""
        return f"Bearer {self.invalid_token()}"

    def cookie_headers(self, user_entity_ref: str | None = None) -> dict[str, str]:
        """``{"Cookie": cookie()}``, to pass as ``headers=`` to aiohttp or httpx."""
        return {"Cookie": self.cookie(user_entity_ref)}


class _Service:
    def __call__(
        self,
        subject: str = MOCK_SERVICE_SUBJECT,
        access_restrictions: AccessRestrictions | None = None,
    ) -> BackstageCredentials[BackstageServicePrincipal]:
        """Service credentials (``subject`` defaults to :data:`MOCK_SERVICE_SUBJECT`)."""
        return BackstageCredentials(
            principal=BackstageServicePrincipal(subject, access_restrictions),
            token=self.token(subject),
        )

    def token(
        self,
        subject: str | None = None,
        *,
        target_plugin_id: str | None = None,
        on_behalf_of: BackstageCredentials | None = None,
    ) -> str:
        """A mock service token: from ``subject`` (or the service ``on_behalf_of`` names), on
        behalf of the user ``on_behalf_of`` names, for ``target_plugin_id`` only when given (the
        mock auth service of another plugin refuses it, as a real plugin token's audience).
        """
        payload: dict[str, Any] = {}
        principal = None if on_behalf_of is None else on_behalf_of.principal
        if subject is not None:
            payload["sub"] = subject
        elif isinstance(principal, BackstageServicePrincipal):
            payload["sub"] = principal.subject
        if isinstance(principal, BackstageUserPrincipal):
            payload["obo"] = principal.user_entity_ref
        if target_plugin_id is not None:
            payload["target"] = target_plugin_id
        return _with_payload(_SERVICE, payload) if payload else _SERVICE

    def header(
        self,
        subject: str | None = None,
        *,
        target_plugin_id: str | None = None,
        on_behalf_of: BackstageCredentials | None = None,
    ) -> str:
        """The ``Authorization`` header *value*: ``Bearer <mock service token>``."""
        token = self.token(subject, target_plugin_id=target_plugin_id, on_behalf_of=on_behalf_of)
        return f"Bearer {token}"

    def headers(
        self,
        subject: str | None = None,
        *,
        target_plugin_id: str | None = None,
        on_behalf_of: BackstageCredentials | None = None,
    ) -> dict[str, str]:
        """``{"Authorization": header()}``, to pass as ``headers=`` to aiohttp or httpx."""
        header = self.header(subject, target_plugin_id=target_plugin_id, on_behalf_of=on_behalf_of)
        return {"Authorization": header}

    def invalid_token(self) -> str:
        """A service token that fails authentication."""
        return "mock-invalid-service-token"

    def invalid_header(self) -> str:
        """``Bearer`` with an invalid service token."""
        return f"Bearer {self.invalid_token()}"


class _None:
    def __call__(self) -> BackstageCredentials[BackstageNonePrincipal]:
        """Credentials with the ``none`` principal."""
        return BackstageCredentials(principal=BackstageNonePrincipal())

    def header(self) -> str:
        """An ``Authorization`` header *value* that the mock http auth reads as no credentials."""
        return f"Bearer {_NONE}"

    def headers(self) -> dict[str, str]:
        """``{"Authorization": header()}``, to pass as ``headers=`` to aiohttp or httpx."""
        return {"Authorization": self.header()}


class _MockCredentials:
    """Backstage's ``mockCredentials``: ``user()``, ``limited_user()``, ``service()``,
    ``none()``, each with ``token()``, ``header()`` (the ``Authorization`` value) and
    ``headers()`` (a dict for ``headers=``), and ``invalid_token()``, for requests.
    """

    user = _User()
    limited_user = _LimitedUser()
    service = _Service()
    none = _None()


#: Credentials and tokens for tests of guarded routes.
mock_credentials = _MockCredentials()


def _parse(token: str, base: str) -> dict[str, Any] | None:
    if token == base:
        return {}
    if token.startswith(base + ":"):
        try:
            value = json.loads(token[len(base) + 1 :])
        except ValueError:
            return None
        return value if isinstance(value, dict) else None
    return None


class MockAuthService:
    """``core.auth`` for tests: accepts the tokens of :data:`mock_credentials`."""

    def __init__(self, plugin_id: str, *, disable_default_auth_policy: bool = False) -> None:
        self._plugin_id = plugin_id
        self._disabled = disable_default_auth_policy

    async def authenticate(
        self, token: str, *, allow_limited_access: bool = False
    ) -> BackstageCredentials:
        """Credentials for a mock token; raises :class:`AuthenticationError` otherwise."""
        if token in _INVALID:
            raise AuthenticationError("Invalid token")
        user = _parse(token, _USER)
        if user is not None:
            actor = user.get("actor")
            subject = actor.get("subject") if isinstance(actor, dict) else None
            return mock_credentials.user(
                user.get("sub", MOCK_USER_ENTITY_REF),
                actor=subject if isinstance(subject, str) else None,
            )
        limited = _parse(token, _LIMITED)
        if limited is not None:
            if not allow_limited_access:
                raise AuthenticationError("Illegal limited user token")
            return mock_credentials.user(limited.get("sub", MOCK_USER_ENTITY_REF))
        service = _parse(token, _SERVICE)
        if service is not None:
            target = service.get("target")
            if target is not None and target != self._plugin_id:
                raise AuthenticationError(
                    f"Invalid mock token target plugin ID, got '{target}' but expected "
                    f"'{self._plugin_id}'"
                )
            if isinstance(service.get("obo"), str):
                return mock_credentials.user(service["obo"])
            return mock_credentials.service(service.get("sub", MOCK_SERVICE_SUBJECT))
        raise AuthenticationError("Unknown mock token")

    def is_principal(
        self, credentials: BackstageCredentials, type: PrincipalType | Literal["unknown"]
    ) -> bool:
        """Whether ``credentials`` hold a principal of ``type``."""
        return type == "unknown" or credentials.principal.type == type

    async def get_none_credentials(self) -> BackstageCredentials:
        """``none`` credentials."""
        return mock_credentials.none()

    async def get_own_service_credentials(self) -> BackstageCredentials:
        """``plugin:<pluginId>``."""
        return mock_credentials.service(f"plugin:{self._plugin_id}")

    async def get_plugin_request_token(
        self, *, on_behalf_of: BackstageCredentials, target_plugin_id: str
    ) -> PluginRequestToken:
        """A mock service token for the target plugin, naming the calling service or carrying
        the user it acts for (which the target then authenticates as that user, as in Node).
        """
        principal = on_behalf_of.principal
        if isinstance(principal, BackstageNonePrincipal):
            if self._disabled:
                return PluginRequestToken(token="")
            raise AuthenticationError("Refused to issue service token for credential type 'none'")
        return PluginRequestToken(
            token=mock_credentials.service.token(
                target_plugin_id=target_plugin_id, on_behalf_of=on_behalf_of
            )
        )

    async def get_limited_user_token(self, credentials: BackstageCredentials) -> LimitedUserToken:
        """A mock limited user token for user credentials."""
        if not isinstance(credentials.principal, BackstageUserPrincipal):
            raise AuthenticationError("Refused to issue limited user token for a non-user")
        token = mock_credentials.limited_user.token(credentials.principal.user_entity_ref)
        return LimitedUserToken(token=token, expires_at=4102444800.0)

    async def list_public_service_keys(self) -> Sequence[JsonObject]:
        """No keys: mock tokens are not signed."""
        return []


class MockHttpAuthService(DefaultHttpAuthService):
    """``core.httpAuth`` for tests: a request without ``Authorization`` header (nor, where
    limited access is allowed, a cookie) has ``default_credentials``, by default
    ``mock_credentials.user()`` (``user:default/mock``), as Backstage's mock.
    """

    def __init__(
        self,
        auth: AuthService,
        plugin_id: str,
        discovery: DiscoveryService | None = None,
        *,
        default_credentials: BackstageCredentials | None = None,
    ) -> None:
        super().__init__(auth, plugin_id, discovery)
        self._default_credentials = default_credentials

    async def _extract(self, scope: Any, allow_limited_access: bool) -> BackstageCredentials:
        if bearer_token(scope) is None:
            if allow_limited_access and header_value(scope, b"cookie") is not None:
                return await super()._extract(scope, allow_limited_access)
            if self._default_credentials is not None:
                return self._default_credentials
            return mock_credentials.user()
        if bearer_token(scope) == _NONE:
            return mock_credentials.none()
        return await super()._extract(scope, allow_limited_access)


def mock_auth_factory() -> ServiceFactory[AuthService]:
    """A ``core.auth`` factory serving :class:`MockAuthService`."""

    def factory(*, plugin_metadata: PluginMetadataService) -> MockAuthService:
        return MockAuthService(plugin_metadata.get_id())

    return create_service_factory(
        service=core_services.auth,
        deps={"plugin_metadata": core_services.plugin_metadata},
        factory=factory,
    )


def mock_http_auth_factory(
    *, default_credentials: BackstageCredentials | None = None
) -> ServiceFactory[HttpAuthService]:
    """A ``core.httpAuth`` factory serving :class:`MockHttpAuthService` (requests without
    credentials have ``default_credentials``, the mock user unless given).
    """
    _check_credentials(default_credentials)

    def factory(
        *, auth: Any, plugin_metadata: PluginMetadataService, discovery: Any
    ) -> MockHttpAuthService:
        return MockHttpAuthService(
            auth, plugin_metadata.get_id(), discovery, default_credentials=default_credentials
        )

    return create_service_factory(
        service=core_services.http_auth,
        deps={
            "auth": core_services.auth,
            "plugin_metadata": core_services.plugin_metadata,
            "discovery": core_services.discovery,
        },
        factory=factory,
    )


class MockUserInfoService:
    """``core.userInfo`` for tests: the user's ref, owning ``ownership`` (default: itself)."""

    def __init__(self, ownership: Sequence[str] | None = None) -> None:
        self._ownership = tuple(ownership) if ownership is not None else None

    async def get_user_info(self, credentials: BackstageCredentials) -> BackstageUserInfo:
        """The user's ref and ownership refs; raises for non-user credentials."""
        principal = credentials.principal
        if not isinstance(principal, BackstageUserPrincipal):
            raise TypeError("Only user credentials are supported")
        ref = principal.user_entity_ref
        return BackstageUserInfo(ref, self._ownership or (ref,))


class MockPermissionsService:
    """``core.permissions`` for tests: every request gets ``result`` (default ALLOW)."""

    def __init__(self, result: Literal["ALLOW", "DENY"] = "ALLOW") -> None:
        self._result = result

    async def authorize(
        self,
        requests: Sequence[Mapping[str, Any]],
        *,
        credentials: BackstageCredentials | None = None,
        token: str | None = None,
    ) -> list[JsonObject]:
        """``result`` for every request."""
        return [{"result": self._result} for _ in requests]

    async def authorize_conditional(
        self,
        requests: Sequence[Mapping[str, Any]],
        *,
        credentials: BackstageCredentials | None = None,
        token: str | None = None,
    ) -> list[JsonObject]:
        """``result`` for every request."""
        return [{"result": self._result} for _ in requests]


class _MockAuthHelper:
    def __call__(self, plugin_id: str = "test") -> MockAuthService:
        """A mock auth service for ``plugin_id``."""
        return MockAuthService(plugin_id)

    def factory(self) -> ServiceFactory[AuthService]:
        """The mock ``core.auth`` factory."""
        return mock_auth_factory()

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.auth`` (``authenticate`` and the rest)."""
        return build_service_mock(core_services.auth, AuthService, implementations)


def _check_credentials(credentials: object) -> None:
    if credentials is not None and not isinstance(credentials, BackstageCredentials):
        raise TypeError(
            "default_credentials must be BackstageCredentials (from mock_credentials), "
            f"got {credentials!r}"
        )


class _MockHttpAuthHelper:
    def __call__(
        self, plugin_id: str = "test", *, default_credentials: BackstageCredentials | None = None
    ) -> MockHttpAuthService:
        """A mock http auth service for ``plugin_id``; a request without credentials has
        ``default_credentials`` (``mock_credentials.user()`` unless given).
        """
        _check_credentials(default_credentials)
        return MockHttpAuthService(
            MockAuthService(plugin_id), plugin_id, default_credentials=default_credentials
        )

    def factory(
        self, *, default_credentials: BackstageCredentials | None = None
    ) -> ServiceFactory[HttpAuthService]:
        """The mock ``core.httpAuth`` factory; requests without credentials have
        ``default_credentials`` (``mock_credentials.none()`` to test unauthenticated access).
        """
        return mock_http_auth_factory(default_credentials=default_credentials)

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.httpAuth`` (``credentials``, ``issue_user_cookie``)."""
        return build_service_mock(core_services.http_auth, HttpAuthService, implementations)


class _MockUserInfoHelper:
    def __call__(self, ownership: Sequence[str] | None = None) -> MockUserInfoService:
        """A user info service answering ``ownership`` for every user."""
        return MockUserInfoService(ownership)

    def factory(self, ownership: Sequence[str] | None = None) -> ServiceFactory[UserInfoService]:
        """A ``core.userInfo`` factory serving :class:`MockUserInfoService`."""
        instance = MockUserInfoService(ownership)
        return create_service_factory(service=core_services.user_info, factory=lambda: instance)

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.userInfo`` (``get_user_info``)."""
        return build_service_mock(core_services.user_info, UserInfoService, implementations)


class _MockPermissionsHelper:
    def __call__(self, result: Literal["ALLOW", "DENY"] = "ALLOW") -> MockPermissionsService:
        """A permissions service answering ``result`` to everything."""
        return MockPermissionsService(result)

    def factory(
        self, result: Literal["ALLOW", "DENY"] = "ALLOW"
    ) -> ServiceFactory[PermissionsService]:
        """A ``core.permissions`` factory serving :class:`MockPermissionsService`."""
        instance = MockPermissionsService(result)
        return create_service_factory(service=core_services.permissions, factory=lambda: instance)

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.permissions`` (``authorize``, ``authorize_conditional``)."""
        return build_service_mock(core_services.permissions, PermissionsService, implementations)


mock_auth = _MockAuthHelper()
mock_http_auth = _MockHttpAuthHelper()
mock_user_info = _MockUserInfoHelper()
mock_permissions = _MockPermissionsHelper()
