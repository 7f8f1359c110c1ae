// Package endpoints holds the Endpoints and EndpointSlice controllers,
// which share their informers and their reading of which pods back a
// Service.
//
// For every Service with a selector, the Endpoints controller keeps a
// core/v1 Endpoints object of the same name whose subsets list the
// selected pods' IPs (ready ones in addresses, the others in
// notReadyAddresses; terminating pods left out) with the Service's ports,
// a named targetPort resolved against each pod's containers (a pod
// without that port is left out of it). The EndpointSlice controller keeps
// discovery.k8s.io/v1 EndpointSlices labelled kubernetes.io/service-name
// and managed-by endpointslice-controller.k8s.io, owned by the Service, of
// at most MaxEndpointsPerSlice IPv4 endpoints each, with ready, serving
// and terminating conditions (terminating pods included). Services
// without a selector are left alone, as are slices managed by others.
// Neither writes when the stored object already says what it would.
//
// The desired state is computed by pure functions (Subsets, SliceGroups)
// from a Service and its pods; the controllers only read caches and
// diff.
package endpoints
