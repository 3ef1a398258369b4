"""Personal data in text: regex candidates, each validated (Luhn, mod-97, id checksums).

Recognised kinds and the rule that keeps each one from flagging ordinary numbers:

- ``email``: local part, ``@``, a dotted domain with an alphabetic TLD.
- ``phone``: ``+`` or ``00`` and 8-15 digits (E.164); or a national format that has
  separators: North American ``(415) 555-2671`` / ``415-555-2671`` (area and exchange codes
  2-9), or a trunk ``0`` followed by 9-11 digits in separated groups (``020 7946 0958``).
  A phone never continues a group of digits before it ("3704 0044 0532" is not one).
  Plain digit runs, dates (``2024-03-15``, ``15.03.2024``), ISBNs (``978-...``) and IP
  addresses are never phones.
- ``credit_card``: 13-19 digits, bare or in groups split by one kind of separator, a known
  issuer prefix (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro) with a
  length that issuer uses, and a valid Luhn digit.
- ``iban``: country code, check digits, the length of that country, and mod-97 == 1.
- ``ssn`` (US): ``AAA-GG-SSSS`` with dashes; area not 000, 666 or 9xx, group not 00,
  serial not 0000. Bare nine-digit numbers are not flagged: too many are not SSNs.
- ``uk_nino``: two letters from the allowed set (not BG, GB, NK, KN, TN, NT, ZZ), six
  digits, a suffix A-D. No checksum exists.
- ``es_dni``: Spanish DNI (8 digits) and NIE (X/Y/Z + 7 digits) with the mod-23 letter.
- ``nl_bsn``: Dutch BSN, nine digits passing the 11-test, only next to the word BSN or
  burgerservicenummer (one in eleven random numbers pass the test alone).
- ``in_aadhaar``: Indian Aadhaar, ``dddd dddd dddd`` (first digit 2-9) with a Verhoeff digit.
- ``ip``: IPv4 and IPv6 addresses (parsed by ``ipaddress``), except unspecified, loopback
  and broadcast addresses, which identify nobody.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from garrison.errors import MissingExtraError, UsageError

if TYPE_CHECKING:  # numpy is only needed by scan_values; guards import this module too
    import numpy as np
    from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class Match:
    """One recognised value: its kind and its span in the text."""

    kind: str
    start: int
    end: int
    text: str


Validator = Callable[["re.Match[str]"], bool]

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
_PHONE_INTL = re.compile(r"(?<![\w+])(?<!\d[ .-])(?:\+|\b00)[1-9][\d ().-]{6,22}\d(?![\w])")
_PHONE_NANP = re.compile(
    r"(?<![\w(+-])(?<!\d[ .])(?:\(([2-9]\d{2})\)\s?|([2-9]\d{2})([-. ]))"
    r"([2-9]\d{2})[-. ](\d{4})(?![\w-])"
)
_PHONE_TRUNK = re.compile(r"(?<![\w+.-])(?<!\d )0[1-9]\d{0,3}(?:[ -]\d{2,4}){1,4}(?![\w-]|\.\d)")
_CARD = re.compile(r"(?<![\w.-])\d(?:[ -]?\d){12,18}(?![\w]|[.-]\d)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_SSN = re.compile(r"(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w-])")
_NINO = re.compile(r"\b([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])\b")
_DNI = re.compile(r"\b([XYZ]?)(\d{7,8})-?([A-Z])\b")
_BSN = re.compile(r"(?i)\b(?:bsn|burgerservicenummer)\b\W{0,5}(?:nummer\W{0,3})?(?P<value>\d{9})\b")
_AADHAAR = re.compile(r"(?<![\w-])[2-9]\d{3} \d{4} \d{4}(?![\w-])")
_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"(?![\w]|\.\d)"
)
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|\d+(?:\.\d+){3})(?![\w:])"
)

# Issuer prefixes and the lengths each issuer uses.
_CARD_ISSUERS: tuple[tuple[re.Pattern[str], frozenset[int]], ...] = tuple(
    (re.compile(prefix), frozenset(lengths))
    for prefix, lengths in (
        (r"4", (13, 16, 19)),  # Visa
        (r"5[1-5]|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720", (16,)),  # Mastercard
        (r"3[47]", (15,)),  # American Express
        (r"6011|65|64[4-9]", (16, 19)),  # Discover
        (r"35(?:2[89]|[3-8]\d)", (16, 17, 18, 19)),  # JCB
        (r"30[0-5]|36|38|39", (14, 16, 19)),  # Diners Club
        (r"62", (16, 17, 18, 19)),  # UnionPay
        (r"5018|5020|5038|5893|6304|6759|676[1-3]", (12, 13, 14, 15, 16, 17, 18, 19)),  # Maestro
    )
)

_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_SEPARATORS = re.compile(r"[ .()-]")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    iban = iban.replace(" ", "").upper()
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit():
        return False
    moved = iban[4:] + iban[:4]
    if not moved.isalnum() or not moved.isascii():
        return False
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _valid_card(m: re.Match[str]) -> bool:
    raw = m.group()
    digits = raw.replace(" ", "").replace("-", "")
    if " " in raw and "-" in raw:
        return False
    if digits != raw:
        groups = [len(g) for g in re.split(r"[ -]", raw)]
        # Printed cards group by four (Amex and Diners 4-6-5 / 4-6-4); anything else is
        # more likely another number.
        if groups[:-1] != [4] * (len(groups) - 1) and groups not in ([4, 6, 5], [4, 6, 4]):
            return False
    if len(set(digits)) < 2:
        return False
    for prefix, lengths in _CARD_ISSUERS:
        if prefix.match(digits) and len(digits) in lengths:
            return luhn_valid(digits)
    return False


def _valid_phone_intl(m: re.Match[str]) -> bool:
    raw = m.group()
    body = raw[1:] if raw.startswith("+") else raw[2:]
    if re.search(r"[ .()-]{2,}", body.replace(") ", ")").replace(" (", "(")):
        return False
    # One kind of separator besides spaces and parentheses: "+1 415-555-2671", not "1.2-3".
    if body.count("(") != body.count(")") or ("." in body and "-" in body):
        return False
    digits = re.sub(r"\D", "", body)
    return 8 <= len(digits) <= 15


def _valid_phone_nanp(m: re.Match[str]) -> bool:
    # "415-555-2671" needs the same separator twice; "(415) 555-2671" is always a phone.
    if m.group(1) is None:
        second = m.group()[7]
        return second == m.group(3)
    return True


def _is_date(groups: list[str]) -> bool:
    if len(groups) != 3:
        return False
    a, b, c = (int(g) for g in groups)
    if len(groups[0]) == 4:
        return 1 <= b <= 12 and 1 <= c <= 31
    if len(groups[2]) == 4:
        return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31)
    return False


def _valid_phone_trunk(m: re.Match[str]) -> bool:
    raw = m.group()
    if len(set(re.findall(r"[ -]", raw))) > 1:
        return False
    groups = re.split(r"[ -]", raw)
    digits = "".join(groups)
    if not 9 <= len(digits) <= 11 or _is_date(groups):
        return False
    return not (len(digits) in (10, 13) and digits.startswith(("978", "979")))


def _valid_ssn(m: re.Match[str]) -> bool:
    area, group, serial = m.group(1), m.group(2), m.group(3)
    if area in ("000", "666") or area.startswith("9"):
        return False
    return group != "00" and serial != "0000"


def _valid_nino(m: re.Match[str]) -> bool:
    raw = m.group()
    if " " in raw and [len(p) for p in raw.split(" ")] != [2, 2, 2, 2, 1]:
        return False
    return m.group(1) not in _NINO_BAD_PREFIXES


def _valid_dni(m: re.Match[str]) -> bool:
    prefix, number, letter = m.group(1), m.group(2), m.group(3)
    if prefix:
        if len(number) != 7:
            return False
        number = str("XYZ".index(prefix)) + number
    elif len(number) != 8:
        return False
    return _DNI_LETTERS[int(number) % 23] == letter


def bsn_valid(number: str) -> bool:
    if len(number) != 9 or not number.isdigit() or number == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(number[:8], range(9, 1, -1), strict=True))
    return (total - int(number[8])) % 11 == 0


_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6), (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4), (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)  # fmt: skip
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2), (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)  # fmt: skip


def verhoeff_valid(digits: str) -> bool:
    check = 0
    for i, ch in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[i % 8][ord(ch) - 48]]
    return check == 0


def _valid_aadhaar(m: re.Match[str]) -> bool:
    return verhoeff_valid(m.group().replace(" ", ""))


def _valid_ip(m: re.Match[str]) -> bool:
    try:
        address = ipaddress.ip_address(m.group())
    except ValueError:
        return False
    if address.is_unspecified or address.is_loopback:
        return False
    return str(address) != "255.255.255.255"


def _always(m: re.Match[str]) -> bool:
    return True


def _valid_email(m: re.Match[str]) -> bool:
    local = m.group().split("@", 1)[0]
    return ".." not in m.group() and not local.endswith(".")


# Earlier entries win when two matches overlap: the more specific, checksummed kinds first.
PII_RECOGNISERS: tuple[tuple[str, re.Pattern[str], Validator], ...] = (
    ("email", _EMAIL, _valid_email),
    ("iban", _IBAN, lambda m: iban_valid(m.group())),
    ("credit_card", _CARD, _valid_card),
    ("in_aadhaar", _AADHAAR, _valid_aadhaar),
    ("ssn", _SSN, _valid_ssn),
    ("uk_nino", _NINO, _valid_nino),
    ("es_dni", _DNI, _valid_dni),
    ("nl_bsn", _BSN, lambda m: bsn_valid(m.group("value"))),
    ("ip", _IPV4, _valid_ip),
    ("ip", _IPV6, _valid_ip),
    ("phone", _PHONE_INTL, _valid_phone_intl),
    ("phone", _PHONE_NANP, _valid_phone_nanp),
    ("phone", _PHONE_TRUNK, _valid_phone_trunk),
)

PII_KINDS = tuple(dict.fromkeys(kind for kind, _, _ in PII_RECOGNISERS))


def run_recognisers(
    text: str, recognisers: Iterable[tuple[str, re.Pattern[str], Validator]]
) -> list[Match]:
    """Validated, non-overlapping matches of `recognisers`, earlier recognisers winning."""
    found: list[Match] = []  # kept sorted by start, never overlapping
    starts: list[int] = []
    for kind, pattern, valid in recognisers:
        for m in pattern.finditer(text):
            if not valid(m):
                continue
            # Patterns that need a keyword for context mark the sensitive part as "value".
            start, end = m.span("value") if "value" in pattern.groupindex else m.span()
            # Intervals in `found` are disjoint, so only the neighbours can overlap.
            at = bisect.bisect_left(starts, start)
            if at > 0 and found[at - 1].end > start:
                continue
            if at < len(found) and found[at].start < end:
                continue
            found.insert(at, Match(kind, start, end, text[start:end]))
            starts.insert(at, start)
    return found


def find_pii(text: str) -> list[Match]:
    """Personal data in `text`, validated, sorted by position, never overlapping."""
    return run_recognisers(text, PII_RECOGNISERS)


def mask(value: str) -> str:
    """A printable hint of `value` that never shows all of it: at most a quarter at each end."""
    keep = min(4, len(value) // 4)
    hidden = len(value) - 2 * keep
    return value[:keep] + "*" * min(hidden, 12) + (value[-keep:] if keep else "")


def redact(
    text: str, matches: Iterable[Match], placeholder: str = "<{kind}_{n}>"
) -> tuple[str, dict[str, str]]:
    """Replace each match by a placeholder; the mapping (placeholder -> original) undoes it.

    The same value always gets the same placeholder; `placeholder` may use {kind} and {n}.
    Overlapping matches keep the first one.
    """
    if "{n}" not in placeholder:
        raise UsageError("the redaction placeholder must contain {n} to stay reversible")
    chosen: list[Match] = []
    for m in sorted(matches, key=lambda m: (m.start, -m.end)):
        if 0 <= m.start < m.end <= len(text) and (not chosen or m.start >= chosen[-1].end):
            chosen.append(m)
    by_value: dict[tuple[str, str], str] = {}
    mapping: dict[str, str] = {}
    counts: dict[str, int] = {}
    parts: list[str] = []
    last = 0
    for m in chosen:
        value = text[m.start : m.end]
        key = (m.kind, value)
        if key not in by_value:
            n = counts.get(m.kind, 0) + 1
            token = placeholder.format(kind=m.kind.upper(), n=n)
            while token in mapping or token in text:  # never reuse text already there
                n += 1
                token = placeholder.format(kind=m.kind.upper(), n=n)
            counts[m.kind] = n
            by_value[key] = token
            mapping[token] = value
        parts += [text[last : m.start], by_value[key]]
        last = m.end
    parts.append(text[last:])
    return "".join(parts), mapping


def restore(text: str, mapping: dict[str, str]) -> str:
    """Undo `redact`: put the original values back in place of their placeholders."""
    if not mapping:
        return text
    tokens = sorted(mapping, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(t) for t in tokens))
    return pattern.sub(lambda m: mapping[m.group()], text)


# Cheap RE2 prefilters (pyarrow), one per kind: a value that passes none is never handed
# to Python, and one that passes only meets the recognisers of the kinds it passed.
_PREFILTERS: dict[str, str] = {
    "email": r"[A-Za-z0-9]@[A-Za-z0-9-]+\.[A-Za-z]",
    "iban": r"[A-Z]{2}\d{2} ?[A-Z0-9]{4}",
    "credit_card": r"\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d|\d{4}[ -]\d{6}[ -]\d{4}",
    "in_aadhaar": r"[2-9]\d{3} \d{4} \d{4}",
    "ssn": r"\d{3}-\d{2}-\d{4}",
    "uk_nino": r"[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]",
    "es_dni": r"\d{7}-?[A-Z]",
    "nl_bsn": r"(?i)bsn|burgerservicenummer",
    "ip": r"\d\.\d{1,3}\.\d{1,3}\.\d|[0-9A-Fa-f]:[0-9A-Fa-f]{0,4}:|::",
    "phone": (
        r"(?:\+|\b00)\d[\d ().-]{6,}\d|\d{3}\) ?\d{3}[-. ]\d{4}|\d{3}([-. ])\d{3}[-. ]\d{4}|"
        r"\b0\d{1,4}[ -]\d{2,4}[ -]\d{2}"
    ),
    "secret": (
        r"AKIA|ASIA|ABIA|ACCA|A3T|gh[pousr]_|github_pat_|xox[baprs]-|_live_|_test_|sk-|AIza|"
        r"eyJ|PRIVATE KEY|(?i:aws|pass|pwd|secret|key|token)"
    ),
}


def _recognisers_for(kinds: set[str]) -> tuple[tuple[str, re.Pattern[str], Validator], ...]:
    chosen = tuple(r for r in PII_RECOGNISERS if r[0] in kinds)
    if "secret" in kinds:
        from garrison.sensitive.secrets import SECRET_RECOGNISERS

        chosen += SECRET_RECOGNISERS
    return chosen


def scan_values(values: Any, secrets: bool = True) -> tuple[NDArray[np.int64], NDArray[np.str_]]:
    """Rows of a text column holding personal data (and secrets): (row indices, kinds).

    One pair per row and kind, sorted by row, then kind. `values` is a numpy array (object or str),
    a list, or a pyarrow (chunked) array; other types are cast to strings. Values pass
    vectorised RE2 prefilters first; only candidates are validated in Python, so a
    column of ordinary text runs at pyarrow speed.
    """
    import numpy as np

    pa, pc = _pyarrow()
    array = _as_string_array(values, pa, pc)
    groups = [g for g in _PREFILTERS if secrets or g != "secret"]
    combined = "|".join(f"(?:{_PREFILTERS[g]})" for g in groups)
    candidates = np.flatnonzero(
        pc.fill_null(pc.match_substring_regex(array, combined), False).to_numpy(
            zero_copy_only=False
        )
    )
    rows: list[int] = []
    kinds: list[str] = []
    if len(candidates):
        subset = array.take(pa.array(candidates))
        passed = np.stack(
            [
                pc.fill_null(pc.match_substring_regex(subset, _PREFILTERS[g]), False).to_numpy(
                    zero_copy_only=False
                )
                for g in groups
            ]
        )
        # Rows run the recognisers of every kind they passed together, so overlaps resolve
        # as in find_pii (an IBAN's digits are not also a card).
        cache: dict[bytes, tuple[tuple[str, re.Pattern[str], Validator], ...]] = {}
        for index, text in enumerate(subset.to_pylist()):
            key = passed[:, index].tobytes()
            if key not in cache:
                chosen = {g for g, hit in zip(groups, passed[:, index], strict=True) if hit}
                cache[key] = _recognisers_for(chosen)
            for kind in dict.fromkeys(m.kind for m in run_recognisers(text, cache[key])):
                rows.append(int(candidates[index]))
                kinds.append(kind)
    row_array = np.asarray(rows, dtype=np.int64)
    kind_array = np.asarray(kinds, dtype=np.str_)
    order = np.lexsort((kind_array, row_array))
    return row_array[order], kind_array[order]


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError as exc:
        raise MissingExtraError("pyarrow", "data") from exc
    return pa, pc


def _as_string_array(values: Any, pa: Any, pc: Any) -> Any:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    elif not isinstance(values, pa.Array):
        try:
            values = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            values = pa.array([None if v is None else str(v) for v in values], pa.string())
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = pc.cast(values, pa.string())
    return values
