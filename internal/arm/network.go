package arm

// networkNamespace tells whether a provider namespace is one of the
// minimal network, compute and registry providers the cluster checks use.
func networkNamespace(ns string) bool {
	switch ns {
	case "microsoft.network", "microsoft.compute", "microsoft.containerregistry":
		return true
	}
	return false
}

// networkResources serves those providers' resources.
func (h *Handler) networkResources(c *call) {
	writeError(c.w, notFoundPath(c))
}
