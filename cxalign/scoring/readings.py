"""Plain-language readings of the figures (notes, the alignment index, priorities)."""

from __future__ import annotations

GROUP_SINGULAR = {"executive": "executive", "cx_professional": "CX professional"}
GROUP_PLURAL = {"executive": "executives", "cx_professional": "CX professionals"}


def group_noun(group: str, n: int) -> str:
    return GROUP_SINGULAR[group] if n == 1 else GROUP_PLURAL[group]


def suppression_reason(group: str, n: int, threshold: int) -> str:
    plural = GROUP_PLURAL[group]
    if n == 0:
        return f"No {plural} have answered yet, so there is nothing to show for this group."
    return (
        f"Only {n} {group_noun(group, n)} answered; results for {plural} stay hidden until at "
        f"least {threshold} have answered (anonymity threshold)."
    )


def single_respondent(group: str) -> str:
    other = GROUP_PLURAL["cx_professional" if group == "executive" else "executive"]
    return (
        f"Only one {GROUP_SINGULAR[group]} answered: results are indicative, no two-sample test "
        f"was run. That person's answers are compared with the spread of {other}' answers "
        "(sign test, one-sample t interval)."
    )


def few_respondents(group: str, n: int) -> str:
    return (
        f"Only {n} {GROUP_PLURAL[group]} answered: consensus figures (r_wg, AD) are descriptive "
        "only (5 or more raters are needed to judge agreement)."
    )


def alignment_band(index: float, threshold_pomp: float) -> str:
    gap = 100.0 - index
    if gap < threshold_pomp / 2.0:
        return "closely aligned"
    if gap < threshold_pomp:
        return "broadly aligned"
    if gap < 2.0 * threshold_pomp:
        return "noticeably apart"
    return "far apart"


def alignment_reading(index: float, band: str) -> str:
    apart = 100.0 - index
    return (
        f"Alignment index {index:.0f} ({band}): across the dimensions, weighted by importance, "
        f"executives and CX professionals are on average {apart:.1f}% of the scale apart. "
        "A high index means agreement, not health: both sides can agree that things are poor, "
        "so read it with the dimension levels."
    )


def alignment_unavailable(reason: str) -> str:
    return f"No alignment index: {reason}"


CLASS_SENTENCE = {
    "blind spot": "executives rate this {gap:.1f} POMP higher than CX professionals",
    "hidden strength": "executives rate this {gap:.1f} POMP lower than CX professionals",
}


def priority_summary(
    classification: str, level: str, confidence: str, gap_pomp: float, level_pomp: float
) -> str:
    if classification in CLASS_SENTENCE:
        body = CLASS_SENTENCE[classification].format(gap=abs(gap_pomp))
        return f"{classification.capitalize()}: {body} ({level} gap, {confidence})."
    return (
        f"Shared weakness: both sides rate this low ({level_pomp:.0f} POMP on average); "
        "a priority even without a gap between them."
    )
