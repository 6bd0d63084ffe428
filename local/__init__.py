"""The Docker-free local runtime of SMS Bridge: moto for AWS, the template's functions served
in-process, and a sandbox SMS provider (never deployed)."""
