import pytest

from registry.submissions.validation import (
    normalise_postcode,
    normalise_qualification_codes,
    normalise_website,
    strip_filter,
)


@pytest.mark.parametrize(("raw", "expected"), [
    ("1234ab", "1234 AB"), ("1234 AB", "1234 AB"), (" 9712  cp ", "9712 CP"),
    ("0123 AB", None), ("123 AB", None), ("1234 A", None), ("", None), ("1234-AB", None),
])
def test_postcode(raw, expected):
    assert normalise_postcode(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("www.school.nl", "https://www.school.nl"), ("http://a.nl/x", "http://a.nl/x"),
    ("javascript:alert(1)", None), ("data:text/html,x", None), ("https://localhost", None),
    ("https://bad host.nl", None), ("", ""),
])
def test_website(raw, expected):
    assert normalise_website(raw) == expected


def test_qualification_codes():
    assert normalise_qualification_codes("25180;25181 25180") == "25180, 25181"
    with pytest.raises(ValueError, match="2518"):
        normalise_qualification_codes("2518, 25181")


def test_strip_filter_collapses_spaces_but_keeps_paragraphs():
    assert strip_filter("  a   b \r\n\r\n c  ") == "a b\n\nc"
