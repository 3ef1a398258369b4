"""Personal data and secrets in a dataset's text columns (rules GA-DATA-040 and 041)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from garrison.assets import Asset
from garrison.data.rules import PII, SECRET
from garrison.findings import Finding, Location
from garrison.policy import Policy
from garrison.sensitive import PII_KINDS, find_pii, find_secrets, mask, scan_values


@dataclass(frozen=True, slots=True)
class PiiExample:
    row: int
    kind: str
    masked: str  # never the whole value


@dataclass(frozen=True, slots=True, eq=False)
class PiiColumnResult:
    """Rows of one column holding personal data or secrets, one entry per row and kind."""

    column: str
    n_rows: int
    rows: NDArray[np.int64]
    kinds: NDArray[np.str_]
    examples: tuple[PiiExample, ...] = ()

    def counts(self) -> dict[str, int]:
        names, counts = np.unique(self.kinds, return_counts=True)
        return {str(k): int(c) for k, c in zip(names, counts, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "rows": self.n_rows,
            "flagged_rows": len(np.unique(self.rows)),
            "kinds": self.counts(),
            "examples": [
                {"row": e.row, "kind": e.kind, "value": e.masked} for e in self.examples[:20]
            ],
        }

    def findings(self, asset: Asset, path: Path | str, policy: Policy) -> list[Finding]:
        cap = policy.data.max_rows_per_finding_kind
        out: list[Finding] = []
        for rule, is_pii in ((PII, True), (SECRET, False)):
            chosen = [e for e in self.examples if (e.kind in PII_KINDS) == is_pii]
            total = int(np.isin(self.kinds, PII_KINDS).sum())
            total = total if is_pii else len(self.kinds) - total
            for e in chosen[:cap]:
                location = Location(path=str(path), row=e.row, column=self.column)
                out.append(rule.finding(asset, location, f"{e.kind}: {e.masked}"))
            if total > min(cap, len(chosen)):
                rest = total - min(cap, len(chosen))
                evidence = f"{rest} more values not listed (max_rows_per_finding_kind = {cap})"
                out.append(
                    rule.finding(asset, Location(path=str(path), column=self.column), evidence)
                )
        return out


def check_pii(
    column: str, values: Any, policy: Policy | None = None, secrets: bool = True
) -> PiiColumnResult:
    """Scan one text column; keeps a masked example for up to the policy's cap per rule."""
    policy = policy or Policy()
    rows, kinds = scan_values(values, secrets=secrets)
    cap = policy.data.max_rows_per_finding_kind
    is_pii = np.isin(kinds, PII_KINDS)
    wanted = np.union1d(rows[is_pii][:cap], rows[~is_pii][:cap])
    texts = _texts_at(values, wanted)
    examples: list[PiiExample] = []
    for row, text in zip(wanted.tolist(), texts, strict=True):
        matches = find_pii(text) + (find_secrets(text) if secrets else [])
        for kind in dict.fromkeys(m.kind for m in matches):
            first = next(m for m in matches if m.kind == kind)
            examples.append(PiiExample(row, kind, mask(first.text)))
    return PiiColumnResult(column, len(values), rows, kinds, tuple(examples))


def _texts_at(values: Any, rows: NDArray[np.int64]) -> list[str]:
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray | pa.Array):
        taken = values.take(pa.array(rows, pa.int64())).to_pylist()
    else:
        taken = [values[int(i)] for i in rows]
    return ["" if v is None else str(v) for v in taken]
