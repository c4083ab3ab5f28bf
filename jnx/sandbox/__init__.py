"""jnx.sandbox"""
