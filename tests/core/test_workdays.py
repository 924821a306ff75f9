import datetime as dt

import pytest

from throughcare.protocol.workdays import add_working_days, is_working_day, working_days_between


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        # Christmas Day, the Boxing Day substitute on Monday 28th and New Year's Day are all skipped.
        (dt.date(2026, 12, 24), 5, dt.date(2027, 1, 5)),
        # Easter 2027: Good Friday 26 March and Easter Monday 29 March.
        (dt.date(2027, 3, 25), 1, dt.date(2027, 3, 30)),
        (dt.date(2027, 3, 25), 5, dt.date(2027, 4, 5)),
        # Late May bank holiday, Monday 31 May 2027.
        (dt.date(2027, 5, 28), 1, dt.date(2027, 6, 1)),
        # Summer bank holiday in England (not Scotland's): Monday 30 August 2027.
        (dt.date(2027, 8, 27), 1, dt.date(2027, 8, 31)),
        # A plain week, and a start on a Saturday.
        (dt.date(2026, 11, 23), 10, dt.date(2026, 12, 7)),
        (dt.date(2026, 11, 21), 1, dt.date(2026, 11, 23)),
        (dt.date(2026, 11, 23), 0, dt.date(2026, 11, 23)),
    ],
)
def test_add_working_days(start: dt.date, count: int, expected: dt.date) -> None:
    assert add_working_days(start, count) == expected


def test_counting_back_mirrors_counting_forward() -> None:
    assert add_working_days(dt.date(2027, 1, 5), -5) == dt.date(2026, 12, 24)


def test_bank_holidays_are_not_working_days() -> None:
    assert not is_working_day(dt.date(2027, 3, 29))  # Easter Monday, England only
    assert not is_working_day(dt.date(2026, 12, 28))  # Boxing Day moved to Monday
    assert is_working_day(dt.date(2026, 12, 29))


def test_working_days_between() -> None:
    assert working_days_between(dt.date(2026, 12, 24), dt.date(2027, 1, 5)) == 5
    assert working_days_between(dt.date(2027, 1, 5), dt.date(2026, 12, 24)) == -5
