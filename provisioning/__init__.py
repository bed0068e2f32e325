"""The field technician's tools: enrollment, keys and certificates, self-test, install."""
