package operator

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the group-version of the Widget kind.
var GroupVersion = schema.GroupVersion{Group: "yourco.io", Version: "v1"}

// AddToScheme registers Widget and WidgetList with a scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &Widget{}, &WidgetList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// Widget is seed 004's domain object.
type Widget struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WidgetSpec   `json:"spec,omitempty"`
	Status WidgetStatus `json:"status,omitempty"`
}

// WidgetSpec is the user's intent.
type WidgetSpec struct {
	Name     string `json:"name"`
	Size     string `json:"size"`
	Replicas *int32 `json:"replicas,omitempty"`
}

// WidgetStatus is what the operator observed.
type WidgetStatus struct {
	State              string             `json:"state,omitempty"`
	LastProvisioned    *metav1.Time       `json:"lastProvisioned,omitempty"`
	ObservedGeneration int64              `json:"observedGeneration,omitempty"`
	Conditions         []metav1.Condition `json:"conditions,omitempty"`
}

// WidgetList is a list of Widgets.
type WidgetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Widget `json:"items"`
}

// DeepCopyInto copies w into out; nothing of w is shared afterwards.
func (w *Widget) DeepCopyInto(out *Widget) {
	*out = *w
	out.TypeMeta = w.TypeMeta
	w.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	w.Spec.DeepCopyInto(&out.Spec)
	w.Status.DeepCopyInto(&out.Status)
}

// DeepCopy returns a copy of w sharing nothing with it.
func (w *Widget) DeepCopy() *Widget {
	if w == nil {
		return nil
	}
	out := new(Widget)
	w.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (w *Widget) DeepCopyObject() runtime.Object { return w.DeepCopy() }

// DeepCopyInto copies s into out.
func (s *WidgetSpec) DeepCopyInto(out *WidgetSpec) {
	*out = *s
	if s.Replicas != nil {
		r := *s.Replicas
		out.Replicas = &r
	}
}

// DeepCopyInto copies s into out.
func (s *WidgetStatus) DeepCopyInto(out *WidgetStatus) {
	*out = *s
	if s.LastProvisioned != nil {
		out.LastProvisioned = s.LastProvisioned.DeepCopy()
	}
	if s.Conditions != nil {
		out.Conditions = make([]metav1.Condition, len(s.Conditions))
		for i := range s.Conditions {
			s.Conditions[i].DeepCopyInto(&out.Conditions[i])
		}
	}
}

// DeepCopyInto copies l into out.
func (l *WidgetList) DeepCopyInto(out *WidgetList) {
	*out = *l
	out.TypeMeta = l.TypeMeta
	l.ListMeta.DeepCopyInto(&out.ListMeta)
	if l.Items != nil {
		out.Items = make([]Widget, len(l.Items))
		for i := range l.Items {
			l.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
}

// DeepCopy returns a copy of l sharing nothing with it.
func (l *WidgetList) DeepCopy() *WidgetList {
	if l == nil {
		return nil
	}
	out := new(WidgetList)
	l.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (l *WidgetList) DeepCopyObject() runtime.Object { return l.DeepCopy() }

// DeepCopy returns a copy of s sharing nothing with it.
func (s *WidgetStatus) DeepCopy() *WidgetStatus {
	if s == nil {
		return nil
	}
	out := new(WidgetStatus)
	s.DeepCopyInto(out)
	return out
}
