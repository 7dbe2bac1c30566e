"""Audit events: who did what, at the level the severity maps to."""

from __future__ import annotations

from typing import Any

import pytest
from _support.http import request
from quart import Blueprint
from quart import request as quart_request

from backstage_runtime.api import core_services, create_backend_plugin
from backstage_runtime.api.errors import BackendStartupError, InputError
from backstage_runtime.defaults.auditor import auditor_service_factory
from backstage_runtime.testing import mock_credentials, start_test_backend

pytestmark = pytest.mark.anyio


def audited_plugin(severity: str = "medium") -> Any:
    def register(env: Any) -> None:
        def init(http: Any, auditor: Any) -> None:
            routes = Blueprint("audited", __name__)

            @routes.delete("/items/<int:item_id>")
            async def delete(item_id: int) -> Any:
                event = await auditor.create_event(
                    "item-delete",
                    severity_level=severity,
                    request=quart_request,
                    meta={"itemId": item_id},
                )
                if item_id == 0:
                    error = InputError("item 0 is protected")
                    await event.fail(error=error)
                    raise error
                await event.success(meta={"deleted": True})
                return {"deleted": item_id}

            http.use(routes)

        env.register_init(
            deps={"http": core_services.http_router, "auditor": core_services.auditor},
            init=init,
        )

    return create_backend_plugin(plugin_id="audited", register=register)


def audit_entries(test: Any) -> list[Any]:
    return [e for e in test.logger.entries if e.fields.get("isAuditEvent") is True]


async def test_an_event_names_the_calling_user_and_plugin_and_ends_in_success() -> None:
    features = [audited_plugin(), auditor_service_factory()]
    async with start_test_backend(features=features) as test:
        user = await request(
            "DELETE",
            await test.url("/api/audited/items/7"),
            headers={
                "Authorization": mock_credentials.user.header("user:default/ada"),
                "User-Agent": "pytest-agent",
            },
        )
        service = await request(
            "DELETE",
            await test.url("/api/audited/items/8"),
            headers={"Authorization": mock_credentials.service.header("plugin:catalog")},
        )
        failed = await request("DELETE", await test.url("/api/audited/items/0"))
        entries = audit_entries(test)

    assert (user.status, service.status, failed.status) == (200, 200, 400)
    first, second = entries[0], entries[1]
    assert first.message == "audited.item-delete"
    assert first.level == "info"  # medium -> info
    assert first.fields["status"] == "initiated"
    assert first.fields["actor"]["actorId"] == "user:default/ada"
    assert first.fields["actor"]["userAgent"] == "pytest-agent"
    assert first.fields["actor"]["hostname"] == "127.0.0.1"
    assert first.fields["request"] == {"url": "/api/audited/items/7", "method": "DELETE"}
    assert first.fields["meta"] == {"itemId": 7}
    assert (first.fields["plugin"], first.fields["eventId"], first.fields["severityLevel"]) == (
        "audited",
        "item-delete",
        "medium",
    )
    assert second.fields["status"] == "succeeded"
    assert second.fields["meta"] == {"itemId": 7, "deleted": True}
    assert entries[2].fields["actor"]["actorId"] == "plugin:catalog"
    failure = entries[-1]
    assert failure.fields["status"] == "failed"
    assert isinstance(failure.error, InputError)


async def test_low_events_are_invisible_at_info_unless_mapped_to_info() -> None:
    features = [audited_plugin(severity="low"), auditor_service_factory()]
    async with start_test_backend(features=features, log_level="info") as test:
        await request("DELETE", await test.url("/api/audited/items/3"))
        hidden = audit_entries(test)
    mapped = {"backend": {"auditor": {"severityLogLevelMappings": {"low": "info"}}}}
    async with start_test_backend(features=features, config=mapped, log_level="info") as test:
        await request("DELETE", await test.url("/api/audited/items/3"))
        shown = audit_entries(test)

    assert hidden == []
    assert [e.fields["status"] for e in shown] == ["initiated", "succeeded"]


async def test_events_without_a_request_are_the_plugin_itself() -> None:
    features = [audited_plugin(), auditor_service_factory()]
    async with start_test_backend(features=features) as test:
        auditor = await test.get_service(core_services.auditor, "audited")
        event = await auditor.create_event("nightly-cleanup")
        await event.success()
        entries = audit_entries(test)
    assert entries[0].fields["actor"] == {"actorId": "plugin:audited"}
    assert "request" not in entries[0].fields


async def test_an_invalid_severity_mapping_stops_the_start_naming_the_key() -> None:
    config = {"backend": {"auditor": {"severityLogLevelMappings": {"high": "loud"}}}}
    with pytest.raises(BackendStartupError) as caught:
        async with start_test_backend(
            features=[audited_plugin(), auditor_service_factory()], config=config
        ):
            pass
    assert "backend.auditor.severityLogLevelMappings.high" in str(caught.value)


async def test_the_mock_auditor_records_events_for_assertions() -> None:
    from backstage_runtime.testing import mock_services

    events: list[Any] = []
    features = [audited_plugin(), mock_services.auditor.factory(events)]
    async with start_test_backend(features=features) as test:
        await request("DELETE", await test.url("/api/audited/items/5"))
        await request("DELETE", await test.url("/api/audited/items/0"))

    assert [(e.event_id, e.status, e.meta) for e in events] == [
        ("item-delete", "succeeded", {"itemId": 5, "deleted": True}),
        ("item-delete", "failed", {"itemId": 0}),
    ]
    assert isinstance(events[1].error, InputError)
