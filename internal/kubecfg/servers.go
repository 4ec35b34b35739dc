package kubecfg

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"sigs.k8s.io/yaml"
)

// PointServers sends kubectl to AKS API servers through aksid: every
// cluster whose server is https://<fqdn>[:port] with fqdn an AKS API
// server name (*.hcp.<region>.azmk8s.io, which resolves only through
// aksid's proxy) gets server: aksidURL and tls-server-name: fqdn. aksid's
// listener routes by that SNI to the cluster's API server, and kubectl
// still checks the cluster CA's certificate for fqdn. Entries pointed
// before keep their tls-server-name and follow a new aksidURL, so a
// second run changes nothing. Rewrite.Clusters counts the clusters that
// go through aksid; other content is kept.
func PointServers(in []byte, aksidURL string) (Rewrite, error) {
	base := strings.TrimSuffix(aksidURL, "/")
	if u, err := url.Parse(base); err != nil || u.Scheme != "https" || u.Host == "" {
		return Rewrite{}, fmt.Errorf("kubecfg: aksid URL %q is not an https URL", aksidURL)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(in, &doc); err != nil {
		return Rewrite{}, fmt.Errorf("kubecfg: %w", err)
	}
	clusters, _ := doc["clusters"].([]any)
	n := 0
	for _, c := range clusters {
		cl := dig(c, "cluster")
		if cl == nil {
			continue
		}
		server, _ := cl["server"].(string)
		name, _ := cl["tls-server-name"].(string)
		if host := aksHost(server); host != "" {
			name = host
		} else if !isAKSServerName(name) {
			continue // not an AKS cluster, nor one pointed at aksid before
		}
		cl["server"], cl["tls-server-name"] = base, name
		n++
	}
	b, err := yaml.Marshal(doc)
	return Rewrite{Config: b, Clusters: n}, err
}

// aksHost is the AKS API server name of an https server URL, or "".
func aksHost(server string) string {
	u, err := url.Parse(server)
	if err != nil || !strings.EqualFold(u.Scheme, "https") {
		return ""
	}
	host := u.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if !isAKSServerName(host) {
		return ""
	}
	return host
}

// isAKSServerName tells whether host is <prefix>-<hash>.hcp.<region>.azmk8s.io,
// the name AKS gives a cluster's public API server.
func isAKSServerName(host string) bool {
	labels := strings.Split(strings.ToLower(strings.TrimSuffix(host, ".")), ".")
	return len(labels) == 5 && labels[0] != "" && labels[1] == "hcp" && labels[2] != "" && labels[3] == "azmk8s" && labels[4] == "io"
}
