"""Local inference: model loading and the single worker that owns the model."""
from inference.engine import GenerationParams, InferenceEngine, Job, LocalEngine
from inference.loader import LoadedModel, ModelLoadError, load_model

__all__ = ["GenerationParams", "InferenceEngine", "Job", "LocalEngine", "LoadedModel",
           "ModelLoadError", "load_model"]
