"""The contract's tests need no fixtures of their own: they read the package, its models and
docs/protocol.md; what every test shares is in tests/conftest.py."""
