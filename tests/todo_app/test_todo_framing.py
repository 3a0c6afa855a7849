"""todo_app.framing: a request is handed to a thread exactly when all of it is here, never
before (the thread would wait on the client) and never later (the client would wait)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from todo_app.framing import HEAD_MAX_BYTES, RequestScan, Verdict, expects_continue, verdict

LIMIT = 64 * 1024


def head(*fields: str, line: str = "POST /todos HTTP/1.1") -> bytes:
    return ("\r\n".join([line, "Host: x", *fields]) + "\r\n\r\n").encode()


def chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


WHOLE = [
    head(line="GET /todos HTTP/1.1"),
    head("Content-Length: 14") + b'{"title": "x"}',
    head("Content-Length: 0"),
    head("Transfer-Encoding: chunked") + chunked(b'{"title"', b': "x"}'),
    head("Transfer-Encoding: chunked") + chunked(b"a" * 300)[:-2] + b"X-Trailer: 1\r\n\r\n",
]


@given(request=st.sampled_from(WHOLE), data=st.data())
def test_every_proper_prefix_waits_and_the_whole_request_goes(
    request: bytes, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(min_value=1, max_value=len(request) - 1))
    assert verdict(request[:cut], LIMIT) is Verdict.INCOMPLETE
    assert verdict(request, LIMIT) is Verdict.DISPATCH


@given(request=st.sampled_from(WHOLE), data=st.data())
def test_one_scan_fed_as_bytes_arrive_agrees_with_a_fresh_look(
    request: bytes, data: st.DataObject
) -> None:
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(request) - 1), max_size=8))))
    scan, buffer = RequestScan(LIMIT), bytearray()
    for start, end in zip([0, *cuts], [*cuts, len(request)], strict=True):
        buffer += request[start:end]
        assert scan.verdict(buffer) is verdict(bytes(buffer), LIMIT)
    assert scan.verdict(buffer) is Verdict.DISPATCH


def test_a_request_sent_a_byte_at_a_time_goes_with_its_last_byte() -> None:
    request = head("Transfer-Encoding: chunked") + chunked(*[b"x"] * 200)
    scan, buffer = RequestScan(LIMIT), bytearray()
    for n, byte in enumerate(request, start=1):
        buffer.append(byte)
        expected = Verdict.DISPATCH if n == len(request) else Verdict.INCOMPLETE
        assert scan.verdict(buffer) is expected


@given(pieces=st.lists(st.binary(min_size=1, max_size=40), max_size=6))
def test_any_chunked_body_ends_where_its_last_chunk_and_trailers_do(pieces: list[bytes]) -> None:
    request = head("Transfer-Encoding: chunked") + chunked(*pieces)
    assert verdict(request, LIMIT) is Verdict.DISPATCH
    assert verdict(request[:-1], LIMIT) is Verdict.INCOMPLETE


@pytest.mark.parametrize(
    "request_bytes",
    [
        head("Content-Length: abc"),
        head("Content-Length: +5"),
        head("Content-Length: 5", "Content-Length: 6"),
        head("Content-Length: 5", "Transfer-Encoding: chunked"),
        head("Transfer-Encoding: gzip, chunked"),
        head("Transfer-Encoding: chunked", "Transfer-Encoding: chunked"),
        head("Transfer-Encoding: chunked") + b"0x5\r\n",
        head("Transfer-Encoding: chunked") + b"1_0\r\n",
        head("Transfer-Encoding: chunked") + b"2\r\nabcd\r\n",
        head(f"Content-Length: {LIMIT + 1}"),
        head("Content-Length: " + "9" * 40),
    ],
    ids=[
        "length not digits",
        "length with a sign",
        "two lengths",
        "length and chunked",
        "another coding",
        "chunked twice",
        "0x in a chunk size",
        "underscore in a chunk size",
        "chunk longer than its size",
        "body over the limit",
        "huge length",
    ],
)
def test_odd_framing_goes_at_once_for_gunicorn_to_judge(request_bytes: bytes) -> None:
    assert verdict(request_bytes, LIMIT) is Verdict.DISPATCH


def test_a_chunked_body_over_the_limit_is_too_large_as_soon_as_its_sizes_say_so() -> None:
    request = head("Transfer-Encoding: chunked") + b"%x\r\n" % (LIMIT + 1) + b"y" * 100
    assert verdict(request, LIMIT) is Verdict.BODY_TOO_LARGE
    two = head("Transfer-Encoding: chunked") + chunked(b"y" * 40_000)[:-5] + b"%x\r\n" % 40_000
    assert verdict(two, LIMIT) is Verdict.BODY_TOO_LARGE


def test_a_head_without_an_end_is_too_large_past_64_kib() -> None:
    assert verdict(b"GET / HTTP/1.1\r\nX: " + b"a" * 1000, LIMIT) is Verdict.INCOMPLETE
    endless = b"GET / HTTP/1.1\r\nX: " + b"a" * HEAD_MAX_BYTES
    assert verdict(endless, LIMIT) is Verdict.HEAD_TOO_LARGE
    assert verdict(head("X: " + "a" * HEAD_MAX_BYTES), LIMIT) is Verdict.HEAD_TOO_LARGE


def test_expect_100_continue_is_recognised_in_any_case() -> None:
    assert expects_continue(head("Expect: 100-Continue", "Content-Length: 5"))
    assert not expects_continue(head("Content-Length: 5"))
    assert not expects_continue(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\n")  # head not done
