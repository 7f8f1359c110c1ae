package statefulset

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/tools/cache"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/informers"
)

// SharedInformers are the controller's informers from a process's shared
// ones: its StatefulSets and ControllerRevisions are then watched once
// for every controller that reads them (the DaemonSet controller's
// revisions, the garbage collector's owners).
func SharedInformers(f *informers.Factory) Informers {
	apps := f.Group(appsv1.SchemeGroupVersion)
	return Informers{
		Sets: f.For(&appsv1.StatefulSet{}, func() cache.ListerWatcher {
			return client.ListWatch(apps.StatefulSets(""), nil)
		}),
		Revisions: f.For(&appsv1.ControllerRevision{}, func() cache.ListerWatcher {
			return client.ListWatch(apps.ControllerRevisions(""), nil)
		}),
		Pods:   f.Pods(),
		Claims: f.PersistentVolumeClaims(),
	}
}
