package apiserver

import (
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestParseRequestInfo(t *testing.T) {
	for _, tc := range []struct {
		method, url string
		want        RequestInfo
	}{
		{"GET", "/api/v1/namespaces/ns1/configmaps", RequestInfo{IsResourceRequest: true, Verb: "list", APIPrefix: "api", APIVersion: "v1", Namespace: "ns1", Resource: "configmaps"}},
		{"GET", "/api/v1/namespaces/ns1/configmaps/cm1", RequestInfo{IsResourceRequest: true, Verb: "get", APIPrefix: "api", APIVersion: "v1", Namespace: "ns1", Resource: "configmaps", Name: "cm1"}},
		{"GET", "/api/v1/namespaces/ns1/configmaps?watch=true", RequestInfo{IsResourceRequest: true, Verb: "watch", APIPrefix: "api", APIVersion: "v1", Namespace: "ns1", Resource: "configmaps"}},
		{"GET", "/api/v1/watch/namespaces/ns1/configmaps", RequestInfo{IsResourceRequest: true, Verb: "watch", APIPrefix: "api", APIVersion: "v1", Namespace: "ns1", Resource: "configmaps"}},
		{"GET", "/api/v1/configmaps", RequestInfo{IsResourceRequest: true, Verb: "list", APIPrefix: "api", APIVersion: "v1", Resource: "configmaps"}},
		{"POST", "/api/v1/namespaces/ns1/configmaps", RequestInfo{IsResourceRequest: true, Verb: "create", APIPrefix: "api", APIVersion: "v1", Namespace: "ns1", Resource: "configmaps"}},
		{"PUT", "/api/v1/namespaces/ns1/configmaps/cm1", RequestInfo{IsResourceRequest: true, Verb: "update", APIPrefix: "api", APIVersion: "v1", Namespace: "ns1", Resource: "configmaps", Name: "cm1"}},
		{"PATCH", "/apis/apps/v1/namespaces/ns1/deployments/d/scale", RequestInfo{IsResourceRequest: true, Verb: "patch", APIPrefix: "apis", APIGroup: "apps", APIVersion: "v1", Namespace: "ns1", Resource: "deployments", Name: "d", Subresource: "scale"}},
		{"DELETE", "/api/v1/namespaces/ns1/configmaps", RequestInfo{IsResourceRequest: true, Verb: "deletecollection", APIPrefix: "api", APIVersion: "v1", Namespace: "ns1", Resource: "configmaps"}},
		{"DELETE", "/api/v1/namespaces/ns1/configmaps/cm1", RequestInfo{IsResourceRequest: true, Verb: "delete", APIPrefix: "api", APIVersion: "v1", Namespace: "ns1", Resource: "configmaps", Name: "cm1"}},
		// The namespace resource itself and its subresources.
		{"GET", "/api/v1/namespaces", RequestInfo{IsResourceRequest: true, Verb: "list", APIPrefix: "api", APIVersion: "v1", Resource: "namespaces"}},
		{"GET", "/api/v1/namespaces/ns1", RequestInfo{IsResourceRequest: true, Verb: "get", APIPrefix: "api", APIVersion: "v1", Resource: "namespaces", Name: "ns1"}},
		{"PUT", "/api/v1/namespaces/ns1/finalize", RequestInfo{IsResourceRequest: true, Verb: "update", APIPrefix: "api", APIVersion: "v1", Resource: "namespaces", Name: "ns1", Subresource: "finalize"}},
		{"PUT", "/api/v1/namespaces/ns1/status", RequestInfo{IsResourceRequest: true, Verb: "update", APIPrefix: "api", APIVersion: "v1", Resource: "namespaces", Name: "ns1", Subresource: "status"}},
		{"GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", RequestInfo{IsResourceRequest: true, Verb: "get", APIPrefix: "apis", APIGroup: "coordination.k8s.io", APIVersion: "v1", Namespace: "kube-node-lease", Resource: "leases", Name: "n1"}},
		// Discovery is not a resource request.
		{"GET", "/api", RequestInfo{Verb: "get"}},
		{"GET", "/api/v1", RequestInfo{Verb: "get", APIPrefix: "api", APIVersion: "v1"}},
		{"GET", "/apis/apps", RequestInfo{Verb: "get", APIPrefix: "apis"}},
		{"GET", "/apis/apps/v1", RequestInfo{Verb: "get", APIPrefix: "apis", APIGroup: "apps", APIVersion: "v1"}},
		{"GET", "/healthz", RequestInfo{Verb: "get"}},
	} {
		t.Run(tc.method+" "+tc.url, func(t *testing.T) {
			got := ParseRequestInfo(httptest.NewRequest(tc.method, tc.url, nil))
			got.Path, got.Parts, got.Query = "", nil, nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct {
		accept  string
		list    bool
		media   string
		as      string
		refused bool
	}{
		{"", false, mediaJSON, "", false},
		{"application/json", false, mediaJSON, "", false},
		{"application/yaml", false, mediaYAML, "", false},
		{"application/vnd.kubernetes.protobuf, application/json", false, mediaProtobuf, "", false},
		{"application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json", true, mediaJSON, "Table", false},
		{"application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json", true, mediaJSON, "PartialObjectMetadataList", false},
		{"application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1", false, mediaJSON, "PartialObjectMetadata", false},
		// A list cannot be PartialObjectMetadata; the next clause wins.
		{"application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json", true, mediaJSON, "", false},
		{"application/json;as=Unknown;g=meta.k8s.io;v=v1", false, "", "", true},
		{"text/html", false, "", "", true},
	} {
		got, err := negotiate(tc.accept, tc.list)
		if tc.refused {
			if err == nil || errorStatus(err).Code != 406 {
				t.Errorf("%q: got %+v, %v; want 406", tc.accept, got, err)
			}
			continue
		}
		if err != nil || got.media != tc.media || got.as != tc.as {
			t.Errorf("%q (list %v): got media %q as %q, err %v; want %q %q", tc.accept, tc.list, got.media, got.as, err, tc.media, tc.as)
		}
	}
}
