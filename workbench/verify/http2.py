"""Just enough HTTP/2 for the verifier's HTTP/2 corner: one request on stream 1, one bounded
response, over a :class:`workbench.verify.tlsconn.TLSConnection` that agreed on ``h2``.

A gateway may route HTTP/2 through another listener, filter chain or server block than
HTTP/1.1 (the key check configured on one of them only); a client holding the old key can
offer ``h2`` as easily as the verifier. The framing is the ``h2`` library's (hyper's
sans-I/O HTTP/2 state machine), not hand-written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from workbench.verify.classify import MalformedResponse, PeerClosed
from workbench.verify.http1 import MAX_HEAD_BYTES, Response

__all__ = ["exchange_h2"]


def exchange_h2(
    send: Callable[[bytes], None],
    recv: Callable[[], bytes],
    *,
    method: str,
    authority: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    limit: int,
) -> Response:
    """Send one request and read its response (status, headers, at most ``limit`` body
    bytes). Raises PeerClosed when the server closes or resets the stream before answering,
    MalformedResponse for anything that is not HTTP/2 (never quoting the server's bytes)."""
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions

    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding="latin-1")
    )
    conn.initiate_connection()
    request = [(":method", method), (":scheme", "https"), (":authority", authority),
               (":path", target)]  # fmt: skip
    request += [(name.lower(), value) for name, value in headers]
    try:
        conn.send_headers(1, request, end_stream=True)
    except h2.exceptions.ProtocolError as exc:
        raise ValueError(f"request not expressible in HTTP/2: {type(exc).__name__}") from None
    send(conn.data_to_send())
    status: int | None = None
    got: dict[str, str] = {}
    body = bytearray()
    while True:
        data = recv()
        if not data:
            break
        try:
            events = conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            raise MalformedResponse("not an HTTP/2 response") from None
        for ev in events:
            if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == 1:
                fields = {str(k).lower(): str(v) for k, v in ev.headers}
                if sum(len(k) + len(v) for k, v in fields.items()) > MAX_HEAD_BYTES:
                    raise MalformedResponse("response head too large")
                status = int(fields.pop(":status", "0") or 0)
                got = fields
            elif isinstance(ev, h2.events.DataReceived) and ev.stream_id == 1:
                body += ev.data
                conn.acknowledge_received_data(ev.flow_controlled_length, 1)
                if len(body) > limit:
                    return _done(status, got, body, limit)
            elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == 1:
                return _done(status, got, body, limit)
            elif isinstance(ev, h2.events.StreamReset | h2.events.ConnectionTerminated):
                if status is not None:
                    return _done(status, got, body, limit)
                raise PeerClosed()
        pending = conn.data_to_send()
        if pending:
            send(pending)
    if status is None:
        raise PeerClosed()
    return _done(status, got, body, limit)


def _done(status: int | None, headers: dict[str, str], body: bytearray, limit: int) -> Response:
    if status is None or not 200 <= status < 600:
        raise MalformedResponse("not an HTTP/2 response")
    return Response(status, headers, bytes(body[:limit]), len(body) > limit)
