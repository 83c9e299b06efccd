"""django-asl: Amazon States Language workflows, run durably inside Django."""
__version__ = "0.1.0"
