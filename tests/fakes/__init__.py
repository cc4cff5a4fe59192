"""Test fakes (loopback servers standing in for external services)."""
