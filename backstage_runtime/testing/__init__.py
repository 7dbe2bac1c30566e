"""Testing utilities for plugin authors: a test backend, mock services, a pytest plugin.

Backstage's ``@backstage/backend-test-utils`` in Python::

    async with start_test_backend(features=[my_plugin], config={"my": {"key": 1}}) as test:
        service = await test.get_service(my_ref, "my-plugin")
"""

from ._actions import MockActionsRegistry, MockActionsService
from ._auditor import MockAuditorService, RecordedAuditEvent
from ._caches import ALL_CACHE_IDS, CacheStoreId, TestCache, TestCaches
from ._databases import TestDatabaseId, TestDatabases
from ._events import MockEventsService, SubscriberFailure
from ._mock_auth import (
    MOCK_SERVICE_SUBJECT,
    MOCK_USER_ENTITY_REF,
    MockAuthService,
    MockHttpAuthService,
    MockPermissionsService,
    MockUserInfoService,
    mock_credentials,
)
from ._mock_core import MockRootInstanceMetadata, MockRootSystemMetadata
from ._mock_database import MockDatabase, MockPluginDatabase
from ._mock_directory import (
    MockDirectory,
    MockDirectoryContent,
    MockDirectoryContentCallback,
    MockDirectoryContentCallbackContext,
    MockDirectoryReadContent,
    create_mock_directory,
)
from ._mock_http import LOOPBACK_PASSTHROUGH, MockHttp, RecordedRequest, create_mock_http
from ._mock_logger import LogRecordEntry, MockRootLogger
from ._mock_services import MockRootConfig, mock_services
from ._router_test_plugin import create_router_test_plugin
from ._scheduler import MockSchedulerService
from ._service_factory_tester import ServiceFactoryTester
from ._service_mock import ServiceMock, create_mock, create_service_mock
from ._test_backend import TestBackend, start_test_backend, test_default_service_factories
from ._test_response import TestResponse
from ._url_reader import MockUrlReader

__all__ = [
    "ALL_CACHE_IDS",
    "LOOPBACK_PASSTHROUGH",
    "MOCK_SERVICE_SUBJECT",
    "MOCK_USER_ENTITY_REF",
    "CacheStoreId",
    "MockActionsRegistry",
    "MockActionsService",
    "MockAuditorService",
    "MockAuthService",
    "MockDatabase",
    "MockDirectory",
    "MockDirectoryContent",
    "MockDirectoryContentCallback",
    "MockDirectoryContentCallbackContext",
    "MockDirectoryReadContent",
    "MockEventsService",
    "MockHttp",
    "MockHttpAuthService",
    "MockPermissionsService",
    "MockRootConfig",
    "MockRootInstanceMetadata",
    "MockRootSystemMetadata",
    "LogRecordEntry",
    "MockPluginDatabase",
    "MockRootLogger",
    "MockSchedulerService",
    "MockUrlReader",
    "MockUserInfoService",
    "RecordedAuditEvent",
    "RecordedRequest",
    "ServiceFactoryTester",
    "ServiceMock",
    "SubscriberFailure",
    "TestBackend",
    "TestCache",
    "TestCaches",
    "TestDatabaseId",
    "TestDatabases",
    "TestResponse",
    "create_mock",
    "create_mock_directory",
    "create_mock_http",
    "create_router_test_plugin",
    "create_service_mock",
    "mock_credentials",
    "mock_services",
    "start_test_backend",
    "test_default_service_factories",
]
