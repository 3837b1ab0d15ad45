"""The ASGI app that serves feedsmith's files live: a thin layer over the library's API."""
