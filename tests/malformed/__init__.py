"""Malformed hand-ins: each gets a recorded result and a message a student understands."""
