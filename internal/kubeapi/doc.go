// Package kubeapi is the HTTP face that managed clusters' kube-apiservers
// call back on loopback, in the places AKS's Guard and add-ons take: the
// token-review (authentication) webhook, with Azure RBAC for Kubernetes
// the SubjectAccessReview (authorization) webhook, and with workload
// identity the pod-mutating admission webhook.
package kubeapi
