"""This project's own ``app`` package (the tool's repository has an ``app`` package too)."""

from mypkg import create_app

__all__ = ["create_app"]
