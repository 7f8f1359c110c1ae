package printers

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

var namespacePrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Status", typeString, "The status of the namespace"),
		ageColumn(),
	},
	func(ns *corev1.Namespace, now time.Time) []any {
		return []any{ns.Name, string(ns.Status.Phase), Age(ns.CreationTimestamp, now)}
	})

// DATA counts keys across data and binaryData.
var configMapPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Data", typeString, corev1.ConfigMap{}.SwaggerDoc()["data"]),
		ageColumn(),
	},
	func(cm *corev1.ConfigMap, now time.Time) []any {
		return []any{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), Age(cm.CreationTimestamp, now)}
	})

var secretPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Type", typeString, corev1.Secret{}.SwaggerDoc()["type"]),
		column("Data", typeString, corev1.Secret{}.SwaggerDoc()["data"]),
		ageColumn(),
	},
	func(s *corev1.Secret, now time.Time) []any {
		return []any{s.Name, string(s.Type), int64(secretKeys(s)), Age(s.CreationTimestamp, now)}
	})

// secretKeys counts the keys of data and stringData together: the API server
// merges stringData into data, so a stored Secret has only data.
func secretKeys(s *corev1.Secret) int {
	n := len(s.Data)
	for k := range s.StringData {
		if _, ok := s.Data[k]; !ok {
			n++
		}
	}
	return n
}

var serviceAccountPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Secrets", typeString, corev1.ServiceAccount{}.SwaggerDoc()["secrets"]),
		ageColumn(),
	},
	func(sa *corev1.ServiceAccount, now time.Time) []any {
		return []any{sa.Name, int64(len(sa.Secrets)), Age(sa.CreationTimestamp, now)}
	})

var servicePrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Type", typeString, corev1.ServiceSpec{}.SwaggerDoc()["type"]),
		column("Cluster-IP", typeString, corev1.ServiceSpec{}.SwaggerDoc()["clusterIP"]),
		column("External-IP", typeString, corev1.ServiceSpec{}.SwaggerDoc()["externalIPs"]),
		column("Port(s)", typeString, corev1.ServiceSpec{}.SwaggerDoc()["ports"]),
		ageColumn(),
		wide("Selector", typeString, corev1.ServiceSpec{}.SwaggerDoc()["selector"]),
	},
	func(svc *corev1.Service, now time.Time) []any {
		clusterIP := "<none>"
		switch {
		case len(svc.Spec.ClusterIPs) > 0:
			clusterIP = svc.Spec.ClusterIPs[0]
		case svc.Spec.ClusterIP != "":
			clusterIP = svc.Spec.ClusterIP
		}
		return []any{
			svc.Name, string(serviceType(svc)), clusterIP, serviceExternalIP(svc),
			orNone(servicePorts(svc.Spec.Ports)), Age(svc.CreationTimestamp, now),
			labels.FormatLabels(svc.Spec.Selector),
		}
	})

func serviceType(svc *corev1.Service) corev1.ServiceType {
	if svc.Spec.Type == "" {
		return corev1.ServiceTypeClusterIP
	}
	return svc.Spec.Type
}

// serviceExternalIP is the EXTERNAL-IP cell. The server renders tables wide,
// so load balancer addresses are never shortened.
func serviceExternalIP(svc *corev1.Service) string {
	switch serviceType(svc) {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		return orNone(strings.Join(svc.Spec.ExternalIPs, ","))
	case corev1.ServiceTypeLoadBalancer:
		addrs := loadBalancerAddresses(svc.Status.LoadBalancer.Ingress)
		addrs = append(addrs, svc.Spec.ExternalIPs...)
		if len(addrs) == 0 {
			return "<pending>"
		}
		return strings.Join(addrs, ",")
	case corev1.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return "<unknown>"
}

// loadBalancerAddresses returns the sorted, distinct IPs (or, lacking an IP,
// hostnames) of load balancer ingress points.
func loadBalancerAddresses(ingress []corev1.LoadBalancerIngress) []string {
	seen := make(map[string]bool)
	var addrs []string
	for _, ing := range ingress {
		a := ing.IP
		if a == "" {
			a = ing.Hostname
		}
		if a != "" && !seen[a] {
			seen[a] = true
			addrs = append(addrs, a)
		}
	}
	sort.Strings(addrs)
	return addrs
}

// servicePorts formats ports as "80/TCP,443:30443/TCP".
func servicePorts(ports []corev1.ServicePort) string {
	pieces := make([]string, len(ports))
	for i, p := range ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		if p.NodePort > 0 {
			pieces[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, proto)
		} else {
			pieces[i] = fmt.Sprintf("%d/%s", p.Port, proto)
		}
	}
	return strings.Join(pieces, ",")
}

var endpointsPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Endpoints", typeString, corev1.Endpoints{}.SwaggerDoc()["subsets"]),
		ageColumn(),
	},
	func(ep *corev1.Endpoints, now time.Time) []any {
		return []any{ep.Name, formatEndpoints(ep), Age(ep.CreationTimestamp, now)}
	})

// formatEndpoints lists up to three ip:port pairs (bare IPs for subsets
// without ports) and how many more there are.
func formatEndpoints(ep *corev1.Endpoints) string {
	if len(ep.Subsets) == 0 {
		return "<none>"
	}
	const max = 3
	var list []string
	count := 0
	for _, ss := range ep.Subsets {
		if len(ss.Ports) == 0 {
			// Headless services may have no ports.
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				if len(list) == max {
					break
				}
				list = append(list, a.IP)
			}
			continue
		}
		for _, port := range ss.Ports {
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				if len(list) == max {
					break
				}
				list = append(list, net.JoinHostPort(a.IP, strconv.Itoa(int(port.Port))))
			}
		}
	}
	return firstN(list, count, max)
}

var nodePrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Status", typeString, "The status of the node"),
		column("Roles", typeString, "The roles of the node"),
		ageColumn(),
		column("Version", typeString, corev1.NodeSystemInfo{}.SwaggerDoc()["kubeletVersion"]),
		wide("Internal-IP", typeString, corev1.NodeStatus{}.SwaggerDoc()["addresses"]),
		wide("External-IP", typeString, corev1.NodeStatus{}.SwaggerDoc()["addresses"]),
		wide("OS-Image", typeString, corev1.NodeSystemInfo{}.SwaggerDoc()["osImage"]),
		wide("Kernel-Version", typeString, corev1.NodeSystemInfo{}.SwaggerDoc()["kernelVersion"]),
		wide("Container-Runtime", typeString, corev1.NodeSystemInfo{}.SwaggerDoc()["containerRuntimeVersion"]),
	},
	func(n *corev1.Node, now time.Time) []any {
		info := n.Status.NodeInfo
		unknown := func(s string) string {
			if s == "" {
				return "<unknown>"
			}
			return s
		}
		return []any{
			n.Name, nodeStatus(n), orNone(strings.Join(nodeRoles(n), ",")), Age(n.CreationTimestamp, now), info.KubeletVersion,
			nodeAddress(n, corev1.NodeInternalIP), nodeAddress(n, corev1.NodeExternalIP),
			unknown(info.OSImage), unknown(info.KernelVersion), unknown(info.ContainerRuntimeVersion),
		}
	})

// nodeStatus is "Ready", "NotReady" or "Unknown" (no Ready condition),
// followed by ",SchedulingDisabled" for a cordoned node.
func nodeStatus(n *corev1.Node) string {
	status := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		// The last Ready condition wins, as upstream's map of conditions.
		if c.Status == corev1.ConditionTrue {
			status = string(corev1.NodeReady)
		} else {
			status = "Not" + string(corev1.NodeReady)
		}
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

const (
	labelNodeRolePrefix = "node-role.kubernetes.io/"
	labelNodeRole       = "kubernetes.io/role"
)

// nodeRoles returns the sorted roles named by node-role.kubernetes.io/<role>
// labels and the kubernetes.io/role label.
func nodeRoles(n *corev1.Node) []string {
	set := make(map[string]bool)
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, labelNodeRolePrefix):
			if role := strings.TrimPrefix(k, labelNodeRolePrefix); role != "" {
				set[role] = true
			}
		case k == labelNodeRole && v != "":
			set[v] = true
		}
	}
	roles := make([]string, 0, len(set))
	for r := range set {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}

// nodeAddress returns the node's first address of type t, or "<none>".
func nodeAddress(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

var persistentVolumePrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Capacity", typeString, corev1.PersistentVolumeSpec{}.SwaggerDoc()["capacity"]),
		column("Access Modes", typeString, corev1.PersistentVolumeSpec{}.SwaggerDoc()["accessModes"]),
		column("Reclaim Policy", typeString, corev1.PersistentVolumeSpec{}.SwaggerDoc()["persistentVolumeReclaimPolicy"]),
		column("Status", typeString, corev1.PersistentVolumeStatus{}.SwaggerDoc()["phase"]),
		column("Claim", typeString, corev1.PersistentVolumeSpec{}.SwaggerDoc()["claimRef"]),
		column("StorageClass", typeString, "StorageClass of the pv"),
		column("VolumeAttributesClass", typeString, "VolumeAttributesClass of the pv"),
		column("Reason", typeString, corev1.PersistentVolumeStatus{}.SwaggerDoc()["reason"]),
		ageColumn(),
		wide("VolumeMode", typeString, corev1.PersistentVolumeSpec{}.SwaggerDoc()["volumeMode"]),
	},
	func(pv *corev1.PersistentVolume, now time.Time) []any {
		claim := ""
		if ref := pv.Spec.ClaimRef; ref != nil {
			claim = ref.Namespace + "/" + ref.Name
		}
		size := pv.Spec.Capacity[corev1.ResourceStorage]
		phase := string(pv.Status.Phase)
		if pv.DeletionTimestamp != nil {
			phase = "Terminating"
		}
		class := pv.Spec.StorageClassName
		if c, ok := pv.Annotations[corev1.BetaStorageClassAnnotation]; ok {
			class = c
		}
		return []any{
			pv.Name, size.String(), accessModes(pv.Spec.AccessModes), string(pv.Spec.PersistentVolumeReclaimPolicy),
			phase, claim, class, stringPtr(pv.Spec.VolumeAttributesClassName), pv.Status.Reason,
			Age(pv.CreationTimestamp, now), volumeMode(pv.Spec.VolumeMode),
		}
	})

var persistentVolumeClaimPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Status", typeString, corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["phase"]),
		column("Volume", typeString, corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()["volumeName"]),
		column("Capacity", typeString, corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["capacity"]),
		column("Access Modes", typeString, corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["accessModes"]),
		column("StorageClass", typeString, "StorageClass of the pvc"),
		column("VolumeAttributesClass", typeString, "VolumeAttributesClass of the pvc"),
		ageColumn(),
		wide("VolumeMode", typeString, corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()["volumeMode"]),
	},
	func(pvc *corev1.PersistentVolumeClaim, now time.Time) []any {
		phase := string(pvc.Status.Phase)
		if pvc.DeletionTimestamp != nil {
			phase = "Terminating"
		}
		capacity, modes := "", ""
		if pvc.Spec.VolumeName != "" {
			modes = accessModes(pvc.Status.AccessModes)
			q := pvc.Status.Capacity[corev1.ResourceStorage]
			capacity = q.String()
		}
		class := ""
		if c, ok := pvc.Annotations[corev1.BetaStorageClassAnnotation]; ok {
			class = c
		} else if pvc.Spec.StorageClassName != nil {
			class = *pvc.Spec.StorageClassName
		}
		return []any{
			pvc.Name, phase, pvc.Spec.VolumeName, capacity, modes, class,
			stringPtr(pvc.Spec.VolumeAttributesClassName), Age(pvc.CreationTimestamp, now), volumeMode(pvc.Spec.VolumeMode),
		}
	})

// accessModes abbreviates access modes in a fixed order: RWO,ROX,RWX,RWOP.
func accessModes(modes []corev1.PersistentVolumeAccessMode) string {
	has := make(map[corev1.PersistentVolumeAccessMode]bool, len(modes))
	for _, m := range modes {
		has[m] = true
	}
	var s []string
	for _, m := range []struct {
		mode  corev1.PersistentVolumeAccessMode
		short string
	}{
		{corev1.ReadWriteOnce, "RWO"},
		{corev1.ReadOnlyMany, "ROX"},
		{corev1.ReadWriteMany, "RWX"},
		{corev1.ReadWriteOncePod, "RWOP"},
	} {
		if has[m.mode] {
			s = append(s, m.short)
		}
	}
	return strings.Join(s, ",")
}

func volumeMode(m *corev1.PersistentVolumeMode) string {
	if m == nil {
		return "<unset>"
	}
	return string(*m)
}

// stringPtr returns *s, or "<unset>" when s is nil.
func stringPtr(s *string) string {
	if s == nil {
		return "<unset>"
	}
	return *s
}

var podTemplatePrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Containers", typeString, "Names of each container in the template."),
		column("Images", typeString, "Images referenced by each container in the template."),
		column("Pod Labels", typeString, "The labels for the pod template."),
	},
	func(pt *corev1.PodTemplate, _ time.Time) []any {
		names, images := containerCells(pt.Template.Spec.Containers)
		return []any{pt.Name, names, images, labels.FormatLabels(pt.Template.Labels)}
	})

var replicationControllerPrinter = newTyped(
	cols([]metav1.TableColumnDefinition{
		nameColumn(),
		column("Desired", typeInteger, corev1.ReplicationControllerSpec{}.SwaggerDoc()["replicas"]),
		column("Current", typeInteger, corev1.ReplicationControllerStatus{}.SwaggerDoc()["replicas"]),
		column("Ready", typeInteger, corev1.ReplicationControllerStatus{}.SwaggerDoc()["readyReplicas"]),
		ageColumn(),
	}, containersColumns(), []metav1.TableColumnDefinition{
		wide("Selector", typeString, corev1.ReplicationControllerSpec{}.SwaggerDoc()["selector"]),
	}),
	func(rc *corev1.ReplicationController, now time.Time) []any {
		var containers []corev1.Container
		if rc.Spec.Template != nil {
			containers = rc.Spec.Template.Spec.Containers
		}
		names, images := containerCells(containers)
		return []any{
			rc.Name, replicas(rc.Spec.Replicas), int64(rc.Status.Replicas), int64(rc.Status.ReadyReplicas),
			Age(rc.CreationTimestamp, now), names, images, labels.FormatLabels(rc.Spec.Selector),
		}
	})

var resourceQuotaPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Request", typeString, "Request represents a minimum amount of cpu/memory that a container may consume."),
		column("Limit", typeString, "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
		ageColumn(),
	},
	func(q *corev1.ResourceQuota, now time.Time) []any {
		names := make([]string, 0, len(q.Status.Hard))
		for name := range q.Status.Hard {
			names = append(names, string(name))
		}
		sort.Strings(names)
		var requests, limits []string
		for _, name := range names {
			used := q.Status.Used[corev1.ResourceName(name)]
			hard := q.Status.Hard[corev1.ResourceName(name)]
			s := fmt.Sprintf("%s: %s/%s", name, used.String(), hard.String())
			if prefix, _, ok := strings.Cut(name, "."); ok && prefix == "limits" {
				limits = append(limits, s)
			} else {
				requests = append(requests, s)
			}
		}
		return []any{q.Name, strings.Join(requests, ", "), strings.Join(limits, ", "), Age(q.CreationTimestamp, now)}
	})
