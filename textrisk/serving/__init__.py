"""HTTP serving of textrisk models: ``textrisk serve`` (FastAPI + uvicorn, micro-batched scoring).

Needs the ``serve`` extra: ``pip install "textrisk[serve]"``. ``create_app`` imports FastAPI; import it from
:mod:`textrisk.serving.app`.
"""

from .batcher import BatcherStats, MicroBatcher
from .config import ServeConfig

__all__ = ["BatcherStats", "MicroBatcher", "ServeConfig"]
