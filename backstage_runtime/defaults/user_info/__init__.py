"""Default ``core.userInfo``: a user's entity ref and ownership refs from their token.

The token was verified when the credentials were made; its ``ent`` claim holds the ownership
refs. Tokens without it (limited and on-behalf-of tokens) are resolved by the auth backend's
``/v1/userinfo``. Answers are cached for five seconds per token, shared by all plugins.
"""

from ._factory import user_info_service_factory
from ._user_info import DefaultUserInfoService

__all__ = [
    "DefaultUserInfoService",
    "user_info_service_factory",
]
