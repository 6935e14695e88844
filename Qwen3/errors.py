"""Errors the runner raises on purpose. Each carries a one-line message meant for the user."""


class RunnerError(Exception):
    """Base class: the message is a complete, one-line explanation with a hint at the fix."""


class ConfigError(RunnerError):
    """The configuration is invalid; the message names the offending key."""


class ModelLoadError(RunnerError):
    """The model's weights or tokenizer could not be found or loaded."""


class BackendError(RunnerError):
    """A backend failed while generating (server down, timeout, bad response)."""


class ServeError(RunnerError):
    """A server could not listen where it was told to (a port out of range or already in use)."""


class ContextOverflowError(RunnerError):
    """The prompt does not fit the model's context window; nothing was generated."""

    def __init__(self, message: str, prompt_tokens: int = 0, context_tokens: int = 0):
        super().__init__(message)
        self.prompt_tokens, self.context_tokens = prompt_tokens, context_tokens


class StructuredOutputError(RunnerError):
    """A JSON schema could not be compiled, or the output does not satisfy it.

    When an answer was generated but failed its schema, `completion` holds it, so a caller can
    still try to recover something from the text.
    """

    def __init__(self, message: str, completion=None):
        super().__init__(message)
        self.completion = completion
