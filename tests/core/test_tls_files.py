"""A kiosk given mqtts:// brokers starts only with TLS files that can work."""

from __future__ import annotations

import dataclasses

import pytest

from cloudsim.tls import client_cert, make_test_pki
from kiosk.config import ConfigError, check_tls_files
from tests.conftest import make_config


@pytest.fixture
def pki(tmp_path):
    return make_test_pki(tmp_path / "pki")


def tls_config(tmp_path, pki, kiosk_id="hu-01", cert_for="hu-01"):
    files = client_cert(pki["directory"], cert_for)
    return make_config(
        tmp_path,
        kiosk_id=kiosk_id,
        brokers=("mqtts://broker.example:8883",),
        ca_file=pki["ca_file"],
        cert_file=files["cert"],
        key_file=files["key"],
    )


def test_matching_files_pass(tmp_path, pki):
    check_tls_files(tls_config(tmp_path, pki))


def test_a_missing_key_file_is_named(tmp_path, pki):
    config = dataclasses.replace(tls_config(tmp_path, pki), key_file=None)
    with pytest.raises(ConfigError, match=r"cloud\.key_file: missing"):
        check_tls_files(config)


def test_an_absent_ca_file_is_named(tmp_path, pki):
    config = dataclasses.replace(tls_config(tmp_path, pki), ca_file=tmp_path / "nowhere.pem")
    with pytest.raises(ConfigError, match=r"cloud\.ca_file: no such file"):
        check_tls_files(config)


def test_a_certificate_for_another_kiosk_is_refused(tmp_path, pki):
    config = tls_config(tmp_path, pki, kiosk_id="hu-01", cert_for="hu-02")
    with pytest.raises(ConfigError, match=r'certificate is for "hu-02", not for kiosk.id "hu-01"'):
        check_tls_files(config)


def test_a_file_that_is_not_a_certificate_is_refused(tmp_path, pki):
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("hello")
    config = dataclasses.replace(tls_config(tmp_path, pki), cert_file=bogus)
    with pytest.raises(ConfigError, match="not a PEM certificate"):
        check_tls_files(config)


def test_loopback_plain_brokers_need_no_files(tmp_path):
    check_tls_files(make_config(tmp_path, brokers=("mqtt://127.0.0.1:1883",)))
