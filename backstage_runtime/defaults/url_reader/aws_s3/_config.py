"""``integrations.awsS3`` (one entry per S3 endpoint) and ``aws.mainAccount`` (the fallback
credentials), read as Backstage's ``readAwsS3IntegrationConfigs`` and
``DefaultAwsCredentialsManager`` read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ....api.errors import ConfigError, InputError
from ....api.services.config import Config
from .._urls import split_url, url_host

__all__ = [
    "AMAZON_AWS_HOST",
    "AwsMainAccountConfig",
    "AwsS3IntegrationConfig",
    "read_aws_main_account_config",
    "read_aws_s3_integration_configs",
]

#: The host of the entry that is always present (added when no entry has it).
AMAZON_AWS_HOST = "amazonaws.com"


@dataclass(frozen=True)
class AwsS3IntegrationConfig:
    """One S3 endpoint: AWS itself (``host`` ``amazonaws.com``) or an S3-compatible store.

    ``host`` is derived from ``endpoint`` (``http://localhost:4566`` → ``localhost:4566``);
    ``s3_force_path_style`` sends ``/<bucket>/<key>`` requests (MinIO, LocalStack).
    Credentials: the static key pair when set, else ``aws.mainAccount``; ``role_arn`` is then
    assumed through STS with those credentials.
    """

    host: str = AMAZON_AWS_HOST
    endpoint: str | None = None
    s3_force_path_style: bool = False
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    role_arn: str | None = None
    external_id: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class AwsMainAccountConfig:
    """``aws.mainAccount``: static keys, or a ``profile`` of the shared AWS config files, or
    (neither) the default AWS credential chain.
    """

    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    profile: str | None = None


def read_aws_s3_integration_configs(config: Config) -> list[AwsS3IntegrationConfig]:
    """Every ``integrations.awsS3`` entry, plus an ``amazonaws.com`` entry when none has it."""
    entries = config.get_optional_config_array("integrations.awsS3") or []
    result = [
        _read_entry(entry, f"integrations.awsS3[{index}]") for index, entry in enumerate(entries)
    ]
    if not any(entry.host == AMAZON_AWS_HOST for entry in result):
        result.append(AwsS3IntegrationConfig())
    return result


def read_aws_main_account_config(config: Config) -> AwsMainAccountConfig:
    """``aws.mainAccount`` (empty when absent), checked as Backstage checks it."""
    main = config.get_optional_config("aws.mainAccount")
    if main is None:
        return AwsMainAccountConfig()
    key = "aws.mainAccount"
    access_key_id = main.get_optional_string("accessKeyId")
    secret_access_key = main.get_optional_string("secretAccessKey")
    profile = main.get_optional_string("profile")
    _check_key_pair(key, access_key_id, secret_access_key)
    if profile and access_key_id:
        raise ConfigError(
            f"Invalid AWS config at '{key}', set either '{key}.accessKeyId' or "
            f"'{key}.profile', not both"
        )
    return AwsMainAccountConfig(access_key_id, secret_access_key, profile)


def _read_entry(config: Config, key: str) -> AwsS3IntegrationConfig:
    endpoint = config.get_optional_string("endpoint")
    host = AMAZON_AWS_HOST
    if endpoint is not None:
        try:
            parts = split_url(endpoint)
        except InputError:
            raise ConfigError(
                f"Invalid awsS3 integration config at '{key}.endpoint', '{endpoint}' is not a "
                "valid http(s) URL"
            ) from None
        if parts.path not in ("", "/"):
            raise ConfigError(
                f"Invalid awsS3 integration config at '{key}.endpoint', endpoints cannot "
                f"contain a path, got '{endpoint}'"
            )
        host = url_host(parts)
        endpoint = endpoint.rstrip("/")
    access_key_id = config.get_optional_string("accessKeyId")
    secret_access_key = config.get_optional_string("secretAccessKey")
    _check_key_pair(key, access_key_id, secret_access_key)
    return AwsS3IntegrationConfig(
        host=host,
        endpoint=endpoint,
        s3_force_path_style=bool(config.get_optional_boolean("s3ForcePathStyle")),
        access_key_id=access_key_id,
        secret_access_key=secret_access_key,
        role_arn=config.get_optional_string("roleArn"),
        external_id=config.get_optional_string("externalId"),
    )


def _check_key_pair(key: str, access_key_id: str | None, secret_access_key: str | None) -> None:
    # Backstage silently falls back to other credentials when one half is missing (typically an
    # unset environment variable); saying so at startup is kinder than a 403 later.
    if access_key_id and not secret_access_key:
        raise ConfigError(
            f"Invalid AWS config at '{key}', '{key}.accessKeyId' is set but "
            f"'{key}.secretAccessKey' is missing"
        )
    if secret_access_key and not access_key_id:
        raise ConfigError(
            f"Invalid AWS config at '{key}', '{key}.secretAccessKey' is set but "
            f"'{key}.accessKeyId' is missing"
        )
