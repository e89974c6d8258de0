"""The one exception a stage turns into a one-line error message and a non-zero exit."""

from pathlib import Path


class InputError(Exception):
    """Bad input data or params: the message names the file and the problem, on one line."""

    def __init__(self, source: str | Path, problem: str):
        self.source = str(source)
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.source}: {self.problem}")
