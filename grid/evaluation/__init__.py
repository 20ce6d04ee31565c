"""Evaluation (绩效评价, docs/domain.md#evaluation): what each incident reached and when, the figures over a period
and scope, the periods of the monthly, quarterly and yearly reports, rankings and changes."""
