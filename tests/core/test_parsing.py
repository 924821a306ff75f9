import datetime as dt

import pytest

from throughcare.access import identity
from throughcare.cases import prison_numbers
from throughcare.cases.dates import DateNotUnderstood, find_date_text, parse_date

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
        # A day of the month alone is the nearest one on the side asked for.
        ("the 14th", "past", dt.date(2026, 11, 14)),
        ("the 14th", "future", dt.date(2026, 12, 14)),
        ("21st", "past", dt.date(2026, 11, 21)),
        ("the 31st", "past", dt.date(2026, 10, 31)),
        # A two-digit year is this century.
        ("14.1.27", "past", dt.date(2027, 1, 14)),
        ("2 wks time", "future", dt.date(2026, 12, 7)),
        ("2moro", "future", dt.date(2026, 11, 24)),
        ("monday just gone", "past", dt.date(2026, 11, 16)),
        # The near days, read without dateparser, whatever their case and spacing and the side preferred.
        ("Today", "past", MONDAY),
        ("  TOMORROW ", "past", dt.date(2026, 11, 24)),
        ("Yesterday", "future", dt.date(2026, 11, 22)),
        ("tmrw", "past", dt.date(2026, 11, 24)),
    ],
)
def test_dates_as_staff_type_them(text, prefer, expected) -> None:
    assert parse_date(text, MONDAY, prefer) == expected


def test_an_impossible_date_is_refused() -> None:
    with pytest.raises(DateNotUnderstood):
        parse_date("31/02/2027", MONDAY, "future")


def test_a_day_that_no_month_near_it_has_is_refused() -> None:
    with pytest.raises(DateNotUnderstood):
        parse_date("the 31st", dt.date(2026, 12, 2), "past")


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("IA done for A1234BC yesterday", "yesterday"),
        ("transfer planned for next tuesday pls", "next tuesday"),
        ("triage done for A1234BC", None),
        ("review held on the 21st ta", "the 21st"),
        ("13 week review done the 3rd of march", "the 3rd of march"),
        ("moving in 2 weeks time", "in 2 weeks time"),
        ("release date 14.2.27", "14.2.27"),
        # "sat", "sun" and "wed" alone are words, not days; "13 week" is a review, not a date.
        ("sat in on his 13 week review", None),
        ("review done fri", "fri"),
        ("transfer next tues", "next tues"),
    ],
)
def test_a_date_is_found_inside_a_message(message: str, words: str | None) -> None:
    assert find_date_text(message) == words


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


def test_a_chat_token_is_good_only_in_the_conversation_it_was_issued_for() -> None:
    secret = b"s" * 32
    token = identity.sign(7, secret, now=1_000_000, subject="telegram-abc")
    assert identity.verify(token, secret, now=1_000_010, subject="telegram-abc") == 7
    assert identity.verify(token, secret, now=1_000_010, subject="telegram-victim") is None
    assert identity.verify(token, secret, now=1_000_010) is None


@pytest.mark.parametrize(
    "token",
    [
        "1.1.\u00e9",
        "1.1." + "\u00e9" * 64,
        "\u0661.1." + "a" * 64,
        "1.1." + "A" * 64,
        "1.1.1.1",
        "",
        "." * 3,
        {"a": 1},
        7,
    ],
    ids=["non-ASCII", "64 non-ASCII", "Arabic digit", "upper-case hex", "four parts", "empty", "dots", "object", "int"],
)
def test_a_malformed_token_is_refused_not_raised_on(token: object) -> None:
    assert identity.verify(token, b"s" * 32) is None


def test_a_conversation_id_cannot_be_derived_from_the_account_without_the_secret() -> None:
    mine = identity.conversation_id(b"s" * 32, "telegram-42")
    assert mine == identity.conversation_id(b"s" * 32, "telegram-42")
    assert mine != identity.conversation_id(b"t" * 32, "telegram-42")


@pytest.mark.parametrize(
    "message",
    ["", "\x00\x07\n\t", "😀 review done 😀", " " * 1_000_000, "in 1 " * 200_000, "1 " * 500_000],
    ids=["empty", "control", "emoji", "1 MB of spaces", "1 MB of 'in 1 '", "1 MB of digits"],
)
def test_bad_input_names_no_date(message: str) -> None:
    assert find_date_text(message) is None


@pytest.mark.parametrize("text", ["😀", "\x00\x07", "", "   ", "x" * 2000, "99/99"])
def test_bad_input_is_refused_as_a_date_not_crashed_on(text: str) -> None:
    with pytest.raises(DateNotUnderstood):
        parse_date(text, MONDAY, "past")
