"""The kiosk's key and certificate: made, requested and checked with ``cryptography``.

The private key is made here and never leaves the kiosk: the cloud only sees the CSR.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from provisioning.errors import ProvisionError

PrivateKey = Any  # what load_pem_private_key returns; the kiosk makes EC P-256
CLOCK_SKEW = datetime.timedelta(minutes=5)


def new_key() -> ec.EllipticCurvePrivateKey:
    """EC P-256: what the contract asks, and what every TLS stack the broker may run takes."""
    return ec.generate_private_key(ec.SECP256R1())


def private_pem(key: PrivateKey) -> bytes:
    """Unencrypted PKCS#8: the kiosk starts unattended, so there is nobody to type a password;
    the file's mode (0600, the kiosk user) is what protects it."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_csr(key: PrivateKey, kiosk_id: str) -> bytes:
    """A CSR whose CN is the kiosk id: the broker's ACL knows a kiosk by its certificate's CN."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, kiosk_id)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


@dataclass(frozen=True)
class CheckedCertificate:
    """A certificate that chains to its CA, belongs to the kiosk's key and names the kiosk."""

    certificate: x509.Certificate
    ca: x509.Certificate
    warnings: tuple[str, ...] = ()

    def describe(self) -> str:
        expires = self.certificate.not_valid_after_utc.strftime("%Y-%m-%d")
        return (
            f"CN={common_name(self.certificate)}, issued by "
            f"{self.ca.subject.rfc4514_string()}, valid until {expires}"
        )


def check_certificate(
    cert_pem: bytes,
    ca_pem: bytes,
    key: PrivateKey,
    kiosk_id: str,
    *,
    source: str,
    now: datetime.datetime | None = None,
) -> CheckedCertificate:
    """Raise :class:`ProvisionError` unless ``cert_pem`` is the kiosk's certificate from
    ``ca_pem``: the kiosk would otherwise fail every TLS handshake with the broker."""
    try:
        certificate = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise ProvisionError(f"{source}: the certificate is not a PEM certificate") from None
    try:
        ca = x509.load_pem_x509_certificate(ca_pem)
    except ValueError:
        raise ProvisionError(f"{source}: the CA is not a PEM certificate") from None
    try:
        constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = constraints.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise ProvisionError(f"{source}: the CA certificate is not a CA (no basicConstraints CA)")
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        raise ProvisionError(
            f"{source}: the certificate was not issued by the CA given "
            f"({certificate.issuer.rfc4514_string()} vs {ca.subject.rfc4514_string()}): "
            "check that the CA is the facility's"
        ) from None
    if certificate.public_key() != key.public_key():
        raise ProvisionError(
            f"{source}: the certificate is for another key than the kiosk's: "
            "check that the key file belongs to this certificate"
        )
    name = common_name(certificate)
    if name != kiosk_id:
        raise ProvisionError(
            f"{source}: the certificate is for {name!r}, not for kiosk {kiosk_id!r}: the "
            "broker knows a kiosk by its certificate's CN"
        )
    warnings = []
    now = now or datetime.datetime.now(datetime.UTC)
    for cert, what in ((certificate, "certificate"), (ca, "CA certificate")):
        # A wrong clock (a flat RTC battery) is the usual cause: said, but not fatal, since the
        # certificate itself is right and the cloud has already issued it.
        if cert.not_valid_before_utc > now + CLOCK_SKEW:
            warnings.append(
                f"the {what} is valid only from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC "
                f"and the kiosk's clock says {now:%Y-%m-%d %H:%M} UTC: check the clock "
                "(timedatectl)"
            )
        elif cert.not_valid_after_utc < now:
            warnings.append(
                f"the {what} expired on {cert.not_valid_after_utc:%Y-%m-%d} "
                f"(the kiosk's clock says {now:%Y-%m-%d}): check the clock, or get a new one"
            )
    return CheckedCertificate(certificate, ca, tuple(warnings))


def read_pem_files(cert: Path, key: Path, ca: Path) -> tuple[bytes, PrivateKey, bytes, bytes]:
    """The technician's certificate, key and CA files: ``(cert_pem, key, key_pem, ca_pem)``."""
    contents = {}
    for label, path in (("--cert", cert), ("--key", key), ("--ca", ca)):
        try:
            contents[label] = path.read_bytes()
        except OSError as error:
            raise ProvisionError(
                f"{label} {path}: cannot read it ({error.strerror or error})"
            ) from None
    try:
        private = serialization.load_pem_private_key(contents["--key"], password=None)
    except (ValueError, TypeError):
        raise ProvisionError(
            f"--key {key}: not an unencrypted PEM private key (the kiosk starts unattended: "
            "decrypt it with `openssl pkey -in KEY -out KEY.plain`)"
        ) from None
    return contents["--cert"], private, private_pem(private), contents["--ca"]
