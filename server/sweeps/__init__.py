"""The Tuesday joint sweep (综合查一次): plans, edits, publishing, outcomes and the printouts."""
