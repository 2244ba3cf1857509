"""Start the review page on 127.0.0.1 and print its address with the token, as Jupyter does."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from grader.review.app import review_app


def serve(out: Path, port: int = 0, host: str = "127.0.0.1") -> None:
    """Serve until interrupted; port 0 picks a free one. Prints the one address that opens the page."""
    import uvicorn

    app = review_app(out)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)  # connections made as soon as the address is printed wait for the server
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"Reviewing {app.out}. Open this address (it holds the access token):", flush=True)
    print(f"    http://{shown}:{bound}/?token={app.token}", flush=True)
    print("Press Ctrl+C to stop.", file=sys.stderr, flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
