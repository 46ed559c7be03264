"""ND: a node's key files and its kubelet, read by ``stockade node scan`` (CIS sections 1.1, 4.1 and 4.2)."""
