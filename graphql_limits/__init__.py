"""Safety limits of the GraphQL API, configured by ``settings.GRAPHQL``.

``config.schema`` installs :class:`QueryLimits` and :class:`MaskUnexpectedErrors`;
options and defaults are in :mod:`graphql_limits.conf`, the cost model in
:mod:`graphql_limits.measure`.
"""

from graphql_limits.conf import DEFAULTS, GraphQLSettings, get, graphql_settings
from graphql_limits.extensions import (
    ErrorCode,
    MaskUnexpectedErrors,
    QueryLimits,
    log_error,
    should_mask_error,
    strip_suggestions,
)
from graphql_limits.measure import Measure, Sizes, measure_operation

__all__ = [
    "DEFAULTS",
    "ErrorCode",
    "GraphQLSettings",
    "MaskUnexpectedErrors",
    "Measure",
    "QueryLimits",
    "Sizes",
    "get",
    "graphql_settings",
    "log_error",
    "measure_operation",
    "should_mask_error",
    "strip_suggestions",
]
