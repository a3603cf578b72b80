"""HTML reports: one run or many compared, from result files only."""

from simworld.report.build import build_report

__all__ = ["build_report"]
