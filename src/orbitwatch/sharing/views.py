""""What can nation X see": run the same analysis on only the data released to X.

A product derived from data a nation may not see must never reach that nation, not even as a
count. The safe way to give nation X a derived product (a screening, a report) is to recompute it
from the inputs X may read - :func:`elsets_visible_to` gives exactly those - and mark the result with
:func:`derived_marking` (highest classification, intersection of releasabilities, with reasons).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection

from orbitwatch.markings import DEFAULT_SCHEME, ClassificationScheme, DerivedMarking, Marking, derive
from orbitwatch.sharing.authz import readable_by
from orbitwatch.sharing.principal import Principal
from orbitwatch.store.base import marking_from_row

T = TypeVar("T")


def elsets_visible_to(conn: Connection, principal: Principal, *,
                      scheme: ClassificationScheme = DEFAULT_SCHEME, **filters: Any) -> list:
    """The latest element set of each object *among those the principal may read* (rows).

    ``filters`` are passed to :func:`orbitwatch.store.queries.latest_element_sets` (``norad_ids``,
    ``owner``, ``object_type``, ``regime``, ``name``, ``limit``, ``offset``).
    """
    from orbitwatch.store.queries import latest_element_sets

    return latest_element_sets(conn, where=readable_by(principal, scheme), **filters)


def recompute_for(conn: Connection, principal: Principal, analysis: Callable[[list], T], *,
                  scheme: ClassificationScheme = DEFAULT_SCHEME, **filters: Any) -> T:
    """Run ``analysis`` on the element sets ``principal`` may read, and only those."""
    return analysis(elsets_visible_to(conn, principal, scheme=scheme, **filters))


def derived_marking(inputs: Sequence[tuple[str, Marking]] | Sequence[tuple[str, Any]], *,
                    scheme: ClassificationScheme = DEFAULT_SCHEME) -> DerivedMarking:
    """Marking of a product from labelled inputs (Markings or rows with marking columns), with the
    reasons: which input raised the classification, which removed which nations."""
    pairs = [(label, m if isinstance(m, Marking) else marking_from_row(m, scheme)) for label, m in inputs]
    return derive(pairs, scheme=scheme)
