"""The CI gate: budgets, check, diff and their output formats."""
