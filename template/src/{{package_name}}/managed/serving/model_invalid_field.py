# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""One field of a request that failed the input model."""

from pydantic import BaseModel, ConfigDict


class ModelInvalidField(BaseModel):
    """Where the field is and what is wrong with it; never the value sent
    (it may be a caller's secret)."""

    model_config = ConfigDict(frozen=True)

    location: tuple[str | int, ...]
    message: str
