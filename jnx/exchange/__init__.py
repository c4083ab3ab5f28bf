"""jnx.exchange"""
