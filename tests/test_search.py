"""protocol/search.py: which products a typed query finds, and in which order."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.search import (
    BARCODE_EXACT,
    FULL_PINYIN,
    INITIALS_PREFIX,
    INITIALS_SUBSTRING,
    NAME_SUBSTRING,
    SKU_EXACT,
    SKU_PREFIX,
    ProductFields,
    matches,
    normalise,
    search,
)

APPLE = ProductFields("A100", "苹果 红富士", "6901234567892", "pghfs", "pingguohongfushi")
PEAR = ProductFields("P200", "梨", "6901234567908", "l", "li")
MILK = ProductFields("M300", "Fresh Milk 1L", "", "", "")
GRAPE = ProductFields("G400", "葡萄", "4006381333931", "pt", "putao")
CATALOGUE = [APPLE, PEAR, MILK, GRAPE]


@pytest.mark.parametrize(
    ("query", "product", "rank"),
    [
        ("A100", APPLE, SKU_EXACT),
        ("a100", APPLE, SKU_EXACT),
        ("  A100 ", APPLE, SKU_EXACT),
        ("6901234567892", APPLE, BARCODE_EXACT),
        ("A1", APPLE, SKU_PREFIX),
        ("苹果", APPLE, NAME_SUBSTRING),
        ("红富士", APPLE, NAME_SUBSTRING),
        ("milk", MILK, NAME_SUBSTRING),
        ("freshmilk", MILK, NAME_SUBSTRING),  # spaces do not count
        ("pg", APPLE, INITIALS_PREFIX),
        ("PG", APPLE, INITIALS_PREFIX),
        ("p", APPLE, INITIALS_PREFIX),
        ("pingguo", APPLE, FULL_PINYIN),
        ("ping guo", APPLE, FULL_PINYIN),
        ("hongfushi", APPLE, FULL_PINYIN),
        ("hfs", APPLE, INITIALS_SUBSTRING),
        ("putao", GRAPE, FULL_PINYIN),
        ("li", PEAR, FULL_PINYIN),
    ],
)
def test_each_way_of_finding_a_product_has_its_rank(query, product, rank):
    assert matches(query, product) == rank


@pytest.mark.parametrize(
    ("query", "product"),
    [
        ("", APPLE),
        ("   ", APPLE),
        ("xyz", APPLE),
        ("690123456789", MILK),  # a barcode prefix is no barcode
        ("6901234567892", PEAR),
        ("gp", APPLE),  # initials in another order
        ("h", APPLE),  # one initial inside the name is too loose
        ("pingguox", APPLE),
        ("100", APPLE),  # the middle of a SKU
        ("pg", MILK),  # no pinyin without Chinese
    ],
)
def test_what_does_not_match(query, product):
    assert matches(query, product) is None


def test_ranks_are_strictly_ordered_best_first():
    ranks = [
        SKU_EXACT,
        BARCODE_EXACT,
        SKU_PREFIX,
        NAME_SUBSTRING,
        INITIALS_PREFIX,
        FULL_PINYIN,
        INITIALS_SUBSTRING,
    ]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)


def test_an_exact_sku_comes_before_pinyin_of_another_product():
    pg = ProductFields("PG", "Plain Goods", "", "", "")
    assert [p.sku for p in search("pg", [APPLE, pg])] == ["PG", "A100"]


def test_search_sorts_by_rank_then_sku_and_keeps_the_limit():
    p1 = ProductFields("B2", "苹果干", "", "pgg", "pingguogan")
    p2 = ProductFields("B1", "苹果汁", "", "pgz", "pingguozhi")
    assert [p.sku for p in search("pg", [APPLE, p1, p2])] == ["A100", "B1", "B2"]
    assert [p.sku for p in search("pg", [APPLE, p1, p2], limit=2)] == ["A100", "B1"]
    assert search("", CATALOGUE) == []
    assert search("nothing", CATALOGUE) == []


def test_every_query_made_of_a_products_own_fields_finds_it():
    """Exhaustive over the catalogue: each field, each prefix of the initials, each slice of
    the full pinyin finds its product."""
    for product in CATALOGUE:
        queries = [product.sku, product.name]
        if product.barcode:
            queries.append(product.barcode)
        queries += [product.initials[:n] for n in range(1, len(product.initials) + 1)]
        queries += [
            product.pinyin[i:j]
            for i, j in itertools.combinations(range(len(product.pinyin) + 1), 2)
            if j - i >= 2
        ]
        for query in queries:
            assert product in search(query, CATALOGUE), query


def test_normalise():
    assert normalise("  Ping Guo ") == "pingguo"
    assert normalise("") == ""


_text = st.text(alphabet="abcAB1 苹果梨", max_size=6)
_fields = st.builds(
    ProductFields,
    sku=st.text(alphabet="AB12", min_size=1, max_size=4),
    name=_text,
    barcode=st.text(alphabet="0123", max_size=4),
    initials=st.text(alphabet="pgl", max_size=3),
    pinyin=st.text(alphabet="pingguoli", max_size=8),
)


@given(st.lists(_fields, max_size=8), _text)
def test_search_is_every_match_in_rank_then_sku_order(products, query):
    found = search(query, products, limit=100)
    ranks = [(matches(query, p), p.sku) for p in found]
    assert all(rank is not None for rank, _ in ranks)
    assert ranks == sorted(ranks, key=lambda r: (r[0] or 0, r[1]))
    assert len(found) == sum(matches(query, p) is not None for p in products)
    for p in products:  # case never matters
        assert matches(query.upper(), p) == matches(query.lower(), p) == matches(query, p)
