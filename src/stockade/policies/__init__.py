"""User policies: ValidatingAdmissionPolicies (CEL) and Gatekeeper ConstraintTemplates (Rego or CEL),
turned into rules of the one registry."""
