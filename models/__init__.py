"""The webnets model zoo: one module per architecture family, registered in `models.zoo`."""
