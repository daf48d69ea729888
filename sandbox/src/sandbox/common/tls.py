"""A local certificate authority so the Salesforce stand-in can serve HTTPS on 127.0.0.1.

simple-salesforce always speaks https, so the stand-in needs a certificate its clients trust:
they are pointed at the CA bundle written here (``ca.pem``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the CA bundle (for clients) and of the server's key and certificate chain."""

    ca_pem: Path
    server_pem: Path


def ensure_tls_files(directory: Path) -> TlsFiles:
    """Create (once) a CA and a server certificate for 127.0.0.1/localhost in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(ca_pem=directory / "ca.pem", server_pem=directory / "server.pem")
    if files.ca_pem.exists() and files.server_pem.exists():
        return files
    authority = trustme.CA(organization_name="Eventmaker-Salesforce sandbox")
    server_cert = authority.issue_cert("127.0.0.1", "localhost", "::1")
    authority.cert_pem.write_to_path(str(files.ca_pem))
    server_cert.private_key_and_cert_chain_pem.write_to_path(str(files.server_pem))
    return files
