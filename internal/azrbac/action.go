package azrbac

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
)

// Prefix starts every data action of a managed cluster.
const Prefix = "Microsoft.ContainerService/managedClusters"

// ActionOf maps a Kubernetes verb to the last part of a data action, as
// Guard's getActionName (authz/providers/azure/rbac/checkaccessreqhelper.go)
// does. Verbs it does not know (approve, sign, …) map to "", so the data
// action ends at the resource and only a wildcard such as
// Microsoft.ContainerService/managedClusters/* grants it.
func ActionOf(verb string) string {
	switch verb {
	case "get", "list", "watch":
		return "read"
	case "create", "update", "patch":
		return "write"
	case "delete", "deletecollection":
		return "delete"
	case "bind", "escalate", "use", "impersonate":
		return verb + "/action"
	case "*":
		return "*"
	}
	return ""
}

// DataActions maps a request to the data actions that must all be allowed:
// one for an ordinary request, several when the verb, group or resource
// is "*" (expanded over the cluster's built-in operations, as Guard
// expands over its operations map).
func DataActions(res *ResourceAttributes, nr *NonResourceAttributes) ([]string, error) {
	switch {
	case res != nil:
		for _, s := range []string{res.Group, res.Resource, res.Subresource} {
			if strings.Contains(s, "/") || s == "." || s == ".." {
				return nil, fmt.Errorf("invalid segment %q in the resource attributes", s)
			}
		}
		if res.Resource == "" {
			return nil, errors.New("resource attributes name no resource")
		}
		if res.Verb == "*" || res.Group == "*" || res.Resource == "*" {
			return wildcard(res)
		}
		a := Prefix
		if res.Group != "" {
			a += "/" + res.Group
		}
		return []string{a + "/" + resourceAction(res.Resource, res.Subresource, res.Verb)}, nil
	case nr != nil:
		// Cleaned as an absolute path first, so that ".." cannot leave
		// the cluster's prefix.
		return []string{path.Join(Prefix, path.Clean("/"+nr.Path), ActionOf(nr.Verb))}, nil
	}
	return nil, errors.New("the review has neither resource nor non-resource attributes")
}

// resourceAction is Guard's getResourceAndAction: subresources count as
// their resource (pods/log get is pods/read, deployments/scale update is
// deployments/write) except pods/exec, which is its own action whatever
// the verb.
func resourceAction(resource, subresource, verb string) string {
	if resource == "pods" && subresource == "exec" {
		return "pods/exec/action"
	}
	return path.Join(resource, ActionOf(verb))
}

// wildcard expands a request with "*" in its verb, group or resource over
// the built-in operations; in a namespace only namespaced resources count.
func wildcard(res *ResourceAttributes) ([]string, error) {
	var out []string
	groupSeen, resourceSeen := false, false
	for _, op := range operations {
		if res.Group != "*" && op.group != res.Group {
			continue
		}
		groupSeen = true
		if res.Resource != "*" && op.resource != res.Resource {
			continue
		}
		resourceSeen = true
		if res.Resource == "*" && res.Namespace != "" && !op.namespaced {
			continue
		}
		base := Prefix
		if op.group != "" {
			base += "/" + op.group
		}
		for _, a := range op.actions() {
			if res.Verb == "*" || a == ActionOf(res.Verb) {
				out = append(out, base+"/"+op.resource+"/"+a)
			}
		}
	}
	switch {
	case !groupSeen:
		return nil, fmt.Errorf("no resources found for group %q", res.Group)
	case !resourceSeen:
		return nil, fmt.Errorf("no resources found for group %q and resource %q", res.Group, res.Resource)
	case len(out) == 0:
		return nil, fmt.Errorf("no operations found for verb %q", res.Verb)
	}
	sort.Strings(out)
	return out, nil
}
