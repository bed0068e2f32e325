"""A throw-away PKI for the tests and the demo: never for a real facility.

``make_test_pki(directory)`` writes, as PEM files (private keys mode 0600):

- ``ca.pem``: the facility CA (EC P-256). It signs the broker's server certificate and every
  kiosk's client certificate; kiosks trust it as ``cloud.ca_file``.
- ``server.pem`` / ``server.key``: the broker, valid for ``127.0.0.1`` and ``localhost`` (SAN).
- ``cloud-ca.pem``: a second CA that signs only the cloud service's client certificates, so the
  broker's cloud listener can refuse kiosk certificates (see systemd/mosquitto/kiosk-facility.conf).
- ``kiosks/{kiosk_id}.pem`` / ``.key``: made on demand by ``client_cert(kiosk_id)``; CN = kiosk id.
- ``cloud/{name}.pem`` / ``.key``: made on demand by ``cloud_cert(name)``; CN = the broker username
  the ACL names (``facility-cloud``).

A real facility makes its keys on the devices (the kiosk's key never leaves it; enrollment sends
a CSR) and keeps the CA key offline. ``python -m cloudsim.tls DIR [KIOSK_ID ...]`` writes a set.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import sys
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 30
CLOUD_USER = "facility-cloud"


# What an EC leaf certificate (a kiosk's, the broker's) may do: sign and agree keys, no more.
LEAF_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=True,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cloudsim test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 from the start: never readable by others, not even for an instant.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(path, 0o644)


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: not an EC private key")
    return key


def _builder(subject: x509.Name, issuer: x509.Name, public_key: Any) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))  # clocks a little apart
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _make_ca(directory: Path, stem: str, common_name: str) -> tuple[Path, Path]:
    key = _key()
    name = _name(common_name)
    cert = (
        _builder(name, name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    _write_cert(cert_path, cert)
    _write_key(key_path, key)
    return cert_path, key_path


def _issue(
    ca_cert_path: Path,
    ca_key_path: Path,
    common_name: str,
    cert_path: Path,
    key_path: Path,
    *,
    server: bool,
) -> tuple[Path, Path]:
    ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
    ca_key = _load_key(ca_key_path)
    key = _key()
    builder = (
        _builder(_name(common_name), ca_cert.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            LEAF_KEY_USAGE,
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_cert(cert_path, cert)
    _write_key(key_path, key)
    return cert_path, key_path


def client_cert(directory: Path, kiosk_id: str) -> dict[str, Path]:
    """A kiosk's client certificate (CN = ``kiosk_id``) signed by the facility CA in
    ``directory``; made once, then reused."""
    directory = Path(directory)
    folder = directory / "kiosks"
    cert_path, key_path = folder / f"{kiosk_id}.pem", folder / f"{kiosk_id}.key"
    if not (cert_path.exists() and key_path.exists()):
        _issue(
            directory / "ca.pem",
            directory / "ca.key",
            kiosk_id,
            cert_path,
            key_path,
            server=False,
        )
    return {"cert": cert_path, "key": key_path}


def cloud_cert(directory: Path, name: str = CLOUD_USER) -> dict[str, Path]:
    """The cloud service's client certificate (CN = its broker username), by the cloud CA."""
    directory = Path(directory)
    folder = directory / "cloud"
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    if not (cert_path.exists() and key_path.exists()):
        _issue(
            directory / "cloud-ca.pem",
            directory / "cloud-ca.key",
            name,
            cert_path,
            key_path,
            server=False,
        )
    return {"cert": cert_path, "key": key_path}


def make_test_pki(directory: Path) -> dict[str, Any]:
    """Write the facility CA, the cloud CA and the broker's certificate under ``directory``.

    Returns the paths (``ca_file``, ``server_cert``, ``server_key``, ``cloud_ca_file``) and
    two functions bound to ``directory``: ``client_cert(kiosk_id)`` and ``cloud_cert(name)``,
    each returning ``{"cert": Path, "key": Path}``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca_file, ca_key = _make_ca(directory, "ca", "cloudsim facility CA")
    cloud_ca_file, cloud_ca_key = _make_ca(directory, "cloud-ca", "cloudsim cloud-service CA")
    server_cert, server_key = _issue(
        ca_file,
        ca_key,
        "localhost",
        directory / "server.pem",
        directory / "server.key",
        server=True,
    )

    def bound_client(kiosk_id: str) -> dict[str, Path]:
        return client_cert(directory, kiosk_id)

    def bound_cloud(name: str = CLOUD_USER) -> dict[str, Path]:
        return cloud_cert(directory, name)

    return {
        "directory": directory,
        "ca_file": ca_file,
        "ca_key": ca_key,
        "cloud_ca_file": cloud_ca_file,
        "cloud_ca_key": cloud_ca_key,
        "server_cert": server_cert,
        "server_key": server_key,
        "client_cert": bound_client,
        "cloud_cert": bound_cloud,
    }


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print("usage: python -m cloudsim.tls DIR [KIOSK_ID ...]  (test certificates only)")
        return 2
    pki = make_test_pki(Path(argv[0]))
    for kiosk_id in argv[1:]:
        pki["client_cert"](kiosk_id)
    pki["cloud_cert"]()
    print(f"test PKI written to {pki['directory']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
