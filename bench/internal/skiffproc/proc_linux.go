package skiffproc

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the kernel kill skiff when the benchmark dies, so an
// interrupted or crashed run leaves no server behind.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
