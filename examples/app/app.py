"""A sample service to run under hardinit: Python standard library only.

Dockerflow endpoints:
  /__lbheartbeat__  200 while the process serves (load balancers, HEALTHCHECK)
  /__heartbeat__    200 when the app and its dependencies are fine, else 503
  /__version__      the contents of version.json (source, version, commit, build)

Logs one line per request on stdout and warnings on stderr; hardinit turns
each line into a mozlog record. On SIGTERM (forwarded by hardinit from
`docker stop`) it stops accepting requests and exits 0 at once.
"""

import http.server
import json
import os
import signal
import sys
import threading

PORT = int(os.environ.get("PORT", "8000"))
HERE = os.path.dirname(os.path.abspath(__file__))


def version():
    path = os.environ.get("VERSION_JSON", os.path.join(HERE, "version.json"))
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"cannot read {path}: {e}", file=sys.stderr, flush=True)
        return {}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/__lbheartbeat__":
            self.reply(200, {})
        elif self.path == "/__heartbeat__":
            # A real service checks its database, caches, ... here.
            self.reply(200, {"status": "ok", "checks": {}})
        elif self.path == "/__version__":
            self.reply(200, version())
        elif self.path == "/":
            self.reply(200, {"hello": "world"})
        else:
            self.reply(404, {"error": "not found"})

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        # One line per request on stdout (the default writes to stderr).
        print(f"{self.address_string()} {format % args}", flush=True)


def main():
    server = http.server.ThreadingHTTPServer(("0.0.0.0", PORT), Handler)

    def stop(signum, _frame):
        print(f"received signal {signum}, shutting down", file=sys.stderr, flush=True)
        # shutdown() waits for serve_forever(), which runs in this thread.
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"listening on port {PORT}", flush=True)
    # A short poll interval so shutdown() returns quickly after SIGTERM.
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
