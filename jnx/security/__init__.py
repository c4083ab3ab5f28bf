"""jnx.security"""
