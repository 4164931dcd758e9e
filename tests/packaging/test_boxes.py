"""Box choice: properties that hold for every shipment, minimality against brute force on small
shipments, and the worked cases ops will meet (oversize, unmeasured, reusable, boundaries)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.hookspecs.packaging import BoxChoice, PackItem
from plugins.packaging_default import boxes as boxes_module
from plugins.packaging_default.boxes import BoxSelection, choose_boxes
from plugins.packaging_default.policy import DEFAULT_POLICY, OVERSIZE, Box

# -- an independent statement of the rule ------------------------------------------------------


def unit_fits(item: PackItem, box: Box) -> bool:
    dims = (item.length_mm, item.width_mm, item.height_mm)
    if min(dims) <= 0:
        return True
    inner = sorted((box.length_mm, box.width_mm, box.height_mm))
    return all(u <= b for u, b in zip(sorted(dims), inner, strict=True))


def volume(item: PackItem) -> int:
    dims = (item.length_mm, item.width_mm, item.height_mm)
    return math.prod(dims) if min(dims) > 0 else 0


def holds(box: Box, units: Sequence[PackItem], fill: float) -> bool:
    return (
        all(unit_fits(u, box) for u in units)
        and sum(u.weight_g for u in units) <= box.max_weight_g
        and sum(volume(u) for u in units) <= math.floor(box.volume_mm3 * fill)
    )


def partitions(units: list[PackItem]) -> Iterator[list[list[PackItem]]]:
    if not units:
        yield []
        return
    first, rest = units[0], units[1:]
    for partition in partitions(rest):
        yield [[first], *partition]
        for i in range(len(partition)):
            yield [*partition[:i], [first, *partition[i]], *partition[i + 1 :]]


def brute_force(units: list[PackItem], catalogue: Sequence[Box], fill: float) -> tuple[int, int] | None:
    """Fewest boxes, then least total volume, over every split of the units into boxes."""
    best: tuple[int, int] | None = None
    for partition in partitions(units):
        total = 0
        for block in partition:
            volumes = [b.volume_mm3 for b in catalogue if holds(b, block, fill)]
            if not volumes:
                break
            total += min(volumes)
        else:
            if best is None or (len(partition), total) < best:
                best = (len(partition), total)
    return best


# -- strategies --------------------------------------------------------------------------------

# Sizes chosen so that most shipments need several boxes and some units fit no box.
box_size = st.integers(20, 100)
item_size = st.integers(5, 70)
item_dims = st.one_of(st.tuples(item_size, item_size, item_size), st.just((0, 0, 0)))


@st.composite
def catalogues(draw: st.DrawFn, max_boxes: int = 3) -> list[Box]:
    specs = draw(
        st.lists(
            st.tuples(box_size, box_size, box_size, st.integers(1_000, 6_000), st.integers(0, 300), st.booleans()),
            min_size=1,
            max_size=max_boxes,
        )
    )
    return [
        Box(code=code, length_mm=ln, width_mm=w, height_mm=h, max_weight_g=mw, own_weight_g=own, reusable=r)
        for code, (ln, w, h, mw, own, r) in zip("ABCDEF", specs, strict=False)
    ]


@st.composite
def shipments(draw: st.DrawFn, max_lines: int = 6, max_qty: int = 1) -> list[PackItem]:
    lines = draw(st.lists(st.tuples(item_dims, st.integers(0, 3_000), st.integers(1, max_qty)), max_size=max_lines))
    return [
        PackItem(sku=f"sku{i}", qty=qty, weight_g=w, length_mm=d[0], width_mm=d[1], height_mm=d[2])
        for i, (d, w, qty) in enumerate(lines)
    ]


fills = st.sampled_from([0.5, 0.9, 1.0])


def units_of(items: Sequence[PackItem]) -> list[PackItem]:
    return [item for item in items for _ in range(item.qty)]


def check_invariants(items: Sequence[PackItem], catalogue: Sequence[Box], fill: float, plan: BoxSelection) -> None:
    by_sku = {i.sku: i for i in items}
    by_code = {b.code: b for b in catalogue}
    packed: dict[str, int] = {}
    for choice in plan.boxes:
        for sku, n in choice.items.items():
            assert n > 0
            packed[sku] = packed.get(sku, 0) + n
        contents = units_of([msgspec_replace_qty(by_sku[s], n) for s, n in choice.items.items()])
        if choice.box == OVERSIZE:
            assert len(contents) == 1
            assert not any(holds(b, contents, fill) for b in catalogue)
            assert choice.weight_g == contents[0].weight_g
            continue
        box = by_code[choice.box]
        assert all(unit_fits(u, box) for u in contents), "an item is larger than its box"
        assert sum(u.weight_g for u in contents) <= box.max_weight_g, "a box is over its weight limit"
        assert sum(volume(u) for u in contents) <= box.volume_mm3 * fill
        assert choice.weight_g == sum(u.weight_g for u in contents) + box.own_weight_g
        assert choice.reusable is box.reusable
    assert packed == {i.sku: i.qty for i in items}, "every unit is packed exactly once"


def msgspec_replace_qty(item: PackItem, qty: int) -> PackItem:
    return PackItem(
        sku=item.sku,
        qty=qty,
        weight_g=item.weight_g,
        length_mm=item.length_mm,
        width_mm=item.width_mm,
        height_mm=item.height_mm,
    )


# -- properties --------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=shipments(), catalogue=catalogues(), fill=fills)
def test_the_fewest_boxes_then_the_least_volume_on_small_shipments(
    items: list[PackItem], catalogue: list[Box], fill: float
) -> None:
    plan = choose_boxes(items, catalogue, fill_factor=fill)
    check_invariants(items, catalogue, fill, plan)
    packable = [u for u in units_of(items) if any(holds(b, [u], fill) for b in catalogue)]
    best = brute_force(packable, catalogue, fill)
    assert best is not None
    real = [c for c in plan.boxes if c.box != OVERSIZE]
    volumes = {b.code: b.volume_mm3 for b in catalogue}
    assert (len(real), sum(volumes[c.box] for c in real)) == best
    assert plan.exact


@settings(max_examples=100, deadline=None)
@given(items=shipments(max_lines=3, max_qty=2), catalogue=catalogues(), fill=fills)
def test_quantities_above_one_are_still_packed_in_the_fewest_boxes(
    items: list[PackItem], catalogue: list[Box], fill: float
) -> None:
    plan = choose_boxes(items, catalogue, fill_factor=fill)
    check_invariants(items, catalogue, fill, plan)
    packable = [u for u in units_of(items) if any(holds(b, [u], fill) for b in catalogue)]
    best = brute_force(packable, catalogue, fill)
    assert best is not None
    assert len([c for c in plan.boxes if c.box != OVERSIZE]) == best[0]


@settings(max_examples=100, deadline=None)
@given(items=shipments(max_lines=8, max_qty=40), catalogue=catalogues(max_boxes=5), fill=fills)
def test_every_unit_is_packed_once_within_limits_on_any_shipment(
    items: list[PackItem], catalogue: list[Box], fill: float
) -> None:
    check_invariants(items, catalogue, fill, choose_boxes(items, catalogue, fill_factor=fill))


@settings(max_examples=100, deadline=None)
@given(items=shipments(), catalogue=catalogues(), fill=fills)
def test_the_heuristic_keeps_the_rules_and_claims_the_fewest_only_when_true(
    items: list[PackItem], catalogue: list[Box], fill: float
) -> None:
    with mock.patch.object(boxes_module, "EXACT_SEARCH_LIMIT", 0):  # first-fit decreasing only
        plan = choose_boxes(items, catalogue, fill_factor=fill)
    check_invariants(items, catalogue, fill, plan)
    packable = [u for u in units_of(items) if any(holds(b, [u], fill) for b in catalogue)]
    best = brute_force(packable, catalogue, fill)
    assert best is not None
    count = len([c for c in plan.boxes if c.box != OVERSIZE])
    assert count >= best[0]
    if plan.exact:
        assert count == best[0]


@settings(max_examples=100, deadline=None)
@given(items=shipments(max_lines=6, max_qty=3), catalogue=catalogues(), data=st.data())
def test_the_plan_does_not_depend_on_the_order_of_the_items(
    items: list[PackItem], catalogue: list[Box], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(items))
    reversed_catalogue = list(reversed(catalogue))
    assert choose_boxes(items, catalogue) == choose_boxes(shuffled, reversed_catalogue)


# -- worked cases ------------------------------------------------------------------------------


def item(sku: str, dims: tuple[int, int, int], weight_g: int, qty: int = 1) -> PackItem:
    return PackItem(sku=sku, qty=qty, weight_g=weight_g, length_mm=dims[0], width_mm=dims[1], height_mm=dims[2])


def test_the_exact_search_finds_what_first_fit_decreasing_misses() -> None:
    catalogue = [Box(code="B", length_mm=100, width_mm=100, height_mm=100, max_weight_g=1_000)]
    items = [item(f"W{w}", (10, 10, 10), w) for w in (500, 400, 300)] + [item("W250", (10, 10, 10), 250, qty=3)]
    plan = choose_boxes(items, catalogue)
    # First-fit decreasing opens a third box (500+400 | 300+250+250 | 250); 1 000 + 950 g needs two.
    assert sorted(c.weight_g for c in plan.boxes) == [950, 1_000]
    with mock.patch.object(boxes_module, "EXACT_SEARCH_LIMIT", 0):
        heuristic = choose_boxes(items, catalogue)
    assert len(heuristic.boxes) == 3
    assert not heuristic.exact
    assert any("a plan with fewer boxes may exist" in r for r in heuristic.reasons)


def test_a_t_shirt_goes_in_the_padded_envelope() -> None:
    plan = choose_boxes([item("TSHIRT", (300, 200, 20), 250)], DEFAULT_POLICY.boxes)
    assert plan.boxes == (BoxChoice(box="ENVELOPE", items={"TSHIRT": 1}, weight_g=280),)
    assert plan.exact
    assert any("box ENVELOPE" in r and "1× TSHIRT" in r for r in plan.reasons)
    assert any("fewest possible" in r for r in plan.reasons)


def test_a_unit_may_be_turned_to_fit() -> None:
    # 100 mm tall but only 30 mm thick: lying flat it fits the 30 mm envelope.
    plan = choose_boxes([item("FRAME", (30, 100, 300), 200)], DEFAULT_POLICY.boxes)
    assert [c.box for c in plan.boxes] == ["ENVELOPE"]


def test_too_heavy_for_the_envelope_goes_in_a_box() -> None:
    plan = choose_boxes([item("BOOKS", (300, 200, 25), 1_500)], DEFAULT_POLICY.boxes)
    assert [c.box for c in plan.boxes] == ["M"]  # S is 250 mm long; M carries 10 kg


def test_contents_exactly_at_the_weight_limit_fit() -> None:
    catalogue = [Box(code="B", length_mm=100, width_mm=100, height_mm=100, max_weight_g=1_000)]
    assert [c.box for c in choose_boxes([item("X", (10, 10, 10), 500, qty=2)], catalogue).boxes] == ["B"]
    assert [c.box for c in choose_boxes([item("X", (10, 10, 10), 501, qty=2)], catalogue).boxes] == ["B", "B"]


def test_the_fill_factor_is_a_hard_limit() -> None:
    catalogue = [
        Box(code="SMALL", length_mm=100, width_mm=100, height_mm=100, max_weight_g=10_000),
        Box(code="BIG", length_mm=200, width_mm=200, height_mm=200, max_weight_g=10_000),
    ]
    exactly = [item("CUBE", (90, 100, 100), 10)]  # 900 000 mm³ = 0.9 × 1 000 000
    assert [c.box for c in choose_boxes(exactly, catalogue, fill_factor=0.9).boxes] == ["SMALL"]
    over = [item("CUBE", (91, 100, 100), 10)]
    assert [c.box for c in choose_boxes(over, catalogue, fill_factor=0.9).boxes] == ["BIG"]
    assert [c.box for c in choose_boxes(over, catalogue, fill_factor=1.0).boxes] == ["SMALL"]


def test_fewer_boxes_beat_smaller_boxes() -> None:
    catalogue = [
        Box(code="S", length_mm=100, width_mm=100, height_mm=100, max_weight_g=10_000),
        Box(code="L", length_mm=200, width_mm=200, height_mm=100, max_weight_g=10_000),
    ]
    plan = choose_boxes([item("X", (90, 90, 90), 100, qty=3)], catalogue)
    assert [(c.box, c.items) for c in plan.boxes] == [("L", {"X": 3})]


def test_unmeasured_items_count_by_weight_only() -> None:
    plan = choose_boxes([item("SOCKS", (0, 0, 0), 400, qty=3)], DEFAULT_POLICY.boxes)
    # 1 200 g is over the envelope's 1 kg, and no size rules out the next smallest box.
    assert [(c.box, c.items) for c in plan.boxes] == [("S", {"SOCKS": 3})]
    assert any("SOCKS: no dimensions given, packed by weight only" in r for r in plan.reasons)


def test_an_item_that_fits_no_box_goes_oversize_with_a_reason() -> None:
    items = [item("SOFA", (2_000, 900, 800), 45_000, qty=2), item("MUG", (120, 90, 90), 400)]
    plan = choose_boxes(items, DEFAULT_POLICY.boxes)
    assert [c.box for c in plan.boxes] == ["S", OVERSIZE, OVERSIZE]
    assert plan.boxes[1] == BoxChoice(box=OVERSIZE, items={"SOFA": 1}, weight_g=45_000)
    reason = next(r for r in plan.reasons if r.startswith("SOFA"))
    assert "fits no box" in reason and "largest: XL" in reason and "2 units go as OVERSIZE" in reason


def test_too_heavy_for_every_box_is_oversize_too() -> None:
    plan = choose_boxes([item("ANVIL", (200, 200, 200), 31_000)], DEFAULT_POLICY.boxes)
    assert [c.box for c in plan.boxes] == [OVERSIZE]


def test_an_empty_catalogue_makes_everything_oversize() -> None:
    plan = choose_boxes([item("A", (10, 10, 10), 10)], [])
    assert [c.box for c in plan.boxes] == [OVERSIZE]
    assert "catalogue is empty" in plan.reasons[0]


def test_nothing_to_pack() -> None:
    plan = choose_boxes([], DEFAULT_POLICY.boxes)
    assert plan.boxes == ()
    assert plan.reasons == ("nothing to pack",)
    skipped = choose_boxes([item("A", (10, 10, 10), 10, qty=0)], DEFAULT_POLICY.boxes)
    assert skipped.boxes == ()
    assert "A: quantity 0, nothing to pack" in skipped.reasons


def test_lines_of_the_same_sku_are_merged() -> None:
    plan = choose_boxes([item("A", (100, 50, 20), 100), item("A", (20, 50, 100), 100)], DEFAULT_POLICY.boxes)
    assert [c.items for c in plan.boxes] == [{"A": 2}]


def reusable_catalogue() -> list[Box]:
    return [
        Box(code="S", length_mm=200, width_mm=150, height_mm=100, max_weight_g=5_000),
        Box(code="M-REUSE", length_mm=300, width_mm=200, height_mm=150, max_weight_g=5_000, reusable=True),
        Box(code="L", length_mm=400, width_mm=300, height_mm=200, max_weight_g=10_000),
    ]


def test_reusable_boxes_are_preferred_only_when_the_policy_says_so() -> None:
    items = [item("A", (150, 100, 80), 500)]
    assert [c.box for c in choose_boxes(items, reusable_catalogue()).boxes] == ["S"]
    preferred = choose_boxes(items, reusable_catalogue(), prefer_reusable=True)
    assert [(c.box, c.reusable) for c in preferred.boxes] == [("M-REUSE", True)]
    assert "reusable" in preferred.reasons[0]


def test_preferring_reusable_boxes_never_adds_a_box() -> None:
    # Two units need two reusable boxes, or one non-reusable L: one box wins.
    items = [item("A", (280, 190, 140), 500, qty=2)]
    plan = choose_boxes(items, reusable_catalogue(), prefer_reusable=True)
    assert [c.box for c in plan.boxes] == ["L"]
    assert any("prefers reusable boxes, but no reusable box suits" in r for r in plan.reasons)


def test_cost_breaks_ties_between_boxes_of_the_same_volume() -> None:
    catalogue = [
        Box(code="DEAR", length_mm=100, width_mm=100, height_mm=100, max_weight_g=1_000, cost=90),
        Box(code="CHEAP", length_mm=100, width_mm=100, height_mm=100, max_weight_g=1_000, cost=30),
    ]
    assert [c.box for c in choose_boxes([item("A", (50, 50, 50), 10)], catalogue).boxes] == ["CHEAP"]


def test_boxes_are_listed_largest_first_and_weighed_with_the_box() -> None:
    # 31 kg in all: over the XL's 30 kg, so two boxes.
    items = [item("SMALL", (200, 150, 80), 4_000), item("BIG", (550, 380, 300), 27_000)]
    plan = choose_boxes(items, DEFAULT_POLICY.boxes)
    assert [(c.box, c.weight_g) for c in plan.boxes] == [("XL", 27_650), ("S", 4_150)]


def test_the_same_request_gives_the_same_plan() -> None:
    items = [item(f"P{i}", (100 + i, 80, 60), 300 + 10 * i, qty=1 + i % 3) for i in range(7)]
    first = choose_boxes(items, DEFAULT_POLICY.boxes)
    assert all(choose_boxes(items, DEFAULT_POLICY.boxes) == first for _ in range(3))


def test_a_large_shipment_is_packed_quickly_and_says_how() -> None:
    items = [item(f"P{i:02d}", (100 + 7 * i, 80 + i, 40), 150 + 25 * i, qty=25) for i in range(20)]
    started = time.perf_counter()
    plan = choose_boxes(items, DEFAULT_POLICY.boxes)
    assert time.perf_counter() - started < 1.0
    check_invariants(items, DEFAULT_POLICY.boxes, DEFAULT_POLICY.fill_factor, plan)
    assert any("first-fit decreasing" in r for r in plan.reasons)


def test_many_identical_units_are_searched_exactly() -> None:
    plan = choose_boxes([item("T", (300, 200, 20), 200, qty=100)], DEFAULT_POLICY.boxes)
    # 1.2 l each: 72 fill an XL (86.4 l usable), the other 28 an L (35.4 l usable).
    assert plan.exact
    assert [(c.box, c.items) for c in plan.boxes] == [("XL", {"T": 72}), ("L", {"T": 28})]
