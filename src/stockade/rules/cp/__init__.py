"""CP: the control plane's own configuration (kube-apiserver, controller-manager, scheduler, etcd)."""
