// Package kubeapi is the HTTP face that managed clusters' kube-apiservers
// call back on loopback, in the places AKS's Guard takes: the token-review
// (authentication) webhook and, with Azure RBAC for Kubernetes, the
// SubjectAccessReview (authorization) webhook.
package kubeapi
