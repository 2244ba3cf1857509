"""Everything written for people and programs: JSON, CSV, HTML (and later PDF, Gradescope)."""
