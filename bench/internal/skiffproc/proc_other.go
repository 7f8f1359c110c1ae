//go:build !linux

package skiffproc

import "os/exec"

// setProcAttr has nothing to add outside Linux: there is no parent-death
// signal, and stop remains the only way the server is stopped.
func setProcAttr(*exec.Cmd) {}
