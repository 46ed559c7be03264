"""RB: risky RBAC grants — who holds a power that leads to more power, through which binding and rule."""
