package pki

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// KubeconfigName names the cluster and the context in kubeconfigs skiff
// writes; the user is AdminUser.
const KubeconfigName = "skiff"

// Kubeconfig returns a kubeconfig with one cluster, one user and one context
// that reach serverURL as skiff-admin. All credentials are embedded, so the
// file works wherever it is copied. The result is owned by the caller.
func Kubeconfig(serverURL string, b *Bundle) *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[KubeconfigName] = &clientcmdapi.Cluster{
		Server:                   serverURL,
		CertificateAuthorityData: slices.Clone(b.CAPEM),
	}
	cfg.AuthInfos[AdminUser] = &clientcmdapi.AuthInfo{
		ClientCertificateData: slices.Clone(b.AdminCertPEM),
		ClientKeyData:         slices.Clone(b.AdminKeyPEM),
	}
	cfg.Contexts[KubeconfigName] = &clientcmdapi.Context{
		Cluster:  KubeconfigName,
		AuthInfo: AdminUser,
	}
	cfg.CurrentContext = KubeconfigName
	return cfg
}

// WriteKubeconfig writes Kubeconfig(serverURL, b) to path atomically with
// mode 0600, creating the parent directory (0700) if needed. It replaces the
// file; it does not merge with an existing kubeconfig.
func WriteKubeconfig(path, serverURL string, b *Bundle) error {
	u, err := url.Parse(serverURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%w: server URL %q is not an https URL", ErrInvalid, serverURL)
	}
	data, err := clientcmd.Write(*Kubeconfig(serverURL, b))
	if err != nil {
		return fmt.Errorf("pki: encode kubeconfig: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return writeFileAtomic(path, data, 0o600)
}
