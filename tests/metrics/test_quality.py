"""Data quality statistics (validation.metrics.quality) against independent references and planted data.

References: the two-proportion z-test against scipy's ``chi2_contingency`` (Pearson's chi-square of
the 2x2 table, ``correction=False``: z^2 = chi^2 and the same p-value) and statsmodels'
``proportions_ztest`` (pooled variance); the range-excursion p-value against a brute-force count
over every arrangement of the ranks of both samples (exchangeability); duplicates against pandas'
``DataFrame.duplicated``; dates against the calendar.
"""

from __future__ import annotations

import datetime
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from validation.metrics import quality


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(10, 100, 25, 100), (63, 150, 100, 300), (0, 40, 7, 50),
                                                    (420, 1000, 420, 1000), (3, 7, 1, 9)])
def test_two_proportion_test_is_scipys_chi_square_and_statsmodels_z_test(x1: int, n1: int, x2: int, n2: int) -> None:
    from scipy.stats import chi2_contingency
    from statsmodels.stats.proportion import proportions_ztest

    z, p = quality.two_proportion_ztest(x1, n1, x2, n2)
    chi2 = chi2_contingency(np.array([[x1, n1 - x1], [x2, n2 - x2]]), correction=False)
    assert float(z) ** 2 == pytest.approx(chi2.statistic, rel=1e-10, abs=1e-12)
    assert float(p) == pytest.approx(chi2.pvalue, rel=1e-10)
    z_sm, p_sm = proportions_ztest([x2, x1], [n2, n1])  # current minus reference, as ours
    assert float(z) == pytest.approx(z_sm, rel=1e-10, abs=1e-12) and float(p) == pytest.approx(p_sm, rel=1e-10)


def test_two_proportion_test_is_vectorised_and_defined_when_nothing_varies() -> None:
    z, p = quality.two_proportion_ztest([10, 0, 50], [100, 80, 50], [25, 0, 60], [100, 90, 60])
    assert z.shape == (3,) and p[1] == 1.0 and p[2] == 1.0 and z[1] == 0.0  # all present / all missing
    assert z[0] == pytest.approx(quality.two_proportion_ztest(10, 100, 25, 100)[0])


def test_sentinel_codes_count_as_missing_in_text_and_numeric_columns() -> None:
    text = pd.Series(["little", "not_known", None, "rich", "not_known", "999"])
    assert quality.missing_mask(text, ["not_known"]).tolist() == [False, True, True, False, True, False]
    assert quality.missing_mask(text, ["not_known", 999]).sum() == 4  # a numeric code matches its text
    numbers = pd.Series([1.0, -999.0, np.nan, 5.0, -999.0])
    assert quality.missing_mask(numbers, [-999, "-999", "n/a"]).tolist() == [False, True, True, False, True]
    assert quality.missing_mask(pd.Series([1, 2, 3]), []).sum() == 0


def test_profiles_and_missing_table_on_planted_data() -> None:
    reference = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0] * 25, "c": ["a", "b", "not_known", "a"] * 25})
    current = pd.DataFrame({"x": [1.0, np.nan, np.nan, -999.0] * 25, "c": ["a", "not_known", "not_known", "b"] * 25})
    codes = {"x": [-999], "c": ["not_known"]}
    ref = quality.profile_frame(reference, ["x", "c"], codes)
    cur = quality.profile_frame(current, ["x", "c"], codes)
    assert (ref["x"].missing, ref["c"].missing, cur["x"].missing, cur["c"].missing) == (25, 25, 75, 50)
    assert (ref["x"].minimum, ref["x"].maximum, cur["x"].minimum, cur["x"].maximum) == (1.0, 4.0, 1.0, 1.0)
    assert cur["c"].counts.to_dict() == {"a": 25, "b": 25} and cur["x"].constant and not ref["x"].constant
    table = quality.missing_table(ref, cur)
    assert table.loc["x", ["reference_share", "current_share", "change"]].tolist() == [0.25, 0.75, 0.5]
    assert table.loc["c", "change"] == 0.25
    from scipy.stats import chi2_contingency

    expected = chi2_contingency(np.array([[25, 75], [75, 25]]), correction=False).pvalue
    assert table.loc["x", "p_value"] == pytest.approx(expected, rel=1e-10)
    # a column the reference lacks has no change to test
    alone = quality.missing_table({}, cur)
    assert alone["p_value"].isna().all() and alone.loc["x", "current_share"] == 0.75


def test_schema_finds_a_retyped_a_missing_a_new_and_a_widened_column() -> None:
    reference = pd.DataFrame({"same": [1.0], "retyped": [1], "gone": ["a"], "widened": [1], "flag": [True]})
    current = pd.DataFrame({"same": [2.0], "retyped": ["1"], "widened": [1.5], "flag": [1], "new": ["x"]})
    table = quality.schema_table(reference, current)
    assert table["code"].to_dict() == {"same": 0, "retyped": 2, "gone": 2, "widened": 1, "flag": 2, "new": 1}
    assert table.loc["retyped", "change"] == "integer in the reference, text in the current sample"
    assert table.loc["gone", "current"] is None and table.loc["new", "reference"] is None


def _brute_force_tail(outside: int, m: int, n: int) -> float:
    """P(at least ``outside`` of ``m`` current values fall outside the range of ``n`` reference values)
    when all n + m values are exchangeable: every choice of the reference's ranks is equally likely."""
    hits = total = 0
    for ranks in itertools.combinations(range(n + m), n):
        low, high = ranks[0], ranks[-1]
        count = low + (n + m - 1 - high)  # current values below the reference's min or above its max
        hits += count >= outside
        total += 1
    return hits / total


@pytest.mark.parametrize(("outside", "m", "n"), [(1, 4, 5), (2, 4, 5), (3, 6, 4), (4, 5, 6), (2, 8, 3)])
def test_range_excursion_pvalue_is_the_exact_chance_under_exchangeability(outside: int, m: int, n: int) -> None:
    assert quality.range_excursion_pvalue(outside, m, n) == pytest.approx(_brute_force_tail(outside, m, n), rel=1e-9)


def test_range_excursions_on_planted_data() -> None:
    current = pd.Series([-5.0, 0.0, 3.0, 10.0, 11.0, 12.0, -999.0, np.nan])
    assert quality.outside_range(current, 0.0, 10.0, [-999]) == 3  # -5, 11, 12; the code and NaN are missing
    assert quality.range_excursion_pvalue(0, 100, 150) == 1.0 and math.isnan(quality.range_excursion_pvalue(1, 10, 1))


def test_unseen_categories_and_privacy_pooling() -> None:
    reference = quality.profile_column(pd.Series(["a"] * 50 + ["b"] * 30 + ["rare"] * 2))
    current = quality.profile_column(pd.Series(["a"] * 40 + ["b"] * 3 + ["new"] * 6 + ["tiny"] * 2 + ["rare"]))
    unseen = quality.unseen_rows(reference, current)
    assert unseen.to_dict() == {"new": 6, "tiny": 2}
    table = quality.category_table(reference, current)
    # b is named (30 reference rows) though 3 current; rare and tiny are pooled, never named
    assert list(table.index) == ["a", "new", "b", quality.POOLED_CATEGORIES]
    assert table.loc[quality.POOLED_CATEGORIES, ["reference_rows", "current_rows"]].tolist() == [2, 3]
    # b is named, but its 3 current rows are not counted: "< 5"
    assert table.loc["new", "seen_in_reference"] is False and table.loc["b", "current_rows"] == quality.FEW_ROWS


def test_duplicate_rows_agree_with_pandas() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.integers(0, 3, 500), "b": rng.choice(["x", "y"], 500), "c": rng.integers(0, 2, 500)
                          .astype(float)})
    frame.loc[7, "c"] = np.nan
    assert quality.duplicate_rows(frame) == int(frame.duplicated().sum()) > 0
    planted = pd.DataFrame({"a": range(10), "b": ["q"] * 10})
    assert quality.duplicate_rows(pd.concat([planted, planted.iloc[[1, 4, 4]]])) == 3
    assert quality.duplicate_rows(planted.iloc[0:0]) == 0


def test_constant_and_identifier_like_profiles() -> None:
    ids = quality.profile_column(pd.Series([f"ACC{i:05d}" for i in range(200)] + [None] * 5))
    assert ids.distinct_share == 1.0 and ids.present == 200
    assert quality.profile_column(pd.Series(["x"] * 9 + [None])).constant
    assert quality.profile_column(pd.Series([np.nan] * 4)).constant
    assert not quality.profile_column(pd.Series([1, 2])).constant


def test_period_ends_follow_the_calendar() -> None:
    assert quality.period_end("2024-02") == datetime.date(2024, 2, 29)  # leap year
    assert quality.period_end("2025-W01") == datetime.date(2025, 1, 5)  # ISO week 1 of 2025 ends Sunday 5 January
    assert quality.period_end("2025-Q4") == datetime.date(2025, 12, 31)
    assert quality.period_end(pd.Timestamp("2025-03-04 10:00")) == datetime.date(2025, 3, 4)
    assert quality.period_end("2025-13") is None and quality.period_end("7") is None
    assert quality.add_months(datetime.date(2024, 2, 29), 12) == datetime.date(2025, 2, 28)


def test_outcome_maturity_on_planted_vintages() -> None:
    periods = pd.Series(["2024-01"] * 40 + ["2024-06"] * 30 + ["2024-12"] * 20 + ["2025-01"] * 3)
    target = pd.Series([1, 0, 0, 0, 0] * 8 + [1, 0] * 15 + [0] * 20 + [1, 1, 0])
    table, as_of = quality.vintage_table(periods, target, window=12)
    assert as_of == datetime.date(2025, 1, 31)
    # 2024-01 closes 2025-01-31 (mature on the day); 2024-06 on 2025-06-30; later ones later
    assert table["mature"].tolist() == [True, False, False, False]
    assert quality.immature_share(table) == pytest.approx(53 / 93)
    assert table.loc["2024-01", "default_rate"] == 0.2 and table.loc["2024-06", "defaults"] == 15
    assert math.isnan(table.loc["2025-01", "default_rate"])  # 3 rows: not disclosed
    later, _ = quality.vintage_table(periods, target, window=6, as_of=datetime.date(2025, 7, 1))
    assert later["mature"].tolist() == [True, True, True, False]  # 2024-12 closes 2025-06-30, 2025-01 on 07-31
    undated, none = quality.vintage_table(pd.Series(["A", "B"]), None, window=6)
    assert none is None and undated["mature"].isna().all()


def test_sample_description() -> None:
    frame = pd.DataFrame({"m": ["2025-03", "2025-01", None, "2025-02"], "y": [1, 0, 0, 1]})
    assert quality.describe_sample(frame, time="m", target="y") == {
        "rows": 4, "periods": 3, "first_period": "2025-01", "last_period": "2025-03", "default_rate": 0.5}
    assert quality.describe_sample(frame, time=None, target=None)["periods"] is None
