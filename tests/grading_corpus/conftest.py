"""The corpus holds bad submissions, not tests: never collect them (nbval would run them)."""

collect_ignore_glob = ["*"]
