"""jnx.adapters"""
