package cloudprovider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aksid/aksid/internal/aks"
	"github.com/aksid/aksid/internal/kubeplane"
	"github.com/aksid/aksid/internal/sts"
)

// Service implements kubeplane.LoadBalancers.
var _ kubeplane.LoadBalancers = (*Service)(nil)

// clusterName is what AKS's cloud provider calls every cluster: it names
// the load balancer, its backend pool and the services' public IPs.
const clusterName = "kubernetes"

// serviceName is cloud-provider-azure's name for a Service's frontend:
// "a" and its UID without dashes, cut to 32 characters.
func serviceName(uid string) string {
	n := "a" + strings.ReplaceAll(uid, "-", "")
	return n[:min(len(n), 32)]
}

// EnsureService does what cloud-provider-azure does for a Service of type
// LoadBalancer, signed in as the cluster's control-plane identity: it
// updates the cluster's custom subnet (when its pools have one), makes a
// Standard static public IP for the Service in the node resource group,
// and adds a frontend with that IP, a rule and a probe per port to the
// "kubernetes" load balancer. It returns the IP's address. Its errors are
// worded as the cloud provider's Azure client words them, with Azure's
// code and message (or Entra's AADSTS refusal), for the Service's event.
func (s *Service) EnsureService(ctx context.Context, clusterID string, svc kubeplane.ServiceRef) (string, error) {
	cp, err := s.clusters.ControlPlane(ctx, clusterID)
	if err != nil {
		return "", err
	}
	ip, err := s.ensureService(ctx, cp, svc)
	s.recordService(ctx, cp.ID, svc, ip, err)
	return ip, err
}

func (s *Service) ensureService(ctx context.Context, cp aks.ControlPlane, svc kubeplane.ServiceRef) (string, error) {
	location, groupID := nodeGroup(cp)
	name := serviceName(svc.UID)
	pipID := groupID + "/providers/Microsoft.Network/publicIPAddresses/" + clusterName + "-" + name
	lbID := groupID + "/providers/Microsoft.Network/loadBalancers/" + lbName
	c, err := s.caller(ctx, cp, pipID)
	if err != nil {
		return "", err
	}
	props, _ := cp.Model["properties"].(map[string]any)
	if subnet := subnetID(props); subnet != "" {
		// As in Check: the cloud provider keeps the cluster's subnet up to
		// date, which takes Network Contributor there.
		if err := c.readWrite(ctx, subnet, networkVersion, "properties"); err != nil {
			return "", azureErr(err)
		}
	}
	if err := c.do(ctx, http.MethodPut, pipID, networkVersion, map[string]any{"location": location,
		"sku":        map[string]any{"name": "Standard", "tier": "Regional"},
		"tags":       map[string]any{"k8s-azure-service": svc.Namespace + "/" + svc.Name, "k8s-azure-cluster-name": clusterName},
		"properties": map[string]any{"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"}}, nil); err != nil {
		return "", azureErr(err)
	}
	var pip struct {
		Properties struct {
			IPAddress string `json:"ipAddress"`
		} `json:"properties"`
	}
	if err := c.do(ctx, http.MethodGet, pipID, networkVersion, nil, &pip); err != nil {
		return "", azureErr(err)
	}
	if pip.Properties.IPAddress == "" {
		return "", fmt.Errorf("public IP %s has no address yet", pipID)
	}
	f, err := serviceFrontend(lbID, name, pipID, svc.Ports)
	if err != nil {
		return "", err
	}
	if err := c.addFrontend(ctx, lbID, location, f); err != nil {
		return "", azureErr(err)
	}
	return pip.Properties.IPAddress, nil
}

// serviceFrontend is the Service's frontend with a rule and a TCP probe
// of the node port per port, as cloud-provider-azure makes them.
func serviceFrontend(lbID, name, pipID string, ports []kubeplane.ServicePort) (frontend, error) {
	ref := func(id string) map[string]any { return map[string]any{"id": id} }
	poolID := lbID + "/backendAddressPools/" + lbName
	f := frontend{name: name, pipID: pipID, rules: []any{}, probes: []any{}}
	for _, p := range ports {
		proto := strings.ToUpper(p.Protocol)
		if proto == "" {
			proto = "TCP"
		}
		azProto, ok := map[string]string{"TCP": "Tcp", "UDP": "Udp"}[proto]
		if !ok {
			return frontend{}, fmt.Errorf("protocol %s is not supported for LoadBalancer services", proto)
		}
		rule := fmt.Sprintf("%s-%s-%d", name, proto, p.Port)
		props := map[string]any{"protocol": azProto, "frontendPort": p.Port, "backendPort": p.Port,
			"enableFloatingIP": true, "idleTimeoutInMinutes": 4, "loadDistribution": "Default", "disableOutboundSnat": true,
			"enableTcpReset": azProto == "Tcp", "frontendIPConfiguration": ref(lbID + "/frontendIPConfigurations/" + name),
			"backendAddressPool": ref(poolID), "backendAddressPools": []any{ref(poolID)}}
		if p.NodePort > 0 {
			f.probes = append(f.probes, map[string]any{"name": rule, "properties": map[string]any{"protocol": "Tcp", "port": p.NodePort,
				"intervalInSeconds": 5, "numberOfProbes": 2, "probeThreshold": 1}})
			props["probe"] = ref(lbID + "/probes/" + rule)
		}
		f.rules = append(f.rules, map[string]any{"name": rule, "properties": props})
	}
	return f, nil
}

// DeleteService takes the Service's frontend, rules and probes off the
// load balancer and deletes its public IP, as the cluster's identity.
func (s *Service) DeleteService(ctx context.Context, clusterID string, svc kubeplane.ServiceRef) error {
	cp, err := s.clusters.ControlPlane(ctx, clusterID)
	if err != nil {
		return err
	}
	_, groupID := nodeGroup(cp)
	name := serviceName(svc.UID)
	pipID := groupID + "/providers/Microsoft.Network/publicIPAddresses/" + clusterName + "-" + name
	lbID := groupID + "/providers/Microsoft.Network/loadBalancers/" + lbName
	s.forget(cp.ID, svc)
	c, err := s.caller(ctx, cp, lbID)
	if err != nil {
		return err
	}
	if err := c.removeFrontend(ctx, lbID, frontend{name: name}); err != nil {
		return azureErr(err)
	}
	if err := c.do(ctx, http.MethodDelete, pipID, networkVersion, nil, nil); err != nil && !notFound(err) {
		return azureErr(err)
	}
	return nil
}

// removeFrontend writes the load balancer back without f's entries; a
// load balancer without them, or none at all, is left alone.
func (c *caller) removeFrontend(ctx context.Context, lbID string, f frontend) error {
	var lb map[string]any
	if err := c.do(ctx, http.MethodGet, lbID, networkVersion, nil, &lb); err != nil {
		if notFound(err) {
			return nil
		}
		return err
	}
	props, _ := lb["properties"].(map[string]any)
	changed := false
	for _, key := range []string{"frontendIPConfigurations", "loadBalancingRules", "probes"} {
		list, _ := props[key].([]any)
		kept := []any{}
		for _, x := range list {
			if !f.owns(x) {
				kept = append(kept, x)
			}
		}
		if len(kept) != len(list) {
			props[key], changed = kept, true
		}
	}
	if !changed {
		return nil
	}
	return c.do(ctx, http.MethodPut, lbID, networkVersion, map[string]any{"location": lb["location"], "sku": lb["sku"], "tags": lb["tags"], "properties": props}, nil)
}

func notFound(err error) bool {
	var e *armError
	return errors.As(err, &e) && (e.Code == "ResourceNotFound" || e.Code == "NotFound")
}

// caller signs in as the cluster's identity; a refusal becomes the
// Azure client's error for the first request it would have made (to).
func (s *Service) caller(ctx context.Context, cp aks.ControlPlane, to string) (*caller, error) {
	token, err := s.token(ctx, cp)
	var refused *sts.Error
	if errors.As(err, &refused) {
		return nil, signInErr(refused, s.endpoint+to+"?api-version="+networkVersion)
	}
	if err != nil {
		return nil, err
	}
	return &caller{s: s, token: token}, nil
}

// azureError is a failed Azure call worded as cloud-provider-azure's
// client words it: "Retriable: …, HTTPStatusCode: …, RawError: …".
type azureError struct {
	Retriable bool
	Status    int
	Raw       string
}

func (e *azureError) Error() string {
	return fmt.Sprintf("Retriable: %t, RetryAfter: 0s, HTTPStatusCode: %d, RawError: %s", e.Retriable, e.Status, e.Raw)
}

// azureErr words Resource Manager's refusal with its code and message.
func azureErr(err error) error {
	var ae *armError
	if !errors.As(err, &ae) {
		return err
	}
	body := map[string]any{"error": map[string]any{"code": ae.Code, "message": ae.Message}}
	return &azureError{Retriable: ae.Status == http.StatusTooManyRequests || ae.Status >= 500, Status: ae.Status, Raw: rawJSON(body)}
}

// signInErr words Entra's refusal as the Azure client reports a token it
// could not get, with Entra's answer (the AADSTS code) inside.
func signInErr(e *sts.Error, url string) error {
	status := http.StatusBadRequest
	if e.OAuth == "invalid_client" {
		status = http.StatusUnauthorized
	}
	body := rawJSON(map[string]any{"error": e.OAuth, "error_description": e.Error()})
	return &azureError{Status: status, Raw: fmt.Sprintf("azure.BearerAuthorizer#WithAuthorization: Failed to refresh the Token for request to %s: StatusCode=%d -- Original Error: adal: Refresh request failed. Status Code = '%d'. Response body: %s",
		url, status, status, body)}
}

// rawJSON is v as Azure sends it: '<', '>' and '&' unescaped.
func rawJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSpace(b.String())
}

func outcomeKey(clusterID string, svc kubeplane.ServiceRef) string {
	return strings.ToLower(clusterID) + "/" + svc.UID
}

// recordService keeps the outcome among the cluster's events, as Check
// does, when it differs from the last one. The event is a record for
// the operator; failing to store it does not fail the Service.
func (s *Service) recordService(ctx context.Context, clusterID string, svc kubeplane.ServiceRef, ip string, err error) {
	e := aks.Event{Type: "Normal", Reason: "EnsuredLoadBalancer", Message: "Service " + svc.Namespace + "/" + svc.Name + ": " + ip}
	if err != nil {
		e.Type, e.Reason, e.Message = "Warning", "SyncLoadBalancerFailed", "Service "+svc.Namespace+"/"+svc.Name+": "+err.Error()
	}
	key := outcomeKey(clusterID, svc)
	s.mu.Lock()
	if s.outcomes == nil {
		s.outcomes = map[string]string{}
	}
	same := s.outcomes[key] == e.Reason+e.Message
	s.outcomes[key] = e.Reason + e.Message
	s.mu.Unlock()
	if !same {
		_, _ = s.clusters.RecordEvent(ctx, clusterID, e)
	}
}

func (s *Service) forget(clusterID string, svc kubeplane.ServiceRef) {
	s.mu.Lock()
	delete(s.outcomes, outcomeKey(clusterID, svc))
	s.mu.Unlock()
}
