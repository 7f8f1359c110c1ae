package printers

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// header is the header line kubectl prints for p: the upper-cased names of
// the default columns, or of all columns with -o wide.
func header(p Printer, wide bool) string {
	var names []string
	for _, c := range p.Columns() {
		if c.Priority == 0 || wide {
			names = append(names, strings.ToUpper(c.Name))
		}
	}
	return strings.Join(names, "|")
}

func gvk(group, version, kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: group, Version: version, Kind: kind}
}

// TestColumns pins the headers of `kubectl get` and `kubectl get -o wide`
// for every kind, as a real cluster shows them.
func TestColumns(t *testing.T) {
	for _, tc := range []struct {
		gvk          schema.GroupVersionKind
		header, wide string
	}{
		{gvk("", "v1", "Namespace"), "NAME|STATUS|AGE", ""},
		{gvk("", "v1", "ConfigMap"), "NAME|DATA|AGE", ""},
		{gvk("", "v1", "Secret"), "NAME|TYPE|DATA|AGE", ""},
		{gvk("", "v1", "ServiceAccount"), "NAME|SECRETS|AGE", ""},
		{gvk("", "v1", "Event"), "LAST SEEN|TYPE|REASON|OBJECT|MESSAGE", "LAST SEEN|TYPE|REASON|OBJECT|SUBOBJECT|SOURCE|MESSAGE|FIRST SEEN|COUNT|NAME"},
		{gvk("events.k8s.io", "v1", "Event"), "LAST SEEN|TYPE|REASON|OBJECT|MESSAGE", "LAST SEEN|TYPE|REASON|OBJECT|SUBOBJECT|SOURCE|MESSAGE|FIRST SEEN|COUNT|NAME"},
		{gvk("coordination.k8s.io", "v1", "Lease"), "NAME|HOLDER|AGE", ""},
		{gvk("", "v1", "Pod"), "NAME|READY|STATUS|RESTARTS|AGE", "NAME|READY|STATUS|RESTARTS|AGE|IP|NODE|NOMINATED NODE|READINESS GATES"},
		{gvk("", "v1", "Service"), "NAME|TYPE|CLUSTER-IP|EXTERNAL-IP|PORT(S)|AGE", "NAME|TYPE|CLUSTER-IP|EXTERNAL-IP|PORT(S)|AGE|SELECTOR"},
		{gvk("", "v1", "Endpoints"), "NAME|ENDPOINTS|AGE", ""},
		{gvk("", "v1", "Node"), "NAME|STATUS|ROLES|AGE|VERSION", "NAME|STATUS|ROLES|AGE|VERSION|INTERNAL-IP|EXTERNAL-IP|OS-IMAGE|KERNEL-VERSION|CONTAINER-RUNTIME"},
		{gvk("", "v1", "PersistentVolume"), "NAME|CAPACITY|ACCESS MODES|RECLAIM POLICY|STATUS|CLAIM|STORAGECLASS|VOLUMEATTRIBUTESCLASS|REASON|AGE", "NAME|CAPACITY|ACCESS MODES|RECLAIM POLICY|STATUS|CLAIM|STORAGECLASS|VOLUMEATTRIBUTESCLASS|REASON|AGE|VOLUMEMODE"},
		{gvk("", "v1", "PersistentVolumeClaim"), "NAME|STATUS|VOLUME|CAPACITY|ACCESS MODES|STORAGECLASS|VOLUMEATTRIBUTESCLASS|AGE", "NAME|STATUS|VOLUME|CAPACITY|ACCESS MODES|STORAGECLASS|VOLUMEATTRIBUTESCLASS|AGE|VOLUMEMODE"},
		{gvk("", "v1", "ReplicationController"), "NAME|DESIRED|CURRENT|READY|AGE", "NAME|DESIRED|CURRENT|READY|AGE|CONTAINERS|IMAGES|SELECTOR"},
		{gvk("", "v1", "PodTemplate"), "NAME|CONTAINERS|IMAGES|POD LABELS", ""},
		{gvk("", "v1", "ResourceQuota"), "NAME|REQUEST|LIMIT|AGE", ""},
		{gvk("apps", "v1", "Deployment"), "NAME|READY|UP-TO-DATE|AVAILABLE|AGE", "NAME|READY|UP-TO-DATE|AVAILABLE|AGE|CONTAINERS|IMAGES|SELECTOR"},
		{gvk("apps", "v1", "ReplicaSet"), "NAME|DESIRED|CURRENT|READY|AGE", "NAME|DESIRED|CURRENT|READY|AGE|CONTAINERS|IMAGES|SELECTOR"},
		{gvk("apps", "v1", "StatefulSet"), "NAME|READY|AGE", "NAME|READY|AGE|CONTAINERS|IMAGES"},
		{gvk("apps", "v1", "DaemonSet"), "NAME|DESIRED|CURRENT|READY|UP-TO-DATE|AVAILABLE|NODE SELECTOR|AGE", "NAME|DESIRED|CURRENT|READY|UP-TO-DATE|AVAILABLE|NODE SELECTOR|AGE|CONTAINERS|IMAGES|SELECTOR"},
		{gvk("apps", "v1", "ControllerRevision"), "NAME|CONTROLLER|REVISION|AGE", ""},
		{gvk("batch", "v1", "Job"), "NAME|STATUS|COMPLETIONS|DURATION|AGE", "NAME|STATUS|COMPLETIONS|DURATION|AGE|CONTAINERS|IMAGES|SELECTOR"},
		{gvk("batch", "v1", "CronJob"), "NAME|SCHEDULE|TIMEZONE|SUSPEND|ACTIVE|LAST SCHEDULE|AGE", "NAME|SCHEDULE|TIMEZONE|SUSPEND|ACTIVE|LAST SCHEDULE|AGE|CONTAINERS|IMAGES|SELECTOR"},
		{gvk("networking.k8s.io", "v1", "Ingress"), "NAME|CLASS|HOSTS|ADDRESS|PORTS|AGE", ""},
		{gvk("networking.k8s.io", "v1", "IngressClass"), "NAME|CONTROLLER|PARAMETERS|AGE", ""},
		{gvk("networking.k8s.io", "v1", "NetworkPolicy"), "NAME|POD-SELECTOR|AGE", ""},
		{gvk("discovery.k8s.io", "v1", "EndpointSlice"), "NAME|ADDRESSTYPE|PORTS|ENDPOINTS|AGE", ""},
		{gvk("policy", "v1", "PodDisruptionBudget"), "NAME|MIN AVAILABLE|MAX UNAVAILABLE|ALLOWED DISRUPTIONS|AGE", ""},
		{gvk("autoscaling", "v2", "HorizontalPodAutoscaler"), "NAME|REFERENCE|TARGETS|MINPODS|MAXPODS|REPLICAS|AGE", ""},
		{gvk("autoscaling", "v1", "HorizontalPodAutoscaler"), "NAME|REFERENCE|TARGETS|MINPODS|MAXPODS|REPLICAS|AGE", ""},
		{gvk("rbac.authorization.k8s.io", "v1", "Role"), "NAME|CREATED AT", ""},
		{gvk("rbac.authorization.k8s.io", "v1", "ClusterRole"), "NAME|CREATED AT", ""},
		{gvk("rbac.authorization.k8s.io", "v1", "RoleBinding"), "NAME|ROLE|AGE", "NAME|ROLE|AGE|USERS|GROUPS|SERVICEACCOUNTS"},
		{gvk("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"), "NAME|ROLE|AGE", "NAME|ROLE|AGE|USERS|GROUPS|SERVICEACCOUNTS"},
		{gvk("scheduling.k8s.io", "v1", "PriorityClass"), "NAME|VALUE|GLOBAL-DEFAULT|AGE|PREEMPTIONPOLICY", ""},
		{gvk("storage.k8s.io", "v1", "StorageClass"), "NAME|PROVISIONER|RECLAIMPOLICY|VOLUMEBINDINGMODE|ALLOWVOLUMEEXPANSION|AGE", ""},
		{gvk("storage.k8s.io", "v1", "CSIDriver"), "NAME|ATTACHREQUIRED|PODINFOONMOUNT|STORAGECAPACITY|TOKENREQUESTS|REQUIRESREPUBLISH|MODES|AGE", ""},
		{gvk("storage.k8s.io", "v1", "VolumeAttachment"), "NAME|ATTACHER|PV|NODE|ATTACHED|AGE", ""},
		{gvk("node.k8s.io", "v1", "RuntimeClass"), "NAME|HANDLER|AGE", ""},
		{gvk("certificates.k8s.io", "v1", "CertificateSigningRequest"), "NAME|AGE|SIGNERNAME|REQUESTOR|REQUESTEDDURATION|CONDITION", ""},
		{gvk("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration"), "NAME|WEBHOOKS|AGE", ""},
		{gvk("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration"), "NAME|WEBHOOKS|AGE", ""},
		{gvk("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy"), "NAME|VALIDATIONS|PARAMKIND|AGE", ""},
		{gvk("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding"), "NAME|POLICYNAME|PARAMREF|AGE", ""},
		{gvk("", "v1", "LimitRange"), "NAME|CREATED AT", ""},
		{gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"), "NAME|CREATED AT", ""},
		{gvk("example.com", "v1", "Widget"), "NAME|CREATED AT", ""},
	} {
		p := ForKind(tc.gvk)
		if got := header(p, false); got != tc.header {
			t.Errorf("%s: header %q, want %q", tc.gvk.Kind, got, tc.header)
		}
		wantWide := tc.wide
		if wantWide == "" {
			wantWide = tc.header
		}
		if got := header(p, true); got != wantWide {
			t.Errorf("%s: wide header %q, want %q", tc.gvk.Kind, got, wantWide)
		}
		cols := p.Columns()
		names := 0
		for _, c := range cols {
			if c.Format == "name" {
				names++
				if c.Name != "Name" {
					t.Errorf("%s: column %q has format name", tc.gvk.Kind, c.Name)
				}
			}
			switch c.Type {
			case typeString, typeInteger, typeNumber, typeBoolean, typeDate:
			default:
				t.Errorf("%s: column %q has type %q", tc.gvk.Kind, c.Name, c.Type)
			}
			if c.Description == "" {
				t.Errorf("%s: column %q has no description", tc.gvk.Kind, c.Name)
			}
		}
		if names != 1 {
			t.Errorf("%s: %d columns of format name, want 1", tc.gvk.Kind, names)
		}
	}
}

// TestBuiltinsPrintTheirKind checks every built-in printer accepts an object
// of its kind and gives one cell per column.
func TestBuiltinsPrintTheirKind(t *testing.T) {
	for gvk, p := range builtin {
		obj, err := scheme.New(gvk)
		if err != nil {
			t.Errorf("%s: %v", gvk, err)
			continue
		}
		row, err := p.Row(obj, now)
		if err != nil {
			t.Errorf("%s: %v", gvk, err)
			continue
		}
		if len(row.Cells) != len(p.Columns()) {
			t.Errorf("%s: %d cells for %d columns", gvk, len(row.Cells), len(p.Columns()))
		}
	}
}
