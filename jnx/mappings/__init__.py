"""jnx.mappings"""
