"""A small WSGI service: GET / greets, GET /healthz answers ok.

Run with --once NAME to print one response body and exit (the smoke test a
shell-less image allows)."""
import argparse
import json
from wsgiref.simple_server import make_server

from greeting import greet


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/healthz":
        body, status = {"status": "ok"}, "200 OK"
    elif path == "/":
        name = environ.get("QUERY_STRING", "").partition("name=")[2] or "world"
        body, status = {"message": greet(name)}, "200 OK"
    else:
        body, status = {"error": "not found"}, "404 Not Found"
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(data)))])
    return [data]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--once", metavar="NAME")
    args = parser.parse_args()
    if args.once is not None:
        print(json.dumps({"message": greet(args.once)}))
        return
    with make_server("0.0.0.0", args.port, application) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
