"""SSRF protection: refuse to connect to loopback, private, link-local, multicast or reserved
addresses, and to cloud metadata services, unless the user allowed them; an IPv6 address that
embeds an IPv4 address (mapped, compatible, 6to4, NAT64, Teredo) is judged by the embedded one.

The check runs where the socket is opened (an httpcore network backend), on the address actually
connected to, so it holds for every redirect hop and cannot be dodged by DNS that answers
differently between a check and the connection (DNS rebinding).
"""

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import httpcore
import httpx

from tools.errors import BlockedAddress, FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance-metadata services (credentials live there). Some sit outside the private ranges:
# Oracle's in 192.0.0.0/24, Azure's wire server on a public address, Alibaba's in shared space.
METADATA = frozenset(map(ipaddress.ip_address, (
    "169.254.169.254", "169.254.170.2", "169.254.169.123", "100.100.100.200", "192.0.0.192",
    "168.63.129.16", "fd00:ec2::254",
)))
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")


def embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries and reaches: mapped, compatible, translated,
    6to4, NAT64 (well-known prefix) and Teredo (server and client); empty for any other address."""
    if ip.version == 4:
        return []
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    if ip in NAT64 or ip in IPV4_TRANSLATED or (ip in IPV4_COMPATIBLE and int(ip) > 1):
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]  # the last 32 bits
    return []


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses may be fetched: public ones always, others only when allowed."""

    allow_private: bool = False
    allowed_networks: tuple[str, ...] = ()  # e.g. ("127.0.0.0/8",) for a test server on loopback

    def permits(self, ip: IPAddress) -> bool:
        """An IPv6 address that embeds IPv4 addresses is judged by them, every one."""
        if embedded := embedded_ipv4(ip):
            return all(self.permits(v4) for v4 in embedded)
        if self.allow_private:
            return True
        if any(ip in ipaddress.ip_network(net) for net in self.allowed_networks):
            return True
        return (ip.is_global and ip not in METADATA
                and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, checks every address, and connects only to a permitted one."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = await resolve(host, port)
        blocked = [ip for ip in addresses if not self.policy.permits(ip)]
        if blocked:
            raise BlockedAddress(
                f"{host} resolves to {blocked[0]}, a non-public address; "
                "pass --allow-private to fetch from it."
            )
        last_error: Exception | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                last_error = e
        raise last_error or httpcore.ConnectError(f"cannot connect to {host}")

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise BlockedAddress("Unix sockets are not fetched.")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise FetchError(f"the host {host} could not be resolved.") from None
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))


def guarded_transport(policy: AddressPolicy, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every new connection passes the address policy."""
    transport = httpx.AsyncHTTPTransport(limits=limits)
    # httpx has no public parameter for httpcore's network backend; the pool reads this attribute
    # on every new connection.
    transport._pool._network_backend = GuardedBackend(policy)  # noqa: SLF001
    return transport


def parse_networks(values: Iterable[str]) -> tuple[str, ...]:
    """Validate CIDR strings early, so a typo is reported at start-up, not at the first fetch."""
    return tuple(str(ipaddress.ip_network(v, strict=False)) for v in values)
