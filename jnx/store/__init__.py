"""jnx.store: the database — engines, models, migrations, the SQL that matters, leases."""
