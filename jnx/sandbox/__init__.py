"""jnx.sandbox — simulators of the four platforms (licensing SOAP, case-handling REST, double-random
REST + GB18030 CSV, credit platform) on 127.0.0.1, seeded, with fault knobs. See docs/sandbox.md and
docs/source-shapes.md. Start them with :class:`jnx.sandbox.runner.Sandbox` or ``jnx sandbox serve``."""
