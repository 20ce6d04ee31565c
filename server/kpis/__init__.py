"""KPIs (绩效评价): figures over a period and scope, and the monthly, quarterly and yearly reports."""
