"""An example check from a package of its own: the share of current scores outside the range of
the reference scores.

A score outside the range the model was developed on is an extrapolation: the model never saw
such an applicant. The check reports that share (``score_out_of_range_share``), judged by the rule
this package declares, and the shares below and above the range.
"""

from __future__ import annotations

from pydantic import Field

from validation.checks import US_MRM, Basis, Check, CheckContext, CheckOutput, CheckParams, Headline
from validation.judging.findings import finding
from validation.judging.policy import Rule


class ScoreRangeParams(CheckParams):
    margin: float = Field(0.0, ge=0.0, description="tolerance added on each side of the reference range")


class ScoreRangeCheck(Check):
    name = "score_range"
    description = "share of current scores outside the reference score range"
    template = "score_range.ipynb"  # beside this module: Check.template_folder()
    params = ScoreRangeParams
    headlines = (Headline("score_out_of_range", "scores out of range", "score_out_of_range_share", "score", "max"),)
    basis = Basis(US_MRM, "ongoing monitoring: inputs outside the development range")
    rules = {"score_out_of_range_share": Rule("higher_is_worse", 0.01, 0.05,
                                              "example plugin default: 1% of applicants outside the range")}

    def not_applicable(self, spec: object) -> str | None:
        return None if getattr(spec, "model").type == "classification" else "applies to classification models"

    def run(self, context: CheckContext, params: ScoreRangeParams) -> CheckOutput:
        score = str(context.samples.score)
        reference, current = context.reference[score], context.current[score]
        low, high = float(reference.min()) - params.margin, float(reference.max()) + params.margin
        below, above = float((current < low).mean()), float((current > high).mean())
        share = below + above
        output = CheckOutput(self.name, headline=f"{share:.2%} of current scores lie outside [{low:.4f}, {high:.4f}]",
                             findings=[finding("score_out_of_range_share", "score", share,
                                               note=f"{below:.2%} below, {above:.2%} above")])
        import pandas as pd

        table = pd.DataFrame({"share": [below, above]}, index=pd.Index(["below", "above"], name="side"))
        output.tables["sides"] = table
        output.section("Scores outside the reference range").table(table.round(4))
        output.summary = {"current_rows": len(current), "low": low, "high": high}
        return output
