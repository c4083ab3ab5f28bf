"""The HTTP face of jnx: the API (``/api/v1``) and the console, over the services."""
