"""jnx.standard"""
