"""The ASGI app that serves feedsmith's feeds live (a thin layer over `feeds`)."""
