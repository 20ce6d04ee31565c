"""The Tuesday joint sweep (综合查一次, DESIGN §5.8): candidates, teams, routes, rules and outcomes."""
