"""What `scripts/postgres_coverage.py` counts as one statement: the product's SQL whatever it was given."""

from __future__ import annotations

import pytest

from tests.statement_shapes import shape


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (
            "SELECT t.a FROM t WHERE t.id IN (%(id_1_1)s::INTEGER)",
            "SELECT t.a FROM t WHERE t.id IN (%(id_1_1)s::INTEGER, %(id_1_2)s::INTEGER, %(id_1_3)s::INTEGER)",
        ),
        (
            "SELECT t.a FROM t WHERE t.kind = ANY (ARRAY[%(k_1)s::VARCHAR])",
            "SELECT t.a FROM t WHERE t.kind = ANY (ARRAY[%(k_1)s::VARCHAR, %(k_2)s::VARCHAR])",
        ),
        (
            "INSERT INTO t (a, b) VALUES (%(a__0)s::INTEGER, %(b__0)s::TIMESTAMP) RETURNING t.id",
            "INSERT INTO t (a, b) VALUES (%(a__0)s::INTEGER, %(b__0)s::TIMESTAMP), "
            "(%(a__1)s::INTEGER, %(b__1)s::TIMESTAMP) RETURNING t.id",
        ),
        ("SAVEPOINT sa_savepoint_1", "SAVEPOINT sa_savepoint_12"),
        ("SELECT 1 WHERE a = 'x' AND b = -2.5", "SELECT 7  WHERE a = 'it''s'\n AND b = 3"),
    ],
)
def test_what_only_the_values_tell_apart_is_one_shape(one: str, other: str) -> None:
    assert shape(one) == shape(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("SELECT a FROM t WHERE t.id IN (%(id)s::INTEGER)", "SELECT a FROM t WHERE t.k IN (%(k)s::VARCHAR)"),
        ("SELECT t.a FROM t FOR UPDATE", "SELECT t.a FROM t FOR UPDATE SKIP LOCKED"),
        ("SELECT t_1.a FROM t AS t_1", "SELECT t_2.a FROM t AS t_2"),
    ],
)
def test_what_the_product_wrote_differently_is_two_shapes(one: str, other: str) -> None:
    assert shape(one) != shape(other)
