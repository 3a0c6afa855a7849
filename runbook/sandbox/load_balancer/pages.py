"""The answers the load balancer writes itself: ALB's error pages, redirects, fixed responses.

ALB's own pages are small HTML with `Server: awselb/2.0`; what each status means is ALB's
(docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html):
400 a malformed request; 408 the client sent nothing within the idle timeout; 463 more than
30 addresses in X-Forwarded-For; 501 an unsupported Transfer-Encoding; 502 the target closed
the connection or answered malformed; 503 no registered target; 504 the target did not
connect within 10 s, or did not answer within the idle timeout.
"""

from __future__ import annotations

from email.utils import formatdate

TITLES = {
    400: "Bad Request",
    408: "Request Time-out",
    463: "",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}
SERVER = b"awselb/2.0"


def page(status: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """ALB's page for a status it answers itself: its headers and body."""
    title = f"{status} {TITLES.get(status, '')}".strip()
    body = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    ).encode()
    return [(b"Content-Type", b"text/html"), *own_headers()], body


def own_headers() -> list[tuple[bytes, bytes]]:
    """Server and Date, on answers the balancer writes itself (never on the target's)."""
    return [(b"Server", SERVER), (b"Date", formatdate(usegmt=True).encode())]


def raw_page(status: int) -> bytes:
    """A whole HTTP/1.1 answer, for a request no parser would take: always closes."""
    headers, body = page(status)
    lines = [f"HTTP/1.1 {status} {TITLES.get(status, '')}".rstrip().encode()]
    lines += [name + b": " + value for name, value in headers]
    lines += [b"Content-Length: " + str(len(body)).encode(), b"Connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def redirect_location(
    config: dict[str, str], *, host: str, path: str, query: str, port: int
) -> tuple[int, str]:
    """The status and Location of a redirect action, its #{...} keys filled as ALB fills them."""
    protocol = config.get("Protocol", "#{protocol}").replace("#{protocol}", "http")
    to_port = config.get("Port", "#{port}").replace("#{port}", str(port))
    to_host = config.get("Host", "#{host}").replace("#{host}", host)
    to_path = config.get("Path", "/#{path}").replace("/#{path}", path)
    to_query = config.get("Query", "#{query}").replace("#{query}", query)
    location = f"{protocol.lower()}://{to_host}:{to_port}{to_path}"
    status = 301 if config.get("StatusCode", "HTTP_301") == "HTTP_301" else 302
    return status, location + (f"?{to_query}" if to_query else "")
