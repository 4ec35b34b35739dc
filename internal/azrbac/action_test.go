package azrbac

import (
	"reflect"
	"strings"
	"testing"
)

func TestDataActionsOfResourceRequests(t *testing.T) {
	for _, tc := range []struct {
		verb, group, resource, sub string
		want                       string
	}{
		{"get", "", "pods", "", "pods/read"},
		{"list", "", "pods", "", "pods/read"},
		{"watch", "", "pods", "", "pods/read"},
		{"create", "", "pods", "", "pods/write"},
		{"update", "", "pods", "", "pods/write"},
		{"patch", "", "pods", "", "pods/write"},
		{"delete", "", "pods", "", "pods/delete"},
		{"deletecollection", "", "pods", "", "pods/delete"},
		// Subresources count as their resource, except pods/exec.
		{"get", "", "pods", "log", "pods/read"},
		{"create", "", "pods", "exec", "pods/exec/action"},
		{"get", "", "pods", "exec", "pods/exec/action"}, // kubectl exec over websockets sends get
		{"create", "", "pods", "attach", "pods/write"},
		{"create", "", "pods", "portforward", "pods/write"},
		{"update", "apps", "deployments", "scale", "apps/deployments/write"},
		{"get", "apps", "deployments", "", "apps/deployments/read"},
		{"create", "batch", "jobs", "", "batch/jobs/write"},
		{"get", "", "secrets", "", "secrets/read"},
		{"list", "", "namespaces", "", "namespaces/read"},
		{"delete", "", "nodes", "", "nodes/delete"},
		// Special verbs are actions.
		{"impersonate", "", "users", "", "users/impersonate/action"},
		{"impersonate", "", "groups", "", "groups/impersonate/action"},
		{"impersonate", "", "serviceaccounts", "", "serviceaccounts/impersonate/action"},
		{"impersonate", "authentication.k8s.io", "userextras", "scopes", "authentication.k8s.io/userextras/impersonate/action"},
		{"bind", "rbac.authorization.k8s.io", "clusterroles", "", "rbac.authorization.k8s.io/clusterroles/bind/action"},
		{"escalate", "rbac.authorization.k8s.io", "roles", "", "rbac.authorization.k8s.io/roles/escalate/action"},
		{"use", "policy", "podsecuritypolicies", "", "policy/podsecuritypolicies/use/action"},
		// A verb Guard does not know ends the action at the resource.
		{"approve", "certificates.k8s.io", "certificatesigningrequests", "approval", "certificates.k8s.io/certificatesigningrequests"},
		// Custom resources map like any other.
		{"list", "stable.example.com", "crontabs", "", "stable.example.com/crontabs/read"},
	} {
		got, err := DataActions(&ResourceAttributes{Namespace: "ns", Verb: tc.verb, Group: tc.group, Resource: tc.resource, Subresource: tc.sub}, nil)
		want := []string{Prefix + "/" + tc.want}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s %s/%s/%s = %v, %v; want %v", tc.verb, tc.group, tc.resource, tc.sub, got, err, want)
		}
	}
}

func TestDataActionsOfNonResourceRequests(t *testing.T) {
	for _, tc := range []struct{ path, verb, want string }{
		{"/healthz", "get", "healthz/read"},
		{"/metrics", "get", "metrics/read"},
		{"/readyz/etcd", "get", "readyz/etcd/read"},
		{"/logs/", "get", "logs/read"},
		{"/debug/flags/v", "put", "debug/flags/v"}, // put is no verb Guard maps
		{"/../../Microsoft.Storage/x", "get", "Microsoft.Storage/x/read"},
	} {
		got, err := DataActions(nil, &NonResourceAttributes{Path: tc.path, Verb: tc.verb})
		want := []string{Prefix + "/" + tc.want}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s %s = %v, %v; want %v", tc.verb, tc.path, got, err, want)
		}
	}
}

func TestDataActionsRefuse(t *testing.T) {
	for _, res := range []*ResourceAttributes{
		{Verb: "get", Resource: "../secrets"},
		{Verb: "get", Group: "..", Resource: "pods"},
		{Verb: "get", Resource: "pods", Subresource: "a/b"},
		{Verb: "get"},
		{Verb: "*", Group: "nope.example.com", Resource: "*"},
		{Verb: "*", Group: "apps", Resource: "widgets"},
		{Verb: "approve", Group: "*", Resource: "pods"},
	} {
		if got, err := DataActions(res, nil); err == nil {
			t.Errorf("%+v = %v, want an error", res, got)
		}
	}
	if _, err := DataActions(nil, nil); err == nil {
		t.Error("an empty review must fail")
	}
}

func TestWildcards(t *testing.T) {
	has := func(list []string, a string) bool {
		for _, x := range list {
			if x == Prefix+"/"+a {
				return true
			}
		}
		return false
	}
	all, err := DataActions(&ResourceAttributes{Verb: "*", Group: "*", Resource: "*"}, nil)
	if err != nil || !has(all, "pods/exec/action") || !has(all, "namespaces/delete") || !has(all, "rbac.authorization.k8s.io/clusterroles/bind/action") {
		t.Fatalf("*/*/* at cluster scope = %v, %v", all, err)
	}
	inNS, err := DataActions(&ResourceAttributes{Namespace: "team", Verb: "*", Group: "*", Resource: "*"}, nil)
	if err != nil || has(inNS, "namespaces/read") || has(inNS, "nodes/read") || !has(inNS, "secrets/delete") {
		t.Fatalf("*/*/* in a namespace must list only namespaced resources: %v, %v", inNS, err)
	}
	pods, err := DataActions(&ResourceAttributes{Verb: "*", Resource: "pods"}, nil)
	want := []string{Prefix + "/pods/delete", Prefix + "/pods/exec/action", Prefix + "/pods/read", Prefix + "/pods/write"}
	if err != nil || !reflect.DeepEqual(pods, want) {
		t.Fatalf("* pods = %v, %v", pods, err)
	}
	events, err := DataActions(&ResourceAttributes{Verb: "get", Group: "*", Resource: "events"}, nil)
	want = []string{Prefix + "/events.k8s.io/events/read", Prefix + "/events/read"}
	if err != nil || !reflect.DeepEqual(events, want) {
		t.Fatalf("get */events = %v, %v", events, err)
	}
	apps, err := DataActions(&ResourceAttributes{Verb: "list", Group: "apps", Resource: "*"}, nil)
	if err != nil || len(apps) != 5 || !strings.HasSuffix(apps[0], "/read") {
		t.Fatalf("list apps/* = %v, %v", apps, err)
	}
}

func TestScope(t *testing.T) {
	c := "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c"
	if got := Scope(c, &ResourceAttributes{Namespace: "dev"}); got != c+"/namespaces/dev" {
		t.Errorf("namespaced scope = %s", got)
	}
	if got := Scope(c, &ResourceAttributes{}); got != c {
		t.Errorf("cluster-scoped = %s", got)
	}
	if got := Scope(c, nil); got != c {
		t.Errorf("non-resource = %s", got)
	}
}
