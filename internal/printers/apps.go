package printers

import (
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var deploymentPrinter = newTyped(
	cols([]metav1.TableColumnDefinition{
		nameColumn(),
		column("Ready", typeString, "Number of the pod with ready state"),
		column("Up-to-date", typeString, docDeploymentUpdatedReplicas),
		column("Available", typeString, docDeploymentAvailableReplicas),
		ageColumn(),
	}, containersColumns(), []metav1.TableColumnDefinition{
		wide("Selector", typeString, docDeploymentSelector),
	}),
	func(d *appsv1.Deployment, now time.Time) []any {
		selector := "<invalid>"
		if s, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err == nil {
			selector = s.String()
		}
		names, images := containerCells(d.Spec.Template.Spec.Containers)
		return []any{
			d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicas(d.Spec.Replicas)),
			int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas), Age(d.CreationTimestamp, now),
			names, images, selector,
		}
	})

var replicaSetPrinter = newTyped(
	cols([]metav1.TableColumnDefinition{
		nameColumn(),
		column("Desired", typeInteger, docReplicaSetSpecReplicas),
		column("Current", typeInteger, docReplicaSetStatusReplicas),
		column("Ready", typeInteger, docReplicaSetReadyReplicas),
		ageColumn(),
	}, containersColumns(), []metav1.TableColumnDefinition{
		wide("Selector", typeString, docReplicaSetSelector),
	}),
	func(rs *appsv1.ReplicaSet, now time.Time) []any {
		names, images := containerCells(rs.Spec.Template.Spec.Containers)
		return []any{
			rs.Name, replicas(rs.Spec.Replicas), int64(rs.Status.Replicas), int64(rs.Status.ReadyReplicas),
			Age(rs.CreationTimestamp, now), names, images, metav1.FormatLabelSelector(rs.Spec.Selector),
		}
	})

var statefulSetPrinter = newTyped(
	cols([]metav1.TableColumnDefinition{
		nameColumn(),
		column("Ready", typeString, "Number of the pod with ready state"),
		ageColumn(),
	}, containersColumns()),
	func(ss *appsv1.StatefulSet, now time.Time) []any {
		names, images := containerCells(ss.Spec.Template.Spec.Containers)
		return []any{
			ss.Name, fmt.Sprintf("%d/%d", ss.Status.ReadyReplicas, replicas(ss.Spec.Replicas)),
			Age(ss.CreationTimestamp, now), names, images,
		}
	})

var daemonSetPrinter = newTyped(
	cols([]metav1.TableColumnDefinition{
		nameColumn(),
		column("Desired", typeInteger, docDaemonSetDesired),
		column("Current", typeInteger, docDaemonSetCurrent),
		column("Ready", typeInteger, docDaemonSetReady),
		column("Up-to-date", typeInteger, docDaemonSetUpdated),
		column("Available", typeInteger, docDaemonSetAvailable),
		column("Node Selector", typeString, corev1.PodSpec{}.SwaggerDoc()["nodeSelector"]),
		ageColumn(),
	}, containersColumns(), []metav1.TableColumnDefinition{
		wide("Selector", typeString, docDaemonSetSelector),
	}),
	func(ds *appsv1.DaemonSet, now time.Time) []any {
		st := ds.Status
		names, images := containerCells(ds.Spec.Template.Spec.Containers)
		return []any{
			ds.Name, int64(st.DesiredNumberScheduled), int64(st.CurrentNumberScheduled), int64(st.NumberReady),
			int64(st.UpdatedNumberScheduled), int64(st.NumberAvailable),
			labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector), Age(ds.CreationTimestamp, now),
			names, images, metav1.FormatLabelSelector(ds.Spec.Selector),
		}
	})

var controllerRevisionPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Controller", typeString, "Controller of the object"),
		column("Revision", typeString, docControllerRevisionRevision),
		ageColumn(),
	},
	func(cr *appsv1.ControllerRevision, now time.Time) []any {
		controller := "<none>"
		if ref := metav1.GetControllerOf(cr); ref != nil {
			// "statefulset.apps/web"; an unparsable apiVersion leaves the group out.
			gv, _ := schema.ParseGroupVersion(ref.APIVersion)
			controller = strings.ToLower(gv.WithKind(ref.Kind).GroupKind().String()) + "/" + ref.Name
			if ref.Kind == "" {
				controller = ref.Name
			}
		}
		return []any{cr.Name, controller, cr.Revision, Age(cr.CreationTimestamp, now)}
	})
