package aks

import "context"

// RotateCertificates is az aks rotate-certs: the cluster gets a new CA, so
// its API server restarts with a serving certificate from it and takes
// only the new CA's client certificates. Kubeconfigs fetched before fail
// (kubectl: certificate signed by unknown authority) until fetched again.
// The nodes are made anew, as AKS recreates them, and so is the cluster's
// own service-account key (its tokens then fail). The OIDC issuer's key
// stays: federated credentials in Entra trust it, and AKS rotates it apart,
// with a day when both keys verify. AKS refuses a stopped cluster.
func (s *Service) RotateCertificates(ctx context.Context, id string) error {
	r, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if err := refuseStopped(r.Model, "rotating cluster certificates"); err != nil {
		return err
	}
	ca, err := s.newCA(str(r.Model["name"]))
	if err != nil {
		return err
	}
	r.CACert, r.CAKey = ca.certDER, ca.sealedKey
	r.SAKey = nil // made anew below, unless the issuer's key signs
	if err := s.keepSAKey(&r); err != nil {
		return err
	}
	pools, _ := obj(r.Model, "properties")["agentPoolProfiles"].([]any)
	for _, p := range pools {
		if pool, ok := p.(map[string]any); ok {
			rollNodes(pool) // on the same node image
		}
	}
	return s.save(ctx, id, r)
}
