"""Scoring: the nightly batch scorer, ranked lists and the `leadscore` CLI."""
