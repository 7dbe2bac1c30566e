"""The HTTP API, served under ``/api/user-settings``: one JSON value per bucket and key."""

from __future__ import annotations

from typing import Any, Final

from quart import Blueprint, Response, request

from backstage_runtime import HttpAuthService, InputError, JsonObject

from ._signals import SignalsService, user_recipients
from ._store import UserSettingsStore

__all__ = ["USER_SETTINGS_CHANNEL", "create_router"]

#: The signals channel the frontend's user-settings storage listens on.
USER_SETTINGS_CHANNEL: Final = "user-settings"


def create_router(
    *,
    http_auth: HttpAuthService,
    user_settings_store: UserSettingsStore,
    signals: SignalsService | None = None,
) -> Blueprint:
    """The routes, Backstage's ``createRouter``; every one acts for the calling user.

    - ``GET /buckets/<bucket>/keys/<key>``: the setting ``{"bucket", "key", "value"}``, or 404.
    - ``PUT /buckets/<bucket>/keys/<key>`` with ``{"value": <any JSON>}``: store it and answer
      the stored setting; a ``key-changed`` signal tells the user's other browser tabs.
    - ``DELETE /buckets/<bucket>/keys/<key>``: 204, whether or not there was a setting; a
      ``key-deleted`` signal follows.

    Only user credentials are accepted (a service token gets 403, no token 401).
    """
    routes = Blueprint("user_settings", __name__)

    async def user_entity_ref() -> str:
        credentials = await http_auth.credentials(request, allow=["user"])
        principal = credentials.principal
        # allow=["user"] guarantees it; the check is for the type checker.
        assert principal.type == "user"
        return principal.user_entity_ref

    async def signal(user: str, change: str, key: str) -> None:
        if signals is not None:
            await signals.publish(
                recipients=user_recipients(user),
                channel=USER_SETTINGS_CHANNEL,
                message={"type": change, "key": key},
            )

    @routes.get("/buckets/<bucket>/keys/<key>")
    async def get_setting(bucket: str, key: str) -> JsonObject:
        user = await user_entity_ref()
        setting = await user_settings_store.get(user_entity_ref=user, bucket=bucket, key=key)
        return setting.to_json()

    @routes.put("/buckets/<bucket>/keys/<key>")
    async def set_setting(bucket: str, key: str) -> JsonObject:
        user = await user_entity_ref()
        body: Any = await request.get_json()
        # Only a missing "value" is refused: null is a value like any other.
        if not isinstance(body, dict) or "value" not in body:
            raise InputError('Missing required field "value"')
        await user_settings_store.set(
            user_entity_ref=user, bucket=bucket, key=key, value=body["value"]
        )
        setting = await user_settings_store.get(user_entity_ref=user, bucket=bucket, key=key)
        await signal(user, "key-changed", key)
        return setting.to_json()

    @routes.delete("/buckets/<bucket>/keys/<key>")
    async def delete_setting(bucket: str, key: str) -> Response:
        user = await user_entity_ref()
        await user_settings_store.delete(user_entity_ref=user, bucket=bucket, key=key)
        await signal(user, "key-deleted", key)
        return Response(status=204)

    return routes
