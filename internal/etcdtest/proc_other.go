//go:build !linux

package etcdtest

import "os/exec"

// setProcAttr has nothing to add outside Linux: there is no parent-death
// signal, and Cleanup/Stop remain the only way members are stopped.
func setProcAttr(*exec.Cmd) {}
