# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The address other services and Consul's checks use to reach this node."""

import ipaddress
import socket

# TEST-NET-1 (RFC 5737): never routed, and a UDP connect() sends no packet; it
# only asks the kernel which local address the default route would use.
_PROBE_TARGET = ("192.0.2.1", 9)


def detect_advertise_address(bind_host: str) -> str:
    """Pick a routable address: the bind host if specific, else the default route's.

    Consul rejects 0.0.0.0 and ::, and a container hostname is rarely resolvable
    by other nodes, so an IP address is preferred. Loopback is the last resort:
    it only works when every caller runs on the same host.
    """
    if not is_unspecified(bind_host):
        return bind_host
    # One probe at a time: the hostname lookup can wait on DNS, so it only runs
    # when the default route gives nothing usable.
    for probe in (_default_route_address, _hostname_address):
        candidate = probe()
        if candidate is not None and not ipaddress.ip_address(candidate).is_loopback:
            return candidate
    return "127.0.0.1"


def is_unspecified(host: str) -> bool:
    """True for a listen-on-everything address in any spelling, or none.

    `0.0.0.0`, `::`, `::0`, `0000::`, `::ffff:0.0.0.0`: fine to bind, never
    to advertise. Consul rejects them all (Go's IsUnspecified also sees the
    IPv4-mapped form), and no caller could reach the node at them.
    """
    if not host:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a host name
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_unspecified or (mapped is not None and mapped.is_unspecified)


def _default_route_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(_PROBE_TARGET)
            address: str = probe.getsockname()[0]
            return address
    except OSError:
        return None


def _hostname_address() -> str | None:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return None
    for info in infos:
        address = str(info[4][0])
        if not ipaddress.ip_address(address).is_loopback:
            return address
    return None


def url_host(host: str) -> str:
    """``host`` as it goes before ``:port`` in URLs and Consul addresses.

    IPv6 addresses take brackets (``[fd00::5]``), as Go's net.JoinHostPort
    writes them; Consul's TCP checks and every URL need that form.
    """
    return f"[{host}]" if ":" in host else host


def host_port(host: str, port: int) -> str:
    """``host:port``, IPv6 in brackets: ``[fd00::5]:8080``."""
    return f"{url_host(host)}:{port}"
