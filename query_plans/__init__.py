"""Query plans for the GraphQL API: plan once per query, execute many times.

``config.schema`` passes :class:`PlanExecutionContext` to strawberry as its
``execution_context_class``. The first time a query (document, operation and
variable values) is executed, a plan is built with everything that does not
depend on the data: the fields graphql-core would collect, their arguments
coerced and converted, how each value is read and completed. Later executions
take the plan from a bounded LRU cache. What the planner does not cover runs
through graphql-core's executor unchanged. ``query_plans.compat`` holds every
use of the libraries' internals and checks them at start-up.
"""

from query_plans.cache import PLANS, CacheInfo
from query_plans.executor import PlanExecutionContext


def plan_cache_info() -> CacheInfo:
    """Hits, misses and size of the plan cache since start-up (or the last clear)."""
    return PLANS.info()


def clear_plans() -> None:
    PLANS.clear()


__all__ = ["CacheInfo", "PlanExecutionContext", "clear_plans", "plan_cache_info"]
