"""The Tuesday joint sweep (综合查一次, docs/domain.md#the-tuesday-sweep): candidates, teams, routes, rules and outcomes."""
