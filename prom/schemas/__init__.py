"""marshmallow schemas, one module per resource, named as the matching module in ``prom.api``."""
