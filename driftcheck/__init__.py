"""driftcheck: keep a security-relevant key list in sync across Go, bash and Python."""

__version__ = "0.1.0"
