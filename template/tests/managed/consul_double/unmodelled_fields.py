# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Register fields the double refuses rather than accept and drop.

Modelled (stored and shown as Consul shows them): ``SocketPath``,
``Locality``, ``Connect.Native``, ``TaggedAddresses``, ``Token`` (kept by an
agent for anti-entropy only, shown nowhere). Refused, because storing them
without their behaviour would answer wrongly later: ``Kind`` (proxies and
gateways need the mesh's validation, their ``Proxy`` config and the catalog's
gateway services), ``Proxy``, ``Connect.SidecarService`` (a second service
``<id>-sidecar-proxy`` with an allocated port and its own checks),
``Connect.PeerMeta`` and ``Ports``. A real agent accepts them all when they
are valid; no Consul error refuses them, so the double says plainly that it
does not model them (400: the request, not the agent, is what a test must
change).
"""

from __future__ import annotations

from typing import Final

from tests.managed.consul_double.request_decoding import RegistrationSpec

_REFUSAL: Final = (
    "The Consul agent double does not model {field}: a real agent would "
    "accept it, the double refuses it rather than drop it"
)


def unmodelled_field(spec: RegistrationSpec) -> str | None:
    """The refusal text for the first field the double does not model."""
    present = (
        ("Kind", bool(spec.kind)),
        ("Proxy", bool(spec.proxy)),
        ("Connect.SidecarService", spec.connect.sidecar_service is not None),
        ("Connect.PeerMeta", spec.connect.peer_meta is not None),
        ("Ports", spec.ports is not None),
    )
    name = next((name for name, given in present if given), None)
    return None if name is None else _REFUSAL.format(field=name)
