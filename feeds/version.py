"""The version of feedsmith: part of every cache key and of every feed's generator element."""

__version__ = "0.1.0"
