// Package serviceaccount is the service account controller: every active
// namespace has a ServiceAccount "default" (which pods without an account
// run as) and a ConfigMap "kube-root-ca.crt" holding the cluster CA
// (which every pod's kube-api-access volume projects). Either one deleted
// or, for the ConfigMap, changed is put back.
//
// It is level-triggered: a namespace key is queued on any change to the
// namespace or to either object in it, and each pass makes the namespace
// right from what the informers hold. Terminating namespaces are left
// alone, as upstream's controllers leave them.
package serviceaccount

import (
	"context"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
)

const (
	// DefaultName is the account every namespace has.
	DefaultName = "default"
	// RootCAName is the ConfigMap with the cluster CA; RootCAKey its key.
	RootCAName = "kube-root-ca.crt"
	RootCAKey  = "ca.crt"

	descriptionAnnotation = "kubernetes.io/description"
	rootCADescription     = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."
)

// Controller keeps every namespace's default account and root CA.
type Controller struct {
	core   *client.Core
	rootCA string
	queue  workqueue.TypedRateLimitingInterface[string]

	namespaces, accounts, configMaps cache.SharedIndexInformer
}

// New returns a controller that reaches the API server through cfg and
// publishes rootCA (PEM) in every namespace.
func New(cfg *rest.Config, rootCA []byte) (*Controller, error) {
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	named := func(name string) func(*metav1.ListOptions) {
		return func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
		}
	}
	c := &Controller{
		core:       core,
		rootCA:     string(rootCA),
		queue:      controller.NewQueue("serviceaccount"),
		namespaces: cache.NewSharedIndexInformer(client.ListWatch(core.Namespaces(), nil), &corev1.Namespace{}, 0, cache.Indexers{}),
		accounts: cache.NewSharedIndexInformer(client.ListWatch(core.ServiceAccounts(""), named(DefaultName)),
			&corev1.ServiceAccount{}, 0, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}),
		configMaps: cache.NewSharedIndexInformer(client.ListWatch(core.ConfigMaps(""), named(RootCAName)),
			&corev1.ConfigMap{}, 0, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}),
	}
	byName := func(obj any) {
		if ns, ok := obj.(*corev1.Namespace); ok {
			c.queue.Add(ns.Name)
		}
	}
	byNamespace := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		if m, ok := obj.(metav1.Object); ok {
			c.queue.Add(m.GetNamespace())
		}
	}
	for inf, fn := range map[cache.SharedIndexInformer]func(any){c.namespaces: byName, c.accounts: byNamespace, c.configMaps: byNamespace} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    fn,
			UpdateFunc: func(_, obj any) { fn(obj) },
			DeleteFunc: fn,
		}); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Run keeps namespaces right until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	controller.Loop{
		Name:      "serviceaccount",
		Queue:     c.queue,
		Informers: []cache.SharedIndexInformer{c.namespaces, c.accounts, c.configMaps},
		Sync:      c.sync,
	}.Run(ctx, workers)
}

// sync makes namespace ns have its default account and root CA.
func (c *Controller) sync(ctx context.Context, ns string) error {
	obj, exists, err := c.namespaces.GetIndexer().GetByKey(ns)
	if err != nil || !exists {
		return err
	}
	if n := obj.(*corev1.Namespace); n.DeletionTimestamp != nil || n.Status.Phase == corev1.NamespaceTerminating {
		return nil
	}
	if _, exists, err := c.accounts.GetIndexer().GetByKey(ns + "/" + DefaultName); err != nil {
		return err
	} else if !exists {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: DefaultName}}
		if _, err := c.core.ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); ignorable(err) != nil {
			return err
		}
	}
	return c.syncRootCA(ctx, ns)
}

func (c *Controller) syncRootCA(ctx context.Context, ns string) error {
	want := map[string]string{RootCAKey: c.rootCA}
	obj, exists, err := c.configMaps.GetIndexer().GetByKey(ns + "/" + RootCAName)
	if err != nil {
		return err
	}
	if !exists {
		cm := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: RootCAName, Annotations: map[string]string{descriptionAnnotation: rootCADescription}},
			Data:       want,
		}
		_, err := c.core.ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
		return ignorable(err)
	}
	cm := obj.(*corev1.ConfigMap)
	if maps.Equal(cm.Data, want) && len(cm.BinaryData) == 0 && cm.Annotations[descriptionAnnotation] == rootCADescription {
		return nil
	}
	cm = cm.DeepCopy()
	cm.Data, cm.BinaryData = want, nil
	if cm.Annotations == nil {
		cm.Annotations = map[string]string{}
	}
	cm.Annotations[descriptionAnnotation] = rootCADescription
	_, err = c.core.ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
	return ignorable(err)
}

// ignorable: the object is already there (the informer is behind), or the
// namespace is gone; a conflict is retried by the next event. Anything
// else (a quota refusing the object, a namespace that began terminating)
// is retried with backoff; a terminating namespace ends the retries.
func ignorable(err error) error {
	if apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
