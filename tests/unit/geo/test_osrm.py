"""Tests for the OSRM table provider (geo.osrm) against httpx.MockTransport."""

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import numpy as np
import pytest

from geo.errors import ProviderError
from geo.matrix import UNREACHABLE, MatrixProvider
from geo.model import ModelProvider
from geo.osrm import OsrmProvider

BASE = "http://osrm.test:5000"


class FakeOsrm:
    """An OSRM table service over a line of points: point k sits at latitude k / 100.

    Travel between points i and j takes 100 * |i - j| + (1 if i > j) seconds (so the matrix is
    asymmetric) and covers 1000 * |i - j| metres.
    """

    def __init__(self, unreachable: frozenset[int] = frozenset()):
        self.requests: list[httpx.Request] = []
        self.unreachable = unreachable

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        coordinates = request.url.path.split("/")[-1].split(";")
        index = [round(float(c.split(",")[1]) * 100) for c in coordinates]
        query = parse_qs(request.url.query.decode())
        assert query["annotations"] == ["duration,distance"]
        sources = [int(s) for s in query["sources"][0].split(";")] if "sources" in query else None
        targets = (
            [int(t) for t in query["destinations"][0].split(";")]
            if "destinations" in query
            else None
        )
        sources = sources if sources is not None else list(range(len(index)))
        targets = targets if targets is not None else list(range(len(index)))
        durations, distances = [], []
        for s in sources:
            i = index[s]
            row_d, row_m = [], []
            for t in targets:
                j = index[t]
                if i != j and (i in self.unreachable or j in self.unreachable):
                    row_d.append(None)
                    row_m.append(None)
                else:
                    row_d.append(100.0 * abs(i - j) + (1.0 if i > j else 0.0))
                    row_m.append(1000.0 * abs(i - j))
            durations.append(row_d)
            distances.append(row_m)
        return httpx.Response(
            200, json={"code": "Ok", "durations": durations, "distances": distances}
        )


def line(n: int, start: int = 0) -> list[tuple[float, float]]:
    return [((start + k) / 100, 5.0) for k in range(n)]


def expected(rows: range, cols: range) -> tuple[np.ndarray, np.ndarray]:
    i = np.array(rows)[:, None]
    j = np.array(cols)[None, :]
    return 100 * np.abs(i - j) + (i > j), 1000 * np.abs(i - j)


def provider_with(handler, **kwargs) -> tuple[OsrmProvider, list[float]]:
    sleeps: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return OsrmProvider(BASE, client=client, sleep=sleeps.append, **kwargs), sleeps


def test_request_uses_the_documented_table_url():
    """One small table is one GET with lon,lat coordinates, sources, destinations, annotations."""
    fake = FakeOsrm()
    provider, _ = provider_with(fake)
    result = provider.matrix([(0.0, 5.0)], [(0.02, 5.0), (0.03, 5.0)])
    assert len(fake.requests) == 1
    assert str(fake.requests[0].url) == (
        f"{BASE}/table/v1/driving/5.000000,0.000000;5.000000,0.020000;5.000000,0.030000"
        "?annotations=duration,distance&sources=0&destinations=1;2"
    )
    assert result.durations.tolist() == [[200, 300]]
    assert result.distances.tolist() == [[2000, 3000]]
    assert result.provider == "osrm"
    assert result.estimated is False


def test_square_matrix_is_split_into_blocks_within_the_table_limit():
    """250 points with max_table_size 100 take 3 x 3 = 9 requests of at most 100 x 100."""
    fake = FakeOsrm()
    provider, _ = provider_with(fake, max_table_size=100)
    result = provider.matrix(line(250))
    assert len(fake.requests) == 9
    for request in fake.requests:
        query = parse_qs(request.url.query.decode())
        if "sources" in query:
            assert len(query["sources"][0].split(";")) <= 100
            assert len(query["destinations"][0].split(";")) <= 100
        else:
            assert len(request.url.path.split("/")[-1].split(";")) <= 100
    durations, distances = expected(range(250), range(250))
    np.testing.assert_array_equal(result.durations, durations)
    np.testing.assert_array_equal(result.distances, distances)


def test_diagonal_blocks_send_each_point_once():
    """Blocks on the diagonal of a square matrix list their points once, without sources."""
    fake = FakeOsrm()
    provider, _ = provider_with(fake, max_table_size=2)
    provider.matrix(line(4))
    urls = [str(r.url) for r in fake.requests]
    assert len(urls) == 4
    assert urls[0] == (
        f"{BASE}/table/v1/driving/5.000000,0.000000;5.000000,0.010000?annotations=duration,distance"
    )
    assert "sources=0;1&destinations=2;3" in urls[1]


def test_rectangular_blocks():
    """150 origins x 30 destinations with a limit of 100 take 2 requests."""
    fake = FakeOsrm()
    provider, _ = provider_with(fake)
    result = provider.matrix(line(150), line(30, start=200))
    assert len(fake.requests) == 2
    durations, distances = expected(range(150), range(200, 230))
    np.testing.assert_array_equal(result.durations, durations)
    np.testing.assert_array_equal(result.distances, distances)


def test_null_cells_are_unreachable():
    """OSRM's null for an unroutable pair becomes UNREACHABLE and a False in the mask."""
    provider, _ = provider_with(FakeOsrm(unreachable=frozenset({2})))
    result = provider.matrix(line(3))
    assert result.durations.tolist() == [
        [0, 100, UNREACHABLE],
        [101, 0, UNREACHABLE],
        [UNREACHABLE, UNREACHABLE, 0],
    ]
    assert result.distances[0, 2] == UNREACHABLE
    assert result.reachable.tolist() == [
        [True, True, False],
        [True, True, False],
        [False, False, True],
    ]


def test_osrm_error_code_raises_at_once_naming_provider():
    """An InvalidQuery answer is not retried and the error carries OSRM's code and message."""
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(
            400,
            json={"code": "InvalidQuery", "message": "Query string malformed close to position 28"},
        )

    provider, sleeps = provider_with(handler)
    with pytest.raises(ProviderError) as info:
        provider.matrix(line(2))
    assert len(calls) == 1
    assert sleeps == []
    assert info.value.provider == "osrm"
    assert info.value.retryable is False
    assert str(info.value) == (
        "travel_times: osrm: refused the table request "
        "(HTTP 400, InvalidQuery: Query string malformed close to position 28)"
    )


def test_ok_status_with_error_code_is_an_error():
    """HTTP 200 carrying code NoSegment is still an error."""
    provider, _ = provider_with(
        lambda r: httpx.Response(
            200, json={"code": "NoSegment", "message": "Could not find a matching segment"}
        )
    )
    with pytest.raises(ProviderError, match="NoSegment: Could not find a matching segment"):
        provider.matrix(line(2))


def test_server_error_then_success_is_retried_with_backoff():
    """HTTP 500 then 502 then success: three calls, waits of 0.5 s and 1 s."""
    fake = FakeOsrm()
    answers = iter([httpx.Response(500), httpx.Response(502, text="Bad Gateway")])

    def handler(request):
        try:
            return next(answers)
        except StopIteration:
            return fake(request)

    provider, sleeps = provider_with(handler)
    result = provider.matrix(line(2))
    assert sleeps == [0.5, 1.0]
    assert len(fake.requests) == 1
    assert result.durations.tolist() == [[0, 100], [101, 0]]


def test_rate_limited_answer_honours_retry_after():
    """HTTP 429 with Retry-After: 3 waits 3 s, then succeeds."""
    fake = FakeOsrm()
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"})])

    def handler(request):
        return next(answers, None) or fake(request)

    provider, sleeps = provider_with(handler)
    provider.matrix(line(2))
    assert sleeps == [3.0]


def test_persistent_failure_gives_up_after_max_retries():
    """Always 503: 1 + 3 attempts, waits 0.5, 1, 2 s, then a retryable ProviderError."""
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(503, json={"code": "Unavailable", "message": "loading"})

    provider, sleeps = provider_with(handler)
    with pytest.raises(ProviderError) as info:
        provider.matrix(line(2))
    assert len(calls) == 4
    assert sleeps == [0.5, 1.0, 2.0]
    assert info.value.retryable is True
    assert info.value.message == ("osrm: HTTP 503: Unavailable: loading; gave up after 4 attempts")


def test_backoff_is_capped():
    """Waits never exceed max_backoff_s, even when Retry-After asks for more."""
    provider, sleeps = provider_with(
        lambda r: httpx.Response(429, headers={"Retry-After": "120"}), max_retries=2
    )
    with pytest.raises(ProviderError):
        provider.matrix(line(2))
    assert sleeps == [8.0, 8.0]


def test_timeouts_are_retried_and_reported():
    """A read timeout is retried; if it persists the error says the server did not answer."""
    calls = []

    def handler(request):
        calls.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    provider, sleeps = provider_with(handler, timeout_s=2.5, max_retries=1)
    with pytest.raises(ProviderError) as info:
        provider.matrix(line(2))
    assert len(calls) == 2
    assert sleeps == [0.5]
    assert info.value.message == (
        "osrm: no answer within 2.5 s (ReadTimeout); gave up after 2 attempts"
    )


def test_connection_error_is_retried():
    """A refused connection followed by success yields the matrix."""
    fake = FakeOsrm()
    state = {"failed": False}

    def handler(request):
        if not state["failed"]:
            state["failed"] = True
            raise httpx.ConnectError("connection refused", request=request)
        return fake(request)

    provider, sleeps = provider_with(handler)
    assert provider.matrix(line(2)).durations.tolist() == [[0, 100], [101, 0]]
    assert sleeps == [0.5]


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(200, text="<html>proxy error</html>"), "not JSON"),
        (httpx.Response(200, json=["Ok"]), "not an object"),
        (httpx.Response(200, json={"code": "Ok", "durations": [[0, 1]]}), "'durations' table"),
        (
            httpx.Response(200, json={"code": "Ok", "durations": [[0, 1], [1, 0]]}),
            "'distances' table",
        ),
        (
            httpx.Response(
                200,
                json={"code": "Ok", "durations": [[0, "1"], [1, 0]], "distances": [[0, 1], [1, 0]]},
            ),
            r"'durations'\[0\]\[1\] is '1'",
        ),
        (
            httpx.Response(
                200,
                json={"code": "Ok", "durations": [[0, -5], [1, 0]], "distances": [[0, 1], [1, 0]]},
            ),
            r"'durations'\[0\]\[1\] is -5",
        ),
    ],
)
def test_garbage_answers_raise_without_retry(response, message):
    """Bodies that are not OSRM's documented JSON raise a ProviderError at once."""
    calls = []

    def handler(request):
        calls.append(request)
        return response

    provider, sleeps = provider_with(handler)
    with pytest.raises(ProviderError, match=message) as info:
        provider.matrix(line(2))
    assert info.value.provider == "osrm"
    assert len(calls) == 1
    assert sleeps == []


def test_fallback_to_the_model_is_marked_estimated():
    """With a fallback configured, a failing server yields the model's matrix, estimated."""
    provider, _ = provider_with(
        lambda r: httpx.Response(500), fallback=ModelProvider(), max_retries=0
    )
    points = [(0.0, 0.0), (0.0, 0.1)]
    departure = datetime(2025, 3, 3, 8, 30, tzinfo=UTC)
    result = provider.matrix(points, departure=departure)
    assert result.estimated is True
    assert result.provider == "model"
    assert result.durations.tolist() == [[0, 2256], [2256, 0]]
    assert result.distances.tolist() == [[0, 14455], [14455, 0]]


def test_no_fallback_without_configuration():
    """Without a fallback, the failure propagates instead of an estimate."""
    provider, _ = provider_with(lambda r: httpx.Response(500), max_retries=0)
    with pytest.raises(ProviderError, match="HTTP 500"):
        provider.matrix(line(2))


def test_osrm_provider_satisfies_the_protocol_and_owns_its_client():
    """OsrmProvider is a MatrixProvider; one built without a client closes its own."""
    provider = OsrmProvider(BASE)
    assert isinstance(provider, MatrixProvider)
    with provider:
        pass
    assert provider._client.is_closed
    with pytest.raises(ValueError, match="http"):
        OsrmProvider("osrm:5000")


def test_fake_server_payload_is_json_roundtrippable():
    """The fake answers exactly the documented shape (guards the fake itself)."""
    fake = FakeOsrm(unreachable=frozenset({1}))
    request = httpx.Request(
        "GET", f"{BASE}/table/v1/driving/5,0;5,0.01?annotations=duration,distance"
    )
    body = json.loads(fake(request).content)
    assert body == {
        "code": "Ok",
        "durations": [[0.0, None], [None, 0.0]],
        "distances": [[0.0, None], [None, 0.0]],
    }
