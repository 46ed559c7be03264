"""EW rules: service mesh posture (Istio, Linkerd) for east-west traffic."""
