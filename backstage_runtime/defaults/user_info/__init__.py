"""Default ``core.userInfo``: a user's entity ref and ownership refs from their token.

The token was verified when the credentials were made; its ``ent`` claim holds the ownership
refs. Tokens without it (limited and on-behalf-of tokens) are resolved by the auth backend's
``/v1/userinfo``. Answers are cached for five seconds per token, shared by all plugins.
"""

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports
from ._factory import user_info_service_factory

# The rest loads on first use (backstage_runtime._lazy): a backend imports this package for its
# factory, and builds the service only when something depends on it.
if TYPE_CHECKING:
    from ._user_info import DefaultUserInfoService
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "DefaultUserInfoService": "._user_info",
        },
    )

__all__ = [
    "DefaultUserInfoService",
    "user_info_service_factory",
]
