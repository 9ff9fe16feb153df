"""brevetti_demo: the example job, vial inspection in PyTorch or TensorFlow on identical batches.

It uses the library and is never used by it: ``vials`` generates the dataset, ``job`` holds
``VialsJob``, ``model`` the CNN spec both frameworks build, ``torch_trainer`` / ``tf_trainer`` train it
(mirrored function by function), ``cli`` the ``brevetti demo`` command.
"""
from .vials import generate_vials

__all__ = ["generate_vials"]
