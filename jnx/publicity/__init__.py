"""jnx.publicity: 双公示 — derivation and rules, deadlines and calendar, display periods, outbox and delivery, reconciliation."""
