"""Box choice: which boxes a shipment's units go in — the fewest boxes first, then the least
total box volume.

The rule is a volume-and-dimension heuristic, not exact 3D bin packing. A unit fits a box when
its dimensions, sorted, fit the box's sorted inner dimensions (so it may be turned any way); a
set of units fits a box when every unit does, their weight is within the box's `max_weight_g`
(contents only; the box's own weight is added to the parcel's weight), and their total volume is
within `fill_factor` of the box's volume. How the units sit next to each other is never checked:
the fill factor leaves room for that and for padding, and a packer may still, rarely, need the
next box up. Units with unknown (0) dimensions count by weight only.

Under that rule the choice is exact for ordinary shipments — a dynamic programme over multisets
of identical units finds the fewest boxes, then the smallest total volume (with reusable boxes
first when the policy prefers them), then the lowest cost — and first-fit decreasing for large
ones, where the search would be too slow; the plan's reasons say which was used. Units that fit
no box alone go in an `OVERSIZE` pseudo-box each, to be packed by hand. The output depends only
on the multiset of units, never on the order of the request's items.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import msgspec

from core.hookspecs.packaging import BoxChoice, PackItem
from plugins.packaging_default.policy import OVERSIZE, Box

EXACT_SEARCH_LIMIT = 40_000
"""Largest number of (multiset, block) pairs the exact search may visit (about 40 ms of work)."""


class BoxSelection(msgspec.Struct, frozen=True, kw_only=True):
    """The boxes chosen for a shipment, and why."""

    boxes: tuple[BoxChoice, ...]
    reasons: tuple[str, ...]
    exact: bool  # True when the number of boxes is proven the fewest under the rule


class _Kind(NamedTuple):
    """Identical units of one SKU."""

    sku: str
    dims: tuple[int, int, int] | None  # sorted, largest first; None when unknown
    weight_g: int
    volume_mm3: int
    qty: int


class _Slot(NamedTuple):
    """A box of the catalogue with its limits worked out."""

    box: Box
    dims: tuple[int, int, int]
    capacity_mm3: int  # volume × fill factor
    cost: tuple[int, int, int, int]  # (boxes, non-preferred boxes, volume, cost): what one box adds to a plan
    fits: int = 0  # bit i set when a unit of kind i fits it dimensionally


class _Bin(NamedTuple):
    counts: list[int]
    weight_g: int
    volume_mm3: int
    kinds: int  # bit mask of the kinds inside


def choose_boxes(
    items: Sequence[PackItem], boxes: Sequence[Box], *, fill_factor: float = 0.9, prefer_reusable: bool = False
) -> BoxSelection:
    """Choose the boxes for `items` from the catalogue `boxes` (see the module docstring)."""
    reasons: list[str] = []
    kinds = _kinds(items, reasons)
    slots = [
        _Slot(
            box=b,
            dims=_sorted_dims(b.length_mm, b.width_mm, b.height_mm),
            capacity_mm3=math.floor(b.volume_mm3 * fill_factor),
            cost=(1, int(prefer_reusable and not b.reusable), b.volume_mm3, b.cost or 0),
        )
        for b in boxes
    ]
    # One box's order of preference (preferred reusable, smaller, cheaper, then by code) breaks every tie.
    slots.sort(key=lambda s: (s.cost, s.box.code))
    packable: list[_Kind] = []
    oversize: list[BoxChoice] = []
    for kind in kinds:
        if any(_fits(kind, s) and _holds(s, 0, kind.weight_g, kind.volume_mm3) for s in slots):
            packable.append(kind)
            continue
        reasons.append(_oversize_reason(kind, slots))
        oversize.extend(BoxChoice(box=OVERSIZE, items={kind.sku: 1}, weight_g=kind.weight_g) for _ in range(kind.qty))
    slots = [s._replace(fits=sum(1 << i for i, k in enumerate(packable) if _fits(k, s))) for s in slots]

    searched = _search_size(packable) <= EXACT_SEARCH_LIMIT
    bins = _exact(packable, slots) if searched else _first_fit_decreasing(packable, slots)
    exact = searched or len(bins) == _lower_bound(packable, slots)
    chosen: list[tuple[_Slot, _Bin]] = [(_best_slot(b, slots), b) for b in bins]
    chosen.sort(key=lambda sb: (-sb[0].box.volume_mm3, sb[0].box.code, tuple(_contents(sb[1], packable).items())))
    plan = [
        BoxChoice(
            box=slot.box.code,
            items=_contents(b, packable),
            weight_g=b.weight_g + slot.box.own_weight_g,
            reusable=slot.box.reusable,
        )
        for slot, b in chosen
    ]
    reasons.extend(_box_reason(slot, b, packable) for slot, b in chosen)
    units = sum(k.qty for k in packable)
    if units:
        if searched:
            then = "reusable boxes first, then the least box volume" if prefer_reusable else "the least box volume"
            how = f"the fewest possible under the size, weight and volume rules, then {then}"
        elif exact:
            how = (
                f"chosen by first-fit decreasing ({units} units are too many to search every plan), "
                "and the fewest possible: no fewer boxes could carry their weight and volume"
            )
        else:
            how = (
                f"chosen by first-fit decreasing ({units} units are too many to search every plan; "
                "a plan with fewer boxes may exist)"
            )
        reasons.append(f"{_plural(units, 'unit')} in {_plural(len(plan), 'box', 'boxes')}: {how}")
    elif not oversize:
        reasons.append("nothing to pack")
    if prefer_reusable and any(b.reusable for b in boxes) and plan and not any(c.reusable for c in plan):
        reasons.append("the policy prefers reusable boxes, but no reusable box suits these items")
    return BoxSelection(boxes=(*plan, *oversize), reasons=tuple(reasons), exact=exact or not units)


# -- the units --------------------------------------------------------------------------------


def _sorted_dims(a: int, b: int, c: int) -> tuple[int, int, int]:
    x, y, z = sorted((a, b, c), reverse=True)
    return x, y, z


def _kinds(items: Iterable[PackItem], reasons: list[str]) -> list[_Kind]:
    merged: dict[tuple[str, tuple[int, int, int] | None, int], int] = {}
    unmeasured: set[str] = set()
    for item in items:
        if item.qty <= 0:
            reasons.append(f"{item.sku}: quantity {item.qty}, nothing to pack")
            continue
        dims = None
        if min(item.length_mm, item.width_mm, item.height_mm) > 0:
            dims = _sorted_dims(item.length_mm, item.width_mm, item.height_mm)
        else:
            unmeasured.add(item.sku)
        key = (item.sku, dims, max(item.weight_g, 0))
        merged[key] = merged.get(key, 0) + item.qty
    reasons.extend(
        f"{sku}: no dimensions given, packed by weight only (measure it so its box is chosen by size)"
        for sku in sorted(unmeasured)
    )
    return [
        _Kind(sku=sku, dims=dims, weight_g=weight, volume_mm3=math.prod(dims) if dims else 0, qty=qty)
        for (sku, dims, weight), qty in sorted(
            merged.items(), key=lambda kv: (kv[0][0], kv[0][1] or (0, 0, 0), kv[0][2])
        )
    ]


def _fits(kind: _Kind, slot: _Slot) -> bool:
    return kind.dims is None or all(u <= b for u, b in zip(kind.dims, slot.dims, strict=True))


def _contents(b: _Bin, kinds: Sequence[_Kind]) -> dict[str, int]:
    items: dict[str, int] = {}
    for kind, n in zip(kinds, b.counts, strict=True):
        if n:
            items[kind.sku] = items.get(kind.sku, 0) + n
    return dict(sorted(items.items()))


def _best_slot(b: _Bin, slots: Sequence[_Slot]) -> _Slot:
    return next(s for s in slots if _holds(s, b.kinds, b.weight_g, b.volume_mm3))


def _holds(slot: _Slot, kinds: int, weight_g: int, volume_mm3: int) -> bool:
    return kinds & ~slot.fits == 0 and weight_g <= slot.box.max_weight_g and volume_mm3 <= slot.capacity_mm3


# -- the exact search -------------------------------------------------------------------------


def _search_size(kinds: Sequence[_Kind]) -> int:
    # Pairs (multiset, sub-multiset) the search may visit: Π (q+1)(q+2)/2.
    return math.prod((k.qty + 1) * (k.qty + 2) // 2 for k in kinds)


def _exact(kinds: Sequence[_Kind], slots: Sequence[_Slot]) -> list[_Bin]:
    """Fewest boxes, then least volume and cost, over every way to split the units into boxes.

    A multiset of units is a mixed-radix number (digit i = how many units of kind i). `best[s]`
    is the cheapest way to pack multiset `s`: one box holding a block `b` (which must contain a
    unit of the first kind present in `s`, so each split is tried once) plus the cheapest way to
    pack `s - b`. A plan's cost is (boxes, non-preferred boxes, volume, cost), compared in that
    order and written as one integer wide enough that sums never carry; since that order is
    compatible with adding costs, the programme is exact. Blocks grow kind by kind and stop as
    soon as no box holds them (a block no box holds only gets harder to hold).
    """
    count = len(kinds)
    radix = [k.qty + 1 for k in kinds]
    stride = [math.prod(radix[:i]) for i in range(count)]
    size = math.prod(radix)
    weight = [0] * size
    volume = [0] * size
    present = [0] * size
    block_slot: list[int] = [-1] * size
    for s in range(1, size):
        i = next(i for i in range(count) if (s // stride[i]) % radix[i])
        prev = s - stride[i]
        weight[s] = weight[prev] + kinds[i].weight_g
        volume[s] = volume[prev] + kinds[i].volume_mm3
        present[s] = present[prev] | (1 << i)
        block_slot[s] = next((n for n, slot in enumerate(slots) if _holds(slot, present[s], weight[s], volume[s])), -1)

    def bin_of(b: int) -> _Bin:
        return _Bin([(b // stride[i]) % radix[i] for i in range(count)], weight[b], volume[b], present[b])

    full = size - 1
    if full == 0:
        return []
    if block_slot[full] >= 0:  # one box holds everything: nothing beats it
        return [bin_of(full)]

    units = sum(k.qty for k in kinds)
    pref_room = units + 1
    volume_room = units * max(slot.cost[2] for slot in slots) + 1
    cost_room = units * max(slot.cost[3] for slot in slots) + 1
    slot_cost = [((c[0] * pref_room + c[1]) * volume_room + c[2]) * cost_room + c[3] for c in (s.cost for s in slots)]
    block_cost = [slot_cost[n] if n >= 0 else -1 for n in block_slot]

    best = [0] * size
    choice = [0] * size
    for s in range(1, size):
        digits = [(s // stride[i]) % radix[i] for i in range(count)]
        first = next(i for i, d in enumerate(digits) if d)
        anchor = range(stride[first], digits[first] * stride[first] + 1, stride[first])
        blocks = [b for b in anchor if block_cost[b] >= 0]
        for i in range(first + 1, count):
            if digits[i]:
                steps = range(0, digits[i] * stride[i] + 1, stride[i])
                blocks = [b + step for b in blocks for step in steps if block_cost[b + step] >= 0]
        found, pick = -1, 0
        for b in blocks:  # never empty: every unit fits some box alone
            total = best[s - b] + block_cost[b]
            if found < 0 or total < found:
                found, pick = total, b
        best[s], choice[s] = found, pick

    bins: list[_Bin] = []
    s = full
    while s:
        bins.append(bin_of(choice[s]))
        s -= choice[s]
    return bins


# -- the heuristic for large shipments --------------------------------------------------------


def _first_fit_decreasing(kinds: Sequence[_Kind], slots: Sequence[_Slot]) -> list[_Bin]:
    """Largest units first, each into the first open box with room (a box may grow to any size
    of the catalogue that holds it), else into a new box; each box then shrinks to the smallest
    size that still holds its contents."""
    bins: list[_Bin] = []
    order = sorted(range(len(kinds)), key=lambda i: (-kinds[i].volume_mm3, -kinds[i].weight_g, i))
    empty = _Bin([0] * len(kinds), 0, 0, 0)
    for i in order:
        kind, remaining = kinds[i], kinds[i].qty
        for n, b in enumerate(bins):
            room = min(_room(kind, i, b, slots), remaining)
            if room:
                bins[n] = _add(b, kind, i, room)
                remaining -= room
            if not remaining:
                break
        while remaining:
            room = min(_room(kind, i, empty, slots), remaining)  # >= 1: oversize units were set apart
            bins.append(_add(empty, kind, i, room))
            remaining -= room
    return bins


def _lower_bound(kinds: Sequence[_Kind], slots: Sequence[_Slot]) -> int:
    """No plan has fewer boxes: even the largest box carries only so much weight and volume."""
    if not kinds:
        return 0
    weight = sum(k.weight_g * k.qty for k in kinds)
    volume = sum(k.volume_mm3 * k.qty for k in kinds)
    most_weight = max(s.box.max_weight_g for s in slots)
    most_volume = max(s.capacity_mm3 for s in slots)
    return max(-(-weight // most_weight), -(-volume // most_volume) if most_volume else 0, 1)


def _room(kind: _Kind, i: int, b: _Bin, slots: Sequence[_Slot]) -> int:
    """How many more units of `kind` fit in `b`, in the largest-room size of the catalogue."""
    most = 0
    for slot in slots:
        if not _holds(slot, b.kinds | (1 << i), b.weight_g, b.volume_mm3):
            continue  # this size no longer holds what the box has (or cannot take this kind)
        by_weight = (slot.box.max_weight_g - b.weight_g) // kind.weight_g if kind.weight_g else kind.qty
        by_volume = (slot.capacity_mm3 - b.volume_mm3) // kind.volume_mm3 if kind.volume_mm3 else kind.qty
        most = max(most, min(by_weight, by_volume))
    return most


def _add(b: _Bin, kind: _Kind, i: int, n: int) -> _Bin:
    counts = list(b.counts)
    counts[i] += n
    return _Bin(counts, b.weight_g + n * kind.weight_g, b.volume_mm3 + n * kind.volume_mm3, b.kinds | (1 << i))


# -- reasons ----------------------------------------------------------------------------------


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _size(dims: Sequence[int]) -> str:
    return "×".join(str(d) for d in dims) + " mm"


def _box_reason(slot: _Slot, b: _Bin, kinds: Sequence[_Kind]) -> str:
    box = slot.box
    contents = ", ".join(f"{n}× {sku}" for sku, n in _contents(b, kinds).items())
    fill = 100 * b.volume_mm3 / box.volume_mm3
    unmeasured = any(n and kind.dims is None for kind, n in zip(kinds, b.counts, strict=True))
    reusable = ", reusable" if box.reusable else ""
    return (
        f"box {box.code} ({_size((box.length_mm, box.width_mm, box.height_mm))}{reusable}) for {contents}: "
        f"{b.weight_g} g of {box.max_weight_g} g, {fill:.0f}% of its volume"
        + (" not counting unmeasured items" if unmeasured else "")
    )


def _oversize_reason(kind: _Kind, slots: Sequence[_Slot]) -> str:
    size = _size(kind.dims) if kind.dims else "no dimensions"
    what = f"{'it goes' if kind.qty == 1 else f'its {kind.qty} units go'} as {OVERSIZE}, to be packed by hand"
    if not slots:
        return f"{kind.sku}: the box catalogue is empty; {what}"
    largest = max(slots, key=lambda s: (s.box.volume_mm3, s.box.max_weight_g)).box
    return (
        f"{kind.sku} ({size}, {kind.weight_g} g) fits no box (largest: {largest.code}, "
        f"{_size((largest.length_mm, largest.width_mm, largest.height_mm))}, {largest.max_weight_g} g): " + what
    )
