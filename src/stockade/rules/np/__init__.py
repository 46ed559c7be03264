"""NP: east-west traffic — NetworkPolicy coverage, and Services and Ingresses that open the cluster up."""
