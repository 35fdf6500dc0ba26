"""Drift statistics against scipy, profile-mode error bounds, and the default rules' verdicts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from modelbook.errors import ConfigError, DataError
from modelbook.stats.drift import (
    DEFAULT_RULES,
    ColumnRule,
    DriftRules,
    _binned_wasserstein,
    _fmt,
    _ks_pvalue,
    drift_exact,
    drift_from_profiles,
    holm_levels,
)
from modelbook.stats.profile import profile_table

# --------------------------------------------------------------------------- data


def _sample(kind: str, n: int, rng: np.random.Generator, shift: float) -> np.ndarray:
    if kind == "normal":
        return rng.normal(shift, 1.0, n)
    if kind == "lognormal":
        return rng.lognormal(shift, 0.8, n)
    if kind == "ints":
        return rng.poisson(4 + 3 * shift, n).astype(np.int64)
    if kind == "ties":
        return np.round(rng.normal(shift, 1, n), 1)
    if kind == "mixture":
        x = rng.normal(shift, 1, n)
        x[rng.random(n) < 0.3] = 0.0
        return x
    raise AssertionError(kind)


NUMERIC_CASES = [
    (kind, n1, n2, shift)
    for kind in ("normal", "lognormal", "ints", "ties", "mixture")
    for n1, n2, shift in ((300, 200, 0.0), (2_000, 3_000, 0.3), (40_000, 30_000, 0.05))
]


# --------------------------------------------------------------------------- exact vs scipy


@pytest.mark.parametrize(("kind", "n1", "n2", "shift"), NUMERIC_CASES)
def test_exact_numeric_matches_scipy(kind: str, n1: int, n2: int, shift: float) -> None:
    rng = np.random.default_rng(hash((kind, n1)) % 2**32)
    a, b = _sample(kind, n1, rng, 0.0), _sample(kind, n2, rng, shift)
    res = drift_exact(pa.table({"x": a}), pa.table({"x": b})).column("x")
    assert res.source == "raw"
    ks = sps.ks_2samp(a, b, method="asymp")
    assert res.stats["ks"] == pytest.approx(ks.statistic, abs=1e-9)
    en = n1 * n2 / (n1 + n2)
    if en <= 2_000:
        assert res.stats["ks_p_value"] == pytest.approx(ks.pvalue, abs=1e-9)
    else:
        assert abs(res.stats["ks_p_value"] - ks.pvalue) < 4e-3
    w = sps.wasserstein_distance(a, b)
    assert res.stats["wasserstein_raw"] == pytest.approx(w, rel=1e-9, abs=1e-12)
    rms_sd = math.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 2)
    assert res.stats["wasserstein"] == pytest.approx(w / rms_sd, rel=1e-9)
    # PSI and JS are defined on the reference-decile bins; recompute them independently.
    edges = np.asarray(res.bin_edges)
    r = np.bincount(np.searchsorted(edges, a, side="right"), minlength=len(edges) + 1)
    c = np.bincount(np.searchsorted(edges, b, side="right"), minlength=len(edges) + 1)
    assert tuple(r) == res.reference_counts and tuple(c) == res.current_counts
    cum = np.cumsum(r) / r.sum()
    cuts = np.unique(
        np.clip(
            [np.argmax(np.concatenate(([0], cum)) >= k / 10 - 1e-9) for k in range(1, 10)],
            1,
            len(r) - 1,
        )
    )
    rg = np.add.reduceat(r, np.concatenate(([0], cuts)))
    cg = np.add.reduceat(c, np.concatenate(([0], cuts)))
    assert res.stats["jensenshannon"] == pytest.approx(
        jensenshannon(rg / rg.sum(), cg / cg.sum(), base=2), abs=1e-9
    )
    p = np.maximum(rg / rg.sum(), 1e-4)
    q = np.maximum(cg / cg.sum(), 1e-4)
    assert res.stats["psi"] == pytest.approx(float(np.sum((q - p) * np.log(q / p))), abs=1e-9)


@pytest.mark.parametrize(
    ("k", "n1", "n2", "moved"),
    [(2, 500, 800, 0.0), (5, 3_000, 2_000, 0.05), (30, 20_000, 10_000, 0.02), (8, 50, 60, 0.1)],
)
def test_exact_categorical_matches_scipy(k: int, n1: int, n2: int, moved: float) -> None:
    rng = np.random.default_rng(k)
    values = np.array([f"v{i}" for i in range(k)])
    p = np.full(k, 1 / k)
    q = p.copy()
    q[0] += moved
    q[-1] -= moved
    a = values[rng.choice(k, n1, p=p)]
    b = values[rng.choice(k, n2, p=q)]
    b[:3] = "brand-new"  # a category the reference never had
    res = drift_exact(pa.table({"c": a}), pa.table({"c": b})).column("c")
    labels = res.bin_labels
    r = np.array([np.sum(a == v) for v in labels])
    c = np.array([np.sum(b == v) for v in labels])
    assert tuple(r) == res.reference_counts and tuple(c) == res.current_counts
    chi = sps.chi2_contingency(np.vstack([r, c]), correction=False)
    assert res.stats["chisquare"] == pytest.approx(chi.statistic, rel=1e-9)
    assert res.p_value == pytest.approx(chi.pvalue, rel=1e-9, abs=1e-300)
    assert res.stats["jensenshannon"] == pytest.approx(
        jensenshannon(r / r.sum(), c / c.sum(), base=2), abs=1e-9
    )


def test_ks_pvalue_is_fast_and_close_at_large_n() -> None:
    import time

    start = time.perf_counter()
    _ks_pvalue(0.003, 1_000_000, 1_000_000)
    assert time.perf_counter() - start < 0.05
    assert _ks_pvalue(0.012, 40_000, 40_000) == pytest.approx(
        float(sps.kstwo.sf(0.012, 20_000)), abs=2e-3
    )


# --------------------------------------------------------------------------- profile bounds


@pytest.mark.parametrize(("kind", "n1", "n2", "shift"), NUMERIC_CASES)
def test_profile_statistics_within_documented_bounds(
    kind: str, n1: int, n2: int, shift: float
) -> None:
    rng = np.random.default_rng(hash((kind, n2, "p")) % 2**32)
    a = pa.table({"x": _sample(kind, n1, rng, 0.0)})
    b = pa.table({"x": _sample(kind, n2, rng, shift)})
    ref = profile_table(a)
    cur = profile_table(b, reference=ref)
    prof = drift_from_profiles(ref, cur).column("x")
    exact = drift_exact(a, b).column("x")
    assert prof.source == "profiles"
    gap = exact.stats["ks"] - prof.stats["ks"]
    assert -1e-12 <= gap <= prof.stats["ks_error_bound"] + 1e-12
    if kind in ("normal", "lognormal") and min(n1, n2) >= 30_000:
        assert prof.stats["ks_error_bound"] <= 0.015  # ~1 % bins on continuous data
    w_gap = abs(exact.stats["wasserstein"] - prof.stats["wasserstein"])
    assert w_gap <= prof.stats["wasserstein_error_bound"] + 1e-12
    # Binned statistics are defined on the same bins in both modes.
    assert prof.stats["psi"] == pytest.approx(exact.stats["psi"], abs=1e-12)
    assert prof.stats["jensenshannon"] == pytest.approx(exact.stats["jensenshannon"], abs=1e-12)
    assert prof.reference_counts == exact.reference_counts
    assert prof.current_counts == exact.current_counts


def test_binned_wasserstein_is_exact_for_point_masses_on_integer_bins() -> None:
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    r = np.array([0, 5, 3, 2, 0])
    c = np.array([0, 1, 1, 3, 5])
    w, bound = _binned_wasserstein(edges, r, c, (0.0, 2.0), (0.0, 3.0), integer=True)
    a = np.repeat([0, 1, 2], [5, 3, 2])
    b = np.repeat([0, 1, 2, 3], [1, 1, 3, 5])
    assert bound == 0.0
    assert w == pytest.approx(sps.wasserstein_distance(a, b), abs=1e-12)


def test_categorical_from_profiles_equals_exact_within_top_k() -> None:
    rng = np.random.default_rng(5)
    values = np.array(list("abcdefghij"))
    a = pa.table({"c": values[rng.integers(0, 10, 5_000)], "b": rng.random(5_000) < 0.5})
    b = pa.table({"c": values[rng.integers(0, 8, 4_000)], "b": rng.random(4_000) < 0.6})
    ref = profile_table(a)
    cur = profile_table(b, reference=ref)
    prof, exact = drift_from_profiles(ref, cur), drift_exact(a, b)
    for name in ("c", "b"):
        p, e = prof.column(name), exact.column(name)
        assert dict(zip(p.bin_labels, p.reference_counts, strict=True)) == dict(
            zip(e.bin_labels, e.reference_counts, strict=True)
        )
        for key in ("chisquare", "jensenshannon", "psi"):
            assert p.stats[key] == pytest.approx(e.stats[key], rel=1e-12, abs=1e-12)


def test_categorical_beyond_top_k_uses_other_bucket() -> None:
    rng = np.random.default_rng(9)
    values = np.array([f"v{i:02d}" for i in range(40)])
    a = pa.table({"c": values[rng.integers(0, 40, 5_000)]})
    b = pa.table({"c": np.concatenate([values[rng.integers(0, 40, 3_000)], ["new"] * 50])})
    ref = profile_table(a, top_k=10)
    cur = profile_table(b, reference=ref, top_k=10)
    res = drift_from_profiles(ref, cur).column("c")
    assert res.bin_labels[-1] == "(other)" and len(res.bin_labels) == 11
    assert sum(res.reference_counts) == 5_000 and sum(res.current_counts) == 3_050


# --------------------------------------------------------------------------- default verdicts


def _dataset(n: int, rng: np.random.Generator, *, shifted: bool) -> pa.Table:
    """30 columns; when ``shifted``, 10 of them carry a known, minimal shift."""
    cols: dict[str, Any] = {}
    for i in range(12):
        mu, sd = i * 2.0, 1.0 + i / 4
        x = rng.normal(mu, sd, n)
        if shifted and i % 3 == 0:
            x = x + 0.1 * sd  # mean shift of 0.1 sd
        elif shifted and i % 3 == 1:
            x = mu + (x - mu) * 1.2  # scale change 1.2×
        cols[f"num{i}"] = x
    for i in range(6):
        lam = 3.0 + 4 * i
        cols[f"int{i}"] = rng.poisson(lam + (0.1 * math.sqrt(lam) if shifted and i < 2 else 0), n)
    for i in range(3):
        cols[f"exp{i}"] = rng.exponential(1.0 + i, n) * (1.2 if shifted and i == 0 else 1.0)
    for i in range(6):
        k = 4 + 3 * i
        p = np.linspace(1, 2, k)
        p /= p.sum()
        if shifted and i < 2:
            p = p.copy()
            p[0] += 0.05  # 5 percentage points move between two categories
            p[-1] -= 0.05
        cols[f"cat{i}"] = np.array([f"c{j}" for j in range(k)])[rng.choice(k, n, p=p)]
    for i in range(3):
        share = 0.5 + (0.05 if shifted and i == 0 else 0.0)
        cols[f"flag{i}"] = rng.random(n) < share
    return pa.table(cols)


SHIFTED = {
    "num0", "num1", "num3", "num4", "num6", "num7", "num9", "num10",
    "int0", "int1", "exp0", "cat0", "cat1", "flag0",
}  # fmt: skip


def _check_defaults(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ref_table = _dataset(n, rng, shifted=False)
    cur_table = _dataset(n, rng, shifted=True)
    ref = profile_table(ref_table)
    cur = profile_table(cur_table, reference=ref)
    result = drift_from_profiles(ref, cur)
    assert len(result.columns) == 30
    flagged = set(result.drifted_columns)
    assert flagged == SHIFTED, (sorted(flagged - SHIFTED), sorted(SHIFTED - flagged))
    for col in result.columns:
        assert col.test in ("wasserstein", "jensenshannon")
        assert col.reason.endswith(".") and col.test.split("shannon")[0][:4] in col.reason.lower()
    assert result.drifted_share == pytest.approx(len(SHIFTED) / 30)
    assert result.drifted is False  # 14/30 < 0.5


@pytest.mark.parametrize("n", [100_000, 1_000_000])
def test_defaults_flag_every_shift_and_no_identical_column(n: int) -> None:
    _check_defaults(n, seed=n)


@pytest.mark.slow
def test_defaults_at_5m_rows() -> None:
    _check_defaults(5_000_000, seed=5)


def test_defaults_at_small_n_are_not_absurd() -> None:
    rng = np.random.default_rng(2)
    ref_table = _dataset(1_000, rng, shifted=False)
    same_table = _dataset(1_000, rng, shifted=False)
    ref = profile_table(ref_table)
    same = drift_from_profiles(ref, profile_table(same_table, reference=ref))
    assert same.drifted_columns == ()
    # A large shift at 1k rows is still caught.
    moved = same_table.set_column(0, "num0", pa.array(same_table["num0"].to_numpy() + 0.5))
    big = drift_from_profiles(ref, profile_table(moved, reference=ref))
    assert big.drifted_columns == ("num0",)
    # p-value tests alone flag tiny, harmless shifts at large N; the default does not.
    rng = np.random.default_rng(3)
    a = pa.table({"x": rng.normal(0, 1, 400_000)})
    b = pa.table({"x": rng.normal(0.02, 1, 400_000)})
    ks_rules = DriftRules(numeric_test="ks")
    assert drift_exact(a, b, rules=ks_rules).column("x").drifted is True
    assert drift_exact(a, b).column("x").drifted is False


# --------------------------------------------------------------------------- rules


def test_rules_from_mapping_and_overrides() -> None:
    rules = DriftRules.from_mapping(
        {
            "numeric_test": "psi",
            "categorical_test": "chisquare",
            "thresholds": {"psi": 0.1},
            "p_value": 0.05,
            "drift_share": 0.25,
            "columns": {"x": {"test": "ks", "threshold": 0.01}, "skipme": {"skip": True}},
        }
    )
    assert rules.numeric_test == "psi" and rules.thresholds["psi"] == 0.1
    assert rules.thresholds["wasserstein"] == 0.05  # untouched defaults stay
    assert rules.columns["x"] == ColumnRule(test="ks", threshold=0.01)
    rng = np.random.default_rng(0)
    a = pa.table(
        {"x": rng.normal(0, 1, 2_000), "y": rng.normal(0, 1, 2_000), "skipme": [1.0] * 2_000}
    )
    b = pa.table(
        {"x": rng.normal(0, 1, 2_000), "y": rng.normal(1, 1, 2_000), "skipme": [9.0] * 2_000}
    )
    res = drift_exact(a, b, rules=rules)
    assert [c.column for c in res.columns] == ["x", "y"]
    x, y = res.column("x"), res.column("y")
    assert (x.test, x.threshold) == ("ks", 0.01)
    assert x.reason == (
        "Kolmogorov–Smirnov test (configured for this column; drifts when p < 0.01, "
        "Holm-corrected over the columns tested together)."
    )
    assert (y.test, y.threshold, y.drifted) == ("psi", 0.1, True)
    assert "default for numeric columns" in y.reason
    assert res.drifted_share == 0.5 and res.drifted is True
    assert DriftRules.from_mapping({}) == DEFAULT_RULES


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"numeric": "ks"},
            "Unknown drift setting 'numeric'; allowed: numeric_test, categorical_test, "
            "thresholds, p_value, correction, drift_share, columns.",
        ),
        (
            {"numeric_test": "chisquare"},
            "numeric_test must be one of ks, wasserstein, psi, jensenshannon; got 'chisquare'.",
        ),
        (
            {"thresholds": {"kl": 0.1}},
            "Unknown drift setting thresholds.'kl'; allowed: ks, wasserstein, psi, "
            "jensenshannon, chisquare.",
        ),
        ({"thresholds": {"ks": 2}}, "thresholds.ks must be greater than 0 and at most 1, got 2."),
        ({"drift_share": "half"}, "drift_share must be a number, got 'half'."),
        ({"p_value": True}, "p_value must be a number, got True."),
        (
            {"columns": {"age": {"test": "ks", "treshold": 0.1}}},
            "Unknown drift setting columns.age.'treshold'; allowed: test, threshold, skip.",
        ),
        (
            {"columns": {"age": "ks"}},
            "columns.age must be a table with keys test, threshold, skip.",
        ),
        (
            {"columns": {"age": {"skip": "yes"}}},
            "columns.age.skip must be true or false, got 'yes'.",
        ),
    ],
)
def test_rules_config_errors(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        DriftRules.from_mapping(config)
    assert str(info.value) == message


def test_test_not_applicable_to_kind() -> None:
    rules = DriftRules.from_mapping({"columns": {"c": {"test": "ks"}}})
    t = pa.table({"c": ["a", "b"] * 10})
    with pytest.raises(ConfigError) as info:
        drift_exact(t, t, rules=rules)
    assert str(info.value) == (
        "Column 'c' is categorical; test 'ks' does not apply to it. "
        "Use one of: chisquare, jensenshannon, psi."
    )


# --------------------------------------------------------------------------- errors & edge cases


def test_profile_mismatch_and_schema_errors() -> None:
    a = pa.table({"x": np.arange(100.0), "c": ["a", "b"] * 50})
    b = pa.table({"x": np.arange(50.0), "c": ["a", "c"] * 25})
    ref = profile_table(a)
    own = profile_table(b)  # not profiled against the reference
    with pytest.raises(DataError, match="was not binned on the reference's edges"):
        drift_from_profiles(ref, own, columns=["x"])
    with pytest.raises(DataError, match="was not counted on the reference's categories"):
        drift_from_profiles(ref, own, columns=["c"])
    with pytest.raises(DataError) as info:
        drift_exact(a, b.drop_columns(["c"]))
    assert str(info.value) == (
        "Columns of the reference missing from the current data: 'c'. "
        "Pass columns=[...] to compare the others."
    )
    with pytest.raises(DataError) as info:
        drift_exact(a, pa.table({"x": ["1", "2"], "c": ["a", "b"]}))
    assert str(info.value) == (
        "Column 'x' is numeric in the reference but categorical in the current data; "
        "fix its type before comparing."
    )
    assert [c.column for c in drift_exact(a, b, columns=["c"]).columns] == ["c"]


def test_untested_columns_are_reported_and_not_counted() -> None:
    a = pa.table({"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0], "l": [[1], [2], [3]]})
    b = pa.table(
        {"x": pa.array([None] * 3, type=pa.float64()), "y": [1.0, 2.0, 3.0], "l": [[1]] * 3}
    )
    ref = profile_table(a)
    res = drift_from_profiles(ref, profile_table(b, reference=ref))
    assert [c.column for c in res.columns] == ["x", "y"]  # "other" columns are left out
    x = res.column("x")
    assert not x.tested and not x.drifted and math.isnan(x.statistic)
    assert x.reason == "Not tested: the current data has no finite values."
    assert res.drifted_share == 0.0


def test_constant_reference_normalisation() -> None:
    a = pa.table({"x": [5.0] * 100})
    b = pa.table({"x": [5.0] * 50 + [6.0] * 50})
    exact = drift_exact(a, b).column("x")
    assert exact.stats["wasserstein_raw"] == pytest.approx(0.5)
    # Divided by the RMS of the two standard deviations: √((0 + s_cur²) / 2).
    s_cur = float(np.std([5.0] * 50 + [6.0] * 50, ddof=1))
    assert exact.stats["wasserstein"] == pytest.approx(0.5 / math.sqrt(s_cur**2 / 2))
    both_constant = drift_exact(a, pa.table({"x": [6.0] * 10})).column("x")
    assert both_constant.stats["wasserstein"] == pytest.approx(1.0 / 5.0)  # max(|mean|, 1)
    ref = profile_table(a)
    prof = drift_from_profiles(ref, profile_table(b, reference=ref)).column("x")
    # The bins (c, c⁺) separate "equal to the constant" from "above it": KS is exact here.
    assert prof.stats["ks"] == exact.stats["ks"] == 0.5
    gap = abs(prof.stats["wasserstein"] - exact.stats["wasserstein"])
    assert gap <= prof.stats["wasserstein_error_bound"]
    assert exact.drifted


# --------------------------------------------------------------------------- many columns (Holm)


def _holm_reference(p: list[float], alpha: float) -> list[bool]:
    """Holm (1979) from its textbook definition, via adjusted p-values: sort ascending,
    p̃_(k) = max_{j ≤ k} min(1, (m − j + 1) · p_(j)); reject where p̃ < α (strict, as the guard)."""
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (m - k) * p[i]))
        adjusted[i] = running
    return [bool(a < alpha) for a in adjusted]


@pytest.mark.parametrize("seed", range(40))
def test_holm_levels_agree_with_the_textbook_procedure(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 70))
    # A mix of nulls (uniform), real effects (tiny p) and ties, as columns of one table give.
    p = rng.random(m) ** rng.choice([1.0, 4.0, 12.0], m)
    p[rng.random(m) < 0.1] = 1.0
    if m > 3:
        p[1] = p[2]
    alpha = float(rng.choice([0.01, 0.05]))
    levels = holm_levels(list(p), [alpha] * m)
    assert [bool(pi < lv) for pi, lv in zip(p, levels, strict=True)] == _holm_reference(
        list(p), alpha
    )
    assert all(alpha / m <= lv <= alpha for lv in levels)


def test_holm_on_a_table_and_its_verdicts() -> None:
    """30 columns: every p-value guard is Holm-corrected, and the verdict says so."""
    rng = np.random.default_rng(3)
    n = 400
    ref = {f"x{i}": rng.normal(0, 1, n) for i in range(30)}
    cur = {f"x{i}": rng.normal(0, 1, n) for i in range(30)}
    cur["x0"] = rng.normal(0.6, 1, n)  # a real shift: p ~ 1e-15
    a, b = pa.table(ref), pa.table(cur)
    res = drift_exact(a, b)
    ps = [c.p_value for c in res.columns]
    significant = _holm_reference(ps, 0.01)
    for c, sig in zip(res.columns, significant, strict=True):
        assert c.drifted == (sig and c.statistic >= 0.05)
        assert c.p_threshold is not None and 0.01 / 30 <= c.p_threshold <= 0.01
        assert (c.p_value < c.p_threshold) == sig
    assert res.drifted_columns == ("x0",)
    assert res.correction == "holm"
    assert res.correction_note == "p-values Holm-corrected over 30 columns"
    x0 = res.column("x0")
    assert x0.p_threshold == pytest.approx(0.01 / 30)
    assert x0.verdict == (
        f"effect 0.62 ≥ 0.05 and p = {_fmt(x0.p_value)} < 3.3e-4 after Holm over 30 columns: "
        "drifted"
    )
    # Not significant after the correction: the verdict gives the level and the batch size.
    for c in res.columns[1:]:
        if c.statistic >= 0.05:
            assert c.verdict == (
                f"effect {_fmt(c.statistic)} ≥ 0.05 but p = {_fmt(c.p_value)} "
                f"(≥ {_fmt(c.p_threshold)} after Holm over 30 columns): not significant at 400 rows"
            )
        else:
            assert c.verdict == f"effect {_fmt(c.statistic)} < 0.05: no drift"
    # The reason is the same sentence for every column that shares a test.
    assert len({c.reason for c in res.columns}) == 1
    assert "Holm-corrected over the columns tested together" in x0.reason
    # Without the correction each column is held to 0.01 itself.
    raw = drift_exact(a, b, rules=DriftRules.from_mapping({"correction": "none"}))
    assert {c.p_threshold for c in raw.columns} == {0.01}
    assert raw.correction_note == ""
    assert all("Holm" not in c.verdict for c in raw.columns)


def test_verdict_wording_for_each_decision() -> None:
    rng = np.random.default_rng(11)
    a = pa.table({"x": rng.normal(0, 1, 5_000)})
    same = drift_exact(a, pa.table({"x": rng.normal(0, 1, 5_000)})).column("x")
    assert same.verdict == f"effect {same.statistic:.2g} < 0.05: no drift"
    assert same.p_threshold == 0.01  # one column: no correction, and none mentioned
    moved = drift_exact(a, pa.table({"x": rng.normal(1, 1, 5_000)})).column("x")
    assert moved.verdict == f"effect {moved.statistic:.2g} ≥ 0.05 and p = 2.5e-313 < 0.01: drifted"
    small = drift_exact(a, pa.table({"x": rng.normal(0.3, 1, 12)})).column("x")
    assert small.statistic >= 0.05 and not small.drifted
    assert small.verdict == (
        f"effect {_fmt(small.statistic)} ≥ 0.05 but p = {_fmt(small.p_value)} (≥ 0.01): "
        "not significant at 12 rows"
    )
    ks = drift_exact(
        a,
        pa.table({"x": rng.normal(0.2, 1, 5_000)}),
        rules=DriftRules.from_mapping({"numeric_test": "ks"}),
    ).column("x")
    assert ks.verdict == f"p = {_fmt(ks.p_value)} < 0.05: drifted"
    assert ks.drifted
    unguarded = drift_exact(
        a,
        pa.table({"x": rng.normal(0.3, 1, 12)}),
        rules=DriftRules.from_mapping({"p_value": 1.0}),
    ).column("x")
    assert unguarded.drifted and unguarded.p_threshold == 1.0
    assert (
        unguarded.verdict
        == f"effect {_fmt(unguarded.statistic)} ≥ 0.05 (no p-value guard): drifted"
    )
    untested = drift_exact(
        pa.table({"x": [1.0, 2.0]}), pa.table({"x": pa.array([None, None], pa.float64())})
    ).column("x")
    assert untested.verdict == "not tested: the current data has no finite values"
    assert untested.p_threshold is None


def test_correction_setting_is_validated() -> None:
    with pytest.raises(ConfigError) as info:
        DriftRules.from_mapping({"correction": "bonferroni"})
    assert str(info.value) == "correction must be one of holm, none; got 'bonferroni'."
    assert DriftRules.from_mapping({"correction": "none"}).correction == "none"
    assert DEFAULT_RULES.correction == "holm"


# --------------------------------------------------------------------------- near-constant columns


def test_one_nonzero_training_value_scores_like_any_column() -> None:
    """Was 17.7 (Wasserstein ÷ sd from profiles): the zeros were spread over the bin [0, 1)."""
    a = pa.table({"x": [0.0] * 1_256 + [1.0]})
    b = pa.table({"x": [0.0] * 540})
    ref = profile_table(a)
    prof = drift_from_profiles(ref, profile_table(b, reference=ref)).column("x")
    exact = drift_exact(a, b).column("x")
    assert prof.bin_edges == (0.0, 5e-324, 1.0, float(np.nextafter(1.0, 2.0)))
    assert prof.reference_counts == (0, 1_256, 0, 1, 0)
    assert prof.stats["wasserstein_error_bound"] == 0.0 and prof.stats["ks_error_bound"] == 0.0
    assert prof.stats["wasserstein"] == pytest.approx(exact.stats["wasserstein"], abs=1e-12)
    assert prof.stats["ks"] == pytest.approx(exact.stats["ks"], abs=1e-15)
    assert prof.statistic == pytest.approx(0.0399, abs=5e-4) and not prof.drifted


@pytest.mark.parametrize(("ref_sevens", "cur_sevens"), [(20, 8), (20, 40), (1, 3)])
def test_zero_or_seven_column_is_exact_and_bounded(ref_sevens: int, cur_sevens: int) -> None:
    """A 0-or-7 column (was 13.6): exact from profiles, and scored by the mass that moved."""
    a = pa.table({"x": [0] * (1_000 - ref_sevens) + [7] * ref_sevens})
    b = pa.table({"x": [0] * (400 - cur_sevens) + [7] * cur_sevens})
    ref = profile_table(a)
    prof = drift_from_profiles(ref, profile_table(b, reference=ref)).column("x")
    exact = drift_exact(a, b).column("x")
    assert prof.stats["wasserstein_error_bound"] == 0.0
    assert prof.stats["wasserstein"] == pytest.approx(exact.stats["wasserstein"], rel=1e-12)
    assert prof.stats["ks"] == pytest.approx(exact.stats["ks"], abs=1e-15)
    p, q = ref_sevens / 1_000, cur_sevens / 400
    rms = math.sqrt((np.var(a["x"], ddof=1) + np.var(b["x"], ddof=1)) / 2)
    assert prof.statistic == pytest.approx(7 * abs(q - p) / rms, rel=1e-9)
    assert prof.statistic <= math.sqrt(2) * math.sqrt(1 + (7 * (q - p)) ** 2 / (2 * rms**2))


def test_far_rare_values_score_by_their_share_not_their_distance() -> None:
    """A share ε of rows moved arbitrarily far scores at most √(2ε / (1 − ε)) (module doc)."""
    rng = np.random.default_rng(4)
    a = rng.normal(0, 1, 20_000)
    for eps, far in ((0.001, 1e6), (0.01, 1e3), (0.05, 50.0)):
        b = rng.normal(0, 1, 20_000)
        b[: int(eps * len(b))] = far
        res = drift_exact(pa.table({"x": a}), pa.table({"x": b})).column("x")
        assert res.statistic <= math.sqrt(2 * eps / (1 - eps)) * 1.01
    # Near-constant: a pixel that is 0 but in two training rows, two test rows at 3 and 8.
    res = drift_exact(
        pa.table({"x": [0.0] * 1_255 + [1.0] * 2}), pa.table({"x": [0.0] * 538 + [3.0, 8.0]})
    ).column("x")
    assert res.statistic == pytest.approx(0.072, abs=5e-4)  # 0.47 ÷ the reference sd alone


def test_columns_without_a_p_value_decision_are_not_in_the_family() -> None:
    """With the guard off only the KS column decides by p-value: it keeps its own level."""
    rng = np.random.default_rng(8)
    a = pa.table({f"x{i}": rng.normal(0, 1, 300) for i in range(4)})
    b = pa.table({f"x{i}": rng.normal(0, 1, 300) for i in range(4)})
    rules = DriftRules.from_mapping({"p_value": 1.0, "columns": {"x0": {"test": "ks"}}})
    res = drift_exact(a, b, rules=rules)
    assert res.family == 1 and res.correction_note == ""
    assert res.column("x0").p_threshold == 0.05
    assert {res.column(f"x{i}").p_threshold for i in (1, 2, 3)} == {1.0}
    both = drift_exact(a, b, rules=DriftRules.from_mapping({"columns": {"x0": {"test": "ks"}}}))
    assert both.family == 4
    assert both.correction_note == "p-values Holm-corrected over 4 columns"
