"""The model in the application: asked for its capabilities once at start, closed on the way out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from assistant.agent.model import ModelInfo, OllamaModel, model_options
from assistant.errors import ModelMissing, ModelUnavailable
from assistant.keys import MODEL, MODEL_INFO, SETTINGS

logger = logging.getLogger(__name__)


async def model_ctx(app: web.Application) -> AsyncIterator[None]:
    """Check the model once at start: a missing model stops Hearth; an absent Ollama does not."""
    model = OllamaModel(model_options(app[SETTINGS]))
    try:
        info = await model.info()
        model.thinking = "thinking" in info.capabilities
    except ModelUnavailable as exc:
        # Whether it thinks is asked again before its first answer (OllamaModel.thinking is None).
        logger.warning("Ollama is not answering at %s (%s); messages wait for it", model.options.url, exc)
        info = ModelInfo(model.name, frozenset({"tools"}))
    except ModelMissing:
        await model.close()
        raise
    if not info.tools:
        logger.warning("model %s does not support tools; answering without them", model.name)
    app[MODEL], app[MODEL_INFO] = model, info
    yield
    await model.close()
