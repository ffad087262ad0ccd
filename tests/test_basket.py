"""The basket before payment, pure: merging scans, quantities, discounts, overrides, totals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import i18n
from protocol.basket import Basket, BasketError, BasketLine
from protocol.units import line_total

COLA = BasketLine("COLA", "Cola", "pcs", 1000, 300, 300)
APPLE = BasketLine("APPLE", "Apple", "kg", 350, 980, 980)


def basket(*lines: BasketLine) -> Basket:
    b = Basket()
    for line in lines:
        b, _ = b.add(line)
    return b


def test_scanning_the_same_item_again_adds_to_its_line():
    b, i = Basket().add(COLA)
    assert i == 0
    b, i = b.add(APPLE)
    assert i == 1
    b, i = b.add(COLA)
    assert i == 0
    assert [(x.sku, x.qty) for x in b.lines] == [("COLA", 2000), ("APPLE", 350)]
    assert b.total == 600 + 343


def test_weighed_items_lot_price_and_labels_keep_their_own_lines():
    b = basket(APPLE, APPLE)
    assert len(b) == 2  # each weighing is its own line
    lotted = BasketLine("COLA", "Cola", "pcs", 1000, 300, 300, lot="L1")
    assert len(basket(COLA, lotted)) == 2
    cheaper = BasketLine("COLA", "Cola", "pcs", 1000, 250, 300)
    assert len(basket(COLA, cheaper)) == 2
    label = BasketLine("CAKE", "Cake", "pcs", 1000, 2500, 2500, label_total=1250)
    assert len(basket(label, label)) == 2


def test_totals_round_half_up_per_line():
    # 0.333 kg at 9.99 = 3.32667 → 3.33; 0.005 kg at 1.00 = 0.005 → 0.01 (half-up)
    b = basket(
        BasketLine("A", "A", "kg", 333, 999, 999),
        BasketLine("B", "B", "kg", 5, 100, 100),
    )
    assert [x.total for x in b.lines] == [333, 1]
    assert b.total == 334


def test_a_price_label_fixes_the_line_total():
    label = BasketLine("CAKE", "Cake", "kg", 500, 2500, 2500, label_total=1250)
    b = basket(label)
    assert b.total == 1250
    with pytest.raises(BasketError, match="price label"):
        b.set_qty(0, 1000)
    with pytest.raises(BasketError, match="price label"):
        b.override_price(0, 100)


def test_change_quantity_and_remove_a_line():
    b = basket(COLA, APPLE)
    b2 = b.set_qty(0, 5000)
    assert b2.lines[0].qty == 5000 and b.lines[0].qty == 1000  # the old basket is unchanged
    assert b2.total == 1500 + 343
    b3 = b2.remove(1)
    assert [x.sku for x in b3.lines] == ["COLA"]
    assert b3.remove(0).lines == ()


@pytest.mark.parametrize(
    ("qty", "message"),
    [
        (0, "more than zero"),
        (-1000, "more than zero"),
        (1500, "whole number"),
        (10**13, "too large"),
    ],
)
def test_bad_quantities_are_refused(qty, message):
    with pytest.raises(BasketError, match=message):
        basket(COLA).set_qty(0, qty)


def test_a_line_that_is_not_there_says_which_lines_are():
    with pytest.raises(BasketError, match="choose a line from 1 to 2"):
        basket(COLA, APPLE).remove(2)
    with pytest.raises(BasketError, match="empty"):
        Basket().set_qty(0, 1000)


def test_discount_a_line():
    b = basket(COLA).set_qty(0, 3000).discount(0, 50, approved_by="zhao")
    line = b.lines[0]
    assert (line.gross, line.total, line.approved_by) == (900, 850, "zhao")
    assert b.total == 850 and b.discounts_total == 50
    assert b.discount(0, 0).total == 900  # taken back; the approval stays on record
    with pytest.raises(BasketError, match=r"more than the line's 9\.00"):
        b.discount(0, 901)
    with pytest.raises(BasketError, match="zero or more"):
        b.discount(0, -1)


def test_a_smaller_quantity_shrinks_a_discount_to_the_line():
    b = basket(COLA).set_qty(0, 3000).discount(0, 800).set_qty(0, 1000)
    assert (b.lines[0].discount, b.lines[0].total) == (300, 0)


def test_override_a_price_keeps_the_list_price():
    b = basket(COLA).override_price(0, 250, approved_by="zhao")
    line = b.lines[0]
    assert (line.unit_price, line.list_price, line.overridden, line.approved_by) == (
        250,
        300,
        True,
        "zhao",
    )
    assert b.total == 250
    assert not b.override_price(0, 300).lines[0].overridden  # back to the list price
    with pytest.raises(BasketError, match="zero or more"):
        b.override_price(0, -5)


def test_messages_are_in_chinese_by_default(monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    with pytest.raises(BasketError) as caught:
        basket(COLA).remove(3)
    assert str(caught.value) == "购物篮里没有第 4 行：请选择第 1 到 1 行"
    assert caught.value.text("en").startswith("no line 4 in the basket")


def test_every_basket_message_has_a_chinese_text():
    import protocol.basket as module

    with open(module.__file__, encoding="utf-8") as f:
        source = f.read()
    zh = i18n.translations()
    for template in [t for t in zh if t in source]:
        assert i18n.field_names(zh[template]) == i18n.field_names(template)
    for raised in ("the basket is empty: scan a code first", "a discount must be zero or more"):
        assert raised in zh


lines = st.builds(
    BasketLine,
    sku=st.sampled_from(["A", "B", "C"]),
    name=st.just("x"),
    unit=st.sampled_from(["pcs", "kg"]),
    qty=st.integers(1, 200).map(lambda n: n * 1000) | st.integers(1, 99_999),
    unit_price=st.integers(0, 100_000),
    list_price=st.none(),
)


@given(st.lists(lines, max_size=12), st.data())
def test_the_total_is_always_the_sum_of_rounded_lines(items, data):
    b = Basket()
    for item in items:
        if item.unit == "pcs" and item.qty % 1000:
            continue
        b, i = b.add(item)
        assert b.lines[i].sku == item.sku
    for i, line in enumerate(b.lines):
        off = data.draw(st.integers(0, line.gross))
        b = b.discount(i, off)
    assert b.total == sum(line_total(x.qty, x.unit_price) - x.discount for x in b.lines)
    assert b.total >= 0 and b.discounts_total == sum(x.discount for x in b.lines)
    assert sum(x.qty for x in b.lines) == sum(
        x.qty for x in items if not (x.unit == "pcs" and x.qty % 1000)
    )
