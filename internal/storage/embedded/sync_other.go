//go:build !linux

package embedded

import "os"

// fdatasync flushes f; elsewhere than Linux that is a full fsync.
func fdatasync(f *os.File) error { return f.Sync() }
