package controlplane

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/apiserver"
	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/core"
	"skiff.dev/skiff/internal/registry/svcalloc"
)

// serviceConfig parses the service CIDR and node-port range of cfg.
func serviceConfig(cfg Config) (core.ServiceConfig, error) {
	cidr, ports := cfg.ServiceCIDR, cfg.NodePortRange
	if cidr == "" {
		cidr = svcalloc.DefaultServiceCIDR
	}
	if ports == "" {
		ports = svcalloc.DefaultNodePortRange
	}
	ips, err := svcalloc.ParseIPRange(cidr)
	if err != nil {
		return core.ServiceConfig{}, fmt.Errorf("--service-cluster-ip-range: %w", err)
	}
	nps, err := svcalloc.ParsePortRange(ports)
	if err != nil {
		return core.ServiceConfig{}, fmt.Errorf("--service-node-port-range: %w", err)
	}
	return core.ServiceConfig{ClusterIPs: ips, NodePorts: nps}, nil
}

// bootstrapKubernetesService makes `default/kubernetes` point at this API
// server: it creates the Service (the first address of the service CIDR,
// port 443) or corrects its ports, and, when Endpoints are served and the
// server has an address other pods can reach (advertise, when valid, or
// else the listen address), its Endpoints. Several API
// servers sharing one store agree on the Service; the Endpoints name the
// one that started last.
func bootstrapKubernetesService(ctx context.Context, api *apiserver.Server, cfg core.ServiceConfig, addr net.Addr, host string, advertise netip.Addr) error {
	_, portStr, _ := net.SplitHostPort(addr.String())
	var port int32
	if _, err := fmt.Sscan(portStr, &port); err != nil {
		return fmt.Errorf("bootstrap kubernetes service: port of %s: %w", addr, err)
	}
	svcStore, ok := api.Store(corev1.SchemeGroupVersion.WithResource("services"))
	if !ok {
		return nil
	}
	want := core.KubernetesService(cfg.ClusterIPs.First(), port)
	if err := ensure(ctx, svcStore, want, func(cur runtime.Object) {
		cur.(*corev1.Service).Spec.Ports = want.Spec.Ports
	}); err != nil {
		return fmt.Errorf("bootstrap kubernetes service: %w", err)
	}

	epStore, ok := api.Store(corev1.SchemeGroupVersion.WithResource("endpoints"))
	if !ok {
		return nil
	}
	ip, ok := advertiseAddress(host)
	if advertise.IsValid() {
		ip, ok = advertise, true
	}
	if !ok {
		slog.Info("kubernetes Endpoints not published: the API server listens on no address pods can reach; set --advertise-address", "listen", addr.String())
		return nil
	}
	wantEP := core.KubernetesEndpoints(ip.String(), port)
	if err := ensure(ctx, epStore, wantEP, func(cur runtime.Object) {
		cur.(*corev1.Endpoints).Subsets = wantEP.Subsets
	}); err != nil {
		return fmt.Errorf("bootstrap kubernetes endpoints: %w", err)
	}
	return nil
}

// ensure creates obj or, when it exists, lets fix correct it; an update
// that changes nothing writes nothing.
func ensure(ctx context.Context, st *registry.Store, obj interface {
	runtime.Object
	GetName() string
	GetNamespace() string
}, fix func(cur runtime.Object)) error {
	_, err := st.Create(ctx, obj.GetNamespace(), obj.DeepCopyObject(), registry.WriteOptions{})
	if err == nil {
		return nil
	}
	// Another API server may have won the race, with its reservation of
	// the cluster IP making ours Invalid rather than AlreadyExists.
	if !apierrors.IsAlreadyExists(err) && !apierrors.IsInvalid(err) {
		return err
	}
	_, _, uerr := st.Update(ctx, obj.GetNamespace(), obj.GetName(), func(_ context.Context, cur runtime.Object) (runtime.Object, error) {
		fix(cur)
		return cur, nil
	}, false, registry.WriteOptions{})
	if apierrors.IsNotFound(uerr) {
		return err // not a lost race: the create's error stands
	}
	return uerr
}

// advertiseAddress is the address other hosts reach the API server on: the
// listen host, or for an unspecified one the first global unicast address
// of this machine. A loopback listener has none.
func advertiseAddress(host string) (netip.Addr, bool) {
	if host != "" {
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return netip.Addr{}, false // a host name: no address to publish
		}
		if !ip.IsUnspecified() {
			return ip, !ip.IsLoopback()
		}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}, false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().Is4() && ip.IsGlobalUnicast() {
				return ip.Unmap(), true
			}
		}
	}
	return netip.Addr{}, false
}
