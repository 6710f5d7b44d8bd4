"""Errors raised by transformer generation, sandboxed execution and output validation."""


class TransformerError(Exception):
    """A transformer could not be generated, run or validated; the message says what was wrong."""


class GenerationError(TransformerError):
    """The generator found no time series in a sample payload; the message says what it found."""
