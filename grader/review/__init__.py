"""`grader review OUT`: a local web page over a graded output folder, for what the machine should not decide alone.

`board` reads the folder (what the grader decided, what the instructor reviewed) into the queue and
the groups; `app` serves it, behind a token and CSRF checks; `serve` starts it on 127.0.0.1.
"""
