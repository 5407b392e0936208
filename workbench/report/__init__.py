"""Reports over a workspace: the program report (figures for a steering committee) and the
cut-over review (per wave and step: verdicts, probe matrix, timings, old-key use).

Pure reads of the workspace; the pictures are matplotlib figures (no pyplot state), written
as SVG by `workbench report` and shown inline by the notebooks.
"""

from workbench.report.collect import program_report
from workbench.report.drills import DrillSummary, read_drills
from workbench.report.program import ProgramReport
from workbench.report.review import CutoverReview, cutover_review

__all__ = [
    "CutoverReview",
    "DrillSummary",
    "ProgramReport",
    "cutover_review",
    "program_report",
    "read_drills",
]
