"""Stand-in for the `future` package's `past` in the grading worker (`[sandbox] provide`)."""
