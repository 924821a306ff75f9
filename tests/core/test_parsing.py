import datetime as dt

import pytest

from throughcare import identity, prison_numbers
from throughcare.dates import DateNotUnderstood, find_date_text, parse_date

MONDAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "prefer", "expected"),
    [
        ("yesterday", "past", dt.date(2026, 11, 22)),
        ("3/12", "future", dt.date(2026, 12, 3)),
        ("14/01/2027", "future", dt.date(2027, 1, 14)),
        ("in two weeks", "future", dt.date(2026, 12, 7)),
        ("2 days ago", "past", dt.date(2026, 11, 21)),
        ("last thursday", "past", dt.date(2026, 11, 19)),
        ("1st dec", "future", dt.date(2026, 12, 1)),
    ],
)
def test_dates_as_staff_type_them(text, prefer, expected) -> None:
    assert parse_date(text, MONDAY, prefer) == expected


def test_an_impossible_date_is_refused() -> None:
    with pytest.raises(DateNotUnderstood):
        parse_date("31/02/2027", MONDAY, "future")


def test_a_date_is_found_inside_a_message() -> None:
    assert find_date_text("IA done for A1234BC yesterday") == "yesterday"
    assert find_date_text("transfer planned for next tuesday pls") == "next tuesday"
    assert find_date_text("triage done for A1234BC") is None


def test_prison_numbers() -> None:
    assert prison_numbers.normalise(" a1234bc ") == "A1234BC"
    assert prison_numbers.normalise("A123BC") is None
    assert prison_numbers.find_in("whats next for b2345cd?") == "B2345CD"
    assert prison_numbers.find_malformed("whats next for A123BC") == "A123BC"
    assert prison_numbers.find_malformed("review held on 3/12 and 14th") is None


def test_signed_tokens_verify_and_forgeries_do_not() -> None:
    secret = b"s" * 32
    token = identity.sign(7, secret, now=1_000_000)
    assert identity.verify(token, secret, now=1_000_100) == 7
    assert identity.verify(token, b"t" * 32, now=1_000_100) is None
    assert identity.verify(token.replace("7.", "8.", 1), secret, now=1_000_100) is None
    assert identity.verify(token, secret, now=1_000_000 + identity.MAX_AGE_SECONDS + 1) is None
    assert identity.verify("nonsense", secret) is None
    assert identity.verify(None, secret) is None
    assert identity.verify(token, None) is None
