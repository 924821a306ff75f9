"""A half year is named, found from a day and counted back in one place: `reports.Period`."""

from __future__ import annotations

import datetime as dt

from throughcare.reporting.reports import Period

D = dt.date


def test_a_half_year_is_named_found_and_counted_back_in_one_place() -> None:
    first, second = Period.parse("2026h1"), Period.parse("2026-H2")
    assert (first, second) == (Period(D(2026, 1, 1), D(2026, 6, 30)), Period(D(2026, 7, 1), D(2026, 12, 31)))
    assert [Period.containing(day) for day in (D(2026, 6, 30), D(2026, 7, 1))] == [first, second]
    assert (first.label, second.label) == ("2026H1", "2026H2")
    assert all(Period.parse(half.label) == half for half in (first, second))
    assert [half.label for half in Period.half_years_to(D(2026, 3, 4), 4)] == ["2026H1", "2025H2", "2025H1", "2024H2"]


def test_any_other_stretch_of_days_is_named_by_its_dates() -> None:
    assert Period(D(2026, 11, 2), D(2026, 11, 15)).label == "2026-11-02-to-2026-11-15"
    # Six months that are not a half year are not named as one.
    assert Period(D(2026, 2, 1), D(2026, 7, 31)).label == "2026-02-01-to-2026-07-31"
