"""The default ``core.userInfo`` factory builder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...api import (
    DiscoveryService,
    ServiceFactory,
    core_services,
    create_service_factory,
    runtime_services,
)
from ...api.services.auth import BackstageUserInfo, UserInfoService

if TYPE_CHECKING:
    import aiohttp

    from ._user_info import DefaultUserInfoService

__all__ = ["user_info_service_factory"]


def user_info_service_factory() -> ServiceFactory[UserInfoService]:
    """The default ``core.userInfo`` factory."""

    def create_root_context(**_root_deps: Any) -> dict[str, tuple[float, BackstageUserInfo]]:
        return {}

    def factory(
        cache: dict[str, tuple[float, BackstageUserInfo]],
        *,
        discovery: DiscoveryService,
        http_client: aiohttp.ClientSession,
    ) -> DefaultUserInfoService:
        from ._user_info import DefaultUserInfoService

        return DefaultUserInfoService(discovery, http_client, cache)

    return create_service_factory(
        service=core_services.user_info,
        deps={"discovery": core_services.discovery, "http_client": runtime_services.http_client},
        create_root_context=create_root_context,
        factory=factory,
    )
