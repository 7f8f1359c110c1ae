package etcdtest

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the kernel kill a member when the process that started
// it dies, so a crashed or timed-out test leaves no etcd running.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
