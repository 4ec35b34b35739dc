package aks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/aksid/aksid/internal/azerr"
)

// RunCommandRequest is the body of az aks command invoke (POST
// …/runCommand): the command line, a base64 zip of the files it needs and,
// on Entra clusters, the caller's token for the AKS server application,
// which AKS hands the command's kubectl.
type RunCommandRequest struct {
	Command      string `json:"command"`
	Context      string `json:"context"`
	ClusterToken string `json:"clusterToken"`
}

// RunCommand is az aks command invoke. AKS runs the command in a pod of
// the cluster's aks-command namespace; aksid's clusters run no pods, so it
// never runs one and always says why, with the code AKS gives a command
// whose pod did not start (before that, a stopped cluster is refused as
// AKS refuses other actions on it). It does not run the command on this
// machine instead: a request is not a shell.
func (s *Service) RunCommand(ctx context.Context, id string, req RunCommandRequest) error {
	if strings.TrimSpace(req.Command) == "" {
		return azerr.New(azerr.Invalid, "InvalidParameter", "The value of parameter command is invalid: it must not be empty.")
	}
	r, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if err := refuseStopped(r.Model, "running a command"); err != nil {
		return err
	}
	return azerr.New(azerr.Invalid, "KubernetesOperationError",
		"Failed to run command: container command-%s in aks-command namespace cannot start: aksid's clusters run no pods (no kubelet, no container runtime). "+
			"Run the command with kubectl against the cluster's API server instead, after az aks get-credentials.", commandID())
}

// commandID names a command as AKS does: 32 hex digits.
func commandID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return hex.EncodeToString(b)
}
