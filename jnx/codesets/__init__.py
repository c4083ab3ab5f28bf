"""jnx.codesets"""
