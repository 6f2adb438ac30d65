"""smsgw: a Twisted SMS gateway for the Chinese carrier protocols, and a fake carrier."""

__version__ = "0.1.0.dev0"
