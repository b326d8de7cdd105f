"""GitHub source (docs/github.md)."""
from ingest.github.settings import *  # noqa: F401,F403  (transitional: split into fetch/normalise/link/save follows)
from ingest.github.settings import (  # noqa: F401
    _connection, _graphql_pages, _rest_pages,
)
