package e2e

import (
	"slices"
	"strings"
	"testing"
)

// TestKubectlClusterKindColumns: kubectl get of the cluster-configuration
// kinds shows upstream's columns, not just NAME and CREATED AT.
func TestKubectlClusterKindColumns(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("apply", noValidate, "-f", writeFile(t, t.TempDir(), "kinds.yaml", `apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata:
  name: gvisor
handler: runsc
---
apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata:
  name: hostpath.csi.k8s.io
spec:
  podInfoOnMount: true
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replica-limit
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["deployments"]
  validations:
  - expression: "object.spec.replicas <= 5"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replica-limit
spec:
  policyName: replica-limit
  validationActions: [Deny]
`))
	for _, c := range []struct {
		args   []string
		header []string
		row    []string // AGE, always last, is checked by pattern
	}{
		{[]string{"get", "runtimeclass", "gvisor"}, []string{"NAME", "HANDLER", "AGE"}, []string{"gvisor", "runsc"}},
		{[]string{"get", "csidriver", "hostpath.csi.k8s.io"},
			[]string{"NAME", "ATTACHREQUIRED", "PODINFOONMOUNT", "STORAGECAPACITY", "TOKENREQUESTS", "REQUIRESREPUBLISH", "MODES", "AGE"},
			[]string{"hostpath.csi.k8s.io", "true", "true", "false", "<unset>", "false", "Persistent"}},
		{[]string{"get", "validatingadmissionpolicy", "replica-limit"}, []string{"NAME", "VALIDATIONS", "PARAMKIND", "AGE"}, []string{"replica-limit", "1", "<unset>"}},
		{[]string{"get", "validatingadmissionpolicybinding", "replica-limit"}, []string{"NAME", "POLICYNAME", "PARAMREF", "AGE"}, []string{"replica-limit", "replica-limit", "<unset>"}},
	} {
		out := s.MustKubectl(c.args...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			t.Errorf("kubectl %s:\n%s\nwant a header and one row", strings.Join(c.args, " "), out)
			continue
		}
		if h := strings.Fields(lines[0]); !slices.Equal(h, c.header) {
			t.Errorf("kubectl %s: columns %q, want %q", strings.Join(c.args, " "), h, c.header)
		}
		row := strings.Fields(lines[1])
		if len(row) != len(c.row)+1 || !slices.Equal(row[:len(c.row)], c.row) || !ageCell.MatchString(row[len(row)-1]) {
			t.Errorf("kubectl %s: row %q, want %q followed by an age", strings.Join(c.args, " "), row, c.row)
		}
	}
}
