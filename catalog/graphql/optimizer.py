"""The catalog's query optimizer: strawberry-django's, its hints kept per query plan."""

from __future__ import annotations

from typing import Any

from catalog import visibility
from catalog.graphql.permissions import viewer
from query_plans.optimizer import PlannedOptimizer


class CatalogOptimizer(PlannedOptimizer):
    """Besides the selection, the catalog's optimizer hints depend only on whether
    the viewer may see private images (``types._ordered_images`` prefetches the
    visible ones): within one query plan, hints are kept for each answer."""

    def hint_audience(self, info: Any) -> bool:
        return visibility.can_see_private(viewer(info))
