package admission

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stypes "k8s.io/apimachinery/pkg/types"
)

func quota(name string, hard corev1.ResourceList, mods ...func(*corev1.ResourceQuota)) *corev1.ResourceQuota {
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS}, Spec: corev1.ResourceQuotaSpec{Hard: hard}}
	for _, m := range mods {
		m(q)
	}
	return q
}

func scopes(s ...corev1.ResourceQuotaScope) func(*corev1.ResourceQuota) {
	return func(q *corev1.ResourceQuota) { q.Spec.Scopes = s }
}

func priorityScope(op corev1.ScopeSelectorOperator, values ...string) func(*corev1.ResourceQuota) {
	return func(q *corev1.ResourceQuota) {
		q.Spec.ScopeSelector = &corev1.ScopeSelector{MatchExpressions: []corev1.ScopedResourceSelectorRequirement{{
			ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: op, Values: values,
		}}}
	}
}

func phase(ph corev1.PodPhase) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Status.Phase = ph }
}

func deadline(s int64) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = &s }
}

func class(name string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.PriorityClassName = name }
}

// burstable is a pod that is not BestEffort.
func burstable(name string, mods ...func(*corev1.Pod)) *corev1.Pod {
	return newPod(name, append([]func(*corev1.Pod){withResources(0, rl("cpu=100m"), nil)}, mods...)...)
}

func configMap(name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS}}
}

func service(name string, typ corev1.ServiceType, ports int) *corev1.Service {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS, UID: k8stypes.UID("uid-svc-" + name)}, Spec: corev1.ServiceSpec{Type: typ}}
	for i := range ports {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Port: int32(80 + i)})
	}
	return svc
}

var (
	servicesResource    = schema.GroupResource{Resource: "services"}
	configMapsResource  = schema.GroupResource{Resource: "configmaps"}
	deploymentsResource = schema.GroupResource{Group: "apps", Resource: "deployments"}
)

func TestResourceQuota(t *testing.T) {
	tests := []struct {
		name     string
		existing []runtime.Object
		a        *Attributes
		wantErr  string
	}{{
		name:     "pods under the count",
		existing: []runtime.Object{quota("q", rl("pods=2")), newPod("a")},
		a:        create(podsResource, newPod("web")),
	}, {
		name:     "pods over the count",
		existing: []runtime.Object{quota("q", rl("pods=1")), newPod("a")},
		a:        create(podsResource, newPod("web")),
		wantErr:  `pods "web" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1`,
	}, {
		name:     "count/pods",
		existing: []runtime.Object{quota("q", rl("count/pods=1")), newPod("a")},
		a:        create(podsResource, newPod("web")),
		wantErr:  `pods "web" is forbidden: exceeded quota: q, requested: count/pods=1, used: count/pods=1, limited: count/pods=1`,
	}, {
		name:     "pods of other namespaces do not count",
		existing: []runtime.Object{quota("q", rl("pods=1")), newPod("a", inNamespace("other"))},
		a:        create(podsResource, newPod("web")),
	}, {
		name:     "a quota of another namespace does not apply",
		existing: []runtime.Object{quota("q", rl("pods=0"), func(q *corev1.ResourceQuota) { q.Namespace = "other" })},
		a:        create(podsResource, newPod("web")),
	}, {
		name:     "terminal pods do not count",
		existing: []runtime.Object{quota("q", rl("pods=2")), newPod("done", phase(corev1.PodSucceeded)), newPod("failed", phase(corev1.PodFailed)), newPod("a")},
		a:        create(podsResource, newPod("web")),
	}, {
		name:     "terminal pods still count as objects",
		existing: []runtime.Object{quota("q", rl("count/pods=1")), newPod("done", phase(corev1.PodSucceeded))},
		a:        create(podsResource, newPod("web")),
		wantErr:  `pods "web" is forbidden: exceeded quota: q, requested: count/pods=1, used: count/pods=1, limited: count/pods=1`,
	}, {
		name:     "configmaps",
		existing: []runtime.Object{quota("q", rl("configmaps=1")), configMap("one")},
		a:        create(configMapsResource, configMap("two")),
		wantErr:  `configmaps "two" is forbidden: exceeded quota: q, requested: configmaps=1, used: configmaps=1, limited: configmaps=1`,
	}, {
		name: "count/deployments.apps",
		existing: []runtime.Object{quota("q", rl("count/deployments.apps=1")),
			&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "one", Namespace: testNS}}},
		a: create(deploymentsResource, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "two", Namespace: testNS}}),
		wantErr: `deployments.apps "two" is forbidden: exceeded quota: q, requested: count/deployments.apps=1, ` +
			`used: count/deployments.apps=1, limited: count/deployments.apps=1`,
	}, {
		name:     "a quota on other resources does not refuse",
		existing: []runtime.Object{quota("q", rl("configmaps=0", "services=0"))},
		a:        create(podsResource, newPod("web")),
	}, {
		name:     "requests.cpu exceeded",
		existing: []runtime.Object{quota("q", rl("requests.cpu=1200m")), newPod("a", withResources(0, rl("cpu=1"), nil))},
		a:        create(podsResource, newPod("web", withResources(0, rl("cpu=500m"), nil))),
		wantErr:  `pods "web" is forbidden: exceeded quota: q, requested: requests.cpu=500m, used: requests.cpu=1, limited: requests.cpu=1200m`,
	}, {
		name:     "requests.cpu within",
		existing: []runtime.Object{quota("q", rl("requests.cpu=1500m")), newPod("a", withResources(0, rl("cpu=1"), nil))},
		a:        create(podsResource, newPod("web", withResources(0, rl("cpu=500m"), nil))),
	}, {
		name:     "cpu (the same as requests.cpu)",
		existing: []runtime.Object{quota("q", rl("cpu=1"))},
		a:        create(podsResource, newPod("web", withResources(0, rl("cpu=600m"), nil), withContainer("side", rl("cpu=600m"), nil))),
		wantErr:  `pods "web" is forbidden: exceeded quota: q, requested: cpu=1200m, used: cpu=0, limited: cpu=1`,
	}, {
		name:     "limits.memory exceeded, with several resources named",
		existing: []runtime.Object{quota("q", rl("limits.memory=1Gi", "limits.cpu=4", "pods=10")), newPod("a", withResources(0, nil, rl("cpu=1", "memory=768Mi")))},
		a:        create(podsResource, newPod("web", withResources(0, nil, rl("cpu=1", "memory=512Mi")))),
		wantErr:  `pods "web" is forbidden: exceeded quota: q, requested: limits.memory=512Mi, used: limits.memory=768Mi, limited: limits.memory=1Gi`,
	}, {
		name:     "several resources exceeded at once",
		existing: []runtime.Object{quota("q", rl("requests.memory=1Gi", "pods=1")), newPod("a", withResources(0, rl("memory=1Gi"), nil))},
		a:        create(podsResource, newPod("web", withResources(0, rl("memory=1Gi"), nil))),
		wantErr: `pods "web" is forbidden: exceeded quota: q, requested: pods=1,requests.memory=1Gi, ` +
			`used: pods=1,requests.memory=1Gi, limited: pods=1,requests.memory=1Gi`,
	}, {
		name:     "overhead counts",
		existing: []runtime.Object{quota("q", rl("requests.cpu=1"))},
		a:        create(podsResource, newPod("web", withResources(0, rl("cpu=900m"), nil), func(p *corev1.Pod) { p.Spec.Overhead = rl("cpu=200m") })),
		wantErr:  `pods "web" is forbidden: exceeded quota: q, requested: requests.cpu=1100m, used: requests.cpu=0, limited: requests.cpu=1`,
	}, {
		name:     "must specify the bounded compute resources",
		existing: []runtime.Object{quota("q", rl("limits.cpu=4", "requests.memory=4Gi", "pods=10"))},
		a:        create(podsResource, newPod("web", withContainer("side", rl("memory=1Gi"), nil))),
		wantErr:  `pods "web" is forbidden: failed quota: q: must specify limits.cpu for: app,side; requests.memory for: app`,
	}, {
		name:     "must specify: cpu is satisfied by a request",
		existing: []runtime.Object{quota("q", rl("cpu=4", "memory=4Gi"))},
		a:        create(podsResource, newPod("web", withResources(0, rl("cpu=1"), nil))),
		wantErr:  `pods "web" is forbidden: failed quota: q: must specify memory for: app`,
	}, {
		name:     "must specify: init containers too",
		existing: []runtime.Object{quota("q", rl("requests.cpu=4"))},
		a:        create(podsResource, newPod("web", withResources(0, rl("cpu=1"), nil), withInit("setup"))),
		wantErr:  `pods "web" is forbidden: failed quota: q: must specify requests.cpu for: setup`,
	}, {
		name:     "BestEffort scope: a best-effort pod counts",
		existing: []runtime.Object{quota("q", rl("pods=1"), scopes(corev1.ResourceQuotaScopeBestEffort)), newPod("a"), burstable("b")},
		a:        create(podsResource, newPod("web")),
		wantErr:  `pods "web" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1`,
	}, {
		name:     "BestEffort scope: a zero request is still best effort",
		existing: []runtime.Object{quota("q", rl("pods=1"), scopes(corev1.ResourceQuotaScopeBestEffort)), newPod("a")},
		a:        create(podsResource, newPod("web", withResources(0, rl("cpu=0"), nil))),
		wantErr:  `pods "web" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1`,
	}, {
		name:     "BestEffort scope: other pods are not its business",
		existing: []runtime.Object{quota("q", rl("pods=1"), scopes(corev1.ResourceQuotaScopeBestEffort)), newPod("a")},
		a:        create(podsResource, burstable("web")),
	}, {
		name:     "NotBestEffort scope",
		existing: []runtime.Object{quota("q", rl("pods=1"), scopes(corev1.ResourceQuotaScopeNotBestEffort)), newPod("a"), burstable("b")},
		a:        create(podsResource, burstable("web")),
		wantErr:  `pods "web" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1`,
	}, {
		name:     "NotBestEffort scope: best-effort pods pass",
		existing: []runtime.Object{quota("q", rl("pods=1"), scopes(corev1.ResourceQuotaScopeNotBestEffort)), burstable("b")},
		a:        create(podsResource, newPod("web")),
	}, {
		name:     "Terminating scope",
		existing: []runtime.Object{quota("q", rl("pods=1"), scopes(corev1.ResourceQuotaScopeTerminating)), newPod("a", deadline(60)), newPod("b")},
		a:        create(podsResource, newPod("web", deadline(30))),
		wantErr:  `pods "web" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1`,
	}, {
		name:     "Terminating scope: pods without a deadline pass",
		existing: []runtime.Object{quota("q", rl("pods=1"), scopes(corev1.ResourceQuotaScopeTerminating)), newPod("a", deadline(60))},
		a:        create(podsResource, newPod("web")),
	}, {
		name:     "NotTerminating scope",
		existing: []runtime.Object{quota("q", rl("pods=1"), scopes(corev1.ResourceQuotaScopeNotTerminating)), newPod("a", deadline(60)), newPod("b")},
		a:        create(podsResource, newPod("web")),
		wantErr:  `pods "web" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1`,
	}, {
		name:     "a scoped quota ignores other resources",
		existing: []runtime.Object{quota("q", rl("configmaps=0"), scopes(corev1.ResourceQuotaScopeBestEffort))},
		a:        create(configMapsResource, configMap("c")),
	}, {
		name:     "PriorityClass scope selector In",
		existing: []runtime.Object{quota("q", rl("pods=1"), priorityScope(corev1.ScopeSelectorOpIn, "high")), newPod("a", class("high")), newPod("b", class("low"))},
		a:        create(podsResource, newPod("web", class("high"))),
		wantErr:  `pods "web" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1`,
	}, {
		name:     "PriorityClass scope selector In: another class passes",
		existing: []runtime.Object{quota("q", rl("pods=1"), priorityScope(corev1.ScopeSelectorOpIn, "high")), newPod("a", class("high"))},
		a:        create(podsResource, newPod("web", class("low"))),
	}, {
		name:     "PriorityClass scope selector NotIn",
		existing: []runtime.Object{quota("q", rl("pods=1"), priorityScope(corev1.ScopeSelectorOpNotIn, "high")), newPod("a", class("low"))},
		a:        create(podsResource, newPod("web", class("mid"))),
		wantErr:  `pods "web" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1`,
	}, {
		name:     "PriorityClass scope selector Exists",
		existing: []runtime.Object{quota("q", rl("pods=1"), priorityScope(corev1.ScopeSelectorOpExists)), newPod("a", class("low"))},
		a:        create(podsResource, newPod("web")),
	}, {
		name:     "the first quota by name that is exceeded is named",
		existing: []runtime.Object{quota("b-pods", rl("pods=1")), quota("a-cpu", rl("requests.cpu=10")), quota("c-pods", rl("pods=1")), newPod("a")},
		a:        create(podsResource, burstable("web", withResources(0, rl("cpu=100m"), nil))),
		wantErr:  `pods "web" is forbidden: exceeded quota: b-pods, requested: pods=1, used: pods=1, limited: pods=1`,
	}, {
		name:     "services.nodeports",
		existing: []runtime.Object{quota("q", rl("services.nodeports=2")), service("one", corev1.ServiceTypeNodePort, 1), service("in", corev1.ServiceTypeClusterIP, 3)},
		a:        create(servicesResource, service("two", corev1.ServiceTypeNodePort, 2)),
		wantErr:  `services "two" is forbidden: exceeded quota: q, requested: services.nodeports=2, used: services.nodeports=1, limited: services.nodeports=2`,
	}, {
		name:     "services.nodeports: a load balancer without node ports takes only those asked for",
		existing: []runtime.Object{quota("q", rl("services.nodeports=1"))},
		a: create(servicesResource, func() *corev1.Service {
			svc := service("lb", corev1.ServiceTypeLoadBalancer, 3)
			no := false
			svc.Spec.AllocateLoadBalancerNodePorts = &no
			svc.Spec.Ports[1].NodePort = 30080
			return svc
		}()),
	}, {
		name:     "services.nodeports: ClusterIP services use none",
		existing: []runtime.Object{quota("q", rl("services.nodeports=1")), service("one", corev1.ServiceTypeNodePort, 1)},
		a:        create(servicesResource, service("two", corev1.ServiceTypeClusterIP, 5)),
	}, {
		name:     "services.loadbalancers",
		existing: []runtime.Object{quota("q", rl("services.loadbalancers=1")), service("one", corev1.ServiceTypeLoadBalancer, 1)},
		a:        create(servicesResource, service("two", corev1.ServiceTypeLoadBalancer, 1)),
		wantErr:  `services "two" is forbidden: exceeded quota: q, requested: services.loadbalancers=1, used: services.loadbalancers=1, limited: services.loadbalancers=1`,
	}, {
		name:     "PVC requests.storage",
		existing: []runtime.Object{quota("q", rl("requests.storage=5Gi", "persistentvolumeclaims=5")), newPVC("one", nil, "4Gi")},
		a:        create(pvcsResource, newPVC("two", nil, "2Gi")),
		wantErr:  `persistentvolumeclaims "two" is forbidden: exceeded quota: q, requested: requests.storage=2Gi, used: requests.storage=4Gi, limited: requests.storage=5Gi`,
	}, {
		name:     "PVC count",
		existing: []runtime.Object{quota("q", rl("persistentvolumeclaims=1")), newPVC("one", nil, "1Gi")},
		a:        create(pvcsResource, newPVC("two", nil, "1Gi")),
		wantErr:  `persistentvolumeclaims "two" is forbidden: exceeded quota: q, requested: persistentvolumeclaims=1, used: persistentvolumeclaims=1, limited: persistentvolumeclaims=1`,
	}, {
		name: "per-class storage",
		existing: []runtime.Object{quota("q", rl("gold.storageclass.storage.k8s.io/requests.storage=3Gi")),
			newPVC("one", ptrTo("gold"), "2Gi"), newPVC("other", ptrTo("silver"), "10Gi"), newPVC("none", nil, "10Gi")},
		a: create(pvcsResource, newPVC("two", ptrTo("gold"), "2Gi")),
		wantErr: `persistentvolumeclaims "two" is forbidden: exceeded quota: q, requested: gold.storageclass.storage.k8s.io/requests.storage=2Gi, ` +
			`used: gold.storageclass.storage.k8s.io/requests.storage=2Gi, limited: gold.storageclass.storage.k8s.io/requests.storage=3Gi`,
	}, {
		name:     "per-class storage: other classes pass",
		existing: []runtime.Object{quota("q", rl("gold.storageclass.storage.k8s.io/requests.storage=3Gi")), newPVC("one", ptrTo("gold"), "2Gi")},
		a:        create(pvcsResource, newPVC("two", ptrTo("silver"), "20Gi")),
	}, {
		name:     "per-class claim count",
		existing: []runtime.Object{quota("q", rl("gold.storageclass.storage.k8s.io/persistentvolumeclaims=1")), newPVC("one", ptrTo("gold"), "1Gi")},
		a:        create(pvcsResource, newPVC("two", ptrTo("gold"), "1Gi")),
		wantErr: `persistentvolumeclaims "two" is forbidden: exceeded quota: q, requested: gold.storageclass.storage.k8s.io/persistentvolumeclaims=1, ` +
			`used: gold.storageclass.storage.k8s.io/persistentvolumeclaims=1, limited: gold.storageclass.storage.k8s.io/persistentvolumeclaims=1`,
	}, {
		name:     "a pod update changing nothing quota'd passes a full quota",
		existing: []runtime.Object{quota("q", rl("pods=1", "requests.cpu=100m")), burstable("web")},
		a: update(podsResource, burstable("web", func(p *corev1.Pod) { p.Labels = map[string]string{"x": "y"} }),
			burstable("web")),
	}, {
		name:     "a claim grown within the quota",
		existing: []runtime.Object{quota("q", rl("requests.storage=3Gi")), newPVC("data", nil, "1Gi"), newPVC("other", nil, "1Gi")},
		a:        update(pvcsResource, newPVC("data", nil, "2Gi"), newPVC("data", nil, "1Gi")),
	}, {
		// Only the delta is requested; what is used includes the claim's
		// old size, as upstream's status.used does.
		name:     "a claim grown past the quota",
		existing: []runtime.Object{quota("q", rl("requests.storage=3Gi")), newPVC("data", nil, "1Gi"), newPVC("other", nil, "1Gi")},
		a:        update(pvcsResource, newPVC("data", nil, "2560Mi"), newPVC("data", nil, "1Gi")),
		wantErr:  `persistentvolumeclaims "data" is forbidden: exceeded quota: q, requested: requests.storage=1536Mi, used: requests.storage=2Gi, limited: requests.storage=3Gi`,
	}, {
		name:     "a claim shrunk in an over-full namespace",
		existing: []runtime.Object{quota("q", rl("requests.storage=1Gi")), newPVC("data", nil, "5Gi")},
		a:        update(pvcsResource, newPVC("data", nil, "4Gi"), newPVC("data", nil, "5Gi")),
	}, {
		name:     "a service turned into a load balancer",
		existing: []runtime.Object{quota("q", rl("services.loadbalancers=1")), service("lb", corev1.ServiceTypeLoadBalancer, 1), service("web", corev1.ServiceTypeClusterIP, 1)},
		a:        update(servicesResource, service("web", corev1.ServiceTypeLoadBalancer, 1), service("web", corev1.ServiceTypeClusterIP, 1)),
		wantErr:  `services "web" is forbidden: exceeded quota: q, requested: services.loadbalancers=1, used: services.loadbalancers=1, limited: services.loadbalancers=1`,
	}, {
		name:     "a service turned into a node port service",
		existing: []runtime.Object{quota("q", rl("services.nodeports=2")), service("np", corev1.ServiceTypeNodePort, 1), service("web", corev1.ServiceTypeClusterIP, 2)},
		a:        update(servicesResource, service("web", corev1.ServiceTypeNodePort, 2), service("web", corev1.ServiceTypeClusterIP, 2)),
		wantErr:  `services "web" is forbidden: exceeded quota: q, requested: services.nodeports=2, used: services.nodeports=1, limited: services.nodeports=2`,
	}, {
		name:     "status writes are not counted",
		existing: []runtime.Object{quota("q", rl("pods=0"))},
		a: func() *Attributes {
			a := create(podsResource, newPod("web"))
			a.Subresource = "status"
			return a
		}(),
	}, {
		// Upstream's ResourceQuota leaves cluster-scoped writes alone; a
		// quota is about its own namespace.
		name:     "cluster-scoped writes are not counted",
		existing: []runtime.Object{quota("q", rl("count/priorityclasses.scheduling.k8s.io=0"))},
		a:        create(pcsResource, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000}),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (ResourceQuota{newReader(tt.existing...)}).Validate(context.Background(), tt.a)
			wantForbidden(t, err, tt.wantErr)
		})
	}
}

// Without quotas in the namespace nothing else is read.
func TestResourceQuotaNoQuota(t *testing.T) {
	r := newReader(newPod("a"))
	if err := (ResourceQuota{r}).Validate(context.Background(), create(podsResource, newPod("web"))); err != nil {
		t.Fatal(err)
	}
}
