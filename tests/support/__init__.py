"""Real peers for tests: databases, DNS servers and HTTP receivers on loopback."""
