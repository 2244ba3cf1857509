"""Attacks on the grader, each graded for real: the hostile-input suite."""
