"""The dotenv backend: `.` is the file's variable names, read as python-dotenv reads them."""

from driftcheck.languages.dotenv.backend import BACKEND

__all__ = ["BACKEND"]
