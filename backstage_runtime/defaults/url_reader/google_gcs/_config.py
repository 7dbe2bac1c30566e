"""``integrations.googleGcs``: one object (not a list), read as Backstage's
``readGoogleGcsIntegrationConfig`` reads it.

``clientEmail`` and ``privateKey`` name a service account; either one without the other is an
error naming the missing key. Without both, the reader uses Google's application default
credentials. A literal ``\\n`` in the key becomes a newline, so that a PEM key can be kept on
one line (in an environment variable, say).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ....api.services.config import Config

__all__ = [
    "CONFIG_KEY",
    "GOOGLE_GCS_HOST",
    "GoogleGcsIntegrationConfig",
    "read_google_gcs_integration_config",
]

#: The only host Backstage's GCS reader accepts URLs of.
GOOGLE_GCS_HOST = "storage.cloud.google.com"
#: Where the integration is configured (named in errors).
CONFIG_KEY = "integrations.googleGcs"


@dataclass(frozen=True)
class GoogleGcsIntegrationConfig:
    """The GCS integration: a service account (``client_email`` and ``private_key``) or, when
    neither is set, the application default credentials.
    """

    host: str = GOOGLE_GCS_HOST
    client_email: str | None = None
    private_key: str | None = field(default=None, repr=False)

    @property
    def has_service_account(self) -> bool:
        """Whether requests are signed with the configured service account."""
        return bool(self.client_email and self.private_key)


def read_google_gcs_integration_config(config: Config) -> GoogleGcsIntegrationConfig | None:
    """``integrations.googleGcs``, or None when it is absent (Backstage then registers no GCS
    reader).
    """
    if not config.has(CONFIG_KEY):
        return None
    entry = config.get_optional_config(CONFIG_KEY)
    if entry is None or (not entry.has("clientEmail") and not entry.has("privateKey")):
        return GoogleGcsIntegrationConfig()
    # Both are required once either is set; the config errors name the missing key.
    private_key = entry.get_string("privateKey").replace("\\n", "\n")
    client_email = entry.get_string("clientEmail")
    return GoogleGcsIntegrationConfig(client_email=client_email, private_key=private_key)
