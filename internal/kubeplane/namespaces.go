package kubeplane

import (
	"context"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"
)

// What kube-controller-manager does for namespaces, which users of AKS
// see and the docs' commands rely on: every namespace gets its "default"
// service account (kubectl run in a new namespace needs it) and the
// cluster CA as the ConfigMap kube-root-ca.crt; a namespace being deleted
// is emptied and then let go, rather than staying Terminating.

const (
	rootCAConfigMap = "kube-root-ca.crt"
	nsFinalizer     = "kubernetes"
)

// namespace is the part of a Namespace the controller reads.
type namespace struct {
	Metadata struct {
		Name              string  `json:"name"`
		DeletionTimestamp *string `json:"deletionTimestamp"`
	} `json:"metadata"`
	Spec struct {
		Finalizers []string `json:"finalizers"`
	} `json:"spec"`
}

// namespaceController keeps namespaces as the controller manager would.
type namespaceController struct {
	k   Kube
	ca  []byte // the cluster CA (PEM); nil publishes none
	log *slog.Logger
}

// runNamespaces keeps every namespace's defaults and finishes deletions
// until ctx ends: it lists the namespaces, acts, and watches for the next
// change.
func runNamespaces(ctx context.Context, k Kube, caPEM []byte, log *slog.Logger) {
	c := &namespaceController{k: k, ca: caPEM, log: log}
	for ctx.Err() == nil {
		rv, pending, err := c.sync(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Debug("namespaces not listed", "err", err)
			}
			pause(ctx, watchPause)
			continue
		}
		until := time.Now().Add(watchFor)
		if pending {
			// A deletion waits on objects still going (finalizers).
			until = time.Now().Add(watchPause)
		}
		watchChange(ctx, k, "/api/v1/namespaces", rv, until)
	}
}

// sync acts on every namespace once; pending tells that a deletion could
// not finish yet.
func (c *namespaceController) sync(ctx context.Context) (string, bool, error) {
	var list struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Items []namespace `json:"items"`
	}
	if err := c.k.Get(ctx, "/api/v1/namespaces", &list); err != nil {
		return "", false, err
	}
	// What is already in place, read in two lists rather than per namespace;
	// a default account deleted since is made again within a watch's time.
	accounts, err := c.namesIn(ctx, "/api/v1/serviceaccounts", "default")
	if err != nil {
		return "", false, err
	}
	cas, err := c.rootCAs(ctx)
	if err != nil {
		return "", false, err
	}
	pending := false
	for _, ns := range list.Items {
		name := ns.Metadata.Name
		if ns.Metadata.DeletionTimestamp != nil {
			if slices.Contains(ns.Spec.Finalizers, nsFinalizer) {
				done, err := c.finish(ctx, ns)
				if err != nil {
					c.log.Debug("namespace deletion", "namespace", name, "err", err)
				}
				pending = pending || !done
			}
			continue
		}
		published, ok := cas[name]
		if err := c.defaults(ctx, name, !accounts[name], c.ca != nil && !ok); err != nil {
			c.log.Debug("namespace defaults", "namespace", name, "err", err)
		}
		if c.ca != nil && ok && published != string(c.ca) {
			if err := c.republish(ctx, name); err != nil {
				c.log.Debug("namespace root CA", "namespace", name, "err", err)
			}
		}
	}
	return list.Metadata.ResourceVersion, pending, nil
}

// namesIn are the namespaces holding an object of the collection at path
// named name.
func (c *namespaceController) namesIn(ctx context.Context, path, name string) (map[string]bool, error) {
	var list struct {
		Items []struct {
			Metadata struct {
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		} `json:"items"`
	}
	if err := c.k.Get(ctx, path+"?fieldSelector="+url.QueryEscape("metadata.name="+name), &list); err != nil {
		return nil, err
	}
	in := map[string]bool{}
	for _, it := range list.Items {
		in[it.Metadata.Namespace] = true
	}
	return in, nil
}

// rootCAs maps each namespace holding kube-root-ca.crt to its ca.crt.
func (c *namespaceController) rootCAs(ctx context.Context) (map[string]string, error) {
	var list struct {
		Items []struct {
			Metadata struct {
				Namespace string `json:"namespace"`
			} `json:"metadata"`
			Data map[string]string `json:"data"`
		} `json:"items"`
	}
	if err := c.k.Get(ctx, "/api/v1/configmaps?fieldSelector="+url.QueryEscape("metadata.name="+rootCAConfigMap), &list); err != nil {
		return nil, err
	}
	in := map[string]string{}
	for _, it := range list.Items {
		in[it.Metadata.Namespace] = it.Data["ca.crt"]
	}
	return in, nil
}

// republish puts the cluster CA back into the namespace's kube-root-ca.crt
// when it holds another (the CA was rotated, or the map edited), as the
// controller manager's publisher does: its data is the CA and only that
// ("add" sets the member whether or not the map has data).
func (c *namespaceController) republish(ctx context.Context, ns string) error {
	patch := []map[string]any{{"op": "add", "path": "/data", "value": map[string]string{"ca.crt": string(c.ca)}}}
	return c.k.Do(ctx, "PATCH", "/api/v1/namespaces/"+url.PathEscape(ns)+"/configmaps/"+rootCAConfigMap,
		"application/json-patch+json", patch, nil)
}

// defaults creates the namespace's default service account and root CA
// ConfigMap where they are missing; a user's changes to the account stay.
func (c *namespaceController) defaults(ctx context.Context, ns string, account, ca bool) error {
	base := "/api/v1/namespaces/" + url.PathEscape(ns)
	if account {
		err := c.k.Do(ctx, "POST", base+"/serviceaccounts", "", map[string]any{
			"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]any{"name": "default"}}, nil)
		if err != nil && !IsConflict(err) {
			return err
		}
	}
	if ca {
		err := c.k.Do(ctx, "POST", base+"/configmaps", "", rootCAObject(ns, c.ca), nil)
		if err != nil && !IsConflict(err) {
			return err
		}
	}
	return nil
}

// rootCAObject is the namespace's kube-root-ca.crt holding the cluster CA.
func rootCAObject(ns string, caPEM []byte) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": rootCAConfigMap, "namespace": ns},
		"data":     map[string]string{"ca.crt": string(caPEM)}}
}

// finish empties a namespace being deleted and removes its finalizer, so
// the API server lets it go; false while objects remain. Pods are deleted
// at once: no kubelet runs to end them gracefully.
func (c *namespaceController) finish(ctx context.Context, ns namespace) (bool, error) {
	collections, err := c.namespaced(ctx)
	if err != nil {
		return false, err
	}
	empty := true
	for _, coll := range collections {
		version, resource, _ := strings.Cut(coll, "|")
		path := version + "/namespaces/" + url.PathEscape(ns.Metadata.Name) + "/" + resource
		del := path
		if resource == "pods" {
			del += "?gracePeriodSeconds=0"
		}
		if err := c.k.Do(ctx, "DELETE", del, "", nil, nil); err != nil && !IsNotFound(err) {
			return false, err
		}
		var left struct {
			Items []any `json:"items"`
		}
		if err := c.k.Get(ctx, path+"?limit=1", &left); err != nil && !IsNotFound(err) {
			return false, err
		}
		if len(left.Items) > 0 {
			empty = false
		}
	}
	if !empty {
		return false, nil
	}
	finalizers := slices.DeleteFunc(slices.Clone(ns.Spec.Finalizers), func(f string) bool { return f == nsFinalizer })
	err = c.k.Do(ctx, "PUT", "/api/v1/namespaces/"+url.PathEscape(ns.Metadata.Name)+"/finalize", "", map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns.Metadata.Name},
		"spec": map[string]any{"finalizers": finalizers}}, nil)
	if IsNotFound(err) {
		return true, nil
	}
	return err == nil, err
}

// namespaced lists the collections a namespace holds, as "<group-version
// path>|<resource>" (e.g. "/apis/apps/v1|deployments"), from discovery:
// the namespaced resources that can be deleted as a collection.
func (c *namespaceController) namespaced(ctx context.Context) ([]string, error) {
	versions := []string{"/api/v1"}
	var groups struct {
		Groups []struct {
			PreferredVersion struct {
				GroupVersion string `json:"groupVersion"`
			} `json:"preferredVersion"`
		} `json:"groups"`
	}
	if err := c.k.Get(ctx, "/apis", &groups); err != nil {
		return nil, err
	}
	for _, g := range groups.Groups {
		versions = append(versions, "/apis/"+g.PreferredVersion.GroupVersion)
	}
	var out []string
	for _, v := range versions {
		var list struct {
			Resources []struct {
				Name       string   `json:"name"`
				Namespaced bool     `json:"namespaced"`
				Verbs      []string `json:"verbs"`
			} `json:"resources"`
		}
		if err := c.k.Get(ctx, v, &list); err != nil {
			// An aggregated API that does not answer would hold every
			// deletion; the controller manager reports it and goes on.
			continue
		}
		for _, r := range list.Resources {
			if r.Namespaced && !strings.Contains(r.Name, "/") && slices.Contains(r.Verbs, "deletecollection") {
				out = append(out, v+"|"+r.Name)
			}
		}
	}
	return out, nil
}
