package hosts

import (
	"regexp"
	"strings"

	"github.com/aksid/aksid/internal/azerr"
)

// Azure's naming rules for the resources a host stands for.
var (
	// A (Linux) virtual machine: 1-64 characters, letters, digits, '_',
	// '.', '-'; starts with a letter or digit, ends with neither '.' nor '-'.
	vmName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?$`)
	// A resource group: 1-90 characters, letters, digits, '_', '(', ')',
	// '.', '-'; not ending with '.'.
	groupName = regexp.MustCompile(`^[\p{L}\p{N}_().-]{0,89}[\p{L}\p{N}_()-]$`)
	// A managed cluster: 1-63 characters, letters, digits, '_', '-';
	// starts and ends with a letter or digit.
	clusterName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$`)
)

// CheckVMName refuses a name Azure would refuse for a virtual machine.
func CheckVMName(name string) error {
	if vmName.MatchString(name) {
		return nil
	}
	return azerr.New(azerr.Invalid, "InvalidResourceName",
		"Host name '%s' is invalid. A virtual machine's name has 1 to 64 letters, digits, '_', '.' or '-', starts with a letter or digit and does not end with '.' or '-'.", name)
}

// CheckName refuses a host name that is neither a virtual machine's name
// nor "<resource-group>/<cluster>", which names a cluster's nodes.
func CheckName(name string) error {
	group, cluster, nodes := strings.Cut(name, "/")
	if !nodes {
		return CheckVMName(name)
	}
	if groupName.MatchString(group) && clusterName.MatchString(cluster) {
		return nil
	}
	return azerr.New(azerr.Invalid, "InvalidResourceName",
		"Host name '%s' is invalid. Name a virtual machine, or a cluster's nodes as <resource-group>/<cluster> (a group of 1 to 90 letters, digits, '_', '(', ')', '.' or '-', not ending with '.'; a cluster of 1 to 63 letters, digits, '_' or '-', starting and ending with a letter or digit).", name)
}
