"""Scoring, ranking and waves: which static key to retire first, and why."""

from workbench.plan.model import Plan, Reason, Step, Wave
from workbench.plan.planner import STRATEGIES, make_plan, pilot_candidates
from workbench.plan.scoring import key_age_days, score_key

__all__ = [
    "STRATEGIES",
    "Plan",
    "Reason",
    "Step",
    "Wave",
    "key_age_days",
    "make_plan",
    "pilot_candidates",
    "score_key",
]
