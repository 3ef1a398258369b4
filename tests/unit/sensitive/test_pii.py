"""Personal-data recognisers: each kind found when valid, left alone when not."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.errors import UsageError
from garrison.sensitive import find_pii, find_secrets, mask, redact, restore, scan_values
from garrison.sensitive.pii import bsn_valid, iban_valid, luhn_valid, verhoeff_valid


def kinds(text: str) -> list[str]:
    return [m.kind for m in find_pii(text)]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        (
            "write to jane.doe+news@mail.example.co.uk today",
            "email",
            "jane.doe+news@mail.example.co.uk",
        ),
        ("call +1 (415) 555-2671 now", "phone", "+1 (415) 555-2671"),
        ("call +44 20 7946 0958 now", "phone", "+44 20 7946 0958"),
        ("call +4915123456789 now", "phone", "+4915123456789"),
        ("call (415) 555-2671 now", "phone", "(415) 555-2671"),
        ("call 415-555-2671 now", "phone", "415-555-2671"),
        ("ring 020 7946 0958 now", "phone", "020 7946 0958"),
        ("appelez 01 23 45 67 89", "phone", "01 23 45 67 89"),
        ("card 4111 1111 1111 1111 ok", "credit_card", "4111 1111 1111 1111"),
        ("card 5500-0000-0000-0004 ok", "credit_card", "5500-0000-0000-0004"),
        ("amex 3782 822463 10005 ok", "credit_card", "3782 822463 10005"),
        ("card 4012888888881881.", "credit_card", "4012888888881881"),
        ("iban DE89 3704 0044 0532 0130 00 ok", "iban", "DE89 3704 0044 0532 0130 00"),
        ("iban GB82WEST12345698765432 ok", "iban", "GB82WEST12345698765432"),
        ("ssn 123-45-6789 ok", "ssn", "123-45-6789"),
        ("nino AB 12 34 56 C ok", "uk_nino", "AB 12 34 56 C"),
        ("nino JG103759A ok", "uk_nino", "JG103759A"),
        ("dni 12345678Z ok", "es_dni", "12345678Z"),
        ("nie X1234567L ok", "es_dni", "X1234567L"),
        ("BSN: 111222333", "nl_bsn", "111222333"),
        ("aadhaar 2345 6789 0124", "in_aadhaar", "2345 6789 0124"),
        ("from 192.168.1.10.", "ip", "192.168.1.10"),
        ("from 8.8.8.8:53", "ip", "8.8.8.8"),
        ("from 2001:db8::1 ok", "ip", "2001:db8::1"),
        ("from fe80::1ff:fe23:4567:890a ok", "ip", "fe80::1ff:fe23:4567:890a"),
    ],
)
def test_valid_values_are_found(text: str, kind: str, value: str) -> None:
    found = find_pii(text)
    assert [(m.kind, m.text) for m in found] == [(kind, value)]
    assert text[found[0].start : found[0].end] == value


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # Luhn fails
        "card 4111-1111 1111-1111",  # mixed separators
        "number 1234567812345670",  # Luhn-valid but no issuer starts with 1
        "iban DE89 3704 0044 0532 0130 01",  # mod-97 fails
        "iban DE89 3704 0044 0532 0130",  # too short for Germany
        "ssn 000-12-3456 666-12-3456 900-12-3456 123-00-4567 123-45-0000",
        "nino BG 12 34 56 C",  # prefix never issued
        "dni 12345678A",  # wrong letter
        "bsn 111222334",  # 11-test fails
        "no keyword 111222333",  # a BSN needs its keyword
        "aadhaar 2345 6789 0125",  # Verhoeff fails
        "dates 2024-03-15, 15.03.2024, 03/15/2024 and 15-03-2024",
        "isbn 978-3-16-148410-0 and 978 0 306 40615 7",
        "timestamps 1699999999 1700000000123 and order 123456789012",
        "price $1,299.99, version 1.2.3.4.5, time 12:30:45, ratio 3:2",
        "hosts 127.0.0.1, 0.0.0.0, ::1, 255.255.255.255 and 999.1.1.1",
        "user@localhost and a@b",  # no dotted domain
    ],
)
def test_invalid_values_are_not_found(text: str) -> None:
    assert find_pii(text) == []


def test_random_sixteen_digit_numbers_are_mostly_not_cards() -> None:
    rng = random.Random(0)
    numbers = [str(rng.randrange(10**15, 10**16)) for _ in range(2000)]
    flagged = sum(bool(find_pii(f"id {n}")) for n in numbers)
    assert flagged / len(numbers) < 0.05


def test_checksums() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert iban_valid("NL91ABNA0417164300") and not iban_valid("NL91ABNA0417164301")
    assert not iban_valid("XX91ABNA0417164300")
    assert bsn_valid("111222333") and not bsn_valid("000000000")
    assert verhoeff_valid("2363") and not verhoeff_valid("2364")


def test_overlap_prefers_the_checksummed_kind() -> None:
    # A card number also looks like digits a phone pattern could take; it is one card.
    assert kinds("pay with 4111-1111-1111-1111 please") == ["credit_card"]


def test_redact_round_trip_and_consistent_placeholders() -> None:
    text = "a@example.com wrote to b@example.org, cc a@example.com; card 4111111111111111"
    matches = find_pii(text)
    redacted, mapping = redact(text, matches)
    assert "example" not in redacted and "4111" not in redacted
    assert redacted.count("<EMAIL_1>") == 2 and "<EMAIL_2>" in redacted
    assert restore(redacted, mapping) == text


def test_redact_avoids_placeholders_already_in_the_text() -> None:
    text = "<EMAIL_1> is literal, x@example.com is not"
    redacted, mapping = redact(text, find_pii(text))
    assert "<EMAIL_2>" in redacted and restore(redacted, mapping) == text


def test_redact_needs_a_numbered_placeholder() -> None:
    with pytest.raises(UsageError):
        redact("a@example.com", find_pii("a@example.com"), placeholder="[{kind}]")


def test_mask_never_shows_the_whole_value() -> None:
    for value in ("4111111111111111", "ab", "x", "AKIAIOSFODNN7EXAMPLE"):
        shown = mask(value).replace("*", "")
        assert len(shown) <= len(value) // 2
    assert mask("4111111111111111").startswith("4111") and mask("4111111111111111").endswith("1111")


def test_scan_values_finds_rows_and_kinds() -> None:
    values = np.array(
        ["nothing here", "mail bob@example.com", None, "card 4111 1111 1111 1111", "2024-01-02",
         "ip 10.1.2.3 and mail x@example.org", "key AKIAIOSFODNN7EXAMPLE"],
        dtype=object,
    )  # fmt: skip
    rows, kinds = scan_values(values)
    assert list(zip(rows.tolist(), kinds.tolist(), strict=True)) == [
        (1, "email"),
        (3, "credit_card"),
        (5, "email"),
        (5, "ip"),
        (6, "aws_access_key"),
    ]
    rows_pii, _ = scan_values(pa.chunked_array([values[:4], values[4:]]), secrets=False)
    assert rows_pii.tolist() == [1, 3, 5, 5]


def test_scan_values_casts_numbers_to_text() -> None:
    rows, kinds = scan_values(np.array([4111111111111111, 12345, 4111111111111112]))
    assert rows.tolist() == [0] and kinds.tolist() == ["credit_card"]


def test_scan_values_agrees_with_find_pii() -> None:
    rng = random.Random(1)
    pieces = ["a@b.io", "4111 1111 1111 1111", "+44 20 7946 0958", "10.0.0.1", "hello"]
    pieces += ["2024-05-06", "DE89 3704 0044 0532 0130 00", "123-45-6789", "xyz", "$12.50"]
    values = [" ".join(rng.sample(pieces, 3)) for _ in range(300)]
    rows, kinds = scan_values(np.array(values, dtype=object), secrets=False)
    expected = [
        (i, k) for i, v in enumerate(values) for k in dict.fromkeys(m.kind for m in find_pii(v))
    ]
    assert sorted(zip(rows.tolist(), kinds.tolist(), strict=True)) == sorted(expected)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_never_crashes_and_matches_lie_in_the_text(text: str) -> None:
    matches = find_pii(text) + find_secrets(text)
    for m in matches:
        assert 0 <= m.start < m.end <= len(text) and text[m.start : m.end] == m.text
    redacted, mapping = redact(text, matches)
    assert restore(redacted, mapping) == text


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(["4111 1111 1111 1111", "a@b.de", " ", "x", "+1 415 555 2671", "-", "1"]),
        max_size=20,
    )
)
def test_redact_round_trips_on_dense_values(parts: list[str]) -> None:
    text = "".join(parts)
    redacted, mapping = redact(text, find_pii(text))
    assert restore(redacted, mapping) == text
