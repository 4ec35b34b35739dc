package apiserver

import "syscall"

// The children die with aksid: a crashed aksid must not leave API servers
// and etcd holding ports and the data directory's lock.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
}
