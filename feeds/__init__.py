"""feedsmith: posts in, clean Atom and RSS feeds out, for the site and every category and tag."""

__version__ = "0.1.0"
