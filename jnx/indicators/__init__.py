"""Supervision indicators (监督指标) and the monthly report (每月通报): docs/indicators.md."""
