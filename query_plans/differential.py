"""Run each planned query through both executors and report any difference.

The reference executor is the oracle: for an operation that has a plan,
:class:`DifferentialExecutionContext` executes the plan, then graphql-core's
executor on a copy of the same executor state, and compares the two results:
the data as JSON text (so key order counts), each error's message, path,
locations, extensions and original exception type, and the number of SQL
queries. The plan's result is returned, and only its queries stay in Django's
query log, so the tests' own query counts see one execution. Differences are
appended to :data:`MISMATCHES`; the test suite fails a test that leaves any.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connections
from django.test.utils import CaptureQueriesContext

from query_plans import compat
from query_plans.executor import PlanExecutionContext

#: What differed, one line per operation, since the last :func:`take_mismatches`.
MISMATCHES: list[str] = []
#: Operations compared (planned) and run by graphql-core alone (not planned).
COUNTS = {"compared": 0, "fallback": 0}


def take_mismatches() -> list[str]:
    found = list(MISMATCHES)
    MISMATCHES.clear()
    return found


class DifferentialExecutionContext(PlanExecutionContext):
    """PlanExecutionContext that also runs graphql-core and compares (tests only)."""

    strict = True

    def execute_operation(self, serially: bool | None = None) -> Any:
        try:
            plan = self.query_plan() if serially is None else None
        except Exception as e:
            MISMATCHES.append(f"{self._name()}: planning raised {e!r}")
            plan = None
        if plan is None:
            COUNTS["fallback"] += 1
            return compat.BaseExecutionContext.execute_operation(self, serially)
        COUNTS["compared"] += 1
        _load_viewer(self.context_value)
        reference = self.build_per_event_executor(self.root_value)
        connection = connections["default"]
        with CaptureQueriesContext(connection) as planned_queries:
            actual = self.execute_plan(plan)
        # Hidden from the connection's execute wrappers (query counters of the request
        # log, say) as from the query log below: only the plan's run is the request's.
        wrappers, connection.execute_wrappers = connection.execute_wrappers, []
        try:
            with CaptureQueriesContext(connection) as reference_queries:
                expected = compat.BaseExecutionContext.execute_operation(reference, serially)
        finally:
            connection.execute_wrappers = wrappers
        reference_sql, planned_sql = len(reference_queries), len(planned_queries)
        # Keep the log as if the operation had run once (the counts above are
        # slices of it, taken before).
        for _ in range(reference_sql):
            connection.queries_log.pop()
        self._compare(expected, actual, reference_sql, planned_sql)
        return actual

    def _name(self) -> str:
        operation = self.operation
        name = operation.name.value if operation.name else "anonymous"
        body = operation.loc.source.body if operation.loc else ""
        return f"{name} {' '.join(body.split())[:300]!r}"

    def _compare(self, expected: Any, actual: Any, reference_sql: int, planned_sql: int) -> None:
        differences = []
        expected_data, actual_data = _json(expected.data), _json(actual.data)
        if expected_data != actual_data:
            differences.append(
                f"data: graphql-core {expected_data[:500]} / plan {actual_data[:500]}"
            )
        expected_errors = [_error(error) for error in expected.errors or ()]
        actual_errors = [_error(error) for error in actual.errors or ()]
        if expected_errors != actual_errors:
            differences.append(f"errors: graphql-core {expected_errors} / plan {actual_errors}")
        if reference_sql != planned_sql:
            differences.append(f"SQL queries: graphql-core {reference_sql} / plan {planned_sql}")
        if differences:
            MISMATCHES.append(f"{self._name()}: " + "; ".join(differences))


def _load_viewer(context: Any) -> None:
    # The request's user is loaded (two queries) by the first resolver that needs
    # it; loaded before both runs, so the second run does not find it cached.
    user = getattr(getattr(context, "request", None), "user", None)
    getattr(user, "pk", None)


def _json(data: Any) -> str:
    return json.dumps(data, default=repr)


def _error(error: Any) -> tuple:
    original = error.original_error
    return (
        error.message,
        error.path,
        [tuple(location) for location in error.locations or ()],
        error.extensions,
        type(original).__name__ if original is not None else None,
    )
