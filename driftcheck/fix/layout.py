"""Editing the elements of one list value while keeping its layout (used by `driftcheck fix`).

Language-neutral: a language module cuts the text of a value into
`lead unit gap unit gap ... unit trail` (the units are the elements, the gaps
whatever lies between them: spaces, commas, `\\`-newlines, comments) and says
how to write a new element. The edits below then delete, insert and reorder
units so that

- a deleted element takes its own line with it (and its trailing comment) when
  it stands alone on a line, or just itself and one separator when it shares a
  line;
- an inserted element copies the most common separator, so a one-per-line list
  stays one per line with the same indentation and a one-line list stays on one
  line;
- the separator after the *last* element (a trailing comma, or none; the line
  the closing quote sits on) belongs to the position, not to the element, so it
  stays where it is when elements come and go;
- comments stay next to the element they were written next to; when that cannot
  be kept (a comment above a deleted element, comments in a list that must be
  reordered) the edit is refused rather than guessed.

A gap is read as `tail + head`: the tail runs to the end of the line of the
element before it (its separator, its trailing comment, the newline), the head
is everything after (blank lines, comment lines, the next element's indentation).
Comments only ever occur in gaps, so a `#` in a gap is a comment.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

# Keys fix writes without quoting or escaping in any of the supported forms.
SAFE_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*\Z")


class Refused(Exception):
    """A mirror fix cannot rewrite safely: the reason, and where (byte offset in the file) when known."""

    def __init__(self, reason: str, at_byte: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.at_byte = at_byte


@dataclass
class Unit:
    key: str
    text: str
    style: object = None  # how the element is written (quotes...), for writing new ones alike


def same_keys(written: list[str], extracted: tuple[str, ...]) -> bool:
    """Do the elements as written give the extracted keys? (Sets and dicts hold a repeated key once.)"""
    return written == list(extracted) or list(dict.fromkeys(written)) == list(extracted)


def check_key(key: str, where: str = "this list") -> None:
    if not SAFE_KEY.match(key):
        raise Refused(f"key {key!r} cannot be written safely into {where}")


@dataclass
class Layout:
    """The text of a value, cut into units and gaps: lead u0 g0 u1 ... u(n-1) trail."""

    lead: str
    units: list[Unit]
    gaps: list[str]
    trail: str
    inline_sep: str = " "  # separator for a one-line list when there is no example to copy
    line_sep: str | None = None  # separator before the newline (e.g. ","); None: take it from the text
    _model: str | None = field(default=None, repr=False)

    def render(self) -> str:
        out = [self.lead]
        for index, unit in enumerate(self.units):
            out.append(unit.text)
            out.append(self.gaps[index] if index < len(self.gaps) else "")
        out.append(self.trail)
        return "".join(out)

    @property
    def keys(self) -> list[str]:
        return [u.key for u in self.units]


def split_gap(gap: str) -> tuple[str, str]:
    """(tail, head): the tail runs through the first newline; without one, all of it is tail."""
    newline = gap.find("\n")
    if newline == -1:
        return gap, ""
    return gap[:newline + 1], gap[newline + 1:]


def tail_parts(tail: str) -> tuple[str, str, str]:
    """(separator, comment, newline) of a tail; the comment includes the blanks before it."""
    if tail.endswith("\r\n"):
        newline = "\r\n"
    elif tail.endswith("\n"):
        newline = "\n"
    else:
        newline = ""
    body = tail[:len(tail) - len(newline)]
    hash_at = body.find("#")
    if hash_at == -1:
        return body, "", newline
    start = hash_at
    while start > 0 and body[start - 1] in " \t":
        start -= 1
    return body[:start], body[start:], newline


def _has_newline(text: str) -> bool:
    return "\n" in text


def _normalise(gap: str) -> str:
    """A gap as an example separator: no comments, no blank lines, the last line's indentation."""
    if not _has_newline(gap):
        return gap
    tail, head = split_gap(gap)
    sep, _comment, newline = tail_parts(tail)
    indent = head[head.rfind("\n") + 1:]
    return sep + newline + indent


def model_gap(layout: Layout) -> str:
    """The separator new elements get: the most common one between elements, else derived."""
    if layout._model is not None:
        return layout._model
    if layout.gaps:
        counts = Counter(_normalise(g) for g in layout.gaps)
        best = max(counts.values())
        model = next(g for g in (_normalise(g) for g in layout.gaps) if counts[g] == best)
    else:
        model = _derive_model(layout)
    layout._model = model
    return model


def _derive_model(layout: Layout) -> str:
    """With a single element there is no separator to copy: infer it from the lead and trail."""
    lead, trail = layout.lead, layout.trail
    if not _has_newline(lead):
        return layout.inline_sep
    lead_tail, lead_head = split_gap(lead)
    lead_sep, _, newline = tail_parts(lead_tail)
    indent = lead_head[lead_head.rfind("\n") + 1:]
    if layout.line_sep is not None:
        sep = layout.line_sep
    elif _has_newline(trail):
        sep = tail_parts(split_gap(trail)[0])[0]
    else:
        sep = " \\" if lead_sep.endswith("\\") else ""
    return sep + newline + indent


def _comment_in_head(gap: str) -> bool:
    return "#" in split_gap(gap)[1]


def delete(layout: Layout, index: int) -> None:
    """Remove one unit (there must be at least two)."""
    units, gaps = layout.units, layout.gaps
    count = len(units)
    assert count >= 2
    first, last = index == 0, index == count - 1
    before = layout.lead if first else gaps[index - 1]
    after = layout.trail if last else gaps[index]
    if _comment_in_head(before):
        raise Refused(f"a comment above {units[index].key} would lose its key")
    before_nl, after_nl = _has_newline(before), _has_newline(after)
    before_tail, _ = split_gap(before)
    after_tail, after_head = split_gap(after)
    if before_nl and after_nl:
        # The unit stands alone on its line: delete the line (and its trailing comment).
        if last:
            # The separator after the last element (trailing comma or not) stays with the position;
            # the comment after the previous element stays with it.
            _, comment, newline = tail_parts(before_tail)
            last_sep, _, _ = tail_parts(after_tail)
            merged = last_sep + comment + newline + after_head
        else:
            merged = before_tail + after_head
    elif first:
        merged = before + (after_head if after_nl and "#" in after_head else "")
    elif last:
        _, comment, newline = tail_parts(before_tail)
        merged = after + comment + newline if before_nl and comment else after
    else:
        merged = after if after_nl else before
    if first:
        layout.lead = merged
        del units[0], gaps[0]
    elif last:
        layout.trail = merged
        del units[-1], gaps[-1]
    else:
        gaps[index - 1] = merged
        del units[index], gaps[index]


def insert(layout: Layout, after: int, unit: Unit) -> None:
    """Insert a unit after position `after` (-1: before the first); the list must not be empty."""
    units, gaps = layout.units, layout.gaps
    assert units
    model = model_gap(layout)
    model_nl = _has_newline(model)
    model_tail, model_head = split_gap(model)
    if after == -1:
        lead = layout.lead
        if model_nl and _has_newline(lead):
            lead_tail, lead_head = split_gap(lead)
            layout.lead = lead_tail + model_head
            gap = model_tail + lead_head  # comments above the old first element stay above it
        else:
            gap = model
        units.insert(0, unit)
        gaps.insert(0, gap)
    elif after == len(units) - 1:
        trail = layout.trail
        if model_nl and _has_newline(trail):
            trail_tail, trail_head = split_gap(trail)
            last_sep, comment, newline = tail_parts(trail_tail)
            model_sep, _, _ = tail_parts(model_tail)
            gap = model_sep + comment + newline + model_head
            layout.trail = last_sep + newline + trail_head
        else:
            gap = model
        units.append(unit)
        gaps.append(gap)
    else:
        old = gaps[after]
        if model_nl and _has_newline(old):
            old_tail, old_head = split_gap(old)
            first_gap, second_gap = old_tail + model_head, model_tail + old_head
        else:
            first_gap, second_gap = model, old
        gaps[after] = first_gap
        gaps.insert(after + 1, second_gap)
        units.insert(after + 1, unit)


def reorder(layout: Layout, order: list[str]) -> None:
    """Put the units in `order` (a permutation of their keys), keeping every separator in place."""
    inner = [*layout.gaps, split_gap(layout.lead)[1], split_gap(layout.trail)[0]]
    if any("#" in g for g in inner):
        raise Refused("it has comments between its keys, which could not stay next to their keys "
                      "when reordering")
    by_key = {u.key: u for u in layout.units}
    layout.units = [by_key[k] for k in order]


MakeUnit = Callable[[str, Unit | None], Unit]


def apply(layout: Layout, desired: list[str], make_unit: MakeUnit) -> None:
    """Edit `layout` in place until its keys are exactly `desired` (non-empty, no repeats).

    `make_unit(key, neighbour)` writes a new element in the style of the unit
    it is placed next to (None when the list is empty).
    """
    assert desired and len(set(desired)) == len(desired)
    wanted = set(desired)
    if not layout.units:
        layout.units = [make_unit(k, None) for k in desired]
        layout.gaps = [layout.inline_sep] * (len(desired) - 1)
        return
    # 1. insert new keys next to the key they follow in `desired` (before deleting, so the list
    #    never becomes empty on the way)
    for position, key in enumerate(desired):
        present = layout.keys
        if key in present:
            continue
        keep = [i for i, k in enumerate(present) if k in wanted]
        anchor = next((present.index(k) for k in reversed(desired[:position]) if k in present), None)
        if anchor is None:
            anchor = (keep[0] - 1) if keep else len(present) - 1
        neighbour = layout.units[anchor] if anchor >= 0 else layout.units[0]
        insert(layout, anchor, make_unit(key, neighbour))
    # 2. delete keys no longer wanted, and repeats (the first occurrence stays)
    seen: set[str] = set()
    index = 0
    while index < len(layout.units):
        key = layout.units[index].key
        if key not in wanted or key in seen:
            delete(layout, index)
            continue
        seen.add(key)
        index += 1
    # 3. reorder when the kept keys are not in the desired relative order
    if layout.keys != desired:
        reorder(layout, desired)
