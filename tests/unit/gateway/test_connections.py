"""The upstream transport: keep-alive reuse, never a half-read connection, failures mapped."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from garrison.gateway.connections import UpstreamTransport
from tests.unit.gateway.fakes import free_port, serving


def echo_app() -> Starlette:
    async def echo(request: Request) -> Response:
        body = await request.body()
        client = request.client
        port = client.port if client is not None else 0
        return JSONResponse(
            {"id": request.headers.get("x-id"), "port": port, "size": len(body)},
            headers={"connection": "close"} if request.query_params.get("close") else None,
        )

    async def big(request: Request) -> Response:
        return Response(b"x" * (2 * 1024 * 1024 + 7))

    async def chunks(request: Request) -> Response:
        async def gen() -> AsyncIterator[bytes]:
            for i in range(50):
                yield f"data: {i}\n\n".encode()

        return StreamingResponse(gen(), media_type="text/event-stream")

    async def slow(request: Request) -> Response:
        await asyncio.sleep(1)
        return Response(b"late")

    return Starlette(
        routes=[
            Route("/echo", echo, methods=["GET", "POST"]),
            Route("/big", big),
            Route("/chunks", chunks),
            Route("/slow", slow),
        ]
    )


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serving(echo_app()) as url:
        yield url


def transport(**overrides: float) -> UpstreamTransport:
    settings = {"max_connections": 4, "connect_timeout_s": 2.0, "read_timeout_s": 5.0}
    settings.update(overrides)
    return UpstreamTransport(
        max_connections=int(settings["max_connections"]),
        connect_timeout_s=settings["connect_timeout_s"],
        read_timeout_s=settings["read_timeout_s"],
    )


def run(body: Callable[[httpx.AsyncClient], Awaitable[None]], pool: UpstreamTransport) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(transport=pool) as client:
            await body(client)

    asyncio.run(main())


def test_keep_alive_reuses_one_connection(base: str) -> None:
    ports: list[int] = []

    async def body(client: httpx.AsyncClient) -> None:
        for i in range(5):
            answer = await client.post(f"{base}/echo", content=b"abc", headers={"x-id": str(i)})
            assert answer.json()["id"] == str(i) and answer.json()["size"] == 3
            ports.append(answer.json()["port"])

    run(body, transport())
    assert len(set(ports)) == 1


def test_connection_close_is_honoured(base: str) -> None:
    ports: list[int] = []

    async def body(client: httpx.AsyncClient) -> None:
        for _ in range(3):
            ports.append((await client.get(f"{base}/echo?close=1")).json()["port"])

    run(body, transport())
    assert len(set(ports)) == 3


def test_concurrent_requests_each_get_their_own_answer(base: str) -> None:
    async def body(client: httpx.AsyncClient) -> None:
        async def one(i: int) -> None:
            answer = await client.post(f"{base}/echo", content=b"x" * i, headers={"x-id": f"r{i}"})
            assert answer.json()["id"] == f"r{i}" and answer.json()["size"] == i

        await asyncio.gather(*(one(i) for i in range(60)))

    run(body, transport(max_connections=3))


def test_half_read_answer_closes_its_connection(base: str) -> None:
    ports: list[int] = []

    async def body(client: httpx.AsyncClient) -> None:
        async with client.stream("GET", f"{base}/chunks") as response:
            async for _ in response.aiter_bytes():
                break  # the client stops reading
        for i in range(2):
            answer = await client.get(f"{base}/echo", headers={"x-id": str(i)})
            assert answer.json()["id"] == str(i)
            ports.append(answer.json()["port"])

    run(body, transport(max_connections=1))
    assert len(set(ports)) == 1


def test_large_and_chunked_answers_arrive_whole(base: str) -> None:
    async def body(client: httpx.AsyncClient) -> None:
        assert len((await client.get(f"{base}/big")).content) == 2 * 1024 * 1024 + 7
        text = (await client.get(f"{base}/chunks")).text
        assert text == "".join(f"data: {i}\n\n" for i in range(50))

    run(body, transport())


def test_timeouts_and_refused_connections(base: str) -> None:
    async def body(client: httpx.AsyncClient) -> None:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(f"{base}/slow")
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{free_port()}/echo")
        assert (await client.get(f"{base}/echo")).status_code == 200  # the slot came back

    run(body, transport(read_timeout_s=0.2, max_connections=1))


def test_pool_timeout_when_every_connection_is_busy(base: str) -> None:
    async def body(client: httpx.AsyncClient) -> None:
        async with client.stream("GET", f"{base}/chunks"):
            with pytest.raises(httpx.PoolTimeout):
                await client.get(f"{base}/echo")

    run(body, transport(max_connections=1, connect_timeout_s=0.2))


async def _raw_server(reply: bytes, close: bool) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(reply)
        await writer.drain()
        if close:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", httpx.RemoteProtocolError),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", httpx.ReadError),
        (b"", httpx.ReadError),
    ],
)
def test_broken_upstreams_are_mapped(reply: bytes, error: type[Exception]) -> None:
    async def main() -> None:
        server, port = await _raw_server(reply, close=True)
        async with server, httpx.AsyncClient(transport=transport()) as client:
            with pytest.raises(error):
                await client.get(f"http://127.0.0.1:{port}/")

    asyncio.run(main())


def test_unread_rest_of_a_complete_answer_never_reaches_the_next_one() -> None:
    replies = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nfirst\r\n6\r\nSTALE!\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond",
    ]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for reply in replies:  # both answers on one keep-alive connection
            await reader.readuntil(b"\r\n\r\n")
            writer.write(reply)
            await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        async with server, httpx.AsyncClient(transport=transport(max_connections=1)) as client:
            async with client.stream("GET", url) as response:
                await asyncio.sleep(0.1)  # the whole answer has arrived
                async for chunk in response.aiter_raw():
                    assert chunk == b"first"
                    break
            assert (await client.get(url)).text == "second"

    asyncio.run(main())


def test_header_injection_never_reaches_the_wire(base: str) -> None:
    async def body(client: httpx.AsyncClient) -> None:
        with pytest.raises(httpx.LocalProtocolError):
            await client.get(f"{base}/echo", headers={"accept": "a\r\nx-admin: 1"})

    run(body, transport())


def test_server_closing_an_idle_connection_is_survived(base: str) -> None:
    async def main() -> None:
        server, port = await _raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", True)
        async with server, httpx.AsyncClient(transport=transport()) as client:
            for _ in range(3):  # each answer's connection is closed by the server after it
                assert (await client.get(f"http://127.0.0.1:{port}/")).text == "ok"
                await asyncio.sleep(0.05)

    asyncio.run(main())


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_https_upstream_is_verified(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)

    async def main() -> None:
        context = ssl.create_default_context()
        context.load_cert_chain(cert, key)
        server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_context.load_cert_chain(cert, key)
        reply = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecure"

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(reply)
            await writer.drain()

        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_context)
        port = server.sockets[0].getsockname()[1]
        trusting = ssl.create_default_context(cafile=str(cert))
        pool = UpstreamTransport(
            max_connections=2, connect_timeout_s=2, read_timeout_s=2, ssl_context=trusting
        )
        async with server:
            async with httpx.AsyncClient(transport=pool) as client:
                assert (await client.get(f"https://127.0.0.1:{port}/")).text == "secure"
            async with httpx.AsyncClient(transport=transport()) as client:
                with pytest.raises(httpx.ConnectError):  # untrusted certificate
                    await client.get(f"https://127.0.0.1:{port}/")

    asyncio.run(main())
