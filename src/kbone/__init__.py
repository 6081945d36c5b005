"""kbone: vitamin K and bone & joint health — evidence, models, diet, assessment, claims."""

__version__ = "0.1.0"
