"""`in_batches`: a long list of values cut into `IN (...)` lists a statement can bind."""

from __future__ import annotations

import pytest

from storage.database import IN_LIST_AT_MOST, in_batches


@pytest.mark.parametrize(
    ("count", "sizes"),
    [
        (0, []),
        (IN_LIST_AT_MOST, [IN_LIST_AT_MOST]),
        (2 * IN_LIST_AT_MOST, [IN_LIST_AT_MOST, IN_LIST_AT_MOST]),
        (2 * IN_LIST_AT_MOST + 1, [IN_LIST_AT_MOST, IN_LIST_AT_MOST, 1]),
    ],
    ids=["empty", "one-full-batch", "exact-multiple", "remainder"],
)
def test_every_item_once_in_order_no_batch_over_the_limit(count: int, sizes: list[int]) -> None:
    items = [f"id-{n}" for n in range(count)]
    batches = list(in_batches(items))
    assert [len(batch) for batch in batches] == sizes
    assert [item for batch in batches for item in batch] == items
