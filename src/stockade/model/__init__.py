"""Pure data: resources, their origins, the indexed inventory and pod-template discovery."""
