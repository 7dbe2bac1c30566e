"""The default ``core.urlReader``: Backstage's URL readers over one shared aiohttp session.

Usage in a plugin::

    def register(env):
        async def init(*, reader):
            url = "https://github.com/org/repo/blob/main/catalog-info.yaml"
            text = (await (await reader.read_url(url)).buffer()).decode()

        env.register_init(deps={"reader": core_services.url_reader}, init=init)

Readers, tried in Backstage's order after the ones from ``core.urlReader.factories``: Azure
DevOps, Bitbucket Cloud, Bitbucket Server, Gerrit, GitHub, Gitea, GitLab, Google GCS (extra
``gcs``), Harness, AWS S3 (extra ``aws``) and Azure Blob Storage (extra ``azure``), all from
``integrations.*``, and finally the plain fetch reader (``backend.reading.allow``). Trees are
extracted under ``backend.workingDirectory`` within ``backend.reading.tree.maxEntries`` /
``maxBytes``.
"""

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports
from ._factory import url_reader_service_factory

# The rest loads on first use (backstage_runtime._lazy): a backend imports this package for its
# factory, and builds the service only when something depends on it.
if TYPE_CHECKING:
    from ._glob import compile_glob, is_glob
    from ._mux import UrlReaderPredicateMux, not_allowed_message
    from ._readers import builtin_reader_factories, create_readers, create_url_reader
    from ._responses import BytesReadUrlResponse, HttpReadUrlResponse
    from ._tree import (
        DEFAULT_MAX_BYTES,
        DEFAULT_MAX_ENTRIES,
        DefaultReadTreeResponseFactory,
        FileStreamsTreeResponse,
        FilesTreeResponse,
        TarArchiveResponse,
        TreeLimits,
        ZipArchiveResponse,
        read_tree_limits,
    )
    from .aws_s3 import AwsS3UrlReader
    from .azure_blob_storage import AzureBlobStorageUrlReader
    from .azure_devops import AzureDevOpsUrlReader
    from .bitbucket_cloud import BitbucketCloudUrlReader
    from .bitbucket_server import BitbucketServerUrlReader
    from .fetch import FetchUrlReader
    from .gerrit import GerritUrlReader
    from .gitea import GiteaUrlReader
    from .github import GithubUrlReader
    from .gitlab import GitlabUrlReader
    from .google_gcs import GoogleGcsUrlReader
    from .harness import HarnessUrlReader
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "compile_glob": "._glob",
            "is_glob": "._glob",
            "UrlReaderPredicateMux": "._mux",
            "not_allowed_message": "._mux",
            "builtin_reader_factories": "._readers",
            "create_readers": "._readers",
            "create_url_reader": "._readers",
            "BytesReadUrlResponse": "._responses",
            "HttpReadUrlResponse": "._responses",
            "DEFAULT_MAX_BYTES": "._tree",
            "DEFAULT_MAX_ENTRIES": "._tree",
            "DefaultReadTreeResponseFactory": "._tree",
            "FileStreamsTreeResponse": "._tree",
            "FilesTreeResponse": "._tree",
            "TarArchiveResponse": "._tree",
            "TreeLimits": "._tree",
            "ZipArchiveResponse": "._tree",
            "read_tree_limits": "._tree",
            "AwsS3UrlReader": ".aws_s3",
            "AzureBlobStorageUrlReader": ".azure_blob_storage",
            "AzureDevOpsUrlReader": ".azure_devops",
            "BitbucketCloudUrlReader": ".bitbucket_cloud",
            "BitbucketServerUrlReader": ".bitbucket_server",
            "FetchUrlReader": ".fetch",
            "GerritUrlReader": ".gerrit",
            "GiteaUrlReader": ".gitea",
            "GithubUrlReader": ".github",
            "GitlabUrlReader": ".gitlab",
            "GoogleGcsUrlReader": ".google_gcs",
            "HarnessUrlReader": ".harness",
        },
    )

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ENTRIES",
    "AwsS3UrlReader",
    "AzureBlobStorageUrlReader",
    "AzureDevOpsUrlReader",
    "BitbucketCloudUrlReader",
    "BitbucketServerUrlReader",
    "BytesReadUrlResponse",
    "DefaultReadTreeResponseFactory",
    "FetchUrlReader",
    "FileStreamsTreeResponse",
    "FilesTreeResponse",
    "GerritUrlReader",
    "GiteaUrlReader",
    "GithubUrlReader",
    "GitlabUrlReader",
    "GoogleGcsUrlReader",
    "HarnessUrlReader",
    "HttpReadUrlResponse",
    "TarArchiveResponse",
    "TreeLimits",
    "UrlReaderPredicateMux",
    "ZipArchiveResponse",
    "builtin_reader_factories",
    "compile_glob",
    "create_readers",
    "create_url_reader",
    "is_glob",
    "not_allowed_message",
    "read_tree_limits",
    "url_reader_service_factory",
]
