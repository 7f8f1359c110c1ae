// Command skiff is the single skiff binary: API server, controllers,
// scheduler and node agent. This file only wires subcommands together.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"skiff.dev/skiff/internal/version"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "skiff",
		Short:         "A small, fast Kubernetes-compatible control plane in one binary",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print skiff's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), version.String())
			return err
		},
	})
	return root
}
