"""AWS S3 and S3-compatible stores (``integrations.awsS3``); needs the optional ``aws`` extra
(aiobotocore) to read, not to be configured.
"""

from ._config import (
    AwsMainAccountConfig,
    AwsS3IntegrationConfig,
    read_aws_main_account_config,
    read_aws_s3_integration_configs,
)
from ._reader import AwsS3UrlReader
from ._urls import DEFAULT_REGION, S3Location, parse_s3_url, s3_host_predicate

__all__ = [
    "DEFAULT_REGION",
    "AwsMainAccountConfig",
    "AwsS3IntegrationConfig",
    "AwsS3UrlReader",
    "S3Location",
    "parse_s3_url",
    "read_aws_main_account_config",
    "read_aws_s3_integration_configs",
    "s3_host_predicate",
]
